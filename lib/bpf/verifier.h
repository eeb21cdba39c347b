/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to the verifier (lib/bpf/verifier*.c). The structure mirrors the
 * Linux kernel's kernel/bpf/verifier.c so that engineers who know it find their
 * way: an environment (struct dz_verifier_env) with per-instruction aux data, a
 * CFG pass (check_cfg) and a path-sensitive walk (do_check) over abstract
 * states (struct dz_verifier_state: call frames of registers and stack slots).
 *
 * Scalars are tracked as the kernel does: a tnum (known bits) plus unsigned and
 * signed ranges for the full 64 bits and for the low 32 bits, all kept mutually
 * consistent by reg_bounds_sync(). Every transfer function over-approximates:
 * the set of concrete values a register can hold at run time is always inside
 * what the state says.
 */
#ifndef DZ_LIB_BPF_VERIFIER_H
#define DZ_LIB_BPF_VERIFIER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <doze/bpf.h>

#include "insn.h"

typedef uint8_t u8;
typedef uint16_t u16;
typedef int16_t s16;
typedef uint32_t u32;
typedef int32_t s32;
typedef uint64_t u64;
typedef int64_t s64;

#define U32_MAX ((u32)~0u)
#define S32_MIN ((s32)0x80000000)
#define S32_MAX ((s32)0x7fffffff)
#define U64_MAX ((u64)~0ull)
#define S64_MIN ((s64)0x8000000000000000ull)
#define S64_MAX ((s64)0x7fffffffffffffffull)

#ifndef MAX_BPF_REG
#define MAX_BPF_REG 11
#endif
#define BPF_REG_SIZE		     8
#define MAX_BPF_STACK		     DZ_STACK_SIZE
#define STACK_SLOTS		     (MAX_BPF_STACK / BPF_REG_SIZE)
#define BPF_COMPLEXITY_LIMIT_INSNS   1000000 /* processed insns, as the kernel's */
#define BPF_COMPLEXITY_LIMIT_JMP_SEQ 8192    /* pending branches */

/*
 * The processed-insn limit in force: BPF_COMPLEXITY_LIMIT_INSNS unless a test
 * (the fuzzer, to keep its throughput) lowers it. Lowering it only makes the
 * verifier reject more: never a soundness knob.
 */
extern uint32_t dz_verifier_insn_limit;

/*
 * Test hook (NULL in production): called with R0's state at every exit of the
 * main program that do_check walks. The fuzzer checks that the r0 a run returns
 * lies inside one of them, an oracle for the scalar tracking itself.
 */
struct dz_reg_state;
extern void (*dz_verifier_exit_hook)(void *arg, const struct dz_reg_state *r0);
extern void *dz_verifier_exit_hook_arg;

#define DZ_MAX_STATES_PER_INSN 64    /* explored states kept per prune point */
#define DZ_MAX_STORED_STATES   16384 /* explored states kept in total */
/*
 * Bytes of states copied at branches. Deep call stacks make each copy up to 8
 * frames big; this bounds verification time as the processed-insn limit does
 * for one frame (a million insns of one frame copy about 2 GB at most).
 */
#define DZ_MAX_COPY_BYTES  (3ull << 30)
#define DZ_MAX_STATE_BYTES (64u << 20) /* memory for explored states, and for pending ones */
#define DZ_LOG_CAP	   (32u << 20) /* in-memory log at most; only its tail is copied out */
#define BPF_MAX_VAR_OFF	   (1 << 29)   /* bound on constant pointer offsets */

/* ---- tnum: a value whose bits are known (value) or unknown (mask) ---- */
struct tnum {
	u64 value;
	u64 mask;
};

#define TNUM(v, m) ((struct tnum){.value = (v), .mask = (m)})
extern const struct tnum tnum_unknown;

struct tnum tnum_const(u64 value);
struct tnum tnum_range(u64 min, u64 max);
struct tnum tnum_lshift(struct tnum a, u8 shift);
struct tnum tnum_rshift(struct tnum a, u8 shift);
struct tnum tnum_arshift(struct tnum a, u8 shift, u8 insn_bitness);
struct tnum tnum_add(struct tnum a, struct tnum b);
struct tnum tnum_sub(struct tnum a, struct tnum b);
struct tnum tnum_and(struct tnum a, struct tnum b);
struct tnum tnum_or(struct tnum a, struct tnum b);
struct tnum tnum_xor(struct tnum a, struct tnum b);
struct tnum tnum_mul(struct tnum a, struct tnum b);
/* Intersection of two tnums; *conflict is set when they disagree on a known bit. */
struct tnum tnum_intersect(struct tnum a, struct tnum b, bool *conflict);
struct tnum tnum_cast(struct tnum a, u8 size);
struct tnum tnum_sext32(struct tnum a); /* sign-extend the low 32 bits */
bool tnum_is_const(struct tnum a);
bool tnum_in(struct tnum a, struct tnum b); /* b's values all inside a's */
bool tnum_is_aligned(struct tnum a, u64 size);
struct tnum tnum_subreg(struct tnum a);
struct tnum tnum_with_subreg(struct tnum reg, struct tnum subreg);
int tnum_sbin(char *buf, size_t size, struct tnum a);

