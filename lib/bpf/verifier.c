// SPDX-License-Identifier: GPL-2.0
/*
 * The verifier: proves a program safe for its type before it ever runs.
 * check_cfg (verifier-cfg.c) checks the structure; do_check (here) walks every
 * path from the first instruction with an abstract state per register and stack
 * byte, exploring both sides of every conditional jump whose outcome is not
 * known. Since check_cfg rejects back-edges every path is finite; states that
 * are subsumed by one already explored at the same prune point are cut
 * (is_state_visited), and a budget of processed instructions bounds the rest,
 * as in the kernel (kernel/bpf/verifier.c, whose names and messages this file
 * follows). See docs/verifier.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verifier.h"

uint32_t dz_verifier_insn_limit = BPF_COMPLEXITY_LIMIT_INSNS;
void (*dz_verifier_exit_hook)(void *arg, const struct dz_reg_state *r0);
void *dz_verifier_exit_hook_arg;
/* ---- instructions ---- */

static const char *const alu_op_str[16] = {
    "+=",  "-=", "*=", "/=", "|=",   "&=",     "<<=", ">>=",
    "neg", "%=", "^=", "=",  "s>>=", "endian", "?",   "?",
};

static bool is_pointer(const struct dz_reg_state *r)
{
	return r->type != NOT_INIT && r->type != SCALAR_VALUE;
}

/*
 * ptr += const, ptr -= const, const + ptr move the fixed offset; a bounded
 * non-constant scalar added to (or subtracted from) a stack or buffer pointer
 * goes into its variable part. Nothing else is pointer arithmetic.
 */
static int adjust_ptr_min_max_vals(struct dz_verifier_env *env, const struct bpf_insn *insn,
				   struct dz_reg_state *dst, const struct dz_reg_state *src)
{
	u8 op = BPF_OP(insn->code);
	const struct dz_reg_state *ptr, *off_reg;
	s64 off;

	if (BPF_CLASS(insn->code) == BPF_ALU)
		return verbose_err(env, -EACCES, "R%u 32-bit pointer arithmetic prohibited",
				   insn->dst_reg);
	if (is_pointer(dst) && is_pointer(src)) {
		if (op == BPF_SUB)
			return verbose_err(env, -EACCES, "R%u pointer -= pointer prohibited",
					   insn->dst_reg);
		return verbose_err(env, -EACCES, "R%u pointer %s pointer prohibited", insn->dst_reg,
				   alu_op_str[op >> 4]);
	}
	if (is_pointer(src)) { /* scalar op pointer */
		if (op == BPF_SUB)
			return verbose_err(env, -EACCES,
					   "R%u tried to subtract pointer from scalar",
					   insn->dst_reg);
		if (op != BPF_ADD)
			return verbose_err(env, -EACCES,
					   "R%u pointer arithmetic with %s operator prohibited",
					   insn->dst_reg, alu_op_str[op >> 4]);
		ptr = src;
		off_reg = dst;
	} else {
		ptr = dst;
		off_reg = src;
		if (op == BPF_AND || op == BPF_OR || op == BPF_XOR)
			return verbose_err(env, -EACCES,
					   "R%u bitwise operator %s on pointer prohibited",
					   insn->dst_reg, alu_op_str[op >> 4]);
		if (op != BPF_ADD && op != BPF_SUB)
			return verbose_err(env, -EACCES,
					   "R%u pointer arithmetic with %s operator prohibited",
					   insn->dst_reg, alu_op_str[op >> 4]);
	}
	if (!reg_is_const(off_reg)) {
		struct dz_reg_state v = *ptr, res = *ptr;

		/* a bounded variable offset, on stack and buffer pointers only */
		if (ptr->type == PTR_TO_CTX)
			return verbose_err(
			    env, -EACCES,
			    "R%u pointer arithmetic on ctx with non-constant offset prohibited",
			    insn->dst_reg);
		if (off_reg->smin_value <= -BPF_MAX_VAR_OFF ||
		    off_reg->smax_value >= BPF_MAX_VAR_OFF)
			return verbose_err(env, -EACCES,
					   "R%u math between %s pointer and register with "
					   "unbounded min/max value is not allowed",
					   insn->dst_reg, reg_type_str(ptr->type));
		v.type = SCALAR_VALUE;
		v.id = 0;
		if (!scalar_alu(&v, off_reg, op, false, 0))
			return verbose_err(env, -EACCES,
					   "verifier internal error: R%u bounds inconsistent",
					   insn->dst_reg);
		if (v.smin_value <= -BPF_MAX_VAR_OFF || v.smax_value >= BPF_MAX_VAR_OFF)
			return verbose_err(env, -EACCES,
					   "R%u variable offset makes %s pointer be out of bounds",
					   insn->dst_reg, reg_type_str(ptr->type));
		res.var_off = v.var_off;
		res.umin_value = v.umin_value;
		res.umax_value = v.umax_value;
		res.smin_value = v.smin_value;
		res.smax_value = v.smax_value;
		res.u32_min_value = v.u32_min_value;
		res.u32_max_value = v.u32_max_value;
		res.s32_min_value = v.s32_min_value;
		res.s32_max_value = v.s32_max_value;
		res.id = 0;
		*dst = res;
		return 0;
	}
	off = (s64)off_reg->var_off.value;
	if (off <= -BPF_MAX_VAR_OFF || off >= BPF_MAX_VAR_OFF)
		return verbose_err(env, -EACCES, "value %lld makes %s pointer be out of bounds",
				   (long long)off, reg_type_str(ptr->type));
	off = op == BPF_SUB ? ptr->off - off : ptr->off + off;
	if (off <= -BPF_MAX_VAR_OFF || off >= BPF_MAX_VAR_OFF)
		return verbose_err(env, -EACCES, "value %lld makes %s pointer be out of bounds",
				   (long long)off, reg_type_str(ptr->type));
	{
		struct dz_reg_state res = *ptr;

		res.off = (s32)off;
		res.id = 0;
		*dst = res;
	}
	return 0;
}

