// SPDX-License-Identifier: GPL-2.0
/*
 * Memory safety: loads, stores and atomics through the context, the stack and
 * the DZ_PROG_MEM buffer (check_mem_access, check_atomic), and the helper
 * calls' (pointer, size) arguments (check_helper_call).
 *
 * Stack model (as the kernel's): every byte of every frame's 512-byte stack
 * has a type. STACK_INVALID bytes were never written on this path and cannot
 * be read. An aligned 8-byte store of a register "spills" it: the slot keeps
 * the register's full state, so a pointer survives the round trip and a
 * scalar keeps its bounds; so does a 1-, 2- or 4-byte store of a scalar that
 * fits, at the start of a slot. A spilled pointer can only be read back
 * whole; a partial overwrite turns its remaining bytes back into
 * STACK_INVALID, so no byte of a host address ever reaches a scalar.
 */
#include <errno.h>
#include <stddef.h>

#include "verifier.h"

struct dz_func_state *cur_frame(struct dz_verifier_env *env)
{
	return env->cur.frame[env->cur.curframe];
}

struct dz_reg_state *cur_regs(struct dz_verifier_env *env)
{
	return cur_frame(env)->regs;
}

int check_reg_read(struct dz_verifier_env *env, u32 regno)
{
	if (cur_regs(env)[regno].type == NOT_INIT)
		return verbose_err(env, -EACCES, "R%u !read_ok", regno);
	return 0;
}

/* ---- context ---- */

#define CTX_FIELD(f)                                                                               \
	{                                                                                          \
		offsetof(struct dz_pred_ctx, f), sizeof(((struct dz_pred_ctx *)0)->f)              \
	}

static const struct {
	u16 off, size;
} ctx_fields[] = {
    CTX_FIELD(vcpu),	  CTX_FIELD(cpl),	CTX_FIELD(rflags),
    CTX_FIELD(rip),	  CTX_FIELD(rsp),	CTX_FIELD(rax),
    CTX_FIELD(rbx),	  CTX_FIELD(rcx),	CTX_FIELD(rdx),
    CTX_FIELD(rsi),	  CTX_FIELD(rdi),	CTX_FIELD(rbp),
    CTX_FIELD(r8),	  CTX_FIELD(r9),	CTX_FIELD(r10),
    CTX_FIELD(r11),	  CTX_FIELD(r12),	CTX_FIELD(r13),
    CTX_FIELD(r14),	  CTX_FIELD(r15),	CTX_FIELD(cr0),
    CTX_FIELD(cr3),	  CTX_FIELD(cr4),	CTX_FIELD(efer),
    CTX_FIELD(fs_base),	  CTX_FIELD(gs_base),	CTX_FIELD(kernel_gs_base),
    CTX_FIELD(fault_gpa), CTX_FIELD(fault_gva), CTX_FIELD(access),
    CTX_FIELD(flags),
};

/*
 * A context read must lie inside one field and be aligned to its size; a
 * narrower read of any aligned part of a field is allowed (as the kernel's
 * narrow loads), a read spanning two fields is not.
 */
static bool ctx_access_ok(s64 off, int size)
{
	size_t i;

	if (off < 0 || off + size > (s64)sizeof(struct dz_pred_ctx) || off % size)
		return false;
	for (i = 0; i < sizeof(ctx_fields) / sizeof(ctx_fields[0]); i++) {
		if (off >= ctx_fields[i].off && off < ctx_fields[i].off + ctx_fields[i].size)
			return off + size <= ctx_fields[i].off + ctx_fields[i].size;
	}
	return false;
}

/* ---- stack ---- */

static bool is_spilled(const struct dz_func_state *f, int slot)
{
	return f->stack[slot * BPF_REG_SIZE] == STACK_SPILL;
}

/*
 * Bytes of the slot's spill: a spill always covers the first 1, 2, 4 or 8
 * bytes of its slot (pointers: all 8), and spilled_ptr describes their value
 * zero-extended. 0 if the slot holds no spill.
 */