/* ---- registers and stack ---- */
enum dz_reg_type {
	NOT_INIT = 0,
	SCALAR_VALUE,
	PTR_TO_CTX,   /* struct dz_pred_ctx, read-only */
	PTR_TO_STACK, /* frame pointer of frame 'frameno' + off */
	PTR_TO_MEM,   /* DZ_PROG_MEM buffer of mem_size bytes + off */
};

struct dz_reg_state {
	u8 type;    /* enum dz_reg_type */
	u8 frameno; /* PTR_TO_STACK: whose stack */
	u32 id;	    /* scalars copied by mov share an id: refined together */
	/*
	 * Pointers: the fixed offset. Linked scalars (id != 0): the constant
	 * added since the copy; all scalars of one id have equal value - off.
	 */
	s32 off;
	/*
	 * Scalars: the value. Pointers (as in the kernel): the variable part of
	 * the offset, a known 0 unless a bounded scalar was added (stack and
	 * buffer pointers only).
	 */
	struct tnum var_off;
	u64 umin_value, umax_value;
	s64 smin_value, smax_value;
	u32 u32_min_value, u32_max_value;
	s32 s32_min_value, s32_max_value;
};

enum dz_stack_slot_type {
	STACK_INVALID = 0, /* never written on this path: reading it is an error */
	STACK_MISC,	   /* some scalar byte */
	STACK_ZERO,	   /* known zero byte */
	/*
	 * Part of a register spill (see spilled_ptr): the first 8 bytes of a
	 * slot (a pointer or scalar), or the first 1, 2 or 4 (a scalar that fits
	 * in them, kept zero-extended). The spill bytes are always a prefix of
	 * the slot: stack[8k] == STACK_SPILL says slot k holds a spill.
	 */
	STACK_SPILL,
};

struct dz_func_state {
	struct dz_reg_state regs[MAX_BPF_REG];
	s32 callsite; /* insn of the call that created this frame, -1 for main */
	u32 frameno;
	u32 subprogno;
	u8 stack[MAX_BPF_STACK]; /* byte at fp - MAX_BPF_STACK + i: enum dz_stack_slot_type */
	struct dz_reg_state spilled_ptr[STACK_SLOTS]; /* slot k covers stack[8k .. 8k+7] */
};

struct dz_verifier_state {
	struct dz_func_state *frame[DZ_MAX_CALL_FRAMES];
	u32 curframe;
};

/* ---- per-instruction and per-subprogram facts from check_cfg ---- */
struct dz_insn_aux_data {
	u8 kind;	/* enum dz_insn_kind */
	u8 ldimm_hi;	/* second slot of an lddw */
	u8 prune_point; /* compare states here */
	u8 seen;	/* reached by do_check */
	u16 live_regs;	/* registers that may be read before written, from here on */
	u16 subprog;	/* index of the subprogram containing this insn */
};

struct dz_subprog_info {
	u32 start; /* first insn */
	u32 end;   /* one past the last insn */
	u32 depth; /* frames needed by the deepest call chain from here */
};

struct dz_explored_state {
	struct dz_explored_state *next;
	struct dz_verifier_state st;
	u32 hit_cnt, miss_cnt;
};

struct dz_stack_elem {
	struct dz_verifier_state st;
	u32 insn_idx;
	u32 prev_insn_idx;
	struct dz_stack_elem *next;
};

struct dz_verifier_env {
	struct dz_prog *prog;
	const struct bpf_insn *insns;
	u32 len;
	enum dz_prog_type type;
	struct dz_insn_aux_data *aux;
	struct dz_subprog_info *subprog;
	u32 subprog_cnt;

	/* log: grows in memory, its tail is copied to the caller's buffer */
	char *lbuf;
	size_t llen, lcap;
	size_t lcap_max; /* older lines are dropped beyond this */
	u32 log_level;
	bool log_off;	 /* no log buffer: skip formatting */
	s64 logged_insn; /* insn whose "IDX: (OP) text" line was printed last */

	/* do_check */
	struct dz_verifier_state cur;
	u32 insn_idx;
	u32 prev_insn_idx;
	u32 id_gen;
	u64 insn_processed;
	struct dz_stack_elem *head;
	u32 stack_size;
	struct dz_explored_state **explored;
	u32 total_states, peak_states, cur_states, max_states_per_insn;
	size_t explored_bytes, pending_bytes;
	u64 copied_bytes; /* states copied for branches: bounded like processed insns */
};

