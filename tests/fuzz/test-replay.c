// SPDX-License-Identifier: GPL-2.0
/*
 * Verifier soundness, the part `make check` runs (TAP):
 *  - replays every input in tests/fuzz/regressions/ (programs that once
 *    escaped, or stressed the verifier) through the fuzz harness;
 *  - a short deterministic fuzz smoke: random inputs and byte-mutated
 *    verifier-corpus programs, every accepted one run and checked for an
 *    escape exactly as the libFuzzer target does (harness.h).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "fuzz/harness.h"
#include "verifier/all-cases.h"

#define SMOKE_RANDOM  50000
#define SMOKE_MUTANTS 40 /* per corpus program */

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void replay_dir(const char *dir)
{
	struct dirent **names;
	int n, i;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		ok(0, "regressions: cannot read %s", dir);
		return;
	}
	for (i = 0; i < n; i++) {
		char path[4400], why[256] = "";
		uint8_t buf[2 + 8 * FUZZ_MAX_INSNS];
		size_t len;
		FILE *f;

		if (names[i]->d_name[0] == '.' || !strcmp(names[i]->d_name, "README")) {
			free(names[i]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		f = fopen(path, "rb");
		len = f ? fread(buf, 1, sizeof(buf), f) : 0;
		if (f)
			fclose(f);
		if (!ok(f && !dz_fuzz_one(buf, len, why, sizeof(why)), "regression %s",
			names[i]->d_name))
			diag("%s", why[0] ? why : "cannot read the file");
		free(names[i]);
	}
	free(names);
}

static int smoke_one(const uint8_t *buf, size_t len, unsigned int *escapes)
{
	char why[256];

	if (dz_fuzz_one(buf, len, why, sizeof(why))) {
		if (++*escapes <= 5) {
			size_t i;

			diag("escape: %s; input:", why);
			for (i = 0; i < len; i += 16) {
				char line[64] = "";
				size_t j;

				for (j = i; j < len && j < i + 16; j++)
					snprintf(line + strlen(line), sizeof(line) - strlen(line),
						 "%02x", buf[j]);
				diag("  %s", line);
			}
		}
		return 1;
	}
	return 0;
}

/*
 * test-replay [N [SEED]]: N random programs in the smoke (default SMOKE_RANDOM),
 * e.g. for a long uninstrumented campaign: build/tests/fuzz/test-replay 10000000 7
 */
/*
 * Programs made of what linked-register tracking and stack spills are about:
 * copies, constants added, masks, conditional jumps on copies, spills and
 * fills of every width (narrow spills of bounded values at slot starts, other
 * narrow stores, fills of other widths and offsets, sign-extending fills),
 * 32-bit copies, and an exit returning one of them, so the r0 oracle checks
 * every refinement and every fill.
 */
#define LINKED_MAX 48

static int16_t linked_stack_off(int bytes)
{
	int slot = 1 + (int)(next_rand() % 3), o = 0;

	/* mostly the slot's start, where narrow stores spill */
	if (bytes < 8 && next_rand() % 3 == 0)
		o = bytes * (int)(next_rand() % (8 / bytes));
	return (int16_t)(-8 * slot + o);
}

static size_t linked_prog(uint8_t *buf)
{
	static const uint8_t sizes[] = {BPF_B, BPF_H, BPF_W};
	static const int32_t masks[] = {0x7f, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0x1ff, 0xf0};
	struct bpf_insn p[LINKED_MAX];
	uint32_t n = 0, len, i, k;

	p[n++] = BPF_MOV64_REG(BPF_REG_6, BPF_REG_1);
	p[n++] = BPF_LDX_MEM(BPF_W, BPF_REG_2, BPF_REG_6, 0);
	p[n++] = BPF_LDX_MEM(BPF_DW, BPF_REG_3, BPF_REG_6, 8 * (1 + next_rand() % 20));
	p[n++] = BPF_LDX_MEM(BPF_W, BPF_REG_4, BPF_REG_6, 4);
	p[n++] = BPF_MOV64_IMM(BPF_REG_5, (int32_t)(next_rand() % 64) - 32);
	/* often start with initialised slots, so narrow fills get past "invalid read" */
	for (k = 1; k <= 3; k++) {
		switch (next_rand() % 3) {
		case 0:
			p[n++] = BPF_STX_MEM(BPF_DW, BPF_REG_10, 2 + next_rand() % 4, -8 * (int)k);
			break;
		case 1:
			p[n++] = BPF_ST_MEM(BPF_DW, BPF_REG_10, -8 * (int)k,
					    (int32_t)(next_rand() % 512) - 256);
			break;
		}
	}
	len = n + 8 + next_rand() % 26;
	while (n < len) {
		uint8_t d = 2 + next_rand() % 4, s = 2 + next_rand() % 4;
		uint8_t sz = sizes[next_rand() % 3];
		int bytes = sz == BPF_B ? 1 : sz == BPF_H ? 2 : 4;
		int32_t k = (int32_t)(next_rand() % 64) - 32;

		switch (next_rand() % 14) {
		case 0:
			p[n++] = BPF_MOV64_REG(d, s);
			break;
		case 1:
			p[n++] = BPF_MOV32_REG(d, s);
			break;
		case 2:
		case 3:
			/* sometimes a constant past a narrow width: its bytes wrap */
			if (next_rand() % 3 == 0)
				k = (int32_t[]){0x80, 0x100, 0x8000, 0x10000, 0x7fffffff,
						-0x100}[next_rand() % 6];
			p[n++] = BPF_ALU64_IMM(next_rand() & 1 ? BPF_ADD : BPF_SUB, d, k);
			break;
		case 4:
			p[n++] = BPF_STX_MEM(BPF_DW, BPF_REG_10, d, -8 * (1 + (int)(next_rand() % 3)));
			break;
		case 5:
			p[n++] = BPF_LDX_MEM(BPF_DW, d, BPF_REG_10, -8 * (1 + (int)(next_rand() % 3)));
			break;
		case 6: /* bound a value so that a narrow store spills it */
			if (next_rand() & 1)
				p[n++] = BPF_ALU64_IMM(BPF_AND, d, masks[next_rand() % 7]);
			else
				p[n++] = BPF_ALU32_IMM(BPF_AND, d, -1);
			break;
		case 7:
			p[n++] = BPF_STX_MEM(sz, BPF_REG_10, d, linked_stack_off(bytes));
			break;
		case 8: {
			/* zeros often: known-zero bytes next to spills */
			int16_t off = linked_stack_off(bytes);

			k = next_rand() % 3 ? 0 : (int32_t)(next_rand() % 512) - 256;
			p[n++] = BPF_ST_MEM(sz, BPF_REG_10, off, k);
			break;
		}
		case 9:
			if (next_rand() & 1)
				p[n++] = BPF_LDX_MEMSX(sz, d, BPF_REG_10, linked_stack_off(bytes));
			else
				p[n++] = BPF_LDX_MEM(sz, d, BPF_REG_10, linked_stack_off(bytes));
			break;
		default: {
			static const uint8_t ops[] = { BPF_JEQ, BPF_JNE, BPF_JGT, BPF_JGE, BPF_JLT,
						       BPF_JLE, BPF_JSGT, BPF_JSGE, BPF_JSLT, BPF_JSLE };
			uint8_t cls = next_rand() & 1 ? BPF_JMP : BPF_JMP32;
			int16_t off = (int16_t)(next_rand() % 3);

			if (n + 1 + off >= len)
				off = 0;
			if (next_rand() & 1)
				p[n++] = BPF_RAW_INSN(cls | ops[next_rand() % 10] | BPF_K, d, 0, off, k);
			else
				p[n++] = BPF_RAW_INSN(cls | ops[next_rand() % 10] | BPF_X, d, s, off, 0);
		}
		}
	}
	p[n++] = BPF_MOV64_REG(BPF_REG_0, 2 + next_rand() % 4);
	p[n++] = BPF_EXIT_INSN();
	buf[0] = 0;
	buf[1] = (uint8_t)(next_rand() & 0x1f); /* no prologue, keep the ending */
	for (i = 0; i < n; i++)
		memcpy(buf + 2 + 8 * i, &p[i], 8);
	return 2 + 8 * n;
}

int main(int argc, char **argv)
{
	const char *src = getenv("DZ_SRC");
	unsigned long long nrandom = argc > 1 ? strtoull(argv[1], NULL, 0) : SMOKE_RANDOM;
	unsigned long long r;
	char dir[4096];
	uint8_t buf[2 + 8 * 64];
	unsigned int escapes = 0, i, k;
	size_t t, ncases = sizeof(tests) / sizeof(tests[0]);
	struct fuzz_stats before;

	snprintf(dir, sizeof(dir), "%s/tests/fuzz/regressions", src ? src : ".");
	replay_dir(dir);

	if (argc > 2)
		rng ^= strtoull(argv[2], NULL, 0) * 0x9e3779b97f4a7c15ull;
	before = fuzz_stats;
	for (r = 0; r < nrandom; r++) {
		/* two statements: the order of two calls in one expression is
		 * unspecified, and the stream must be the same in every build */
		size_t words = (next_rand() & 1) ? 8 : 48;
		size_t len = 2 + 8 * (1 + next_rand() % words);

		for (k = 0; k < len; k += 8) {
			uint64_t r = next_rand();

			memcpy(buf + k, &r, len - k < 8 ? len - k : 8);
		}
		smoke_one(buf, len, &escapes);
	}
	for (t = 0; t < ncases; t++) {
		const struct vcase *c = &tests[t];
		size_t len = c->len ? c->len : MAX_TEST_INSNS;

		if (c->fill)
			continue;
		while (!c->len && len && !c->insns[len - 1].code && !c->insns[len - 1].imm &&
		       !c->insns[len - 1].dst_reg && !c->insns[len - 1].off)
			len--;
		for (i = 0; i < SMOKE_MUTANTS; i++) {
			size_t blen = 2 + 8 * len, flips = 1 + next_rand() % 3, f;

			buf[0] = (uint8_t)((c->type == DZ_PROG_MEM) | ((c->mem_size / 8) << 1));
			buf[1] = (uint8_t)next_rand();
			memcpy(buf + 2, c->insns, 8 * len);
			for (f = 0; f < flips; f++) {
				size_t pos = 2 + next_rand() % (blen - 2);

				if (next_rand() & 1)
					buf[pos] ^= (uint8_t)(1u << (next_rand() % 8));
				else
					buf[pos] = (uint8_t)next_rand();
			}
			smoke_one(buf, blen, &escapes);
		}
	}
	for (r = 0; r < nrandom / 4; r++) {
		uint8_t lbuf[2 + 8 * LINKED_MAX];

		smoke_one(lbuf, linked_prog(lbuf), &escapes);
	}
	is_int(escapes, 0, "fuzz smoke: no accepted program escapes");
	diag("fuzz smoke: %llu programs, %llu accepted, %llu insns run",
	     (unsigned long long)(fuzz_stats.runs - before.runs),
	     (unsigned long long)(fuzz_stats.accepted - before.accepted),
	     (unsigned long long)(fuzz_stats.insns_run - before.insns_run));
	ok(fuzz_stats.accepted - before.accepted > 1000,
	   "fuzz smoke: the generator reaches accepted programs (%llu)",
	   (unsigned long long)(fuzz_stats.accepted - before.accepted));
	return done_testing();
}
