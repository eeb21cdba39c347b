// SPDX-License-Identifier: GPL-2.0
/*
 * Assembler: the round-trip property over every instruction form, enumerated
 * systematically (every opcode byte x representative register, offset and
 * immediate values; whatever the decoder accepts must satisfy
 * asm(disasm(i)) == i and disasm(asm(disasm(i))) == disasm(i)), the accepted
 * spelling variants, labels, listings, and clear errors for bad input.
 */
#include <errno.h>

#include <doze/bpf.h>
#include <doze/filter.h>

#include "../../lib/bpf/asm.h"
#include "../../lib/bpf/insn.h"
#include "tap.h"

static const uint8_t regs[] = { 0, 1, 9, 10, 11 };
static const int16_t offs[] = { 0, 1, -1, 8, 16, 32, 0x7fff, -0x8000 };
static const int32_t imms[] = { 0,   1,	   -1,	 16,   32,   64,   INT32_MIN, INT32_MAX, 0x40,
				0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1,      0x1234 };
static const int32_t his[] = { 0, 1, -1, 0x7fffffff };

static int roundtrip_one(const struct bpf_insn *in, uint32_t n, char *why, size_t whysz)
{
	char text[80], again[80], aerr[200];
	struct bpf_insn *out;
	uint32_t cnt;
	int ret;

	dz_insn__snprint(text, sizeof(text), in, n);
	ret = dz__asm(text, &out, &cnt, aerr, sizeof(aerr), false);
	if (ret) {
		snprintf(why, whysz, "'%.80s' does not assemble: %.200s", text, aerr);
		return -1;
	}
	if (cnt != n || memcmp(out, in, n * sizeof(*in))) {
		snprintf(why, whysz, "'%s' assembles to code %02x dst %u src %u off %d imm %d",
			 text, out[0].code, out[0].dst_reg, out[0].src_reg, out[0].off, out[0].imm);
		free(out);
		return -1;
	}
	dz_insn__snprint(again, sizeof(again), out, cnt);
	free(out);
	if (strcmp(text, again)) {
		snprintf(why, whysz, "'%s' comes back as '%s'", text, again);
		return -1;
	}
	return 0;
}

static void roundtrip_all(void)
{
	unsigned int kinds = 0, nforms = 0, nops = 0, code;

	for (code = 0; code < 256; code++) {
		unsigned int valid = 0, failed = 0;
		char first[512] = "";

		for (size_t d = 0; d < sizeof(regs); d++)
		for (size_t s = 0; s < sizeof(regs); s++)
		for (size_t o = 0; o < sizeof(offs) / sizeof(offs[0]); o++)
		for (size_t i = 0; i < sizeof(imms) / sizeof(imms[0]); i++)
		for (size_t h = 0; h < (code == 0x18 ? sizeof(his) / sizeof(his[0]) : 1); h++) {
			struct bpf_insn in[2] = {
				BPF_RAW_INSN(code, regs[d], regs[s], offs[o], imms[i]),
				BPF_RAW_INSN(0, 0, 0, 0, his[h]),
			};
			enum dz_insn_kind kind;
			char why[512];
			int n = dz_insn__decode(in, 2, &kind, NULL, 0);

			if (n < 0)
				continue;
			valid++;
			kinds |= 1u << kind;
			if (roundtrip_one(in, n, why, sizeof(why))) {
				if (!failed++)
					snprintf(first, sizeof(first), "%s", why);
			}
		}
		if (!valid)
			continue;
		nops++;
		nforms += valid;
		ok(!failed, "opcode 0x%02x: %u encodings round-trip%s%s", code, valid,
		   failed ? "; first failure: " : "", first);
	}
	diag("%u valid opcodes, %u encodings checked", nops, nforms);
	is_int(kinds, (1u << (DZ_K_EXIT + 1)) - 1, "every instruction kind was enumerated");
	/*
	 * Valid opcode bytes: ALU64 12 ops x (K, X) + neg + bswap = 26, ALU 12 x 2 + neg + le + be
	 * = 27, JMP 11 conditions x 2 + ja + call + exit = 25, JMP32 11 x 2 + ja = 23, LD lddw 1,
	 * LDX 4 + 3 sign-extending = 7, ST 4, STX 4 + 2 atomic = 6.
	 */
	is_int(nops, 26 + 27 + 25 + 23 + 1 + 7 + 4 + 6, "number of valid opcode bytes");
}

