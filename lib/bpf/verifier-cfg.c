// SPDX-License-Identifier: GPL-2.0
/*
 * check_cfg: the structural half of the verifier, before any state is walked.
 *
 *  - size 1..DZ_MAX_INSNS; every instruction decodes (lib/bpf/insn.c, reserved
 *    fields zero) and passes the verifier's own encoding rules (no constant
 *    division by zero, constant shifts below the width, r10 never written);
 *  - subprograms start at 0 and at every local call target; jumps stay inside
 *    their subprogram and never land on the second slot of an lddw; every
 *    subprogram ends with exit or ja (nothing falls off its end);
 *  - a depth-first walk from insn 0 over jump, fall-through and call edges:
 *    an edge to an instruction still on the walk's stack is a back-edge (a
 *    loop, or recursion when it is a call edge), an instruction the walk never
 *    reaches is unreachable: both rejected;
 *  - the call graph (a DAG by then) needs at most DZ_MAX_CALL_FRAMES frames;
 *  - prune points (where do_check compares states) and register liveness.
 */
#include <errno.h>
#include <stdlib.h>

#include "verifier.h"

static bool is_jmp_class(u8 code)
{
	return BPF_CLASS(code) == BPF_JMP || BPF_CLASS(code) == BPF_JMP32;
}

/* Verifier-specific encoding rules beyond the decoder's. */
static int check_insn_fields(struct dz_verifier_env *env, u32 idx, enum dz_insn_kind kind)
{
	const struct bpf_insn *insn = &env->insns[idx];
	u8 op = BPF_OP(insn->code);
	bool is64 = BPF_CLASS(insn->code) == BPF_ALU64;

	switch (kind) {
	case DZ_K_ALU:
	case DZ_K_NEG:
	case DZ_K_END:
	case DZ_K_LDDW:
	case DZ_K_LDX:
		if (insn->dst_reg == BPF_REG_10)
			return verbose_err(env, -EACCES, "frame pointer is read only");
		break;
	case DZ_K_ATOMIC:
		if (insn->src_reg == BPF_REG_10 && (insn->imm & BPF_FETCH) &&
		    insn->imm != BPF_CMPXCHG)
			return verbose_err(env, -EACCES, "frame pointer is read only");
		break;
	default:
		break;
	}
	if (kind != DZ_K_ALU || BPF_SRC(insn->code) != BPF_K)
		return 0;
	if ((op == BPF_DIV || op == BPF_MOD) && insn->imm == 0)
		return verbose_err(env, -EINVAL, "div by zero");
	if ((op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH) &&
	    (insn->imm < 0 || insn->imm >= (is64 ? 64 : 32)))
		return verbose_err(env, -EINVAL, "invalid shift %d", insn->imm);
	return 0;
}

static int add_subprog(struct dz_verifier_env *env, u32 start)
{
	u32 i;

	for (i = 0; i < env->subprog_cnt; i++)
		if (env->subprog[i].start == start)
			return 0;
	env->subprog[env->subprog_cnt++].start = start;
	return 0;
}