/* ---- verifier-log.c: log and errors ---- */
void verbose(struct dz_verifier_env *env, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints the current instruction's line unless already printed, then the reason; returns err. */
int verbose_err(struct dz_verifier_env *env, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void print_insn(struct dz_verifier_env *env, u32 idx);
const char *reg_type_str(enum dz_reg_type t);
void print_reg(struct dz_verifier_env *env, const struct dz_reg_state *reg);
void print_verifier_state(struct dz_verifier_env *env, const struct dz_verifier_state *st);
/* Copies the tail of the log (cut at a line start) into the caller's buffer. */
void copy_log(struct dz_verifier_env *env, char *log, size_t log_size);

/* ---- verifier-state.c ---- */
void free_state(struct dz_verifier_state *st);
size_t state_bytes(const struct dz_verifier_state *st);
int copy_state(struct dz_verifier_state *dst, const struct dz_verifier_state *src);
/* Queues st (taking its frames) to be walked from insn_idx later. */
int push_stack(struct dz_verifier_env *env, struct dz_verifier_state *st, u32 insn_idx,
	       u32 prev_insn_idx);
/* Replaces the current state with the most recently pushed one; false if none left. */
bool pop_stack(struct dz_verifier_env *env);
/* 1: the current state is covered by an explored one (prune), 0: go on, <0: error. */
int is_state_visited(struct dz_verifier_env *env, u32 insn_idx);
void free_env(struct dz_verifier_env *env);
const char *tnum_str(char *buf, size_t size, struct tnum t);

/* ---- verifier-cfg.c ---- */
int check_cfg(struct dz_verifier_env *env);

/* ---- verifier-scalar.c: scalar bounds ---- */
void mark_reg_not_init(struct dz_reg_state *reg);
void mark_reg_unknown(struct dz_reg_state *reg);
void mark_reg_known(struct dz_reg_state *reg, u64 imm);
/* A pointer of type t at fixed offset off, no variable part. */
void mark_ptr(struct dz_reg_state *reg, enum dz_reg_type t, s32 off, u8 frameno);
bool ptr_has_var_off(const struct dz_reg_state *reg);
/* Unknown value of size bytes loaded zero-extended (or sign-extended if sext). */
void mark_reg_unknown_size(struct dz_reg_state *reg, int size, bool sext);
/* reg as loaded by a 'size'-byte load from memory holding it (truncated, then extended); id dropped. */
void scalar_coerce(struct dz_reg_state *reg, int size, bool sext);
/* A scalar in [smin, smax] (signed), e.g. a helper's return value. */
void mark_reg_srange(struct dz_reg_state *reg, s64 smin, s64 smax);
bool reg_bounds_sync(struct dz_reg_state *reg); /* false: no value fits (dead path) */
bool reg_is_const(const struct dz_reg_state *reg);
/*
 * dst = dst OP src for scalars (src may be a constant made by mark_reg_known).
 * alu32: 32-bit op, result zero-extended. off: 1 = signed div/mod, 8/16/32 = movsx.
 * Returns false if the result's bounds are inconsistent (a verifier bug: reject).
 */
bool scalar_alu(struct dz_reg_state *dst, const struct dz_reg_state *src, u8 op, bool alu32,
		s16 off);
/* BPF_END: to-LE/to-BE/bswap of the low 'bits' bits. */
bool scalar_end(struct dz_reg_state *dst, bool swap, int bits);
/* 1: always taken, 0: never, -1: unknown. */
int is_branch_taken(const struct dz_reg_state *a, const struct dz_reg_state *b, u8 op, bool is32);
/* Refine a and b given that "a op b" holds; false if that is impossible. */
bool reg_set_min_max(struct dz_reg_state *a, struct dz_reg_state *b, u8 op, bool is32);
u8 negate_jmp_op(u8 op);
/* True if every value 'cur' allows is allowed by 'old' (for state pruning). */
bool scalar_range_within(const struct dz_reg_state *old, const struct dz_reg_state *cur);

/* ---- verifier-mem.c: memory accesses and helpers ---- */
int check_mem_access(struct dz_verifier_env *env, u32 regno, s16 off, int size, bool write,
		     int value_regno, const struct dz_reg_state *value, bool sext);
/* Bytes (1, 2, 4 or 8, from the slot's start) of the spill in stack slot 'slot', 0 if none. */
int spill_width(const struct dz_func_state *f, int slot);
int check_atomic(struct dz_verifier_env *env, const struct bpf_insn *insn);
int check_helper_call(struct dz_verifier_env *env, const struct bpf_insn *insn);
struct dz_func_state *cur_frame(struct dz_verifier_env *env);
struct dz_reg_state *cur_regs(struct dz_verifier_env *env);
int check_reg_read(struct dz_verifier_env *env, u32 regno);

#endif /* DZ_LIB_BPF_VERIFIER_H */