static void variants(void)
{
	static const char *const pairs[][2] = {
		{ "r0 = *(u32 *)(r1 + 4)", "r0 = *(u32 *)(r1 +4)" },
		{ "w0 = *(u32 *)(r1 + 4)", "r0 = *(u32 *)(r1 +4)" },
		{ "r0 = *(u8 *)(r1)", "r0 = *(u8 *)(r1 +0)" },
		{ "*(u64 *)(r10 - 8) = r1", "*(u64 *)(r10 -8) = r1" },
		{ "if r1 > 0x10 goto +2", "if r1 > 0x10 goto pc+2" },
		{ "if r1 > 16 goto -1", "if r1 > 0x10 goto pc-1" },
		{ "if w1 != -1 goto 0", "if w1 != 0xffffffff goto pc+0" },
		{ "goto +3", "goto pc+3" },
		{ "if r2 == 0 goto +21 <LBB0_7>", "if r2 == 0x0 goto pc+21" },
		{ "ja -3", "goto pc-3" },
		{ "gotol +70000", "gotol pc+70000" },
		{ "call 1", "call dz_read_gva#1" },
		{ "call dz_read_percpu", "call dz_read_percpu#3" },
		{ "call unknown#9", "call unknown#9" },
		{ "r1 = 5 ll", "r1 = 0x5" },
		{ "r1 = 0x10", "r1 = 0x10" },
		{ "r1 = 4294967296", "r1 = 0x100000000" },
		{ "r1 = -1", "r1 = -1" },
		{ "w1 = 0xffffffff", "w1 = -1" },
		{ "r1 = 0xffffffffffffffff", "r1 = 0xffffffffffffffff" },
		{ "r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)",
		  "r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)" },
		{ "r5 = xchg_64(r1 + 0, r5)", "r5 = atomic64_xchg((u64 *)(r1 +0), r5)" },
		{ "w5 = xchg32_32(r1 - 8, w5)", "r5 = atomic_xchg((u32 *)(r1 -8), r5)" },
		{ "r0 = cmpxchg_64(r1 + 16, r0, r3)",
		  "r0 = atomic64_cmpxchg((u64 *)(r1 +16), r0, r3)" },
		{ "w0 = cmpxchg32_32(r1 + 0, w0, w3)", "r0 = atomic_cmpxchg((u32 *)(r1 +0), r0, r3)" },
		{ "w4 = atomic_fetch_or((u32 *)(r2 + 0), w4)",
		  "r4 = atomic_fetch_or((u32 *)(r2 +0), r4)" },
		{ "lock *(u32 *)(r1 + 0) += w4", "lock *(u32 *)(r1 +0) += r4" },
		{ "  exit   ; comment", "exit" },
		{ "exit # comment", "exit" },
		{ "7: (95) exit", "exit" },
		{ "lock *(u64 *)(r10 -8) += r1 // c++ comment", "lock *(u64 *)(r10 -8) += r1" },
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct bpf_insn *out;
		char text[128] = "", why[200] = "";
		uint32_t cnt;
		int ret = dz__asm(pairs[i][0], &out, &cnt, why, sizeof(why), false);

		if (!ret) {
			dz_insn__snprint(text, sizeof(text), out, cnt);
			free(out);
		}
		ok(!ret && !strcmp(text, pairs[i][1]), "'%s' -> '%s' (got '%s'%s%s)", pairs[i][0],
		   pairs[i][1], text, ret ? ", " : "", why);
	}
}

static void programs(void)
{
	const char *src = "; the reference shape\n"
			  "\tr0 = 0\n"
			  "\tr2 = *(u32 *)(r1 +4)\n"
			  "\tif r2 != 0x3 goto kernel\n"
			  "\tr0 = 1\n"
			  "\tgoto out\n"
			  "kernel:\n"
			  "\tcall sub\n"
			  "out: exit\n"
			  "sub:\n"
			  "\tr0 = 2\n"
			  "\texit\n";
	const struct bpf_insn want[] = {
		BPF_MOV64_IMM(0, 0),	   BPF_LDX_MEM(BPF_W, 2, 1, 4), BPF_JMP_IMM(BPF_JNE, 2, 3, 2),
		BPF_MOV64_IMM(0, 1),	   BPF_JMP_A(1),		BPF_CALL_REL(1),
		BPF_EXIT_INSN(),	   BPF_MOV64_IMM(0, 2),		BPF_EXIT_INSN(),
	};
	struct bpf_insn *out, *again;
	uint32_t cnt, cnt2;
	char why[200];
	char *listing = NULL;
	size_t len = 0;
	struct dz_prog *prog;
	FILE *f;
	int ret;

	ret = dz_asm(src, &out, &cnt, why, sizeof(why));
	ok(!ret, "program with labels assembles (%s)", ret ? why : "ok");
	if (ret)
		return;
	ok(cnt == sizeof(want) / 8 && !memcmp(out, want, sizeof(want)),
	   "labels resolve to the expected offsets");
	/* A `doze bpf dis` listing assembles back to the same program. */
	ret = dz_prog__new(out, cnt, DZ_PROG_MEM, &prog);
	f = open_memstream(&listing, &len);
	dz_prog__disasm(prog, f);
	fclose(f);
	ret = dz_asm(listing, &again, &cnt2, why, sizeof(why));
	if (!ok(!ret && cnt2 == cnt && !memcmp(again, out, cnt * 8), "the listing re-assembles"))
		diag("%s", listing);
	if (!ret)
		free(again);
	free(listing);
	dz_prog__free(prog);
	free(out);
}

