// SPDX-License-Identifier: GPL-2.0
/*
 * The verifier's log, in the shape of the kernel's verifier log: processed
 * instructions as "IDX: (OP) disasm", register and stack states as
 * "R1=ctx() R10=fp0 fp-8=mmmmmmmm", the reason for a rejection last. The log
 * is collected in memory and only its tail reaches the caller's buffer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verifier.h"

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

void print_verifier_state(struct dz_verifier_env *env, const struct dz_verifier_state *st)
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
		int w = spill_width(f, s), n = 0;
		char types[BPF_REG_SIZE + 1];
		bool any = false;

		/*
		 * Byte types from the highest address down, as the kernel prints
		 * them ("fp-8=mm00mmmm"); a spill's bytes (the lowest ones) are
		 * printed as the spilled register after the others' types:
		 * "fp-8=????scalar(umax=40)" is a 4-byte spill under 4 unwritten
		 * bytes, "fp-8=ctx()" an 8-byte spill.
		 */
		for (j = BPF_REG_SIZE - 1; j >= w; j--) {
			u8 t = b[j];

			types[n++] = t == STACK_MISC ? 'm' : t == STACK_ZERO ? '0' : '?';
			any |= t != STACK_INVALID;
		}
		types[n] = '\0';
		if (w) {
			verbose(env, " fp%d=%s", (s - STACK_SLOTS) * BPF_REG_SIZE, types);
			print_reg(env, &f->spilled_ptr[s]);
		} else if (any) {
			verbose(env, " fp%d=%s", (s - STACK_SLOTS) * BPF_REG_SIZE, types);
		}
	}
	verbose(env, "\n");
}

/* The caller gets the tail of the log: the reason for a rejection is at the end. */
void copy_log(struct dz_verifier_env *env, char *log, size_t log_size)
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