int spill_width(const struct dz_func_state *f, int slot)
{
	const u8 *b = &f->stack[slot * BPF_REG_SIZE];
	int w = 0;

	while (w < BPF_REG_SIZE && b[w] == STACK_SPILL)
		w++;
	return w;
}

/*
 * Forget a spill: a pointer's bytes become unreadable (no byte of a host
 * address ever becomes data); a scalar's become data, or known zeros where
 * its known bits say so. The slot's other bytes keep their types.
 */
static void destroy_spill(struct dz_func_state *f, int slot)
{
	const struct dz_reg_state *sp = &f->spilled_ptr[slot];
	int w = spill_width(f, slot), j;

	for (j = 0; j < w; j++) {
		u8 *b = &f->stack[slot * BPF_REG_SIZE + j];
		u64 bits = (sp->var_off.value | sp->var_off.mask) >> (8 * j);

		if (sp->type != SCALAR_VALUE)
			*b = STACK_INVALID;
		else
			*b = (bits & 0xff) ? STACK_MISC : STACK_ZERO;
	}
	mark_reg_not_init(&f->spilled_ptr[slot]);
}

/* A store from byte i on (within one slot) destroys the slot's spill if it overlaps it. */
static void clobber_spill(struct dz_func_state *f, int i)
{
	int slot = i / BPF_REG_SIZE;

	if (is_spilled(f, slot) && i % BPF_REG_SIZE < spill_width(f, slot))
		destroy_spill(f, slot);
}

/*
 * A store through a constant offset. An aligned 8-byte store spills the
 * register (pointer or scalar). A 1-, 2- or 4-byte store of a scalar that
 * fits in that width, at the start of a slot, spills it too (clang keeps u32
 * and u16 locals so): its bounds survive the round trip. Other narrow stores
 * make data bytes (known zeros when the stored bytes are known zero).
 */
static int check_stack_write(struct dz_verifier_env *env, struct dz_func_state *f, s64 off,
			     int size, const struct dz_reg_state *value, int value_regno)
{
	int i = (int)(off + MAX_BPF_STACK), slot = i / BPF_REG_SIZE, j;
	bool is_ptr = value->type != SCALAR_VALUE, zero;
	struct tnum t;

	if (size == BPF_REG_SIZE) {
		if (value->type == PTR_TO_STACK && value->frameno > f->frameno)
			return verbose_err(
			    env, -EACCES,
			    "cannot spill pointers to stack into stack frame of the caller");
		f->spilled_ptr[slot] = *value;
		for (j = 0; j < BPF_REG_SIZE; j++)
			f->stack[i + j] = STACK_SPILL;
		return 0;
	}
	if (is_ptr)
		return verbose_err(env, -EACCES, "invalid size of register spill");
	clobber_spill(f, i);
	if (i % BPF_REG_SIZE == 0 && value->umax_value < 1ull << (size * 8)) {
		/* a narrow spill; any old spill here was overlapped, so destroyed */
		f->spilled_ptr[slot] = *value;
		for (j = 0; j < size; j++)
			f->stack[i + j] = STACK_SPILL;
		return 0;
	}
	t = tnum_cast(value->var_off, (u8)size);
	zero = tnum_is_const(t) && !t.value;
	for (j = 0; j < size; j++)
		f->stack[i + j] = zero ? STACK_ZERO : STACK_MISC;
	return 0;
}

/*
 * A load through a constant offset. A load at the start of a spill no wider
 * than it gives the spilled value truncated to the load's width (exactly the
 * spilled register, id included, when that loses nothing). Any other load
 * reads the bytes as data: known zeros, data, and the known bits of the
 * spills they belong to (an 8-byte load of a 4-byte spill must not return
 * the spill: its upper bytes are other data).
 */
static int check_stack_read(struct dz_verifier_env *env, struct dz_func_state *f, s64 off, int size,
			    struct dz_reg_state *out, bool sext)
{
	int i = (int)(off + MAX_BPF_STACK), slot = i / BPF_REG_SIZE, o = i % BPF_REG_SIZE, j;
	const struct dz_reg_state *sp = &f->spilled_ptr[slot];
	struct tnum t = tnum_const(0);

