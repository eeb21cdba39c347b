/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Instruction-building macros for writing eBPF programs as C arrays of
 * struct bpf_insn, with the names the Linux kernel uses in include/linux/filter.h
 * and its selftests, so a reader who knows those recognises them at once.
 * doze's own definitions (the kernel header is not part of the uapi).
 *
 *	struct bpf_insn prog[] = {
 *		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_1, offsetof(struct dz_pred_ctx, cpl)),
 *		BPF_JMP_IMM(BPF_JEQ, BPF_REG_0, 3, 1),
 *		BPF_MOV64_IMM(BPF_REG_0, 0),
 *		BPF_EXIT_INSN(),
 *	};
 */
#ifndef DZ_FILTER_H
#define DZ_FILTER_H

#include <linux/bpf.h>

/* Register numbers, as in the kernel (enum in linux/bpf.h has BPF_REG_0..10). */
#ifndef BPF_REG_ARG1
#define BPF_REG_ARG1 BPF_REG_1
#define BPF_REG_ARG2 BPF_REG_2
#define BPF_REG_ARG3 BPF_REG_3
#define BPF_REG_ARG4 BPF_REG_4
#define BPF_REG_ARG5 BPF_REG_5
#define BPF_REG_CTX  BPF_REG_6
#define BPF_REG_FP   BPF_REG_10
#endif

/* Opcodes newer uapi headers have and older ones may lack. */
#ifndef BPF_JMP32
#define BPF_JMP32 0x06
#endif
#ifndef BPF_MEMSX
#define BPF_MEMSX 0x80
#endif
#ifndef BPF_JCOND
#define BPF_JCOND 0xe0
#endif
#ifndef BPF_TO_LE
#define BPF_TO_LE 0x00
#define BPF_TO_BE 0x08
#endif
#ifndef BPF_FETCH
#define BPF_FETCH 0x01
#endif
#ifndef BPF_XCHG
#define BPF_XCHG (0xe0 | BPF_FETCH)
#endif
#ifndef BPF_CMPXCHG
#define BPF_CMPXCHG (0xf0 | BPF_FETCH)
#endif
#ifndef BPF_PSEUDO_CALL
#define BPF_PSEUDO_CALL 1
#endif

/* Any instruction, every field given. */
#define BPF_RAW_INSN(CODE, DST, SRC, OFF, IMM)                                                     \
	((struct bpf_insn){                                                                        \
	    .code = (CODE), .dst_reg = (DST), .src_reg = (SRC), .off = (OFF), .imm = (IMM)})

/* ALU ops on registers, bpf_add|sub|...: dst_reg += src_reg */
#define BPF_ALU64_REG(OP, DST, SRC) BPF_RAW_INSN(BPF_ALU64 | BPF_OP(OP) | BPF_X, DST, SRC, 0, 0)
#define BPF_ALU32_REG(OP, DST, SRC) BPF_RAW_INSN(BPF_ALU | BPF_OP(OP) | BPF_X, DST, SRC, 0, 0)

/* ALU ops on immediates: dst_reg += imm32 */
#define BPF_ALU64_IMM(OP, DST, IMM) BPF_RAW_INSN(BPF_ALU64 | BPF_OP(OP) | BPF_K, DST, 0, 0, IMM)
#define BPF_ALU32_IMM(OP, DST, IMM) BPF_RAW_INSN(BPF_ALU | BPF_OP(OP) | BPF_K, DST, 0, 0, IMM)

/* Signed division/modulo (off = 1), RFC 9669 sdiv/smod. */
#define BPF_ALU64_REG_OFF(OP, DST, SRC, OFF)                                                       \
	BPF_RAW_INSN(BPF_ALU64 | BPF_OP(OP) | BPF_X, DST, SRC, OFF, 0)
#define BPF_ALU32_REG_OFF(OP, DST, SRC, OFF)                                                       \
	BPF_RAW_INSN(BPF_ALU | BPF_OP(OP) | BPF_X, DST, SRC, OFF, 0)
#define BPF_ALU64_IMM_OFF(OP, DST, IMM, OFF)                                                       \
	BPF_RAW_INSN(BPF_ALU64 | BPF_OP(OP) | BPF_K, DST, 0, OFF, IMM)
#define BPF_ALU32_IMM_OFF(OP, DST, IMM, OFF)                                                       \
	BPF_RAW_INSN(BPF_ALU | BPF_OP(OP) | BPF_K, DST, 0, OFF, IMM)

/* Endianness conversion: BPF_ENDIAN(BPF_TO_BE, dst, 16|32|64); bswap is ALU64 | BPF_END. */
#define BPF_ENDIAN(TYPE, DST, LEN) BPF_RAW_INSN(BPF_ALU | BPF_END | BPF_SRC(TYPE), DST, 0, 0, LEN)
#define BPF_BSWAP(DST, LEN)	   BPF_RAW_INSN(BPF_ALU64 | BPF_END | BPF_TO_LE, DST, 0, 0, LEN)