static int cmp_subprogs(const void *a, const void *b)
{
	const struct dz_subprog_info *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Decode every instruction, find subprograms, check jump targets. */
static int check_subprogs(struct dz_verifier_env *env)
{
	char why[128];
	u32 i, s;
	int n;

	for (i = 0; i < env->len; i += n) {
		enum dz_insn_kind kind;
		int err;

		env->insn_idx = i;
		n = dz_insn__decode(&env->insns[i], env->len - i, &kind, why, sizeof(why));
		if (n < 0)
			return verbose_err(env, n, "%s", why);
		env->aux[i].kind = kind;
		if (n == 2)
			env->aux[i + 1].ldimm_hi = 1;
		err = check_insn_fields(env, i, kind);
		if (err)
			return err;
	}

	env->subprog_cnt = 0;
	add_subprog(env, 0);
	for (i = 0; i < env->len; i++) {
		s64 t;

		if (env->aux[i].ldimm_hi || env->aux[i].kind != DZ_K_CALL_LOCAL)
			continue;
		env->insn_idx = i;
		t = dz_insn__target(&env->insns[i], i);
		if (t < 0 || t >= env->len || env->aux[t].ldimm_hi)
			return verbose_err(env, -EINVAL, "call to invalid destination %lld",
					   (long long)t);
		add_subprog(env, (u32)t);
	}
	qsort(env->subprog, env->subprog_cnt, sizeof(env->subprog[0]), cmp_subprogs);
	for (s = 0; s < env->subprog_cnt; s++) {
		env->subprog[s].end =
		    s + 1 < env->subprog_cnt ? env->subprog[s + 1].start : env->len;
		for (i = env->subprog[s].start; i < env->subprog[s].end; i++)
			env->aux[i].subprog = s;
	}

	for (i = 0; i < env->len; i++) {
		const struct dz_subprog_info *sp = &env->subprog[env->aux[i].subprog];
		u8 kind = env->aux[i].kind;
		s64 t;

		if (env->aux[i].ldimm_hi)
			continue;
		env->insn_idx = i;
		if (kind == DZ_K_JA || kind == DZ_K_JCC) {
			t = dz_insn__target(&env->insns[i], i);
			if (t < sp->start || t >= sp->end)
				return verbose_err(env, -EINVAL,
						   "jump out of range from insn %u to %lld", i,
						   (long long)t);
			if (env->aux[t].ldimm_hi)
				return verbose_err(env, -EINVAL,
						   "jump into the middle of ldimm64 insn %lld",
						   (long long)t - 1);
		}
	}
	for (s = 0; s < env->subprog_cnt; s++) {
		u32 last = env->subprog[s].end - 1;
		const struct bpf_insn *insn = &env->insns[last];

		env->insn_idx = last;
		if (env->aux[last].ldimm_hi || !is_jmp_class(insn->code) ||
		    (env->aux[last].kind != DZ_K_EXIT && env->aux[last].kind != DZ_K_JA))
			return verbose_err(env, -EINVAL, "last insn is not an exit or jmp");
	}
	return 0;
}

enum { WHITE = 0, GRAY, BLACK };

/* Successors of insn i in the CFG walk; returns their number (at most 2). */
static int insn_successors(struct dz_verifier_env *env, u32 i, u32 succ[2], bool *is_call)
{
	u8 kind = env->aux[i].kind;

	*is_call = false;
	switch (kind) {
	case DZ_K_EXIT:
		return 0;
	case DZ_K_JA:
		succ[0] = (u32)dz_insn__target(&env->insns[i], i);
		return 1;
	case DZ_K_JCC:
		succ[0] = i + 1;
		succ[1] = (u32)dz_insn__target(&env->insns[i], i);
		return 2;
	case DZ_K_CALL_LOCAL:
		succ[0] = i + 1;
		succ[1] = (u32)dz_insn__target(&env->insns[i], i);
		*is_call = true;
		return 2;
	case DZ_K_LDDW:
		succ[0] = i + 2;
		return 1;
	default:
		succ[0] = i + 1;
		return 1;
	}
}

/* Non-recursive depth-first search: detect back-edges and unreachable code. */
static int check_cfg_dfs(struct dz_verifier_env *env)
{
	u8 *state = calloc(env->len, 1), *next = calloc(env->len, 1);
	u32 *stack = malloc(env->len * sizeof(*stack)), sp = 0, i;
	int err = -ENOMEM;

	if (!state || !next || !stack)
		goto out;
	stack[sp++] = 0;
	state[0] = GRAY;
	while (sp) {
		u32 cur = stack[sp - 1], succ[2];
		bool is_call;
		int n = insn_successors(env, cur, succ, &is_call);

		if (next[cur] < n) {
			u32 t = succ[next[cur]];
			bool call_edge = is_call && next[cur] == 1;

			next[cur]++;
			env->aux[t].prune_point |= n > 1 || env->aux[cur].kind == DZ_K_JA;
			if (state[t] == GRAY) {
				env->insn_idx = cur;
				if (call_edge)
					err = verbose_err(env, -EINVAL,
							  "recursive call from insn %u to %u", cur,
							  t);
				else
					err = verbose_err(env, -EINVAL,
							  "back-edge from insn %u to %u", cur, t);
				goto out;
			}
			if (state[t] == WHITE) {
				state[t] = GRAY;
				stack[sp++] = t;
			}
			continue;
		}
		state[cur] = BLACK;
		sp--;
	}
	for (i = 0; i < env->len; i++) {
		if (env->aux[i].ldimm_hi || state[i] == BLACK)
			continue;
		env->insn_idx = i;
		err = verbose_err(env, -EINVAL, "unreachable insn %u", i);
		goto out;
	}
	err = 0;
out:
	free(state);
	free(next);
	free(stack);
	return err;
}

/* Frames needed by the deepest call chain from subprog s (memoized; the call graph is acyclic). */
static u32 subprog_depth(struct dz_verifier_env *env, u32 s, u32 level)
{
	u32 i, d = 1;

	if (env->subprog[s].depth)
		return env->subprog[s].depth;
	if (level > env->subprog_cnt) /* cannot happen: recursion was rejected */
		return U32_MAX / 2;
	for (i = env->subprog[s].start; i < env->subprog[s].end; i++) {
		s64 t;
		u32 c, cd;

		if (env->aux[i].ldimm_hi || env->aux[i].kind != DZ_K_CALL_LOCAL)
			continue;
		t = dz_insn__target(&env->insns[i], i);
		for (c = 0; c < env->subprog_cnt && env->subprog[c].start != t; c++)
			;
		cd = subprog_depth(env, c, level + 1) + 1;
		if (cd > d)
			d = cd;
	}
	env->subprog[s].depth = d;
	return d;
}

/*
 * Registers that may be read before being written on some path from each
 * instruction (backward may-liveness, iterated to a fixed point). do_check
 * ignores dead registers when comparing states: values nobody reads cannot
 * change the outcome.
 */
static void compute_liveness(struct dz_verifier_env *env)
{
	const u16 args = 0x3e, caller_saved = 0x3f; /* r1-r5, r0-r5 */
	bool changed = true;

	while (changed) {
		s64 i;

		changed = false;
		for (i = (s64)env->len - 1; i >= 0; i--) {
			const struct bpf_insn *insn = &env->insns[i];
			struct dz_insn_aux_data *aux = &env->aux[i];
			u16 use = 0, def = 0, out = 0, live;
			u32 succ[2];
			bool is_call;
			int n, k;

			if (aux->ldimm_hi)
				continue;
			n = insn_successors(env, (u32)i, succ, &is_call);
			for (k = 0; k < n; k++)
				if (!(is_call && k == 1) && succ[k] < env->len)
					out |= env->aux[succ[k]].live_regs;
			switch (aux->kind) {
			case DZ_K_ALU:
				def = 1 << insn->dst_reg;
				if (BPF_OP(insn->code) != BPF_MOV)
					use |= 1 << insn->dst_reg;
				if (BPF_SRC(insn->code) == BPF_X)
					use |= 1 << insn->src_reg;
				break;
			case DZ_K_NEG:
			case DZ_K_END:
				use = def = 1 << insn->dst_reg;
				break;
			case DZ_K_LDDW:
				def = 1 << insn->dst_reg;
				break;
			case DZ_K_LDX:
				use = 1 << insn->src_reg;
				def = 1 << insn->dst_reg;
				break;
			case DZ_K_ST:
				use = 1 << insn->dst_reg;
				break;
			case DZ_K_STX:
				use = (1 << insn->dst_reg) | (1 << insn->src_reg);
				break;
			case DZ_K_ATOMIC:
				use = (1 << insn->dst_reg) | (1 << insn->src_reg);
				if (insn->imm == BPF_CMPXCHG) {
					use |= 1;
					def = 1;
				} else if (insn->imm & BPF_FETCH) {
					def = 1 << insn->src_reg;
				}
				/* a fetch into src still read src first: keep it live */
				break;
			case DZ_K_JCC:
				use = 1 << insn->dst_reg;
				if (BPF_SRC(insn->code) == BPF_X)
					use |= 1 << insn->src_reg;
				break;
			case DZ_K_CALL:
			case DZ_K_CALL_LOCAL:
				use = args;
				def = caller_saved;
				break;
			case DZ_K_EXIT:
				use = 1;
				break;
			default:
				break;
			}
			live = (u16)((out & ~def) | use | (1 << BPF_REG_10));
			if (live != aux->live_regs) {
				aux->live_regs = live;
				changed = true;
			}
		}
	}
}

int check_cfg(struct dz_verifier_env *env)
{
	u32 depth;
	int err;

	env->insn_idx = 0;
	if (env->len == 0)
		return verbose_err(env, -EINVAL, "empty program");
	if (env->len > DZ_MAX_INSNS)
		return verbose_err(env, -E2BIG, "BPF program is too large: %u insns (limit %u)",
				   env->len, DZ_MAX_INSNS);
	err = check_subprogs(env);
	if (err)
		return err;
	err = check_cfg_dfs(env);
	if (err)
		return err;
	depth = subprog_depth(env, 0, 0);
	if (depth > DZ_MAX_CALL_FRAMES) {
		env->insn_idx = 0;
		return verbose_err(env, -E2BIG,
				   "the call stack of %u frames is too deep (limit %d)", depth,
				   DZ_MAX_CALL_FRAMES);
	}
	compute_liveness(env);
	return 0;
}
