// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for verifier soundness (see harness.h for what counts as an
 * escape). Built and run by `make fuzz-verifier` (clang, ASan + UBSan); also
 * builds with afl-clang-fast -fsanitize=fuzzer for AFL++. A finding aborts, so
 * the fuzzer saves the input: copy it to tests/fuzz/regressions/ once fixed.
 */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

static void print_stats(void)
{
	fprintf(stderr,
		"fuzz-verifier: %llu programs, %llu accepted, %llu rejected, %llu insns run\n",
		(unsigned long long)fuzz_stats.runs, (unsigned long long)fuzz_stats.accepted,
		(unsigned long long)fuzz_stats.rejected, (unsigned long long)fuzz_stats.insns_run);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	atexit(print_stats);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];

	if (dz_fuzz_one(data, size, why, sizeof(why))) {
		fprintf(stderr, "ESCAPE: %s\n", why);
		abort();
	}
	return 0;
}