	if (is_spilled(f, slot)) {
		int w = spill_width(f, slot);

		if (sp->type != SCALAR_VALUE) {
			if (size == BPF_REG_SIZE) {
				*out = *sp;
				return 0;
			}
			return verbose_err(env, -EACCES, "invalid size of register fill");
		}
		if (o == 0 && size <= w) {
			u64 lim = size == BPF_REG_SIZE ? U64_MAX : (1ull << (size * 8 - sext)) - 1;

			*out = *sp;
			/* the same value (a copy, linked) only if nothing is cut or extended */
			if (sp->umax_value > lim)
				scalar_coerce(out, size, sext);
			return 0;
		}
	}
	for (j = 0; j < size; j++) {
		u8 type = f->stack[i + j];
		struct tnum byte;

		switch (type) {
		case STACK_INVALID:
			return verbose_err(env, -EACCES,
					   "invalid read from stack off %lld+%d size %d",
					   (long long)off, j, size);
		case STACK_ZERO:
			byte = tnum_const(0);
			break;
		case STACK_SPILL: /* a byte of a scalar spill (pointers were refused above) */
			byte = TNUM((sp->var_off.value >> (8 * (o + j))) & 0xff,
				    (sp->var_off.mask >> (8 * (o + j))) & 0xff);
			break;
		default:
			byte = TNUM(0, 0xff);
		}
		t.value |= byte.value << (8 * j);
		t.mask |= byte.mask << (8 * j);
	}
	mark_reg_unknown(out);
	out->var_off = t;
	scalar_coerce(out, size, sext);
	return 0;
}

static int check_stack_bounds(struct dz_verifier_env *env, u32 regno, s64 off, int size, bool write)
{
	if (off < -MAX_BPF_STACK || off + size > 0)
		return verbose_err(env, -EACCES, "invalid %s stack R%u off=%lld size=%d",
				   write ? "write to" : "read from", regno, (long long)off, size);
	if (off % size)
		return verbose_err(env, -EACCES, "misaligned stack access off %lld size %d",
				   (long long)off, size);
	return 0;
}

static void helper_wrote_stack(struct dz_func_state *f, s64 off, u64 min, u64 max);

/*
 * A stack access through a pointer with a variable offset: every byte it may
 * touch is checked (reads: initialised, no spilled pointer), and a write may
 * or may not reach each byte, so it turns none of them from unreadable into
 * readable and destroys the spills it may hit.
 */
static int check_stack_var_access(struct dz_verifier_env *env, u32 regno,
				  const struct dz_reg_state *reg, struct dz_func_state *f,
				  s16 insn_off, int size, bool write,
				  const struct dz_reg_state *value, int value_regno,
				  struct dz_reg_state *out, bool sext)
{
	s64 base = (s64)reg->off + insn_off, lo = base + reg->smin_value;
	s64 hi = base + reg->smax_value + size, i;
	char t[64];

	tnum_str(t, sizeof(t), reg->var_off);
	if (lo < -MAX_BPF_STACK || hi > 0)
		return verbose_err(
		    env, -EACCES,
		    "invalid variable-offset %s stack R%u var_off=%s off=%lld size=%d",
		    write ? "write to" : "read from", regno, t, (long long)base, size);
	if (!tnum_is_aligned(tnum_add(reg->var_off, tnum_const((u64)base)), (u64)size))
		return verbose_err(
		    env, -EACCES,
		    "misaligned variable-offset stack access var_off=%s off=%lld size=%d", t,
		    (long long)base, size);
	if (write) {
		if (value->type != SCALAR_VALUE)
			return verbose_err(
			    env, -EACCES, "R%d variable-offset stack write of a pointer prohibited",
			    value_regno);
		helper_wrote_stack(f, lo, 0, (u64)(hi - lo));
		return 0;
	}
	for (i = lo; i < hi; i++) {
		int b = (int)(i + MAX_BPF_STACK);

		if (f->stack[b] == STACK_INVALID)
			return verbose_err(env, -EACCES,
					   "invalid read from stack R%u var_off %s+%lld size %d",
					   regno, t, (long long)(i - lo), size);
		if (f->stack[b] == STACK_SPILL &&
		    f->spilled_ptr[b / BPF_REG_SIZE].type != SCALAR_VALUE)
			return verbose_err(
			    env, -EACCES,
			    "R%u variable-offset read of a spilled pointer at fp%lld prohibited",
			    regno, (long long)i);
	}
	mark_reg_unknown_size(out, size, sext);
	return 0;
}

