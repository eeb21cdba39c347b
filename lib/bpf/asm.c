// SPDX-License-Identifier: GPL-2.0
/*
 * Text assembler for the verifier-log syntax the disassembler prints, so
 * asm(disasm(i)) == i for every instruction. It also takes the common
 * variants of LLVM's printer: "goto +2" and "goto label" as well as
 * "goto pc+2", "(r1 + 4)" as well as "(r1 +4)", "w0 = *(u32 *)...", "r1 = 5 ll",
 * "call 1" / "call name" / "call name#1", "atomic_fetch_add" for both widths,
 * LLVM's "xchg_64(r1 + 0, r2)" / "cmpxchg32_32(r1 + 0, w0, w2)",
 * and a leading "IDX: (OP)" so a `doze bpf dis` listing assembles back.
 *
 * Immediates: "rN = 0x..." (hex, the kernel's spelling of lddw) and
 * "rN = V ll" assemble to lddw; a decimal "rN = V" is a mov unless V does not
 * fit in 32 signed bits.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "insn.h"
#include "load.h"

struct label {
	char name[64];
	uint32_t slot;
};

struct fixup {
	char name[64];
	uint32_t slot;
	int line;
	bool imm; /* gotol / call: target in imm, else in off */
};

struct asm_state {
	const char *p; /* cursor in the current line */
	int line;
	char *err;
	size_t err_size;
	struct bpf_insn *insns;
	int *lines; /* source line of each slot */
	uint32_t cnt, cap;
	struct label *labels;
	uint32_t nlabels, labels_cap;
	struct fixup *fixups;
	uint32_t nfixups, fixups_cap;
};

static int fail(struct asm_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct asm_state *s, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return dz__err(s->err, s->err_size, -EINVAL, "line %d: %s", s->line, why);
}

static void ws(struct asm_state *s)
{
	while (*s->p == ' ' || *s->p == '\t')
		s->p++;
}

static bool is_word(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Punctuation or operator. */
static bool lit(struct asm_state *s, const char *tok)
{
	size_t n = strlen(tok);

	ws(s);
	if (strncmp(s->p, tok, n))
		return false;
	s->p += n;
	return true;
}

/* A whole word. */
static bool word(struct asm_state *s, const char *w)
{
	size_t n = strlen(w);

	ws(s);
	if (strncmp(s->p, w, n) || is_word(s->p[n]))
		return false;
	s->p += n;
	return true;
}

static int ident(struct asm_state *s, char *buf, size_t size)
{
	size_t n = 0;

	ws(s);
	if (!isalpha((unsigned char)*s->p) && *s->p != '_' && *s->p != '.')
		return 0;
	while (is_word(s->p[n]) || s->p[n] == '.') {
		if (n + 1 >= size)
			return -1;
		buf[n] = s->p[n];
		n++;
	}
	buf[n] = '\0';
	s->p += n;
	return (int)n;
}

/* rN or wN, N in 0..10. Returns the number, or -1 (cursor unchanged). */
static int reg(struct asm_state *s, bool *is_w)
{
	const char *p;
	int n = 0;

	ws(s);
	p = s->p;
	if (*p != 'r' && *p != 'w')
		return -1;
	if (!isdigit((unsigned char)p[1]))
		return -1;
	for (p++; isdigit((unsigned char)*p); p++) {
		n = n * 10 + (*p - '0');
		if (n > 99)
			return -1;
	}
	if (is_word(*p) || n > 10)
		return -1;
	if (is_w)
		*is_w = s->p[0] == 'w';
	s->p = p;
	return n;
}

/*
 * A number: [+-] decimal or 0x hex, magnitude up to 2^64 - 1. *v holds the
 * two's-complement value. Returns 1, 0 if there is no number here, -1 on overflow.
 */
static int number(struct asm_state *s, int64_t *v, bool *hex)
{
	const char *p;
	bool neg = false;
	uint64_t m;
	char *end;

	ws(s);
	p = s->p;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!isdigit((unsigned char)*p))
		return 0;
	if (hex)
		*hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
	errno = 0;
	m = strtoull(p, &end, 0);
	if (errno || is_word(*end))
		return -1;
	if (neg && m > (uint64_t)1 << 63)
		return -1;
	*v = neg ? (int64_t)(0 - m) : (int64_t)m;
	s->p = end;
	return 1;
}