static int check_alu_op(struct dz_verifier_env *env, const struct bpf_insn *insn, u8 kind)
{
	struct dz_reg_state *regs = cur_regs(env), *dst = &regs[insn->dst_reg], k;
	u8 op = BPF_OP(insn->code);
	bool alu32 = BPF_CLASS(insn->code) == BPF_ALU, x = BPF_SRC(insn->code) == BPF_X;
	const struct dz_reg_state *src;
	int err;

	if (kind == DZ_K_NEG || kind == DZ_K_END) {
		err = check_reg_read(env, insn->dst_reg);
		if (err)
			return err;
		if (dst->type != SCALAR_VALUE)
			return verbose_err(env, -EACCES,
					   "R%u pointer arithmetic with %s operator prohibited",
					   insn->dst_reg, alu_op_str[op >> 4]);
		if (kind == DZ_K_NEG) {
			if (!scalar_alu(dst, dst, BPF_NEG, alu32, 0))
				goto bug;
		} else if (!scalar_end(dst, !alu32 || BPF_SRC(insn->code) == BPF_TO_BE,
				       insn->imm)) {
			goto bug;
		}
		return 0;
	}

	if (x) {
		err = check_reg_read(env, insn->src_reg);
		if (err)
			return err;
		src = &regs[insn->src_reg];
	} else {
		mark_reg_known(&k, (u64)(s64)insn->imm);
		src = &k;
	}

	if (op == BPF_MOV) {
		if (is_pointer(src)) {
			if (alu32 || insn->off)
				return verbose_err(env, -EACCES, "R%u partial copy of pointer",
						   insn->src_reg);
			*dst = *src;
			return 0;
		}
		if (alu32 && !insn->off && x && !reg_is_const(src) && src->umax_value <= U32_MAX) {
			/* upper half known zero: w1 = w2 copies the whole value, link them */
			if (!src->id)
				regs[insn->src_reg].id = ++env->id_gen;
			*dst = regs[insn->src_reg];
			return 0;
		}
		if (!alu32 && !insn->off && x && !reg_is_const(src) && !src->id)
			regs[insn->src_reg].id = ++env->id_gen; /* link dst and src */
		if (!scalar_alu(dst, src, BPF_MOV, alu32, insn->off))
			goto bug;
		return 0;
	}

	err = check_reg_read(env, insn->dst_reg);
	if (err)
		return err;
	if (is_pointer(dst) || is_pointer(src))
		return adjust_ptr_min_max_vals(env, insn, dst, src);
	{
		/* r1 += const keeps r1 linked to its copies, with the constant in its delta */
		u32 id = dst->id;
		s64 delta = dst->off;

		if (!alu32 && (op == BPF_ADD || op == BPF_SUB) && id && reg_is_const(src))
			delta = op == BPF_ADD ? (s64)((u64)delta + src->var_off.value)
					      : (s64)((u64)delta - src->var_off.value);
		else
			id = 0;
		if (!scalar_alu(dst, src, op, alu32, insn->off))
			goto bug;
		if (id && delta > S32_MIN && delta < S32_MAX && !reg_is_const(dst)) {
			dst->id = id;
			dst->off = (s32)delta;
		}
	}
	return 0;
bug:
	/* an inconsistent result from consistent inputs: fail closed */
	return verbose_err(env, -EACCES, "verifier internal error: R%u bounds inconsistent",
			   insn->dst_reg);
}