/* ---- loads and stores ---- */

int check_mem_access(struct dz_verifier_env *env, u32 regno, s16 insn_off, int size, bool write,
		     int value_regno, const struct dz_reg_state *value, bool sext)
{
	struct dz_reg_state *regs = cur_regs(env), *reg = &regs[regno], out;
	s64 off = (s64)reg->off + insn_off;
	int err;

	err = check_reg_read(env, regno);
	if (err)
		return err;
	mark_reg_unknown(&out);

	switch (reg->type) {
	case PTR_TO_CTX:
		if (write)
			return verbose_err(env, -EACCES, "R%u cannot write into ctx", regno);
		if (ptr_has_var_off(reg))
			return verbose_err(env, -EACCES, "R%u variable ctx access prohibited",
					   regno);
		if (!ctx_access_ok(off, size))
			return verbose_err(env, -EACCES,
					   "invalid bpf_context access off=%lld size=%d",
					   (long long)off, size);
		for (s64 b = off / 8; b <= (off + size - 1) / 8; b++)
			env->prog->ctx_read |= 1ULL << (b < 63 ? b : 63);
		mark_reg_unknown_size(&out, size, sext);
		break;
	case PTR_TO_STACK: {
		struct dz_func_state *f = env->cur.frame[reg->frameno];

		if (ptr_has_var_off(reg)) {
			err = check_stack_var_access(env, regno, reg, f, insn_off, size, write,
						     value, value_regno, &out, sext);
			if (err || write)
				return err;
			break;
		}
		err = check_stack_bounds(env, regno, off, size, write);
		if (err)
			return err;
		if (write)
			return check_stack_write(env, f, off, size, value, value_regno);
		err = check_stack_read(env, f, off, size, &out, sext);
		if (err)
			return err;
		break;
	}
	case PTR_TO_MEM:
		if (ptr_has_var_off(reg)) {
			/* pointer variable parts are kept within +-2^29: no overflow */
			if (off + reg->smin_value < 0)
				return verbose_err(
				    env, -EACCES,
				    "R%u min value is outside of the allowed memory range", regno);
			if (off + reg->smax_value + size > (s64)env->prog->mem_size)
				return verbose_err(
				    env, -EACCES,
				    "R%u max value is outside of the allowed memory range", regno);
		} else if (off < 0 || off + size > (s64)env->prog->mem_size)
			return verbose_err(env, -EACCES,
					   "invalid access to memory, mem_size=%u off=%lld size=%d",
					   env->prog->mem_size, (long long)off, size);
		if (write) {
			if (value->type != SCALAR_VALUE)
				return verbose_err(env, -EACCES, "R%d leaks addr into mem",
						   value_regno);
			return 0;
		}
		mark_reg_unknown_size(&out, size, sext);
		break;
	case SCALAR_VALUE:
		return verbose_err(env, -EACCES, "R%u invalid mem access 'scalar'", regno);
	default:
		return verbose_err(env, -EACCES, "R%u invalid mem access '%s'", regno,
				   reg_type_str(reg->type));
	}
	regs[value_regno] = out;
	return 0;
}

static int bpf_size_bytes(u8 code)
{
	switch (BPF_SIZE(code)) {
	case BPF_B:
		return 1;
	case BPF_H:
		return 2;
	case BPF_W:
		return 4;
	}
	return 8;
}

/*
 * lock *(size *)(dst + off) op= src, with optional fetch of the old value into
 * src (or r0 for cmpxchg). Only on the stack and the DZ_PROG_MEM buffer, 4 or
 * 8 bytes, aligned; never on a spilled pointer; src (and r0) must be scalars.
 */
