// SPDX-License-Identifier: GPL-2.0
/*
 * The instruction decoder: which encodings are eBPF instructions (RFC 9669)
 * doze accepts, with every reserved field required to be zero, as the kernel's
 * verifier requires (so disassembly and assembly are exact inverses).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "insn.h"

static int bad(char *err, size_t size, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && size) {
		va_start(ap, fmt);
		vsnprintf(err, size, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static int decode_alu(const struct bpf_insn *insn, enum dz_insn_kind *kind, char *err, size_t size)
{
	uint8_t code = insn->code, op = BPF_OP(code);
	bool is64 = BPF_CLASS(code) == BPF_ALU64, x = BPF_SRC(code) == BPF_X;

	switch (op) {
	case BPF_ADD:
	case BPF_SUB:
	case BPF_MUL:
	case BPF_OR:
	case BPF_AND:
	case BPF_LSH:
	case BPF_RSH:
	case BPF_XOR:
	case BPF_ARSH:
	case BPF_DIV:
	case BPF_MOD:
	case BPF_MOV:
		if (x && insn->imm)
			return bad(err, size, -EINVAL, "BPF_ALU uses reserved fields (imm %d)",
				   insn->imm);
		if (!x && insn->src_reg)
			return bad(err, size, -EINVAL, "BPF_ALU uses reserved fields (src_reg %u)",
				   insn->src_reg);
		if (op == BPF_DIV || op == BPF_MOD) {
			if (insn->off != 0 && insn->off != DZ_OFF_SIGNED)
				return bad(err, size, -EINVAL,
					   "BPF_ALU uses reserved fields (off %d on div/mod)",
					   insn->off);
		} else if (op == BPF_MOV && x) {
			if (insn->off != 0 && insn->off != 8 && insn->off != 16 &&
			    !(is64 && insn->off == 32))
				return bad(err, size, -EINVAL,
					   "BPF_MOV uses reserved fields (off %d)", insn->off);
		} else if (insn->off) {
			return bad(err, size, -EINVAL, "BPF_ALU uses reserved fields (off %d)",
				   insn->off);
		}
		*kind = DZ_K_ALU;
		return 1;
	case BPF_NEG:
		if (x || insn->src_reg || insn->off || insn->imm)
			return bad(err, size, -EINVAL, "BPF_NEG uses reserved fields");
		*kind = DZ_K_NEG;
		return 1;
	case BPF_END:
		if (insn->src_reg || insn->off)
			return bad(err, size, -EINVAL, "BPF_END uses reserved fields");
		if (insn->imm != 16 && insn->imm != 32 && insn->imm != 64)
			return bad(err, size, -EINVAL, "BPF_END with invalid width %d", insn->imm);
		if (is64 && x)
			return bad(err, size, -EINVAL, "BPF_ALU64 | BPF_END must use BPF_TO_LE");
		*kind = DZ_K_END;
		return 1;
	default:
		return bad(err, size, -EINVAL, "invalid BPF_ALU opcode 0x%02x", code);
	}
}

static int decode_jmp(const struct bpf_insn *insn, enum dz_insn_kind *kind, char *err, size_t size)
{
	uint8_t code = insn->code, op = BPF_OP(code);
	bool is32 = BPF_CLASS(code) == BPF_JMP32, x = BPF_SRC(code) == BPF_X;

	switch (op) {
	case BPF_JA:
		if (x || insn->src_reg || insn->dst_reg || (is32 ? insn->off : insn->imm))
			return bad(err, size, -EINVAL, "BPF_JA uses reserved fields");
		*kind = DZ_K_JA;
		return 1;
	case BPF_CALL:
		if (is32 || x || insn->off || insn->dst_reg)
			return bad(err, size, -EINVAL, "BPF_CALL uses reserved fields");
		if (insn->src_reg == BPF_PSEUDO_CALL) {
			*kind = DZ_K_CALL_LOCAL;
			return 1;
		}
		if (insn->src_reg == 2)
			return bad(err, size, -ENOTSUP, "kfunc calls are not supported");
		if (insn->src_reg)
			return bad(err, size, -EINVAL, "BPF_CALL uses reserved fields (src_reg %u)",
				   insn->src_reg);
		*kind = DZ_K_CALL;
		return 1;
	case BPF_EXIT:
		if (is32 || x || insn->src_reg || insn->dst_reg || insn->off || insn->imm)
			return bad(err, size, -EINVAL, "BPF_EXIT uses reserved fields");
		*kind = DZ_K_EXIT;
		return 1;
	case BPF_JEQ:
	case BPF_JGT:
	case BPF_JGE:
	case BPF_JSET:
	case BPF_JNE:
	case BPF_JSGT:
	case BPF_JSGE:
	case BPF_JLT:
	case BPF_JLE:
	case BPF_JSLT:
	case BPF_JSLE:
		if (x ? insn->imm != 0 : insn->src_reg != 0)
			return bad(err, size, -EINVAL, "BPF_JMP/JMP32 uses reserved fields");
		*kind = DZ_K_JCC;
		return 1;
	case BPF_JCOND:
		return bad(err, size, -ENOTSUP, "may_goto (BPF_JCOND) is not supported");
	default:
		return bad(err, size, -EINVAL, "invalid BPF_JMP opcode 0x%02x", code);
	}
}

static int decode_mem(const struct bpf_insn *insn, uint32_t avail, enum dz_insn_kind *kind,
		      char *err, size_t size)
{
	uint8_t code = insn->code, mode = BPF_MODE(code), sz = BPF_SIZE(code);

	switch (BPF_CLASS(code)) {
	case BPF_LD:
		if (mode == BPF_ABS || mode == BPF_IND)
			return bad(err, size, -ENOTSUP,
				   "legacy packet loads (BPF_ABS/BPF_IND) are not supported");
		if (code != (BPF_LD | BPF_IMM | BPF_DW))
			return bad(err, size, -EINVAL, "invalid BPF_LD opcode 0x%02x", code);
		if (avail < 2)
			return bad(err, size, -EINVAL, "invalid bpf_ld_imm64 insn (truncated)");
		if (insn->src_reg)
			return bad(err, size, -ENOTSUP,
				   "lddw with src_reg %u (map/BTF/func pseudo) is not supported",
				   insn->src_reg);
		if (insn->off)
			return bad(err, size, -EINVAL, "BPF_LD_IMM64 uses reserved fields");
		if (insn[1].code || insn[1].dst_reg || insn[1].src_reg || insn[1].off)
			return bad(err, size, -EINVAL, "invalid bpf_ld_imm64 insn (second slot)");
		*kind = DZ_K_LDDW;
		return 2;
	case BPF_LDX:
		if (mode != BPF_MEM && !(mode == BPF_MEMSX && sz != BPF_DW))
			return bad(err, size, -EINVAL, "invalid BPF_LDX opcode 0x%02x", code);
		if (insn->imm)
			return bad(err, size, -EINVAL, "BPF_LDX uses reserved fields");
		*kind = DZ_K_LDX;
		return 1;
	case BPF_ST:
		if (mode != BPF_MEM)
			return bad(err, size, -EINVAL, "invalid BPF_ST opcode 0x%02x", code);
		if (insn->src_reg)
			return bad(err, size, -EINVAL, "BPF_ST uses reserved fields");
		*kind = DZ_K_ST;
		return 1;
	case BPF_STX:
		if (mode == BPF_MEM) {
			if (insn->imm)
				return bad(err, size, -EINVAL, "BPF_STX uses reserved fields");
			*kind = DZ_K_STX;
			return 1;
		}
		if (mode != BPF_ATOMIC)
			return bad(err, size, -EINVAL, "invalid BPF_STX opcode 0x%02x", code);
		if (sz != BPF_W && sz != BPF_DW)
			return bad(err, size, -EINVAL, "invalid atomic operand size");
		switch (insn->imm) {
		case BPF_ADD:
		case BPF_ADD | BPF_FETCH:
		case BPF_AND:
		case BPF_AND | BPF_FETCH:
		case BPF_OR:
		case BPF_OR | BPF_FETCH:
		case BPF_XOR:
		case BPF_XOR | BPF_FETCH:
		case BPF_XCHG:
		case BPF_CMPXCHG:
			*kind = DZ_K_ATOMIC;
			return 1;
		default:
			return bad(err, size, -EINVAL, "BPF_ATOMIC uses invalid atomic opcode %02x",
				   insn->imm);
		}
	}
	return bad(err, size, -EINVAL, "invalid opcode 0x%02x", code);
}

int dz_insn__decode(const struct bpf_insn *insn, uint32_t avail, enum dz_insn_kind *kind, char *err,
		    size_t err_size)
{
	enum dz_insn_kind k;
	int ret;

	if (!avail)
		return bad(err, err_size, -EINVAL, "no instruction");
	if (insn->dst_reg >= DZ_NR_REGS)
		return bad(err, err_size, -EINVAL, "invalid dst register r%u", insn->dst_reg);
	if (insn->src_reg >= DZ_NR_REGS)
		return bad(err, err_size, -EINVAL, "invalid src register r%u", insn->src_reg);

	switch (BPF_CLASS(insn->code)) {
	case BPF_ALU:
	case BPF_ALU64:
		ret = decode_alu(insn, &k, err, err_size);
		break;
	case BPF_JMP:
	case BPF_JMP32:
		ret = decode_jmp(insn, &k, err, err_size);
		break;
	default:
		ret = decode_mem(insn, avail, &k, err, err_size);
		break;
	}
	if (ret > 0 && kind)
		*kind = k;
	return ret;
}

int dz_prog__check(const struct bpf_insn *insns, uint32_t cnt, char *err, size_t err_size)
{
	enum dz_insn_kind kind;
	uint8_t *second; /* second slot of an lddw: not an instruction */
	char why[96];
	uint32_t i;
	int n, ret = 0;

	if (!cnt)
		return bad(err, err_size, -EINVAL, "empty program");
	second = calloc(cnt, 1);
	if (!second)
		return -ENOMEM;
	for (i = 0; i < cnt; i += n) {
		n = dz_insn__decode(&insns[i], cnt - i, &kind, why, sizeof(why));
		if (n < 0) {
			ret = bad(err, err_size, n, "insn %u: %s", i, why);
			goto out;
		}
		if (n == 2)
			second[i + 1] = 1;
	}
	for (i = 0; i < cnt; i += n) {
		int64_t t;

		n = dz_insn__decode(&insns[i], cnt - i, &kind, NULL, 0);
		if (kind != DZ_K_JA && kind != DZ_K_JCC && kind != DZ_K_CALL_LOCAL)
			continue;
		t = dz_insn__target(&insns[i], i);
		if (t < 0 || t >= cnt) {
			ret = bad(err, err_size, -EINVAL, "insn %u: jump out of range to %lld", i,
				  (long long)t);
			goto out;
		}
		if (second[t]) {
			ret = bad(err, err_size, -EINVAL,
				  "insn %u: jump into the middle of ldimm64 insn %lld", i,
				  (long long)t - 1);
			goto out;
		}
	}
out:
	free(second);
	return ret;
}

const char *dz_helper__name(int32_t id)
{
	switch (id) {
	case DZ_HELPER_READ_GVA:
		return "dz_read_gva";
	case DZ_HELPER_READ_GPA:
		return "dz_read_gpa";
	case DZ_HELPER_READ_PERCPU:
		return "dz_read_percpu";
	case DZ_HELPER_TRACE:
		return "dz_trace";
	}
	return NULL;
}