static void errors(void)
{
	static const char *const bad[][2] = {
		{ "r0 = 0\nfrobnicate r1\nexit", "line 2: unknown instruction" },
		{ "r11 = 1", "line 1: unknown instruction" },
		{ "r1 += r11", "line 1: expected a register or" },
		{ "r0 = *(u32 *)(r1 +40000)", "out of range" },
		{ "r0 = *(u128 *)(r1 +0)", "unknown memory type" },
		{ "goto nowhere\nexit", "line 1: unknown label 'nowhere'" },
		{ "a:\na:\nexit", "line 2: label 'a' defined twice" },
		{ "r0 = 0\ngoto +5\nexit", "line 2: insn 1: jump out of range" },
		{ "if r1 > 0 goto -5\nexit", "line 1: insn 0: jump out of range" },
		{ "r1 += 0x80000000", "line 1: expected a register or a signed 32-bit immediate" },
		{ "w1 += r2", "mixing w and r" },
		{ "r0 = 99999999999999999999", "out of range" },
		{ "r1 = -r2", "negation" },
		{ "r1 = le16 r2", "byte swaps" },
		{ "r1 = le8 r1", "unknown byte swap" },
		{ "r1 = atomic_fetch_sub((u64 *)(r2 +0), r1)", "unknown atomic operation" },
		{ "r3 = atomic_fetch_add((u64 *)(r2 +0), r1)", "source register" },
		{ "lock *(u8 *)(r2 +0) += r1", "u32 or u64" },
		{ "call dz_read_gpa#1", "is not #1" },
		{ "exit exit", "unexpected 'exit'" },
		{ "goto +40000", "use gotol" },
		{ "r0 = 0", "" },	/* fine, but... */
		{ "", "no instructions" },
		{ "; only a comment\n", "no instructions" },
		{ "r1 = 5 ll\n", "" },
		{ "w1 = 5 ll", "need an r register" },
		{ "*(s32 *)(r10 -4) = 1", "stores take" },
		{ "r0 = *(u32 *)(r1 +4", "expected ')'" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bpf_insn *out;
		char why[200] = "", name[128];
		uint32_t cnt;
		int ret = dz_asm(bad[i][0], &out, &cnt, why, sizeof(why));

		/* One line per test name: show newlines as '|'. */
		snprintf(name, sizeof(name), "%s", bad[i][0]);
		for (char *c = name; *c; c++)
			if (*c == '\n')
				*c = '|';
		if (!bad[i][1][0]) {
			ok(!ret, "'%s' assembles", name);
			if (!ret)
				free(out);
			continue;
		}
		ok(ret == -EINVAL && strstr(why, bad[i][1]), "'%s' -> %s (got: %s)", name, bad[i][1],
		   why);
		if (!ret)
			free(out);
	}
}

/* Random mutations of valid lines: an error or a program, never a crash. */
static void fuzz(void)
{
	static const char *const seeds[] = {
		"r0 = *(u32 *)(r1 +4)", "if r1 > 0x10 goto pc+2", "lock *(u64 *)(r10 -8) += r1",
		"r1 = atomic64_fetch_or((u64 *)(r10 -8), r1)", "r3 = 0x1122334455667788",
		"w1 = (s16)w2", "call dz_read_gva#1", "gotol pc-70000", "r5 = bswap32 r5",
		"a: goto a", "r0 = atomic_cmpxchg((u32 *)(r10 -8), r0, r2)",
	};
	static const char alphabet[] = "rw0123456789+-*/()=<>&|^%s#;:xabcdefgl ,\t\n";
	unsigned int seed = 1, accepted = 0, i;
	char text[128];

	for (i = 0; i < 20000; i++) {
		struct bpf_insn *out;
		uint32_t cnt;
		char why[200];
		size_t len;

		snprintf(text, sizeof(text), "%s", seeds[i % (sizeof(seeds) / sizeof(seeds[0]))]);
		len = strlen(text);
		for (int k = 0; k < 1 + (int)(rand_r(&seed) % 3); k++) {
			size_t at = rand_r(&seed) % (len + 1);

			switch (rand_r(&seed) % 3) {
			case 0:	/* replace */
				if (at < len)
					text[at] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
				break;
			case 1:	/* delete */
				if (at < len) {
					memmove(text + at, text + at + 1, len - at);
					len--;
				}
				break;
			default:	/* insert */
				if (len + 2 < sizeof(text)) {
					memmove(text + at + 1, text + at, len - at + 1);
					text[at] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
					len++;
				}
				break;
			}
		}
		why[0] = '\0';
		if (!dz__asm(text, &out, &cnt, why, sizeof(why), false)) {
			accepted++;
			free(out);
		} else if (!strstr(why, "line ") && !strstr(why, "no instructions")) {
			break;
		}
	}
	ok(i == 20000, "20000 mutated lines: every refusal names its line (%u accepted)", accepted);
}

int main(void)
{
	fuzz();
	roundtrip_all();
	variants();
	programs();
	errors();
	return done_testing();
}
