/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One verifier test case, in the style of the Linux kernel's
 * tools/testing/selftests/bpf/verifier/ tests: a program written with the
 * <doze/filter.h> macros, the verdict expected from dz_prog__verify(), and
 * for a rejection the errno and a substring of the log's reason. Accepted
 * programs are also run (fast and checked interpreter); .retval checks r0.
 */
#ifndef DZ_TESTS_VERIFIER_CORPUS_H
#define DZ_TESTS_VERIFIER_CORPUS_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <doze/bpf.h>
#include <doze/filter.h>

#define MAX_TEST_INSNS 64

enum { ACCEPT = 0, REJECT = 1 };

struct vcase {
	const char *descr;
	struct bpf_insn insns[MAX_TEST_INSNS];
	uint32_t len; /* 0: up to the last non-zero insn */
	/* generated programs (large ones): fills *insns (malloc'ed) and *len */
	void (*fill)(struct bpf_insn **insns, uint32_t *len);
	enum dz_prog_type type; /* DZ_PROG_PREDICATE unless set */
	uint32_t mem_size;	/* DZ_PROG_MEM */
	int result;		/* ACCEPT or REJECT */
	int err;		/* expected errno on REJECT (negative) */
	const char *errstr;	/* substring expected in the log on REJECT */
	int slow;		/* verify at log level 0 only (expensive cases) */
	int check_retval;
	uint64_t retval; /* r0 of a run on the runner's synthetic context */
};

#define CTX_OFF(f) ((int16_t)offsetof(struct dz_pred_ctx, f))

/* REG = an unknown u32 / u64 from the context (pointed to by BASE). */
#define LD_CTX_U32(REG, BASE, F) BPF_LDX_MEM(BPF_W, REG, BASE, CTX_OFF(F))
#define LD_CTX_U64(REG, BASE, F) BPF_LDX_MEM(BPF_DW, REG, BASE, CTX_OFF(F))

/*
 * Proves what the verifier knows: "if r0 == V goto exit; r0 = r9; exit".
 * r9 is never initialised, so the program is accepted only if the verifier
 * proved r0 == V, and a run returns V only if that proof was right.
 */
#define PROVE_R0_EQ(V)                                                                             \
	BPF_JMP_IMM(BPF_JEQ, BPF_REG_0, V, 1), BPF_MOV64_REG(BPF_REG_0, BPF_REG_9), BPF_EXIT_INSN()
/* The same for a 64-bit constant (through r8). */
#define PROVE_R0_EQ64(V)                                                                           \
	BPF_LD_IMM64(BPF_REG_8, V), BPF_JMP_REG(BPF_JEQ, BPF_REG_0, BPF_REG_8, 1),                 \
	    BPF_MOV64_REG(BPF_REG_0, BPF_REG_9), BPF_EXIT_INSN()
/* A path the verifier must prove dead: it reads the uninitialised r9. */
#define BAD_PATH() BPF_MOV64_REG(BPF_REG_0, BPF_REG_9)
#define BAD_ERR	   "R9 !read_ok"

/* r1 = fp + OFF; r2 = SIZE; r3 = ADDR; call HELPER (the usual read helper setup) */
#define CALL_READ(HELPER, OFF, SIZE, ADDR)                                                         \
	BPF_MOV64_REG(BPF_REG_1, BPF_REG_10), BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, OFF),              \
	    BPF_MOV64_IMM(BPF_REG_2, SIZE), BPF_MOV64_IMM(BPF_REG_3, ADDR),                        \
	    BPF_CALL_HELPER(HELPER)

#endif