/* Moves. */
#define BPF_MOV64_REG(DST, SRC) BPF_RAW_INSN(BPF_ALU64 | BPF_MOV | BPF_X, DST, SRC, 0, 0)
#define BPF_MOV32_REG(DST, SRC) BPF_RAW_INSN(BPF_ALU | BPF_MOV | BPF_X, DST, SRC, 0, 0)
#define BPF_MOV64_IMM(DST, IMM) BPF_RAW_INSN(BPF_ALU64 | BPF_MOV | BPF_K, DST, 0, 0, IMM)
#define BPF_MOV32_IMM(DST, IMM) BPF_RAW_INSN(BPF_ALU | BPF_MOV | BPF_K, DST, 0, 0, IMM)
/* movsx: sign-extend the low OFF (8/16/32) bits of SRC. */
#define BPF_MOVSX64_REG(DST, SRC, OFF) BPF_RAW_INSN(BPF_ALU64 | BPF_MOV | BPF_X, DST, SRC, OFF, 0)
#define BPF_MOVSX32_REG(DST, SRC, OFF) BPF_RAW_INSN(BPF_ALU | BPF_MOV | BPF_X, DST, SRC, OFF, 0)

/* The wide immediate: two slots, dst = imm64. */
#define BPF_LD_IMM64_RAW(DST, SRC, IMM)                                                            \
	BPF_RAW_INSN(BPF_LD | BPF_DW | BPF_IMM, DST, SRC, 0, (__u32)(IMM)),                        \
	    BPF_RAW_INSN(0, 0, 0, 0, (__u32)((__u64)(IMM) >> 32))
#define BPF_LD_IMM64(DST, IMM) BPF_LD_IMM64_RAW(DST, 0, IMM)

/* Memory: dst = *(size *)(src + off) */
#define BPF_LDX_MEM(SIZE, DST, SRC, OFF)                                                           \
	BPF_RAW_INSN(BPF_LDX | BPF_SIZE(SIZE) | BPF_MEM, DST, SRC, OFF, 0)
/* Sign-extending load: dst = *(s8|s16|s32 *)(src + off) */
#define BPF_LDX_MEMSX(SIZE, DST, SRC, OFF)                                                         \
	BPF_RAW_INSN(BPF_LDX | BPF_SIZE(SIZE) | BPF_MEMSX, DST, SRC, OFF, 0)
/* *(size *)(dst + off) = src */
#define BPF_STX_MEM(SIZE, DST, SRC, OFF)                                                           \
	BPF_RAW_INSN(BPF_STX | BPF_SIZE(SIZE) | BPF_MEM, DST, SRC, OFF, 0)
/* *(size *)(dst + off) = imm32 */
#define BPF_ST_MEM(SIZE, DST, OFF, IMM)                                                            \
	BPF_RAW_INSN(BPF_ST | BPF_SIZE(SIZE) | BPF_MEM, DST, 0, OFF, IMM)

/* Atomics: BPF_ATOMIC_OP(BPF_DW, BPF_ADD | BPF_FETCH, dst, src, off) */
#define BPF_ATOMIC_OP(SIZE, OP, DST, SRC, OFF)                                                     \
	BPF_RAW_INSN(BPF_STX | BPF_SIZE(SIZE) | BPF_ATOMIC, DST, SRC, OFF, OP)
#define BPF_STX_XADD(SIZE, DST, SRC, OFF) BPF_ATOMIC_OP(SIZE, BPF_ADD, DST, SRC, OFF)

/* Conditional jumps: if (dst op src) goto pc + 1 + off */
#define BPF_JMP_REG(OP, DST, SRC, OFF) BPF_RAW_INSN(BPF_JMP | BPF_OP(OP) | BPF_X, DST, SRC, OFF, 0)
#define BPF_JMP_IMM(OP, DST, IMM, OFF) BPF_RAW_INSN(BPF_JMP | BPF_OP(OP) | BPF_K, DST, 0, OFF, IMM)
#define BPF_JMP32_REG(OP, DST, SRC, OFF)                                                           \
	BPF_RAW_INSN(BPF_JMP32 | BPF_OP(OP) | BPF_X, DST, SRC, OFF, 0)
#define BPF_JMP32_IMM(OP, DST, IMM, OFF)                                                           \
	BPF_RAW_INSN(BPF_JMP32 | BPF_OP(OP) | BPF_K, DST, 0, OFF, IMM)

/* Unconditional jumps: goto pc + 1 + off; the long form (gotol) uses imm. */
#define BPF_JMP_A(OFF)	 BPF_RAW_INSN(BPF_JMP | BPF_JA, 0, 0, OFF, 0)
#define BPF_JMP32_A(IMM) BPF_RAW_INSN(BPF_JMP32 | BPF_JA, 0, 0, 0, IMM)

/* Helper call by id (kernel: BPF_EMIT_CALL takes a function; doze uses the id). */
#define BPF_CALL_HELPER(ID) BPF_RAW_INSN(BPF_JMP | BPF_CALL, 0, 0, 0, ID)
#define BPF_EMIT_CALL(ID)   BPF_CALL_HELPER(ID)
/* bpf-to-bpf call: target = pc + 1 + IMM */
#define BPF_CALL_REL(IMM) BPF_RAW_INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, IMM)

/* Program exit: return r0. */
#define BPF_EXIT_INSN() BPF_RAW_INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#endif /* DZ_FILTER_H */
