// SPDX-License-Identifier: GPL-2.0
/*
 * Decoder and disassembler: one expected kernel-verifier-log line per
 * instruction form, and refusal of every kind of malformed instruction.
 */
#include <errno.h>

#include <doze/bpf.h>
#include <doze/filter.h>

#include "../../lib/bpf/insn.h"
#include "tap.h"

static void dis(struct bpf_insn insn, const char *want)
{
	char buf[128];
	int n = dz_insn__snprint(buf, sizeof(buf), &insn, 1);

	ok(n == 1, "'%s' decodes (%d)", want, n);
	is_str(buf, want, "disasm %02x -> '%s'", insn.code, want);
}

static void bad(struct bpf_insn insn, const char *why_substr)
{
	char buf[128] = "";
	int n = dz_insn__snprint(buf, sizeof(buf), &insn, 1);

	ok(n < 0 && strstr(buf, why_substr), "code %02x dst %u src %u off %d imm %d rejected: %s",
	   insn.code, insn.dst_reg, insn.src_reg, insn.off, insn.imm, buf);
}

int main(void)
{
	struct bpf_insn two[2] = {BPF_LD_IMM64(BPF_REG_3, 0x1122334455667788ULL)};
	struct bpf_insn prog[4];
	char buf[128];
	int n;

	/* ALU, both widths, register and immediate. */
	dis(BPF_ALU64_IMM(BPF_ADD, 1, 5), "r1 += 5");
	dis(BPF_ALU32_IMM(BPF_SUB, 2, -3), "w2 -= -3");
	dis(BPF_ALU64_REG(BPF_MUL, 0, 9), "r0 *= r9");
	dis(BPF_ALU64_REG(BPF_DIV, 3, 4), "r3 /= r4");
	dis(BPF_ALU64_REG_OFF(BPF_DIV, 3, 4, 1), "r3 s/= r4");
	dis(BPF_ALU32_IMM_OFF(BPF_MOD, 3, 7, 1), "w3 s%= 7");
	dis(BPF_ALU64_IMM(BPF_OR, 1, 0x10), "r1 |= 16");
	dis(BPF_ALU32_REG(BPF_AND, 1, 2), "w1 &= w2");
	dis(BPF_ALU64_IMM(BPF_LSH, 1, 63), "r1 <<= 63");
	dis(BPF_ALU64_IMM(BPF_RSH, 1, 1), "r1 >>= 1");
	dis(BPF_ALU64_IMM(BPF_ARSH, 1, 1), "r1 s>>= 1");
	dis(BPF_ALU64_REG(BPF_XOR, 1, 1), "r1 ^= r1");
	dis(BPF_ALU64_REG(BPF_MOD, 1, 2), "r1 %= r2");
	dis(BPF_MOV64_IMM(0, -1), "r0 = -1");
	dis(BPF_MOV32_REG(0, 10), "w0 = w10");
	dis(BPF_MOVSX64_REG(1, 2, 8), "r1 = (s8)r2");
	dis(BPF_MOVSX64_REG(1, 2, 32), "r1 = (s32)r2");
	dis(BPF_MOVSX32_REG(1, 2, 16), "w1 = (s16)w2");
	dis(BPF_ALU64_IMM(BPF_NEG, 4, 0), "r4 = -r4");
	dis(BPF_ALU32_IMM(BPF_NEG, 4, 0), "w4 = -w4");
	dis(BPF_ENDIAN(BPF_TO_BE, 5, 16), "r5 = be16 r5");
	dis(BPF_ENDIAN(BPF_TO_LE, 5, 64), "r5 = le64 r5");
	dis(BPF_BSWAP(5, 32), "r5 = bswap32 r5");
	/* Memory. */
	dis(BPF_LDX_MEM(BPF_W, 0, 1, 4), "r0 = *(u32 *)(r1 +4)");
	dis(BPF_LDX_MEM(BPF_DW, 0, 10, -8), "r0 = *(u64 *)(r10 -8)");
	dis(BPF_LDX_MEM(BPF_B, 0, 1, 0), "r0 = *(u8 *)(r1 +0)");
	dis(BPF_LDX_MEMSX(BPF_H, 0, 1, 2), "r0 = *(s16 *)(r1 +2)");
	dis(BPF_STX_MEM(BPF_H, 10, 3, -2), "*(u16 *)(r10 -2) = r3");
	dis(BPF_ST_MEM(BPF_DW, 10, -16, -7), "*(u64 *)(r10 -16) = -7");
	dis(BPF_ATOMIC_OP(BPF_W, BPF_ADD, 10, 1, -4), "lock *(u32 *)(r10 -4) += r1");
	dis(BPF_ATOMIC_OP(BPF_DW, BPF_XOR, 10, 1, -8), "lock *(u64 *)(r10 -8) ^= r1");
	dis(BPF_ATOMIC_OP(BPF_DW, BPF_OR | BPF_FETCH, 10, 1, -8),
	    "r1 = atomic64_fetch_or((u64 *)(r10 -8), r1)");
	dis(BPF_ATOMIC_OP(BPF_W, BPF_AND | BPF_FETCH, 10, 1, -8),
	    "r1 = atomic_fetch_and((u32 *)(r10 -8), r1)");
	dis(BPF_ATOMIC_OP(BPF_DW, BPF_XCHG, 10, 2, -8), "r2 = atomic64_xchg((u64 *)(r10 -8), r2)");
	dis(BPF_ATOMIC_OP(BPF_W, BPF_CMPXCHG, 10, 2, -8),
	    "r0 = atomic_cmpxchg((u32 *)(r10 -8), r0, r2)");
	/* Jumps and calls. */
	dis(BPF_JMP_IMM(BPF_JGT, 1, 0x10, 2), "if r1 > 0x10 goto pc+2");
	dis(BPF_JMP_IMM(BPF_JEQ, 1, -1, -3), "if r1 == 0xffffffff goto pc-3");
	dis(BPF_JMP32_REG(BPF_JSLE, 1, 2, 0), "if w1 s<= w2 goto pc+0");
	dis(BPF_JMP_REG(BPF_JSET, 1, 2, 1), "if r1 & r2 goto pc+1");
	dis(BPF_JMP_A(5), "goto pc+5");
	dis(BPF_JMP32_A(-70000), "gotol pc-70000");
	dis(BPF_CALL_HELPER(DZ_HELPER_READ_GVA), "call dz_read_gva#1");
	dis(BPF_CALL_HELPER(77), "call unknown#77");
	dis(BPF_CALL_REL(3), "call pc+3");
	dis(BPF_EXIT_INSN(), "exit");

	n = dz_insn__snprint(buf, sizeof(buf), two, 2);
	is_int(n, 2, "lddw takes two slots");
	is_str(buf, "r3 = 0x1122334455667788", "lddw disasm");
	n = dz_insn__snprint(buf, sizeof(buf), two, 1);
	ok(n == -EINVAL && strstr(buf, "truncated"), "lddw in the last slot is truncated: %s", buf);

	/* Malformed: garbage opcodes, reserved fields, registers. */
	bad(BPF_RAW_INSN(0xff, 0, 0, 0, 0), "invalid");
	bad(BPF_RAW_INSN(BPF_ALU64 | 0xe0, 0, 0, 0, 0), "invalid BPF_ALU opcode");
	bad(BPF_RAW_INSN(BPF_JMP | 0xf0, 0, 0, 0, 0), "invalid BPF_JMP opcode");
	bad(BPF_ALU64_IMM(BPF_ADD, 11, 1), "invalid dst register");
	bad(BPF_ALU64_REG(BPF_ADD, 1, 12), "invalid src register");
	bad(BPF_RAW_INSN(BPF_ALU64 | BPF_ADD | BPF_K, 1, 2, 0, 1), "reserved");
	bad(BPF_RAW_INSN(BPF_ALU64 | BPF_ADD | BPF_X, 1, 2, 0, 1), "reserved");
	bad(BPF_RAW_INSN(BPF_ALU64 | BPF_ADD | BPF_X, 1, 2, 1, 0), "reserved");
	bad(BPF_ALU64_REG_OFF(BPF_DIV, 1, 2, 2), "reserved");
	bad(BPF_MOVSX32_REG(1, 2, 32), "reserved");
	bad(BPF_MOVSX64_REG(1, 2, 4), "reserved");
	bad(BPF_RAW_INSN(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 8, 1), "reserved");
	bad(BPF_RAW_INSN(BPF_ALU64 | BPF_NEG | BPF_K, 1, 0, 0, 1), "BPF_NEG");
	bad(BPF_RAW_INSN(BPF_ALU | BPF_END | BPF_TO_LE, 1, 0, 0, 8), "width");
	bad(BPF_RAW_INSN(BPF_ALU64 | BPF_END | BPF_TO_BE, 1, 0, 0, 16), "BPF_TO_LE");
	bad(BPF_RAW_INSN(BPF_LDX | BPF_MEMSX | BPF_DW, 1, 2, 0, 0), "invalid BPF_LDX");
	bad(BPF_RAW_INSN(BPF_LDX | BPF_MEM | BPF_W, 1, 2, 0, 3), "reserved");
	bad(BPF_RAW_INSN(BPF_ST | BPF_MEM | BPF_W, 1, 2, 0, 3), "reserved");
	bad(BPF_RAW_INSN(BPF_STX | BPF_MEM | BPF_W, 1, 2, 0, 3), "reserved");
	bad(BPF_ATOMIC_OP(BPF_B, BPF_ADD, 1, 2, 0), "size");
	bad(BPF_ATOMIC_OP(BPF_DW, BPF_SUB, 1, 2, 0), "atomic opcode");
	bad(BPF_RAW_INSN(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 0), "BPF_ABS");
	bad(BPF_RAW_INSN(BPF_LD | BPF_IMM | BPF_W, 0, 0, 0, 0), "invalid BPF_LD");
	bad(BPF_RAW_INSN(BPF_JMP | BPF_JA, 0, 0, 1, 1), "reserved");
	bad(BPF_RAW_INSN(BPF_JMP32 | BPF_JA, 0, 0, 1, 1), "reserved");
	bad(BPF_RAW_INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 1), "reserved");
	bad(BPF_RAW_INSN(BPF_JMP32 | BPF_CALL, 0, 0, 0, 1), "reserved");
	bad(BPF_RAW_INSN(BPF_JMP | BPF_CALL, 0, 2, 0, 1), "kfunc");
	bad(BPF_RAW_INSN(BPF_JMP | BPF_CALL, 0, 3, 0, 1), "reserved");
	bad(BPF_RAW_INSN(BPF_JMP | BPF_JEQ | BPF_K, 1, 2, 0, 1), "reserved");
	bad(BPF_RAW_INSN(BPF_JMP | BPF_JEQ | BPF_X, 1, 2, 0, 1), "reserved");
	bad(BPF_RAW_INSN(BPF_JMP | BPF_JCOND, 0, 0, 0, 0), "may_goto");
	{
		struct bpf_insn map[2] = {BPF_LD_IMM64_RAW(1, BPF_PSEUDO_MAP_FD, 3)};

		n = dz_insn__snprint(buf, sizeof(buf), map, 2);
		ok(n < 0 && strstr(buf, "pseudo"), "lddw with a map fd is refused: %s", buf);
		map[0].src_reg = 0;
		map[1].off = 1;
		n = dz_insn__snprint(buf, sizeof(buf), map, 2);
		ok(n < 0 && strstr(buf, "second slot"), "lddw second slot reserved: %s", buf);
	}

	/* Whole-program structure. */
	prog[0] = BPF_JMP_IMM(BPF_JEQ, 1, 0, 1);
	prog[1] = BPF_LD_IMM64_RAW(0, 0, 0);
	prog[2] = (struct bpf_insn){0};
	prog[3] = BPF_EXIT_INSN();
	prog[1].code = BPF_LD | BPF_IMM | BPF_DW;
	n = dz_prog__check(prog, 4, buf, sizeof(buf));
	ok(n == -EINVAL && strstr(buf, "middle of ldimm64"), "jump into lddw: %s", buf);
	prog[0].off = 3;
	n = dz_prog__check(prog, 4, buf, sizeof(buf));
	ok(n == -EINVAL && strstr(buf, "out of range"), "jump past the end: %s", buf);
	prog[0].off = -2;
	n = dz_prog__check(prog, 4, buf, sizeof(buf));
	ok(n == -EINVAL && strstr(buf, "out of range"), "jump before the start: %s", buf);
	prog[0].off = 2;
	is_int(dz_prog__check(prog, 4, buf, sizeof(buf)), 0, "a good program passes");

	return done_testing();
}
