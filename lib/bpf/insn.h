/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal to lib/bpf: opcode constants Debian 12's <linux/bpf.h> (6.1) lacks,
 * and the one instruction decoder every part of the engine shares (the
 * disassembler, the loaders' sanity checks, the checked interpreter and the
 * verifier), so "what is a valid instruction" is answered in one place.
 */
#ifndef DZ_LIB_BPF_INSN_H
#define DZ_LIB_BPF_INSN_H

#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>

#include <doze/bpf.h>

/* Newer than the 6.1 uapi header (RFC 9669 / cpu v4). */
#ifndef BPF_MEMSX
#define BPF_MEMSX 0x80 /* sign-extending load (LDX) */
#endif
#ifndef BPF_JCOND
#define BPF_JCOND 0xe0 /* may_goto (not supported by doze) */
#endif
#define DZ_OFF_SIGNED 1 /* off == 1 on BPF_DIV/BPF_MOD: sdiv/smod */

#define DZ_NR_REGS 11 /* r0..r10 */
#define DZ_REG_FP  10

/* Classes of decoded instruction forms, one per distinct syntax. */
enum dz_insn_kind {
	DZ_K_ALU,	 /* dst op= src/imm (incl. mov, sdiv/smod, movsx) */
	DZ_K_NEG,	 /* dst = -dst */
	DZ_K_END,	 /* dst = le16/be32/bswap64 dst */
	DZ_K_LDDW,	 /* dst = imm64 (2 slots) */
	DZ_K_LDX,	 /* dst = *(size *)(src + off), incl. sign-extending */
	DZ_K_ST,	 /* *(size *)(dst + off) = imm */
	DZ_K_STX,	 /* *(size *)(dst + off) = src */
	DZ_K_ATOMIC,	 /* lock/fetch/xchg/cmpxchg */
	DZ_K_JA,	 /* goto pc+off (JMP) or gotol pc+imm (JMP32) */
	DZ_K_JCC,	 /* if dst op src/imm goto pc+off */
	DZ_K_CALL,	 /* helper call, imm = id */
	DZ_K_CALL_LOCAL, /* bpf-to-bpf call, target = pc + 1 + imm */
	DZ_K_EXIT,
};

/*
 * Checks that *insn is a valid instruction (opcode known and supported, every
 * reserved field zero, register numbers in range). avail = slots from insn to the
 * end of the program. Returns its size in slots (1, or 2 for lddw) and its kind
 * in *kind (may be NULL), or -EINVAL (-ENOTSUP for a valid but unsupported form)
 * with a one-line reason in err (may be NULL).
 */
int dz_insn__decode(const struct bpf_insn *insn, uint32_t avail, enum dz_insn_kind *kind, char *err,
		    size_t err_size);

/*
 * Jump/call target of a JA, conditional jump or local call at index idx, as an
 * absolute index (may be out of range: the caller checks). Only meaningful for
 * DZ_K_JA, DZ_K_JCC and DZ_K_CALL_LOCAL.
 */
static inline int64_t dz_insn__target(const struct bpf_insn *insn, uint32_t idx)
{
	if (BPF_CLASS(insn->code) == BPF_JMP32 && BPF_OP(insn->code) == BPF_JA)
		return (int64_t)idx + 1 + insn->imm;
	if (BPF_OP(insn->code) == BPF_CALL)
		return (int64_t)idx + 1 + insn->imm;
	return (int64_t)idx + 1 + insn->off;
}

/*
 * Structural check of a whole program: every instruction decodes, lddw has its
 * second slot, every jump and local call lands inside the program and not on
 * the second slot of an lddw. Not a safety proof (that is the verifier's job):
 * what the loaders and the checked interpreter need. Returns 0 or a negative
 * errno with "insn N: reason" in err.
 */
int dz_prog__check(const struct bpf_insn *insns, uint32_t cnt, char *err, size_t err_size);

/* Name of a DZ_PROG_PREDICATE helper ("dz_read_gva"), or NULL. */
const char *dz_helper__name(int32_t id);

/*
 * Runs DZ_PROG_PREDICATE helper ID with its first three arguments on the
 * predicate context ctx (lib/bpf/gmem.c). Unknown ids return -ENOSYS (the
 * verifier and the checked interpreter refuse them before).
 */
int64_t dz__helper_call(int32_t id, uint64_t r1, uint64_t r2, uint64_t r3, const void *ctx,
			const struct dz_guest_ops *ops);

#endif /* DZ_LIB_BPF_INSN_H */