/* Give every scalar that shares reg's id (mov copies) reg's refined bounds. */
/* reg's value shifted to a register of the same id whose delta is 'off'. */
static void linked_value(struct dz_reg_state *out, const struct dz_reg_state *reg, s32 off)
{
	struct dz_reg_state k;
	u32 id = reg->id;

	*out = *reg;
	if (off != reg->off) {
		mark_reg_known(&k, (u64)((s64)off - reg->off));
		if (!scalar_alu(out, &k, BPF_ADD, false, 0))
			mark_reg_unknown(out); /* cannot happen: consistent inputs */
	}
	out->id = id;
	out->off = off;
}

/* Give every scalar that shares reg's id (copies, with constants added) reg's refined bounds. */
static void sync_linked_regs(struct dz_verifier_state *st, const struct dz_reg_state *reg)
{
	struct dz_reg_state r = *reg;
	u32 fr;
	int i;

	if (!r.id || r.type != SCALAR_VALUE)
		return;
	for (fr = 0; fr <= st->curframe; fr++) {
		struct dz_func_state *f = st->frame[fr];

		for (i = 0; i < MAX_BPF_REG; i++)
			if (f->regs[i].type == SCALAR_VALUE && f->regs[i].id == r.id &&
			    &f->regs[i] != reg)
				linked_value(&f->regs[i], &r, f->regs[i].off);
		for (i = 0; i < STACK_SLOTS; i++)
			if (f->stack[i * BPF_REG_SIZE] == STACK_SPILL &&
			    f->spilled_ptr[i].type == SCALAR_VALUE && f->spilled_ptr[i].id == r.id)
				linked_value(&f->spilled_ptr[i], &r, f->spilled_ptr[i].off);
	}
}

/* Refine the registers of state st for "dst op src" being true; false if it cannot be. */
static bool refine_branch(struct dz_verifier_state *st, const struct bpf_insn *insn, u8 op)
{
	struct dz_reg_state *regs = st->frame[st->curframe]->regs, k;
	struct dz_reg_state *dst = &regs[insn->dst_reg], *src;
	bool is32 = BPF_CLASS(insn->code) == BPF_JMP32;

	if (BPF_SRC(insn->code) == BPF_X) {
		if (insn->src_reg == insn->dst_reg)
			return true;
		src = &regs[insn->src_reg];
	} else {
		mark_reg_known(&k, (u64)(s64)insn->imm);
		src = &k;
	}
	if (!reg_set_min_max(dst, src, op, is32))
		return false;
	sync_linked_regs(st, dst);
	if (src != &k)
		sync_linked_regs(st, src);
	return true;
}

