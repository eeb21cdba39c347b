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

#define DZ_LOG_CAP (32u << 20) /* in-memory log at most; only its tail is copied out */

uint32_t dz_verifier_insn_limit = BPF_COMPLEXITY_LIMIT_INSNS;
void (*dz_verifier_exit_hook)(void *arg, const struct dz_reg_state *r0);
void *dz_verifier_exit_hook_arg;

/* ---- log ---- */

static void log_write(struct dz_verifier_env *env, const char *s, size_t n)
{
	if (env->llen + n + 1 > env->lcap) {
		size_t cap = env->lcap ? env->lcap : 4096;
		char *p;

		while (cap < env->llen + n + 1 && cap < env->lcap_max)
			cap *= 2;
		if (env->llen + n + 1 > cap) {
			/* over the cap: keep the newer half, the failure is at the end */
			size_t drop = env->llen / 2;

			memmove(env->lbuf, env->lbuf + drop, env->llen - drop);
			env->llen -= drop;
			if (env->llen + n + 1 > env->lcap)
				return;
		} else {
			p = realloc(env->lbuf, cap);
			if (!p)
				return;
			env->lbuf = p;
			env->lcap = cap;
		}
	}
	memcpy(env->lbuf + env->llen, s, n);
	env->llen += n;
	env->lbuf[env->llen] = '\0';
}

