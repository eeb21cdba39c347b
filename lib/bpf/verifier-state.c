// SPDX-License-Identifier: GPL-2.0
/*
 * Verifier states: copies for the stack of pending branches (push_stack,
 * pop_stack) and the explored states at prune points (is_state_visited),
 * with the subsumption test that decides when a path can be cut (regsafe,
 * stacksafe, states_equal), as in the kernel's verifier.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verifier.h"

void free_state(struct dz_verifier_state *st)
{
	u32 i;

	for (i = 0; i <= st->curframe && i < DZ_MAX_CALL_FRAMES; i++) {
		free(st->frame[i]);
		st->frame[i] = NULL;
	}
}

int copy_state(struct dz_verifier_state *dst, const struct dz_verifier_state *src)
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

size_t state_bytes(const struct dz_verifier_state *st)
{
	return (st->curframe + 1) * sizeof(struct dz_func_state);
}

int push_stack(struct dz_verifier_env *env, struct dz_verifier_state *st, u32 insn_idx,
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
bool pop_stack(struct dz_verifier_env *env)
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
		/* linked scalars: the same links, with the same deltas */
		return scalar_range_within(old, cur) && check_ids(old->id, cur->id, map) &&
		       (!old->id || old->off == cur->off);
	case PTR_TO_STACK:
		return old->off == cur->off && old->frameno == cur->frameno &&
		       scalar_range_within(old, cur);
	default:
		return old->off == cur->off && scalar_range_within(old, cur);
	}
}

/*
 * Does old's spill in 'slot' cover cur's? A spill describes the value of its
 * bytes zero-extended. A wider spill in cur is covered only if its value fits
 * in old's width: then old's bytes hold that same value and cur's extra bytes
 * are zero (old's types for them are checked byte by byte). A narrower one
 * never is: old's continuation may load all of old's spill bytes as the value.
 */
static bool spillsafe(const struct dz_func_state *old, const struct dz_func_state *cur, int slot,
		      struct id_map *map)
{
	int wo = spill_width(old, slot), wc = spill_width(cur, slot);
	const struct dz_reg_state *o = &old->spilled_ptr[slot], *c = &cur->spilled_ptr[slot];

	if (wc < wo)
		return false;
	if (wc > wo && (c->type != SCALAR_VALUE || c->umax_value >> (8 * wo)))
		return false;
	return regsafe(o, c, map);
}

/* Is byte i of cur, a byte of a scalar spill, known to be zero? */
static bool spill_byte_zero(const struct dz_func_state *cur, int i)
{
	const struct dz_reg_state *c = &cur->spilled_ptr[i / BPF_REG_SIZE];
	u64 bits = c->var_off.value | c->var_off.mask;

	return c->type == SCALAR_VALUE && !((bits >> (8 * (i % BPF_REG_SIZE))) & 0xff);
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
			if (c == STACK_ZERO || (c == STACK_SPILL && spill_byte_zero(cur, i)))
				continue;
			return false;
		case STACK_SPILL:
			if (c != STACK_SPILL)
				return false;
			if (i % BPF_REG_SIZE == 0 && !spillsafe(old, cur, slot, map))
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
		if (!shared) {
			regs[i]->id = 0;
			regs[i]->off = 0;
		}
	}
}

/* 1: the current state is covered by an explored one (prune), 0: go on, <0: error. */
int is_state_visited(struct dz_verifier_env *env, u32 insn_idx)
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

void free_env(struct dz_verifier_env *env)
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