static int check_cond_jmp_op(struct dz_verifier_env *env, const struct bpf_insn *insn, u32 *next,
			     bool *dead)
{
	struct dz_reg_state *regs = cur_regs(env), k;
	const struct dz_reg_state *dst = &regs[insn->dst_reg], *src;
	u8 op = BPF_OP(insn->code);
	bool x = BPF_SRC(insn->code) == BPF_X, is32 = BPF_CLASS(insn->code) == BPF_JMP32;
	u32 target = (u32)dz_insn__target(insn, env->insn_idx);
	struct dz_verifier_state other;
	int err, taken;

	*dead = false;
	err = check_reg_read(env, insn->dst_reg);
	if (!err && x)
		err = check_reg_read(env, insn->src_reg);
	if (err)
		return err;
	if (x) {
		src = &regs[insn->src_reg];
	} else {
		mark_reg_known(&k, (u64)(s64)insn->imm);
		src = &k;
	}
	if (is_pointer(dst) || is_pointer(src))
		return verbose_err(env, -EACCES, "R%u pointer comparison prohibited",
				   is_pointer(dst) ? insn->dst_reg : insn->src_reg);

	if (x && insn->src_reg == insn->dst_reg) {
		switch (op) {
		case BPF_JEQ:
		case BPF_JGE:
		case BPF_JLE:
		case BPF_JSGE:
		case BPF_JSLE:
			taken = 1;
			break;
		case BPF_JNE:
		case BPF_JGT:
		case BPF_JLT:
		case BPF_JSGT:
		case BPF_JSLT:
			taken = 0;
			break;
		default:
			taken = -1;
		}
	} else {
		taken = is_branch_taken(dst, src, op, is32);
	}

	if (taken == 1) {
		*next = target;
		*dead = !refine_branch(&env->cur, insn, op);
		return 0;
	}
	*next = env->insn_idx + 1;
	if (taken == 0) {
		*dead = !refine_branch(&env->cur, insn, negate_jmp_op(op));
		return 0;
	}
	env->copied_bytes += state_bytes(&env->cur);
	if (env->copied_bytes > DZ_MAX_COPY_BYTES)
		return verbose_err(env, -E2BIG,
				   "BPF program is too complex: %llu MiB of branch states copied",
				   (unsigned long long)(env->copied_bytes >> 20));
	err = copy_state(&other, &env->cur);
	if (err)
		return err;
	if (refine_branch(&other, insn, op)) {
		err = push_stack(env, &other, target, env->insn_idx);
		if (err)
			return err;
	} else {
		free_state(&other);
	}
	*dead = !refine_branch(&env->cur, insn, negate_jmp_op(op));
	return 0;
}

static int check_func_call(struct dz_verifier_env *env, const struct bpf_insn *insn, u32 *next)
{
	struct dz_verifier_state *st = &env->cur;
	struct dz_func_state *caller = st->frame[st->curframe], *callee;
	u32 target = (u32)dz_insn__target(insn, env->insn_idx);
	int i;

	if (st->curframe + 1 >= DZ_MAX_CALL_FRAMES)
		return verbose_err(env, -E2BIG, "the call stack of %u frames is too deep",
				   st->curframe + 2);
	callee = malloc(sizeof(*callee));
	if (!callee)
		return -ENOMEM;
	memset(callee->stack, STACK_INVALID, sizeof(callee->stack));
	for (i = 0; i < STACK_SLOTS; i++)
		mark_reg_not_init(&callee->spilled_ptr[i]);
	for (i = 0; i < MAX_BPF_REG; i++)
		mark_reg_not_init(&callee->regs[i]);
	/* arguments r1-r5 as they are; the caller's r0-r5 are clobbered by the call */
	for (i = BPF_REG_1; i <= BPF_REG_5; i++)
		callee->regs[i] = caller->regs[i];
	for (i = BPF_REG_0; i <= BPF_REG_5; i++)
		mark_reg_not_init(&caller->regs[i]);
	mark_ptr(&callee->regs[BPF_REG_10], PTR_TO_STACK, 0, (u8)(st->curframe + 1));
	callee->callsite = (s32)env->insn_idx;
	callee->frameno = st->curframe + 1;
	callee->subprogno = env->aux[target].subprog;
	st->frame[++st->curframe] = callee;
	*next = target;
	if (env->log_level >= 1) {
		verbose(env, "caller:\n");
		print_verifier_state(
		    env, &(struct dz_verifier_state){.frame = {[0] = caller}, .curframe = 0});
		verbose(env, "callee:\n");
		print_verifier_state(env, st);
	}
	return 0;
}