int check_atomic(struct dz_verifier_env *env, const struct bpf_insn *insn)
{
	struct dz_reg_state *regs = cur_regs(env), *dst = &regs[insn->dst_reg], old;
	int size = bpf_size_bytes(insn->code), err, load_reg = -1;
	s64 off;

	err = check_reg_read(env, insn->src_reg);
	if (!err)
		err = check_reg_read(env, insn->dst_reg);
	if (err)
		return err;
	if (insn->imm == BPF_CMPXCHG) {
		err = check_reg_read(env, BPF_REG_0);
		if (err)
			return err;
		if (regs[BPF_REG_0].type != SCALAR_VALUE)
			return verbose_err(env, -EACCES, "R0 leaks addr into mem");
		load_reg = BPF_REG_0;
	} else if (insn->imm & BPF_FETCH) {
		load_reg = insn->src_reg;
	}
	if (regs[insn->src_reg].type != SCALAR_VALUE)
		return verbose_err(env, -EACCES, "R%u leaks addr into mem", insn->src_reg);

	off = (s64)dst->off + insn->off;
	if ((dst->type == PTR_TO_STACK || dst->type == PTR_TO_MEM) && ptr_has_var_off(dst))
		return verbose_err(env, -EACCES, "R%u variable-offset atomic access prohibited",
				   insn->dst_reg);
	switch (dst->type) {
	case PTR_TO_STACK: {
		struct dz_func_state *f = env->cur.frame[dst->frameno];
		int i, slot, j;

		err = check_stack_bounds(env, insn->dst_reg, off, size, true);
		if (err)
			return err;
		i = (int)(off + MAX_BPF_STACK);
		slot = i / BPF_REG_SIZE;
		if (is_spilled(f, slot) && f->spilled_ptr[slot].type != SCALAR_VALUE)
			return verbose_err(env, -EACCES,
					   "attempt to corrupt spilled pointer on stack");
		err = check_stack_read(env, f, off, size, &old, false);
		if (err)
			return err;
		clobber_spill(f, i);
		for (j = 0; j < size; j++)
			f->stack[i + j] = STACK_MISC;
		break;
	}
	case PTR_TO_MEM:
		if (off < 0 || off + size > (s64)env->prog->mem_size)
			return verbose_err(env, -EACCES,
					   "invalid access to memory, mem_size=%u off=%lld size=%d",
					   env->prog->mem_size, (long long)off, size);
		if (off % size)
			return verbose_err(env, -EACCES, "misaligned access off %lld size %d",
					   (long long)off, size);
		break;
	case SCALAR_VALUE:
		return verbose_err(env, -EACCES, "R%u invalid mem access 'scalar'", insn->dst_reg);
	default:
		return verbose_err(env, -EACCES, "BPF_ATOMIC stores into R%u %s is not allowed",
				   insn->dst_reg, reg_type_str(dst->type));
	}
	if (load_reg >= 0)
		mark_reg_unknown_size(&regs[load_reg], size, false);
	return 0;
}

/* ---- helper calls ---- */

static int check_helper_mem_arg(struct dz_verifier_env *env, bool write, s64 *off_out, u64 *min_out,
				u64 *max_out)
{
	struct dz_reg_state *regs = cur_regs(env), *ptr = &regs[BPF_REG_1], *sz = &regs[BPF_REG_2];
	s64 off;

	if (ptr->type != PTR_TO_STACK)
		return verbose_err(env, -EACCES, "R1 type=%s expected=fp", reg_type_str(ptr->type));
	if (ptr_has_var_off(ptr))
		return verbose_err(
		    env, -EACCES, "R1 variable-offset stack pointer as a helper buffer prohibited");
	if (sz->type != SCALAR_VALUE)
		return verbose_err(env, -EACCES, "R2 type=%s expected=scalar",
				   reg_type_str(sz->type));
	if (sz->smin_value < 0)
		return verbose_err(
		    env, -EACCES,
		    "R2 min value is negative, either use unsigned or 'var &= const'");
	if (sz->umin_value == 0)
		return verbose_err(env, -EACCES, "R2 invalid zero-sized %s",
				   write ? "write" : "read");
	if (sz->umax_value > DZ_PRED_MAX_READ)
		return verbose_err(env, -EACCES,
				   "R2 unbounded memory access, use 'var &= const' or 'if (var < "
				   "const)' (max %llu > %d)",
				   (unsigned long long)sz->umax_value, DZ_PRED_MAX_READ);
	off = ptr->off;
	if (off < -MAX_BPF_STACK || off + (s64)sz->umax_value > 0)
		return verbose_err(env, -EACCES,
				   "invalid indirect access to stack R1 off=%lld size=%llu",
				   (long long)off, (unsigned long long)sz->umax_value);
	*off_out = off;
	*min_out = sz->umin_value;
	*max_out = sz->umax_value;
	return 0;
}

