/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal TAP producer for doze's compiled tests (run by prove).
 *
 * Every check prints "ok N - name" or "not ok N - name" with a diagnostic;
 * done_testing() prints the plan and returns the exit status, so a test that
 * crashes before the plan is counted as failed by prove.
 */
#ifndef DZ_TESTS_TAP_H
#define DZ_TESTS_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   Failed test at %s line %d.\n", file, line);
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* Compare two 64-bit integers, printing both on failure. */
#define is_u64(got, want, ...)                                                                 \
	({                                                                                     \
		uint64_t g_ = (uint64_t)(got), w_ = (uint64_t)(want);                          \
		int r_ = ok(g_ == w_, __VA_ARGS__);                                            \
		if (!r_)                                                                       \
			printf("#          got: 0x%" PRIx64 "\n#     expected: 0x%" PRIx64 "\n", g_, \
			       w_);                                                            \
		r_;                                                                            \
	})

#define is_int(got, want, ...)                                                                 \
	({                                                                                     \
		long long g_ = (long long)(got), w_ = (long long)(want);                       \
		int r_ = ok(g_ == w_, __VA_ARGS__);                                            \
		if (!r_)                                                                       \
			printf("#          got: %lld\n#     expected: %lld\n", g_, w_);            \
		r_;                                                                            \
	})

#define is_str(got, want, ...)                                                                 \
	({                                                                                     \
		const char *g_ = (got), *w_ = (want);                                          \
		int r_ = ok(g_ && w_ && !strcmp(g_, w_), __VA_ARGS__);                         \
		if (!r_)                                                                       \
			printf("#          got: '%s'\n#     expected: '%s'\n", g_ ? g_ : "(null)",  \
			       w_ ? w_ : "(null)");                                            \
		r_;                                                                            \
	})

static inline void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Skip the whole test file with a reason (prove reports it as skipped). */
#define skip_all(...)                                                                          \
	do {                                                                                   \
		printf("1..0 # SKIP ");                                                        \
		printf(__VA_ARGS__);                                                           \
		printf("\n");                                                                  \
		exit(0);                                                                       \
	} while (0)

static inline int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