/* exit: returns from a subprogram (*next set) or ends the path (*done). */
static int check_exit(struct dz_verifier_env *env, u32 *next, bool *done)
{
	struct dz_verifier_state *st = &env->cur;
	struct dz_func_state *callee = st->frame[st->curframe];
	const struct dz_reg_state *r0 = &callee->regs[BPF_REG_0];
	int err;

	err = check_reg_read(env, BPF_REG_0);
	if (err)
		return err;
	if (!st->curframe) {
		if (r0->type != SCALAR_VALUE)
			return verbose_err(env, -EACCES, "R0 leaks addr as return value");
		if (dz_verifier_exit_hook)
			dz_verifier_exit_hook(dz_verifier_exit_hook_arg, r0);
		*done = true;
		return 0;
	}
	if (r0->type != SCALAR_VALUE)
		return verbose_err(env, -EACCES,
				   "At subprogram exit the register R0 is not a scalar value (%s)",
				   reg_type_str(r0->type));
	st->frame[st->curframe - 1]->regs[BPF_REG_0] = *r0;
	*next = (u32)callee->callsite + 1;
	free(callee);
	st->frame[st->curframe--] = NULL;
	if (env->log_level >= 1) {
		verbose(env, "returning from callee:\n");
		print_verifier_state(env, st);
	}
	return 0;
}

static int bpf_size(u8 code)
{
	static const u8 sz[4] = {4, 2, 1, 8};

	return sz[BPF_SIZE(code) >> 3];
}

static int init_state(struct dz_verifier_env *env)
{
	struct dz_func_state *f = malloc(sizeof(*f));
	int i;

	if (!f)
		return -ENOMEM;
	memset(&env->cur, 0, sizeof(env->cur));
	memset(f->stack, STACK_INVALID, sizeof(f->stack));
	for (i = 0; i < STACK_SLOTS; i++)
		mark_reg_not_init(&f->spilled_ptr[i]);
	for (i = 0; i < MAX_BPF_REG; i++)
		mark_reg_not_init(&f->regs[i]);
	mark_ptr(&f->regs[BPF_REG_10], PTR_TO_STACK, 0, 0);
	if (env->type == DZ_PROG_PREDICATE) {
		mark_ptr(&f->regs[BPF_REG_1], PTR_TO_CTX, 0, 0);
	} else {
		mark_ptr(&f->regs[BPF_REG_1], PTR_TO_MEM, 0, 0);
		mark_reg_known(&f->regs[BPF_REG_2], env->prog->mem_size);
	}
	f->callsite = -1;
	f->frameno = 0;
	f->subprogno = 0;
	env->cur.frame[0] = f;
	env->cur.curframe = 0;
	return 0;
}