static int check_helper_read_stack(struct dz_verifier_env *env, struct dz_func_state *f, s64 off,
				   u64 size)
{
	u64 j;

	for (j = 0; j < size; j++) {
		int i = (int)(off + MAX_BPF_STACK + (s64)j);

		if (f->stack[i] == STACK_INVALID)
			return verbose_err(
			    env, -EACCES,
			    "invalid indirect read from stack R1 off %lld+%llu size %llu",
			    (long long)off, (unsigned long long)j, (unsigned long long)size);
		if (f->stack[i] == STACK_SPILL &&
		    f->spilled_ptr[i / BPF_REG_SIZE].type != SCALAR_VALUE)
			return verbose_err(env, -EACCES, "leaking pointer from stack off %lld",
					   (long long)(off + (s64)j));
	}
	return 0;
}

/*
 * The helper writes [off, off + min) for sure and [off + min, off + max)
 * maybe: spills there are gone, and possibly-written bytes that were
 * unreadable stay unreadable.
 */
static void helper_wrote_stack(struct dz_func_state *f, s64 off, u64 min, u64 max)
{
	int start = (int)(off + MAX_BPF_STACK), end = start + (int)max, i;

	for (i = start; i < end; i++) {
		if (f->stack[i] == STACK_SPILL)
			destroy_spill(f, i / BPF_REG_SIZE);
	}
	for (i = start; i < end; i++) {
		if (i < start + (int)min)
			f->stack[i] = STACK_MISC;
		else if (f->stack[i] == STACK_ZERO)
			f->stack[i] = STACK_MISC;
	}
}

int check_helper_call(struct dz_verifier_env *env, const struct bpf_insn *insn)
{
	struct dz_reg_state *regs = cur_regs(env);
	const char *name = dz_helper__name(insn->imm);
	bool write = insn->imm != DZ_HELPER_TRACE;
	struct dz_func_state *f;
	u64 min = 0, max = 0;
	s64 off = 0;
	int err, i;

	if (env->type != DZ_PROG_PREDICATE)
		return verbose_err(env, -EINVAL, "program of this type cannot use helper %s#%d",
				   name ? name : "unknown", insn->imm);
	if (!name)
		return verbose_err(env, -EINVAL, "invalid func unknown#%d", insn->imm);
	if (insn->imm >= 0 && insn->imm < 32)
		env->prog->helpers_called |= 1U << insn->imm;
	for (i = BPF_REG_1; i <= BPF_REG_3; i++) {
		err = check_reg_read(env, i);
		if (err)
			return err;
	}
	err = check_helper_mem_arg(env, write, &off, &min, &max);
	if (err)
		return err;
	if (regs[BPF_REG_3].type != SCALAR_VALUE)
		return verbose_err(env, -EACCES, "R3 type=%s expected=scalar",
				   reg_type_str(regs[BPF_REG_3].type));
	f = env->cur.frame[regs[BPF_REG_1].frameno];
	if (write) {
		helper_wrote_stack(f, off, min, max);
	} else {
		err = check_helper_read_stack(env, f, off, max);
		if (err)
			return err;
	}
	for (i = BPF_REG_1; i <= BPF_REG_5; i++)
		mark_reg_not_init(&regs[i]);
	/* 0 or a negative errno, an int widened to 64 bits (lib/bpf/gmem.c). */
	mark_reg_srange(&regs[BPF_REG_0], S32_MIN, 0);
	return 0;
}