static int emit(struct asm_state *s, struct bpf_insn insn)
{
	if (s->cnt == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 64;
		struct bpf_insn *p;
		int *l;

		if (cap > DZ_MAX_INSNS * 16)
			return fail(s, "program too large (more than %u instructions)",
				    DZ_MAX_INSNS * 16);
		p = realloc(s->insns, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		s->insns = p;
		l = realloc(s->lines, cap * sizeof(*l));
		if (!l)
			return -ENOMEM;
		s->lines = l;
		s->cap = cap;
	}
	s->lines[s->cnt] = s->line;
	s->insns[s->cnt++] = insn;
	return 0;
}

static struct bpf_insn mk(uint8_t code, int dst, int src, int16_t off, int32_t imm)
{
	return (struct bpf_insn){
	    .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

/* Fits the 32-bit immediate field: signed, or (if allow_u32) unsigned up to 2^32 - 1. */
static bool imm_ok(int64_t v, bool allow_u32)
{
	return (v >= INT32_MIN && v <= INT32_MAX) || (allow_u32 && v >= 0 && v <= UINT32_MAX);
}

/* "(TY *)(REG OFF)". Sets *size to BPF_B/H/W/DW, *sx for s8/s16/s32. */
static int memref(struct asm_state *s, int *size, bool *sx, int *base, int16_t *off)
{
	char ty[8];
	int64_t v;

	if (!lit(s, "("))
		return fail(s, "expected '(' before the type of a memory operand");
	if (ident(s, ty, sizeof(ty)) <= 0)
		return fail(s, "expected u8/u16/u32/u64 in a memory operand");
	*sx = ty[0] == 's';
	if (!strcmp(ty + 1, "8") && (ty[0] == 'u' || ty[0] == 's'))
		*size = BPF_B;
	else if (!strcmp(ty + 1, "16") && (ty[0] == 'u' || ty[0] == 's'))
		*size = BPF_H;
	else if (!strcmp(ty + 1, "32") && (ty[0] == 'u' || ty[0] == 's'))
		*size = BPF_W;
	else if (!strcmp(ty, "u64"))
		*size = BPF_DW;
	else
		return fail(s, "unknown memory type '%s'", ty);
	if (!lit(s, "*") || !lit(s, ")") || !lit(s, "("))
		return fail(s, "expected '(%s *)(rN +off)'", ty);
	*base = reg(s, NULL);
	if (*base < 0)
		return fail(s, "expected a base register in a memory operand");
	ws(s);
	*off = 0;
	if (*s->p == '+' || *s->p == '-') {
		bool neg = *s->p++ == '-';

		if (number(s, &v, NULL) != 1 || v < 0)
			return fail(s, "bad offset in a memory operand");
		v = neg ? -v : v;
		if (v < INT16_MIN || v > INT16_MAX)
			return fail(s, "offset %lld out of range (16 bits)", (long long)v);
		*off = (int16_t)v;
	}
	if (!lit(s, ")"))
		return fail(s, "expected ')' after a memory operand");
	return 0;
}

/* Jump target: "pc+N", "+N", "-N", "N" or a label (fixed up later). */
static int target(struct asm_state *s, bool imm, int64_t *rel, bool *is_label)
{
	char name[64];
	int n;

	*is_label = false;
	ws(s);
	if (!strncmp(s->p, "pc", 2) && (s->p[2] == '+' || s->p[2] == '-'))
		s->p += 2;
	n = number(s, rel, NULL);
	if (n < 0)
		return fail(s, "bad jump offset");
	if (n == 1) {
		if (imm ? !imm_ok(*rel, false) : (*rel < INT16_MIN || *rel > INT16_MAX))
			return fail(s, "jump offset %lld out of range (%s)", (long long)*rel,
				    imm ? "32 bits" : "16 bits; use gotol");
		/* llvm-objdump's annotation of the target: "goto +21 <LBB0_7>" */
		ws(s);
		if (*s->p == '<') {
			const char *q = s->p + 1;

			while (is_word(*q) || *q == '.')
				q++;
			if (*q == '>' && q > s->p + 1)
				s->p = q + 1;
		}
		return 0;
	}
	n = ident(s, name, sizeof(name));
	if (n <= 0)
		return fail(s, "expected a jump target (pc+N, +N or a label)");
	if (s->nfixups == s->fixups_cap) {
		uint32_t cap = s->fixups_cap ? s->fixups_cap * 2 : 16;
		struct fixup *f = realloc(s->fixups, cap * sizeof(*f));

		if (!f)
			return -ENOMEM;
		s->fixups = f;
		s->fixups_cap = cap;
	}
	snprintf(s->fixups[s->nfixups].name, sizeof(s->fixups[0].name), "%s", name);
	s->fixups[s->nfixups].slot = s->cnt;
	s->fixups[s->nfixups].line = s->line;
	s->fixups[s->nfixups].imm = imm;
	s->nfixups++;
	*rel = 0;
	*is_label = true;
	return 0;
}

static const struct {
	const char *tok;
	uint8_t op;
	bool sign;
} alu_ops[] = {
    {"s>>=", BPF_ARSH, false}, {"<<=", BPF_LSH, false}, {">>=", BPF_RSH, false},
    {"s/=", BPF_DIV, true},    {"s%=", BPF_MOD, true},	{"+=", BPF_ADD, false},
    {"-=", BPF_SUB, false},    {"*=", BPF_MUL, false},	{"/=", BPF_DIV, false},
    {"|=", BPF_OR, false},     {"&=", BPF_AND, false},	{"%=", BPF_MOD, false},
    {"^=", BPF_XOR, false},
};

static const struct {
	const char *tok;
	uint8_t op;
} jmp_ops[] = {
    {"s>=", BPF_JSGE}, {"s<=", BPF_JSLE}, {"s>", BPF_JSGT}, {"s<", BPF_JSLT},
    {"==", BPF_JEQ},   {"!=", BPF_JNE},	  {">=", BPF_JGE},  {"<=", BPF_JLE},
    {">", BPF_JGT},    {"<", BPF_JLT},	  {"&", BPF_JSET},
};

static const struct {
	const char *name;
	int32_t imm;
} atomic_names[] = {
    {"fetch_add", BPF_ADD | BPF_FETCH},
    {"fetch_and", BPF_AND | BPF_FETCH},
    {"fetch_or", BPF_OR | BPF_FETCH},
    {"fetch_xor", BPF_XOR | BPF_FETCH},
    {"xchg", BPF_XCHG},
    {"cmpxchg", BPF_CMPXCHG},
};

static int parse_jump(struct asm_state *s, uint8_t cls)
{
	bool label;
	int64_t rel;
	int ret = target(s, cls == BPF_JMP32, &rel, &label);

	if (ret)
		return ret;
	if (cls == BPF_JMP32)
		return emit(s, mk(BPF_JMP32 | BPF_JA, 0, 0, 0, (int32_t)rel));
	return emit(s, mk(BPF_JMP | BPF_JA, 0, 0, (int16_t)rel, 0));
}

static int parse_if(struct asm_state *s)
{
	bool w, w2, label;
	int d, src, ret;
	int64_t v, rel;
	size_t i;
	uint8_t op = 0, cls;

	d = reg(s, &w);
	if (d < 0)
		return fail(s, "expected a register after 'if'");
	cls = w ? BPF_JMP32 : BPF_JMP;
	for (i = 0; i < sizeof(jmp_ops) / sizeof(jmp_ops[0]); i++)
		if (lit(s, jmp_ops[i].tok)) {
			op = jmp_ops[i].op;
			break;
		}
	if (i == sizeof(jmp_ops) / sizeof(jmp_ops[0]))
		return fail(s, "expected a comparison (==, !=, >, s<, &, ...)");
	src = reg(s, &w2);
	if (src >= 0 && w2 != w)
		return fail(s, "mixing w and r registers in one comparison");
	if (src < 0) {
		ret = number(s, &v, NULL);
		if (ret != 1 || !imm_ok(v, true))
			return fail(s, "expected a register or a 32-bit immediate");
	}
	if (!word(s, "goto"))
		return fail(s, "expected 'goto'");
	ret = target(s, false, &rel, &label);
	if (ret)
		return ret;
	if (src >= 0)
		return emit(s, mk(cls | op | BPF_X, d, src, (int16_t)rel, 0));
	return emit(s, mk(cls | op | BPF_K, d, 0, (int16_t)rel, (int32_t)v));
}

static int find_label(struct asm_state *s, const char *name)
{
	uint32_t i;

	for (i = 0; i < s->nlabels; i++)
		if (!strcmp(s->labels[i].name, name))
			return (int)i;
	return -1;
}

static int parse_call(struct asm_state *s)
{
	char name[64];
	bool label;
	int64_t v;
	int32_t id;
	int n;

	ws(s);
	if (!strncmp(s->p, "pc", 2) && (s->p[2] == '+' || s->p[2] == '-')) {
		n = target(s, true, &v, &label);
		if (n)
			return n;
		return emit(s, mk(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, (int32_t)v));
	}
	n = number(s, &v, NULL);
	if (n) {
		if (n < 0 || !imm_ok(v, false))
			return fail(s, "bad helper number");
		return emit(s, mk(BPF_JMP | BPF_CALL, 0, 0, 0, (int32_t)v));
	}
	n = ident(s, name, sizeof(name));
	if (n <= 0)
		return fail(s, "expected a helper number, a helper name or a label after 'call'");
	if (lit(s, "#")) {
		if (number(s, &v, NULL) != 1 || !imm_ok(v, false))
			return fail(s, "bad helper number after '#'");
		if (strcmp(name, "unknown") &&
		    (!dz_helper__name((int32_t)v) || strcmp(name, dz_helper__name((int32_t)v))))
			return fail(s, "helper '%s' is not #%lld", name, (long long)v);
		return emit(s, mk(BPF_JMP | BPF_CALL, 0, 0, 0, (int32_t)v));
	}
	for (id = 1; id < __DZ_HELPER_MAX; id++)
		if (!strcmp(name, dz_helper__name(id)))
			return emit(s, mk(BPF_JMP | BPF_CALL, 0, 0, 0, id));
	/* Otherwise a local function: a label. */
	s->p -= n;
	n = target(s, true, &v, &label);
	if (n)
		return n;
	return emit(s, mk(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 0));
}

/* "*(TY *)(REG OFF) = REG|IMM" (the leading '*' consumed) */
static int parse_store(struct asm_state *s)
{
	int size, base, src, n;
	int16_t off;
	bool sx;
	int64_t v;

	n = memref(s, &size, &sx, &base, &off);
	if (n)
		return n;
	if (sx)
		return fail(s, "stores take u8/u16/u32/u64");
	if (!lit(s, "="))
		return fail(s, "expected '=' in a store");
	src = reg(s, NULL);
	if (src >= 0)
		return emit(s, mk(BPF_STX | BPF_MEM | size, base, src, off, 0));
	n = number(s, &v, NULL);
	if (n != 1 || !imm_ok(v, size != BPF_DW))
		return fail(s, "expected a register or a 32-bit immediate to store");
	return emit(s, mk(BPF_ST | BPF_MEM | size, base, 0, off, (int32_t)v));
}

/* "lock *(TY *)(REG OFF) OP= REG" */
static int parse_lock(struct asm_state *s)
{
	int size, base, src, n;
	int16_t off;
	int32_t op;
	bool sx;

	if (!lit(s, "*"))
		return fail(s, "expected '*(' after 'lock'");
	n = memref(s, &size, &sx, &base, &off);
	if (n)
		return n;
	if (lit(s, "+="))
		op = BPF_ADD;
	else if (lit(s, "|="))
		op = BPF_OR;
	else if (lit(s, "&="))
		op = BPF_AND;
	else if (lit(s, "^="))
		op = BPF_XOR;
	else
		return fail(s, "expected +=, |=, &= or ^= after 'lock'");
	src = reg(s, NULL);
	if (src < 0)
		return fail(s, "expected a register");
	if (sx || (size != BPF_W && size != BPF_DW))
		return fail(s, "atomics take u32 or u64");
	return emit(s, mk(BPF_STX | BPF_ATOMIC | size, base, src, off, op));
}

/* After "rD = atomic[64]_NAME": "((TY *)(REG OFF), [r0, ]REG)" */
static int parse_atomic(struct asm_state *s, int d, const char *fn)
{
	int size, base, src, n;
	int32_t op = -1;
	int16_t off;
	size_t i;
	bool sx;

	for (i = 0; i < sizeof(atomic_names) / sizeof(atomic_names[0]); i++)
		if (!strcmp(fn, atomic_names[i].name))
			op = atomic_names[i].imm;
	if (op < 0)
		return fail(s, "unknown atomic operation '%s'", fn);
	if (!lit(s, "("))
		return fail(s, "expected '(' after the atomic operation");
	n = memref(s, &size, &sx, &base, &off);
	if (n)
		return n;
	if (!lit(s, ","))
		return fail(s, "expected ','");
	if (op == BPF_CMPXCHG) {
		if (d != 0 || reg(s, NULL) != 0 || !lit(s, ","))
			return fail(s, "cmpxchg is 'r0 = atomic_cmpxchg((TY *)(rN +off), r0, rM)'");
	}
	src = reg(s, NULL);
	if (src < 0 || !lit(s, ")"))
		return fail(s, "expected a register and ')'");
	if (op != BPF_CMPXCHG && src != d)
		return fail(s, "the fetched value goes to the source register (r%d), not r%d", src,
			    d);
	if (sx || (size != BPF_W && size != BPF_DW))
		return fail(s, "atomics take u32 or u64");
	return emit(s, mk(BPF_STX | BPF_ATOMIC | size, base, src, off, op));
}

/*
 * LLVM's spelling of exchanges: "rD = xchg_64(rB + off, rD)",
 * "wD = xchg32_32(rB + off, wD)", "r0 = cmpxchg_64(rB + off, r0, rS)",
 * "w0 = cmpxchg32_32(rB + off, w0, wS)".
 */
static int parse_llvm_xchg(struct asm_state *s, int d, const char *fn)
{
	bool cmp = fn[0] == 'c', w64 = strstr(fn, "_64") != NULL;
	int base, src;
	int64_t v = 0;

	if (!lit(s, "("))
		return fail(s, "expected '(' after %s", fn);
	base = reg(s, NULL);
	if (base < 0)
		return fail(s, "expected a base register in %s", fn);
	ws(s);
	if (*s->p == '+' || *s->p == '-') {
		bool neg = *s->p++ == '-';

		if (number(s, &v, NULL) != 1 || v < 0 || v > INT16_MAX + (int64_t)neg)
			return fail(s, "bad offset in %s", fn);
		v = neg ? -v : v;
	}
	if (!lit(s, ","))
		return fail(s, "expected ','");
	if (cmp && (d != 0 || reg(s, NULL) != 0 || !lit(s, ",")))
		return fail(s, "%s is 'r0 = %s(rN + off, r0, rM)'", fn, fn);
	src = reg(s, NULL);
	if (src < 0 || !lit(s, ")"))
		return fail(s, "expected a register and ')'");
	if (!cmp && src != d)
		return fail(s, "the old value goes to the source register (r%d), not r%d", src, d);
	return emit(s, mk(BPF_STX | BPF_ATOMIC | (w64 ? BPF_DW : BPF_W), base, src, (int16_t)v,
			  cmp ? BPF_CMPXCHG : BPF_XCHG));
}

/* Everything that starts with a register. */
static int parse_reg_stmt(struct asm_state *s, int d, bool w)
{
	uint8_t cls = w ? BPF_ALU : BPF_ALU64;
	char name[32];
	bool w2, hex;
	int src, n;
	int64_t v;
	size_t i;

	for (i = 0; i < sizeof(alu_ops) / sizeof(alu_ops[0]); i++) {
		if (!lit(s, alu_ops[i].tok))
			continue;
		src = reg(s, &w2);
		if (src >= 0) {
			if (w2 != w)
				return fail(s, "mixing w and r registers in one operation");
			return emit(s, mk(cls | alu_ops[i].op | BPF_X, d, src, alu_ops[i].sign, 0));
		}
		n = number(s, &v, NULL);
		if (n != 1 || !imm_ok(v, w))
			return fail(s, "expected a register or a %s immediate",
				    w ? "32-bit" : "signed 32-bit");
		return emit(s, mk(cls | alu_ops[i].op | BPF_K, d, 0, alu_ops[i].sign, (int32_t)v));
	}
	if (!lit(s, "="))
		return fail(s, "expected an assignment or an ALU operation after r%d", d);

	ws(s);
	/* Load: rD = *(TY *)(rS +off); "wD =" accepted (loads zero-extend anyway). */
	if (lit(s, "*")) {
		int size, base;
		int16_t off;
		bool sx;

		n = memref(s, &size, &sx, &base, &off);
		if (n)
			return n;
		return emit(s, mk(BPF_LDX | (sx ? BPF_MEMSX : BPF_MEM) | size, d, base, off, 0));
	}
	/* Negation: rD = -rD */
	if (s->p[0] == '-' && (s->p[1] == 'r' || s->p[1] == 'w')) {
		s->p++;
		src = reg(s, &w2);
		if (src != d || w2 != w)
			return fail(s, "negation is '%c%d = -%c%d'", w ? 'w' : 'r', d,
				    w ? 'w' : 'r', d);
		return emit(s, mk(cls | BPF_NEG | BPF_K, d, 0, 0, 0));
	}
	/* Sign-extending move: rD = (s8)rS */
	if (lit(s, "(")) {
		int bits;

		if (word(s, "s8"))
			bits = 8;
		else if (word(s, "s16"))
			bits = 16;
		else if (word(s, "s32"))
			bits = 32;
		else
			return fail(s, "expected (s8), (s16) or (s32)");
		if (!lit(s, ")"))
			return fail(s, "expected ')'");
		src = reg(s, &w2);
		if (src < 0 || w2 != w)
			return fail(s, "expected a %c register after the cast", w ? 'w' : 'r');
		return emit(s, mk(cls | BPF_MOV | BPF_X, d, src, bits, 0));
	}
	/* Register move. */
	src = reg(s, &w2);
	if (src >= 0) {
		if (w2 != w)
			return fail(s, "mixing w and r registers in one move");
		return emit(s, mk(cls | BPF_MOV | BPF_X, d, src, 0, 0));
	}
	/* Immediate: mov or lddw. */
	n = number(s, &v, &hex);
	if (n < 0)
		return fail(s, "immediate out of range (64 bits)");
	if (n == 1) {
		bool ll = word(s, "ll");

		if (!w && (ll || hex || !imm_ok(v, false))) {
			n = emit(s, mk(BPF_LD | BPF_IMM | BPF_DW, d, 0, 0, (int32_t)(uint32_t)v));
			if (n)
				return n;
			return emit(s, mk(0, 0, 0, 0, (int32_t)(uint32_t)((uint64_t)v >> 32)));
		}
		if (ll)
			return fail(s, "'ll' immediates need an r register");
		if (!imm_ok(v, w))
			return fail(s, "immediate out of range for a 32-bit move");
		return emit(s, mk(cls | BPF_MOV | BPF_K, d, 0, 0, (int32_t)v));
	}
	/* Named forms: le16/be32/bswap64, atomics. */
	n = ident(s, name, sizeof(name));
	if (n <= 0)
		return fail(s, "cannot parse the right-hand side");
	if ((!strncmp(name, "le", 2) || !strncmp(name, "be", 2) || !strncmp(name, "bswap", 5))) {
		const char *bits = name + (name[0] == 'b' && name[1] == 's' ? 5 : 2);
		int width = atoi(bits);

		if (strcmp(bits, "16") && strcmp(bits, "32") && strcmp(bits, "64"))
			return fail(s, "unknown byte swap '%s'", name);
		src = reg(s, &w2);
		if (src != d)
			return fail(s, "byte swaps are '%c%d = %s %c%d'", 'r', d, name, 'r', d);
		if (name[1] == 's')
			return emit(s, mk(BPF_ALU64 | BPF_END | BPF_TO_LE, d, 0, 0, width));
		return emit(s, mk(BPF_ALU | BPF_END | (name[0] == 'b' ? BPF_TO_BE : BPF_TO_LE), d,
				  0, 0, width));
	}
	if (!strcmp(name, "xchg_64") || !strcmp(name, "xchg32_32") || !strcmp(name, "cmpxchg_64") ||
	    !strcmp(name, "cmpxchg32_32"))
		return parse_llvm_xchg(s, d, name);
	if (!strncmp(name, "atomic64_", 9))
		return parse_atomic(s, d, name + 9);
	if (!strncmp(name, "atomic_", 7))
		return parse_atomic(s, d, name + 7);
	return fail(s, "unknown operation '%s'", name);
}

static int add_label(struct asm_state *s, const char *name)
{
	if (find_label(s, name) >= 0)
		return fail(s, "label '%s' defined twice", name);
	if (s->nlabels == s->labels_cap) {
		uint32_t cap = s->labels_cap ? s->labels_cap * 2 : 16;
		struct label *l = realloc(s->labels, cap * sizeof(*l));

		if (!l)
			return -ENOMEM;
		s->labels = l;
		s->labels_cap = cap;
	}
	snprintf(s->labels[s->nlabels].name, sizeof(s->labels[0].name), "%s", name);
	s->labels[s->nlabels].slot = s->cnt;
	s->nlabels++;
	return 0;
}

static int parse_line(struct asm_state *s)
{
	const char *save;
	char name[64];
	bool w;
	int n, d;

	/* Leading "IDX:" and "(OP)" of a listing; "label:" definitions. */
	for (;;) {
		ws(s);
		save = s->p;
		if (isdigit((unsigned char)*s->p)) {
			while (isdigit((unsigned char)*s->p))
				s->p++;
			if (*s->p == ':') {
				s->p++;
				continue;
			}
			s->p = save;
			break;
		}
		if (*s->p == '(' && isxdigit((unsigned char)s->p[1]) &&
		    isxdigit((unsigned char)s->p[2]) && s->p[3] == ')') {
			s->p += 4;
			continue;
		}
		n = ident(s, name, sizeof(name));
		if (n > 0 && *s->p == ':') {
			s->p++;
			n = add_label(s, name);
			if (n)
				return n;
			continue;
		}
		s->p = save;
		break;
	}
	ws(s);
	if (!*s->p)
		return 0;

	if (word(s, "exit"))
		n = emit(s, mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	else if (word(s, "call"))
		n = parse_call(s);
	else if (word(s, "goto") || word(s, "ja"))
		n = parse_jump(s, BPF_JMP);
	else if (word(s, "gotol"))
		n = parse_jump(s, BPF_JMP32);
	else if (word(s, "if"))
		n = parse_if(s);
	else if (word(s, "lock"))
		n = parse_lock(s);
	else if (lit(s, "*"))
		n = parse_store(s);
	else if ((d = reg(s, &w)) >= 0)
		n = parse_reg_stmt(s, d, w);
	else
		return fail(s, "unknown instruction '%.20s'", s->p);
	if (n)
		return n;
	ws(s);
	if (*s->p)
		return fail(s, "unexpected '%.20s' after the instruction", s->p);
	return 0;
}

/* Cuts a line's comment: ';' or "//" anywhere, '#' at the start or after a blank. */
static void strip_comment(char *line)
{
	char *p;

	for (p = line; *p; p++) {
		if (*p == ';' || (p[0] == '/' && p[1] == '/') ||
		    (*p == '#' && (p == line || p[-1] == ' ' || p[-1] == '\t'))) {
			*p = '\0';
			return;
		}
	}
}

int dz__asm(const char *text, struct bpf_insn **insns, uint32_t *cnt, char *err, size_t err_size,
	    bool check_targets)
{
	struct asm_state s = {.err = err, .err_size = err_size};
	const char *p = text, *nl;
	char why[200];
	char *line = NULL;
	uint32_t i;
	int ret = 0;

	*insns = NULL;
	*cnt = 0;
	if (err && err_size)
		err[0] = '\0';
	for (s.line = 1; *p; s.line++, p = *nl ? nl + 1 : nl) {
		size_t len;

		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		len = nl - p;
		free(line);
		line = strndup(p, len);
		if (!line) {
			ret = -ENOMEM;
			goto out;
		}
		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		strip_comment(line);
		s.p = line;
		ret = parse_line(&s);
		if (ret)
			goto out;
	}
	/* Resolve labels. */
	for (i = 0; i < s.nfixups; i++) {
		struct fixup *f = &s.fixups[i];
		int l = find_label(&s, f->name);
		int64_t rel;

		s.line = f->line;
		if (l < 0) {
			ret = fail(&s, "unknown label '%s'", f->name);
			goto out;
		}
		rel = (int64_t)s.labels[l].slot - (f->slot + 1);
		if (f->imm) {
			s.insns[f->slot].imm = (int32_t)rel;
		} else {
			if (rel < INT16_MIN || rel > INT16_MAX) {
				ret = fail(&s, "label '%s' too far for goto (use gotol)", f->name);
				goto out;
			}
			s.insns[f->slot].off = (int16_t)rel;
		}
	}
	if (!s.cnt) {
		ret = dz__err(err, err_size, -EINVAL, "no instructions");
		goto out;
	}
	if (check_targets) {
		ret = dz_prog__check(s.insns, s.cnt, why, sizeof(why));
		if (ret) {
			unsigned int idx;

			if (sscanf(why, "insn %u:", &idx) == 1 && idx < s.cnt)
				dz__err(err, err_size, ret, "line %d: %s", s.lines[idx], why);
			else
				dz__err(err, err_size, ret, "%s", why);
			goto out;
		}
	}
	*insns = s.insns;
	*cnt = s.cnt;
	s.insns = NULL;
out:
	free(line);
	free(s.insns);
	free(s.lines);
	free(s.labels);
	free(s.fixups);
	return ret;
}

int dz_asm(const char *text, struct bpf_insn **insns, uint32_t *cnt, char *err, size_t err_size)
{
	return dz__asm(text, insns, cnt, err, err_size, true);
}