static void vverbose(struct dz_verifier_env *env, const char *fmt, va_list ap)
{
	char buf[512];
	int n;

	if (env->log_off)
		return;
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return;
	log_write(env, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void verbose(struct dz_verifier_env *env, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vverbose(env, fmt, ap);
	va_end(ap);
}

void print_insn(struct dz_verifier_env *env, u32 idx)
{
	char buf[160] = "";

	if (idx >= env->len) {
		env->logged_insn = idx;
		return;
	}
	if (dz_insn__snprint(buf, sizeof(buf), &env->insns[idx], env->len - idx) < 0 && !buf[0])
		snprintf(buf, sizeof(buf), "(undecodable)");
	verbose(env, "%u: (%02x) %s\n", idx, env->insns[idx].code, buf);
	env->logged_insn = idx;
}

int verbose_err(struct dz_verifier_env *env, int err, const char *fmt, ...)
{
	va_list ap;

	if (env->logged_insn != env->insn_idx)
		print_insn(env, env->insn_idx);
	va_start(ap, fmt);
	vverbose(env, fmt, ap);
	va_end(ap);
	verbose(env, "\n");
	return err;
}

const char *reg_type_str(enum dz_reg_type t)
{
	switch (t) {
	case NOT_INIT:
		return "?";
	case SCALAR_VALUE:
		return "scalar";
	case PTR_TO_CTX:
		return "ctx";
	case PTR_TO_STACK:
		return "fp";
	case PTR_TO_MEM:
		return "mem";
	}
	return "?";
}

static void print_scalar(struct dz_verifier_env *env, const struct dz_reg_state *r)
{
	const char *sep = "";

	if (reg_is_const(r)) {
		if ((s64)r->var_off.value >= -4096 && (s64)r->var_off.value <= 4096)
			verbose(env, "%lld", (long long)r->var_off.value);
		else
			verbose(env, "%#llx", (unsigned long long)r->var_off.value);
		return;
	}
	verbose(env, "scalar(");
	if (r->id) {
		verbose(env, "id=%u", r->id);
		sep = ",";
	}
#define P(cond, fmt, val)                                                                          \
	do {                                                                                       \
		if (cond) {                                                                        \
			verbose(env, "%s" fmt, sep, val);                                          \
			sep = ",";                                                                 \
		}                                                                                  \
	} while (0)
	P(r->smin_value != S64_MIN && r->smin_value != (s64)r->umin_value, "smin=%lld",
	  (long long)r->smin_value);
	P(r->smax_value != S64_MAX && r->smax_value != (s64)r->umax_value, "smax=%lld",
	  (long long)r->smax_value);
	P(r->umin_value != 0, "umin=%llu", (unsigned long long)r->umin_value);
	P(r->umax_value != U64_MAX, "umax=%llu", (unsigned long long)r->umax_value);
	P(r->s32_min_value != S32_MIN && r->s32_min_value != (s32)r->u32_min_value, "smin32=%d",
	  r->s32_min_value);
	P(r->s32_max_value != S32_MAX && r->s32_max_value != (s32)r->u32_max_value, "smax32=%d",
	  r->s32_max_value);
	P(r->u32_min_value != 0 && r->u32_min_value != r->umin_value, "umin32=%u",
	  r->u32_min_value);
	P(r->u32_max_value != U32_MAX && r->u32_max_value != r->umax_value, "umax32=%u",
	  r->u32_max_value);
#undef P
	if (r->var_off.mask != U64_MAX) {
		char t[64];

		tnum_sbin(t, sizeof(t), r->var_off);
		verbose(env, "%svar_off=%s", sep, t);
	}
	verbose(env, ")");
}

const char *tnum_str(char *buf, size_t size, struct tnum t)
{
	tnum_sbin(buf, size, t);
	return buf;
}

/* The variable part of a pointer's offset, if any: "(var_off=(0; 0x1c),smin=0,smax=28)". */
static void print_var_off(struct dz_verifier_env *env, const struct dz_reg_state *r)
{
	char t[64];

	if (!ptr_has_var_off(r))
		return;
	verbose(env, "(var_off=%s,smin=%lld,smax=%lld)", tnum_str(t, sizeof(t), r->var_off),
		(long long)r->smin_value, (long long)r->smax_value);
}

void print_reg(struct dz_verifier_env *env, const struct dz_reg_state *r)
{
	switch (r->type) {
	case SCALAR_VALUE:
		print_scalar(env, r);
		return;
	case PTR_TO_CTX:
		if (r->off)
			verbose(env, "ctx(off=%d)", r->off);
		else
			verbose(env, "ctx()");
		return;
	case PTR_TO_STACK:
		if (r->frameno != env->cur.curframe)
			verbose(env, "fp[%u]%d", r->frameno, r->off);
		else
			verbose(env, "fp%d", r->off);
		break;
	case PTR_TO_MEM:
		verbose(env, "mem(sz=%u,off=%d)", env->prog->mem_size, r->off);
		break;
	default:
		verbose(env, "?");
		return;
	}
	print_var_off(env, r);
}

static void print_verifier_state(struct dz_verifier_env *env, const struct dz_verifier_state *st)
{
	const struct dz_func_state *f = st->frame[st->curframe];
	int i, s, j;

	if (st->curframe)
		verbose(env, " frame%u:", st->curframe);
	for (i = 0; i < MAX_BPF_REG; i++) {
		if (f->regs[i].type == NOT_INIT)
			continue;
		verbose(env, " R%d=", i);
		print_reg(env, &f->regs[i]);
	}
	for (s = 0; s < STACK_SLOTS; s++) {
		const u8 *b = &f->stack[s * BPF_REG_SIZE];
		char types[BPF_REG_SIZE + 1];
		bool any = false;

		if (b[0] == STACK_SPILL) {
			verbose(env, " fp%d=", (s - STACK_SLOTS) * BPF_REG_SIZE);
			print_reg(env, &f->spilled_ptr[s]);
			continue;
		}
		for (j = 0; j < BPF_REG_SIZE; j++) {
			/* printed from the highest address down, as the kernel does */
			u8 t = b[BPF_REG_SIZE - 1 - j];

			types[j] = t == STACK_MISC ? 'm' : t == STACK_ZERO ? '0' : '?';
			any |= t != STACK_INVALID;
		}
		types[BPF_REG_SIZE] = '\0';
		if (any)
			verbose(env, " fp%d=%s", (s - STACK_SLOTS) * BPF_REG_SIZE, types);
	}
	verbose(env, "\n");
}

/* ---- states ---- */

static void free_state(struct dz_verifier_state *st)
{
	u32 i;

	for (i = 0; i <= st->curframe && i < DZ_MAX_CALL_FRAMES; i++) {
		free(st->frame[i]);
		st->frame[i] = NULL;
	}
}

static int copy_state(struct dz_verifier_state *dst, const struct dz_verifier_state *src)
{
	u32 i;

	memset(dst, 0, sizeof(*dst));
	dst->curframe = src->curframe;
	for (i = 0; i <= src->curframe; i++) {
		dst->frame[i] = malloc(sizeof(*dst->frame[i]));
		if (!dst->frame[i]) {
			dst->curframe = i ? i - 1 : 0;
			free_state(dst);
			return -ENOMEM;
		}
		memcpy(dst->frame[i], src->frame[i], sizeof(*dst->frame[i]));
	}
	return 0;
}

static size_t state_bytes(const struct dz_verifier_state *st)
{
	return (st->curframe + 1) * sizeof(struct dz_func_state);
}

static int push_stack(struct dz_verifier_env *env, struct dz_verifier_state *st, u32 insn_idx,
		      u32 prev_insn_idx)
{
	struct dz_stack_elem *elem;

	if (env->stack_size >= BPF_COMPLEXITY_LIMIT_JMP_SEQ ||
	    env->pending_bytes + state_bytes(st) > DZ_MAX_STATE_BYTES) {
		free_state(st);
		return verbose_err(env, -E2BIG, "The sequence of %d jumps is too complex.",
				   env->stack_size);
	}
	elem = malloc(sizeof(*elem));
	if (!elem) {
		free_state(st);
		return -ENOMEM;
	}
	elem->st = *st; /* takes ownership of the frames */
	elem->insn_idx = insn_idx;
	elem->prev_insn_idx = prev_insn_idx;
	elem->next = env->head;
	env->head = elem;
	env->stack_size++;
	env->pending_bytes += state_bytes(&elem->st);
	return 0;
}

/* Replaces the current state with the most recently pushed one; false if none left. */
static bool pop_stack(struct dz_verifier_env *env)
{
	struct dz_stack_elem *elem = env->head;

	if (!elem)
		return false;
	env->pending_bytes -= state_bytes(&elem->st);
	free_state(&env->cur);
	env->cur = elem->st;
	env->insn_idx = elem->insn_idx;
	env->prev_insn_idx = elem->prev_insn_idx;
	env->head = elem->next;
	env->stack_size--;
	free(elem);
	return true;
}

/* ---- state pruning ---- */

#define ID_MAP_SIZE (DZ_MAX_CALL_FRAMES * (MAX_BPF_REG + STACK_SLOTS))

struct id_map {
	u32 cnt;
	u32 old[ID_MAP_SIZE], cur[ID_MAP_SIZE];
};

/* Scalars linked in the old state must be linked the same way in the current one. */
static bool check_ids(u32 old_id, u32 cur_id, struct id_map *map)
{
	u32 i;

	if (!old_id)
		return true;
	if (!cur_id)
		return false;
	for (i = 0; i < map->cnt; i++) {
		if (map->old[i] == old_id)
			return map->cur[i] == cur_id;
	}
	if (map->cnt == ID_MAP_SIZE)
		return false;
	map->old[map->cnt] = old_id;
	map->cur[map->cnt++] = cur_id;
	return true;
}

/*
 * Is every concrete register value 'cur' allows also allowed by 'old'? Then
 * whatever old's exploration proved holds for cur too. NOT_INIT in old means
 * old's continuation never read it (or it failed, and so does the program).
 */
static bool regsafe(const struct dz_reg_state *old, const struct dz_reg_state *cur,
		    struct id_map *map)
{
	if (old->type == NOT_INIT)
		return true;
	if (old->type != cur->type)
		return false;
	switch (old->type) {
	case SCALAR_VALUE:
		return scalar_range_within(old, cur) && check_ids(old->id, cur->id, map);
	case PTR_TO_STACK:
		return old->off == cur->off && old->frameno == cur->frameno &&
		       scalar_range_within(old, cur);
	default:
		return old->off == cur->off && scalar_range_within(old, cur);
	}
}

static bool stacksafe(const struct dz_func_state *old, const struct dz_func_state *cur,
		      struct id_map *map)
{
	int i;

	/* fast path: same byte types everywhere (typical of caller frames) */
	if (!memcmp(old->stack, cur->stack, sizeof(old->stack))) {
		for (i = 0; i < STACK_SLOTS; i++)
			if (old->stack[i * BPF_REG_SIZE] == STACK_SPILL &&
			    !regsafe(&old->spilled_ptr[i], &cur->spilled_ptr[i], map))
				return false;
		return true;
	}

	for (i = 0; i < MAX_BPF_STACK; i++) {
		u8 o = old->stack[i], c = cur->stack[i];
		int slot = i / BPF_REG_SIZE;

		switch (o) {
		case STACK_INVALID:
			continue;
		case STACK_MISC:
			if (c == STACK_MISC || c == STACK_ZERO)
				continue;
			if (c == STACK_SPILL && cur->spilled_ptr[slot].type == SCALAR_VALUE)
				continue;
			return false;
		case STACK_ZERO:
			if (c == STACK_ZERO)
				continue;
			return false;
		case STACK_SPILL:
			if (c != STACK_SPILL)
				return false;
			if (i % BPF_REG_SIZE == 0 &&
			    !regsafe(&old->spilled_ptr[slot], &cur->spilled_ptr[slot], map))
				return false;
			continue;
		}
	}
	return true;
}

static bool states_equal(struct dz_verifier_env *env, const struct dz_verifier_state *old,
			 const struct dz_verifier_state *cur, u32 insn_idx, struct id_map *map)
{
	s32 fr;
	int i;

	if (old->curframe != cur->curframe)
		return false;
	for (fr = (s32)cur->curframe; fr >= 0; fr--)
		if (old->frame[fr]->callsite != cur->frame[fr]->callsite)
			return false;
	map->cnt = 0;
	/* innermost frame first: that is where explored states usually differ */
	for (fr = (s32)cur->curframe; fr >= 0; fr--) {
		const struct dz_func_state *of = old->frame[fr], *cf = cur->frame[fr];
		u16 live;

		live = fr == (s32)cur->curframe
			   ? env->aux[insn_idx].live_regs
			   : env->aux[cur->frame[fr + 1]->callsite + 1].live_regs;
		for (i = 0; i < MAX_BPF_REG; i++) {
			if (!(live & (1 << i)))
				continue;
			if (!regsafe(&of->regs[i], &cf->regs[i], map))
				return false;
		}
		if (!stacksafe(of, cf, map))
			return false;
	}
	return true;
}

/* Drop scalar ids that link nothing (only one register or slot carries them). */
static void clear_singular_ids(struct dz_verifier_state *st)
{
	struct dz_reg_state *regs[ID_MAP_SIZE];
	u32 n = 0, fr, i, j;

	for (fr = 0; fr <= st->curframe; fr++) {
		struct dz_func_state *f = st->frame[fr];

		for (i = 0; i < MAX_BPF_REG; i++)
			if (f->regs[i].type == SCALAR_VALUE && f->regs[i].id)
				regs[n++] = &f->regs[i];
		for (i = 0; i < STACK_SLOTS; i++)
			if (f->stack[i * BPF_REG_SIZE] == STACK_SPILL && f->spilled_ptr[i].id)
				regs[n++] = &f->spilled_ptr[i];
	}
	for (i = 0; i < n; i++) {
		bool shared = false;

		for (j = 0; j < n && !shared; j++)
			shared = j != i && regs[j]->id == regs[i]->id;
		if (!shared)
			regs[i]->id = 0;
	}
}

/* 1: the current state is covered by an explored one (prune), 0: go on, <0: error. */
static int is_state_visited(struct dz_verifier_env *env, u32 insn_idx)
{
	struct dz_explored_state *sl, *new, **pprev;
	struct id_map *map;
	u32 n = 0;

	map = malloc(sizeof(*map));
	if (!map)
		return -ENOMEM;
	clear_singular_ids(&env->cur);
	for (pprev = &env->explored[insn_idx]; (sl = *pprev);) {
		if (states_equal(env, &sl->st, &env->cur, insn_idx, map)) {
			sl->hit_cnt++;
			free(map);
			return 1;
		}
		sl->miss_cnt++;
		/*
		 * A state that keeps missing only costs comparisons: drop it
		 * (as the kernel does). Fewer explored states never makes the
		 * verifier accept more, it only prunes less.
		 */
		if (sl->miss_cnt > sl->hit_cnt * 3 + 3) {
			*pprev = sl->next;
			env->explored_bytes -= state_bytes(&sl->st);
			free_state(&sl->st);
			free(sl);
			env->cur_states--;
			continue;
		}
		pprev = &sl->next;
		n++;
	}
	free(map);
	if (n >= DZ_MAX_STATES_PER_INSN || env->cur_states >= DZ_MAX_STORED_STATES ||
	    env->explored_bytes + state_bytes(&env->cur) > DZ_MAX_STATE_BYTES)
		return 0;
	new = calloc(1, sizeof(*new));
	if (!new)
		return -ENOMEM;
	if (copy_state(&new->st, &env->cur)) {
		free(new);
		return -ENOMEM;
	}
	new->next = env->explored[insn_idx];
	env->explored[insn_idx] = new;
	env->explored_bytes += state_bytes(&new->st);
	env->total_states++;
	env->cur_states++;
	if (env->cur_states > env->peak_states)
		env->peak_states = env->cur_states;
	if (n + 1 > env->max_states_per_insn)
		env->max_states_per_insn = n + 1;
	return 0;
}

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
		if (alu32 && !insn->off && x && !reg_is_const(src) &&
		    src->umax_value <= U32_MAX) {
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
	if (!scalar_alu(dst, src, op, alu32, insn->off))
		goto bug;
	return 0;
bug:
	/* an inconsistent result from consistent inputs: fail closed */
	return verbose_err(env, -EACCES, "verifier internal error: R%u bounds inconsistent",
			   insn->dst_reg);
}

/* Give every scalar that shares reg's id (mov copies) reg's refined bounds. */
static void sync_linked_regs(struct dz_verifier_state *st, const struct dz_reg_state *reg)
{
	u32 fr;
	int i;

	if (!reg->id || reg->type != SCALAR_VALUE)
		return;
	for (fr = 0; fr <= st->curframe; fr++) {
		struct dz_func_state *f = st->frame[fr];

		for (i = 0; i < MAX_BPF_REG; i++)
			if (f->regs[i].type == SCALAR_VALUE && f->regs[i].id == reg->id &&
			    &f->regs[i] != reg)
				f->regs[i] = *reg;
		for (i = 0; i < STACK_SLOTS; i++)
			if (f->stack[i * BPF_REG_SIZE] == STACK_SPILL &&
			    f->spilled_ptr[i].type == SCALAR_VALUE &&
			    f->spilled_ptr[i].id == reg->id)
				f->spilled_ptr[i] = *reg;
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
			if (!err && BPF_SIZE(insn->code) == BPF_DW) {
				struct dz_reg_state *v = &cur_regs(env)[insn->src_reg];

				/* a spill is a copy: link it to the register (refined together) */
				if (v->type == SCALAR_VALUE && !v->id && !reg_is_const(v))
					v->id = ++env->id_gen;
			}
			if (!err)
				err = check_mem_access(env, insn->dst_reg, insn->off,
						       bpf_size(insn->code), true, insn->src_reg,
						       &cur_regs(env)[insn->src_reg], false);
			break;
		case DZ_K_ST: {
			struct dz_reg_state v;

			mark_reg_known(&v, (u64)(s64)insn->imm);
			err = check_mem_access(env, insn->dst_reg, insn->off, bpf_size(insn->code),
					       true, -1, &v, false);
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

static void free_env(struct dz_verifier_env *env)
{
	u32 i;

	while (env->head) {
		struct dz_stack_elem *e = env->head;

		env->head = e->next;
		free_state(&e->st);
		free(e);
	}
	free_state(&env->cur);
	if (env->explored) {
		for (i = 0; i < env->len; i++) {
			struct dz_explored_state *sl = env->explored[i];

			while (sl) {
				struct dz_explored_state *n = sl->next;

				free_state(&sl->st);
				free(sl);
				sl = n;
			}
		}
	}
	free(env->explored);
	free(env->aux);
	free(env->subprog);
	free(env->lbuf);
}

/* The caller gets the tail of the log: the reason for a rejection is at the end. */
static void copy_log(struct dz_verifier_env *env, char *log, size_t log_size)
{
	const char *s = env->lbuf ? env->lbuf : "";
	size_t n = env->llen;

	if (!log || !log_size)
		return;
	if (n >= log_size) {
		const char *nl;

		s += n - (log_size - 1);
		nl = strchr(s, '\n');
		if (nl && nl[1])
			s = nl + 1;
		n = strlen(s);
	}
	memcpy(log, s, n);
	log[n] = '\0';
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