static int do_check(struct dz_verifier_env *env)
{
	int err;

	err = init_state(env);
	if (err)
		return err;
	env->insn_idx = 0;
	for (;;) {
		u32 idx = env->insn_idx, next = idx + 1;
		const struct bpf_insn *insn = &env->insns[idx];
		u8 kind = env->aux[idx].kind;
		bool done = false, dead = false;

		if (++env->insn_processed > dz_verifier_insn_limit)
			return verbose_err(env, -E2BIG,
					   "BPF program is too large. Processed %llu insn",
					   (unsigned long long)env->insn_processed);
		env->aux[idx].seen = 1;

		if (env->aux[idx].prune_point) {
			err = is_state_visited(env, idx);
			if (err < 0)
				return err;
			if (err == 1) {
				if (env->log_level >= 1)
					verbose(env, "%u: safe\n", idx);
				goto process_bpf_exit;
			}
		}
		if (env->log_level >= 2) {
			verbose(env, "%u:", idx);
			print_verifier_state(env, &env->cur);
		}
		if (env->log_level >= 1)
			print_insn(env, idx);

		switch (kind) {
		case DZ_K_ALU:
		case DZ_K_NEG:
		case DZ_K_END:
			err = check_alu_op(env, insn, kind);
			break;
		case DZ_K_LDDW:
			mark_reg_known(&cur_regs(env)[insn->dst_reg],
				       ((u64)(u32)insn[1].imm << 32) | (u32)insn->imm);
			next = idx + 2;
			err = 0;
			break;
		case DZ_K_LDX:
			err = check_mem_access(env, insn->src_reg, insn->off, bpf_size(insn->code),
					       false, insn->dst_reg, NULL,
					       BPF_MODE(insn->code) == BPF_MEMSX);
			break;
		case DZ_K_STX:
			err = check_reg_read(env, insn->src_reg);
			if (!err) {
				struct dz_reg_state *v = &cur_regs(env)[insn->src_reg];
				int size = bpf_size(insn->code);

				/*
				 * A spill is a copy: link it to the register (refined
				 * together); narrow stores spill only what fits.
				 */
				if (v->type == SCALAR_VALUE && !v->id && !reg_is_const(v) &&
				    (size == 8 || v->umax_value < 1ull << (size * 8)))
					v->id = ++env->id_gen;
			}
			if (!err)
				err = check_mem_access(env, insn->dst_reg, insn->off,
						       bpf_size(insn->code), true, insn->src_reg,
						       &cur_regs(env)[insn->src_reg], false);
			break;
		case DZ_K_ST: {
			int size = bpf_size(insn->code);
			struct dz_reg_state v;

			/* the bytes stored: a narrow store keeps the immediate's low ones */
			mark_reg_known(&v, size == 8
					       ? (u64)(s64)insn->imm
					       : (u64)(u32)insn->imm & ((1ull << (size * 8)) - 1));
			err = check_mem_access(env, insn->dst_reg, insn->off, size, true, -1, &v,
					       false);
			break;
		}
		case DZ_K_ATOMIC:
			err = check_atomic(env, insn);
			break;
		case DZ_K_JA:
			next = (u32)dz_insn__target(insn, idx);
			err = 0;
			break;
		case DZ_K_JCC:
			err = check_cond_jmp_op(env, insn, &next, &dead);
			break;
		case DZ_K_CALL:
			err = check_helper_call(env, insn);
			break;
		case DZ_K_CALL_LOCAL:
			err = check_func_call(env, insn, &next);
			break;
		case DZ_K_EXIT:
			err = check_exit(env, &next, &done);
			break;
		default:
			err = verbose_err(env, -EINVAL, "unknown insn class");
		}
		if (err)
			return err;
		if (!done && !dead) {
			env->prev_insn_idx = idx;
			env->insn_idx = next;
			continue;
		}
	process_bpf_exit:
		if (!pop_stack(env))
			return 0;
		if (env->log_level >= 1) {
			verbose(env, "from %u to %u:", env->prev_insn_idx, env->insn_idx);
			print_verifier_state(env, &env->cur);
		}
	}
}

int dz_prog__verify(struct dz_prog *prog, char *log, size_t log_size, uint32_t log_level)
{
	struct dz_verifier_env env = {0};
	int err;

	if (log && log_size)
		log[0] = '\0';
	if (!prog)
		return -EINVAL;
	prog->verified = false;
	prog->ctx_read = 0;
	prog->helpers_called = 0;
	env.prog = prog;
	env.insns = prog->insns;
	env.len = prog->insn_cnt;
	env.type = prog->type;
	env.log_level = log_level;
	env.logged_insn = -1;
	/* twice the caller's buffer is enough to cut its tail at a line boundary */
	env.lcap_max = log_size < DZ_LOG_CAP / 2 ? 2 * log_size : DZ_LOG_CAP;
	if (env.lcap_max < (64u << 10))
		env.lcap_max = 64u << 10;
	if (!log || !log_size) {
		env.log_off = true;
		env.log_level = 0;
	}
	if (prog->type != DZ_PROG_PREDICATE && prog->type != DZ_PROG_MEM) {
		err = verbose_err(&env, -EINVAL, "unknown program type %d", prog->type);
		goto out;
	}
	if (!prog->insns && prog->insn_cnt) {
		err = -EINVAL;
		goto out;
	}
	if (env.len && env.len <= DZ_MAX_INSNS) {
		env.aux = calloc(env.len, sizeof(*env.aux));
		env.subprog = calloc(env.len, sizeof(*env.subprog));
		env.explored = calloc(env.len, sizeof(*env.explored));
		if (!env.aux || !env.subprog || !env.explored) {
			err = -ENOMEM;
			goto out;
		}
	}
	err = check_cfg(&env);
	if (err)
		goto out;
	err = do_check(&env);
	if (err)
		goto out;
	verbose(&env,
		"processed %llu insns (limit %u) max_states_per_insn %u total_states %u "
		"peak_states %u mark_read 0\n",
		(unsigned long long)env.insn_processed, dz_verifier_insn_limit,
		env.max_states_per_insn, env.total_states, env.peak_states);
	prog->verified = true;
out:
	copy_log(&env, log, log_size);
	free_env(&env);
	return err;
}
