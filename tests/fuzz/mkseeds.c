// SPDX-License-Identifier: GPL-2.0
/*
 * Writes every program of the verifier corpus as a fuzzer input into DIR
 * (the fuzzer's seed corpus): byte 0 = type | mem_size / 8 << 1, byte 1 = 0,
 * then the instructions.
 */
#include <stdio.h>
#include <stdlib.h>

#include "verifier/all-cases.h"

int main(int argc, char **argv)
{
	size_t i, n = sizeof(tests) / sizeof(tests[0]);
	unsigned int written = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds DIR\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		const struct vcase *c = &tests[i];
		struct bpf_insn *insns = (struct bpf_insn *)c->insns, *filled = NULL;
		uint32_t len = c->len ? c->len : MAX_TEST_INSNS;
		uint8_t hdr[2];
		char path[4096];
		FILE *f;

		if (c->fill) {
			c->fill(&filled, &len);
			insns = filled;
		} else if (!c->len) {
			while (len && !insns[len - 1].code && !insns[len - 1].imm &&
			       !insns[len - 1].dst_reg && !insns[len - 1].off)
				len--;
		}
		if (len > 512) {
			free(filled);
			continue; /* larger than the fuzzer's programs */
		}
		hdr[0] = (uint8_t)((c->type == DZ_PROG_MEM) | ((c->mem_size / 8) << 1));
		hdr[1] = 0;
		snprintf(path, sizeof(path), "%s/corpus-%03zu", argv[1], i);
		f = fopen(path, "wb");
		if (!f || fwrite(hdr, 1, 2, f) != 2 ||
		    fwrite(insns, sizeof(*insns), len, f) != len || fclose(f)) {
			perror(path);
			return 1;
		}
		written++;
		free(filled);
	}
	printf("%u seeds in %s\n", written, argv[1]);
	return 0;
}
