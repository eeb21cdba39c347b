// SPDX-License-Identifier: GPL-2.0
/*
 * Disassembler in the syntax of the Linux verifier log (kernel/bpf/disasm.c),
 * which is also what `bpftool prog dump xlated` prints:
 *	r0 = *(u32 *)(r1 +4)	if r1 > 0x10 goto pc+2	call dz_read_gva#1	exit
 * The kernel's spelling is kept exactly (signed "%+d" offsets, jump immediates
 * in hex, ALU immediates in decimal) so a log from doze reads like a kernel log.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "insn.h"

static const char *const alu_op[16] = {
    [BPF_ADD >> 4] = "+=", [BPF_SUB >> 4] = "-=", [BPF_MUL >> 4] = "*=",  [BPF_DIV >> 4] = "/=",
    [BPF_OR >> 4] = "|=",  [BPF_AND >> 4] = "&=", [BPF_LSH >> 4] = "<<=", [BPF_RSH >> 4] = ">>=",
    [BPF_MOD >> 4] = "%=", [BPF_XOR >> 4] = "^=", [BPF_MOV >> 4] = "=",	  [BPF_ARSH >> 4] = "s>>=",
};

static const char *const jmp_op[16] = {
    [BPF_JEQ >> 4] = "==", [BPF_JGT >> 4] = ">",   [BPF_JGE >> 4] = ">=",   [BPF_JSET >> 4] = "&",
    [BPF_JNE >> 4] = "!=", [BPF_JSGT >> 4] = "s>", [BPF_JSGE >> 4] = "s>=", [BPF_JLT >> 4] = "<",
    [BPF_JLE >> 4] = "<=", [BPF_JSLT >> 4] = "s<", [BPF_JSLE >> 4] = "s<=",
};

static const char *const atomic_op[16] = {
    [BPF_ADD >> 4] = "add",
    [BPF_AND >> 4] = "and",
    [BPF_OR >> 4] = "or",
    [BPF_XOR >> 4] = "xor",
};

/* Indexed by BPF_SIZE() >> 3: BPF_W, BPF_H, BPF_B, BPF_DW. */
static const char *const ldst_type[4] = {"u32", "u16", "u8", "u64"};
static const char *const ldsx_type[4] = {"s32", "s16", "s8", "s64"};

int dz_insn__snprint(char *buf, size_t size, const struct bpf_insn *insn, uint32_t avail)
{
	enum dz_insn_kind kind;
	uint8_t code = insn->code, op = BPF_OP(code);
	char r = (BPF_CLASS(code) == BPF_ALU || BPF_CLASS(code) == BPF_JMP32) ? 'w' : 'r';
	const char *ty = ldst_type[BPF_SIZE(code) >> 3];
	unsigned int d = insn->dst_reg, s = insn->src_reg;
	int n;

	n = dz_insn__decode(insn, avail, &kind, buf, size);
	if (n < 0)
		return n;

	switch (kind) {
	case DZ_K_ALU:
		if (BPF_SRC(code) == BPF_K)
			snprintf(buf, size, "%c%u %s%s %d", r, d,
				 insn->off == DZ_OFF_SIGNED ? "s" : "", alu_op[op >> 4], insn->imm);
		else if (op == BPF_MOV && insn->off)
			snprintf(buf, size, "%c%u = (s%d)%c%u", r, d, insn->off, r, s);
		else
			snprintf(buf, size, "%c%u %s%s %c%u", r, d,
				 insn->off == DZ_OFF_SIGNED ? "s" : "", alu_op[op >> 4], r, s);
		break;
	case DZ_K_NEG:
		snprintf(buf, size, "%c%u = -%c%u", r, d, r, d);
		break;
	case DZ_K_END:
		if (BPF_CLASS(code) == BPF_ALU64)
			snprintf(buf, size, "r%u = bswap%d r%u", d, insn->imm, d);
		else
			snprintf(buf, size, "r%u = %s%d r%u", d,
				 BPF_SRC(code) == BPF_TO_BE ? "be" : "le", insn->imm, d);
		break;
	case DZ_K_LDDW:
		snprintf(buf, size, "r%u = 0x%" PRIx64, d,
			 ((uint64_t)(uint32_t)insn[1].imm << 32) | (uint32_t)insn->imm);
		break;
	case DZ_K_LDX:
		snprintf(buf, size, "r%u = *(%s *)(r%u %+d)", d,
			 BPF_MODE(code) == BPF_MEMSX ? ldsx_type[BPF_SIZE(code) >> 3] : ty, s,
			 insn->off);
		break;
	case DZ_K_ST:
		snprintf(buf, size, "*(%s *)(r%u %+d) = %d", ty, d, insn->off, insn->imm);
		break;
	case DZ_K_STX:
		snprintf(buf, size, "*(%s *)(r%u %+d) = r%u", ty, d, insn->off, s);
		break;
	case DZ_K_ATOMIC: {
		const char *w = BPF_SIZE(code) == BPF_DW ? "64" : "";

		if (insn->imm == BPF_CMPXCHG)
			snprintf(buf, size, "r0 = atomic%s_cmpxchg((%s *)(r%u %+d), r0, r%u)", w,
				 ty, d, insn->off, s);
		else if (insn->imm == BPF_XCHG)
			snprintf(buf, size, "r%u = atomic%s_xchg((%s *)(r%u %+d), r%u)", s, w, ty,
				 d, insn->off, s);
		else if (insn->imm & BPF_FETCH)
			snprintf(buf, size, "r%u = atomic%s_fetch_%s((%s *)(r%u %+d), r%u)", s, w,
				 atomic_op[BPF_OP(insn->imm) >> 4], ty, d, insn->off, s);
		else
			snprintf(buf, size, "lock *(%s *)(r%u %+d) %s r%u", ty, d, insn->off,
				 alu_op[BPF_OP(insn->imm) >> 4], s);
		break;
	}
	case DZ_K_JA:
		if (BPF_CLASS(code) == BPF_JMP32)
			snprintf(buf, size, "gotol pc%+d", insn->imm);
		else
			snprintf(buf, size, "goto pc%+d", insn->off);
		break;
	case DZ_K_JCC:
		if (BPF_SRC(code) == BPF_X)
			snprintf(buf, size, "if %c%u %s %c%u goto pc%+d", r, d, jmp_op[op >> 4], r,
				 s, insn->off);
		else
			snprintf(buf, size, "if %c%u %s 0x%x goto pc%+d", r, d, jmp_op[op >> 4],
				 (uint32_t)insn->imm, insn->off);
		break;
	case DZ_K_CALL: {
		const char *name = dz_helper__name(insn->imm);

		snprintf(buf, size, "call %s#%d", name ? name : "unknown", insn->imm);
		break;
	}
	case DZ_K_CALL_LOCAL:
		snprintf(buf, size, "call pc%+d", insn->imm);
		break;
	case DZ_K_EXIT:
		snprintf(buf, size, "exit");
		break;
	}
	return n;
}

int dz_prog__disasm(const struct dz_prog *prog, FILE *f)
{
	char line[128];
	uint32_t i;
	int n, ret = 0;

	/* A bad instruction is shown with its reason, and the listing goes on. */
	for (i = 0; i < prog->insn_cnt; i += n) {
		n = dz_insn__snprint(line, sizeof(line), &prog->insns[i], prog->insn_cnt - i);
		if (n < 0) {
			fprintf(f, "%u: (%02x) <%s>\n", i, prog->insns[i].code, line);
			ret = n;
			n = 1;
			continue;
		}
		fprintf(f, "%u: (%02x) %s\n", i, prog->insns[i].code, line);
	}
	return ret;
}
