// SPDX-License-Identifier: GPL-2.0
/*
 * Loading of `clang -O2 -target bpf -c` objects. libbpf (Debian's libbpf-dev)
 * parses and validates the ELF and finds the programs; libbpf applies
 * relocations only when it loads into the kernel, which doze never does, so
 * the one relocation doze supports is applied here from the ELF's .rel
 * sections: bpf-to-bpf calls into .text subprograms, which are appended after
 * the program as the kernel's loader does. Maps, global data and kfuncs have
 * no meaning for a guest predicate and are refused with a clear reason.
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "insn.h"
#include "load.h"

/* libbpf's own diagnostics, kept for the error message instead of going to stderr. */
static __thread char libbpf_msg[256];
static pthread_mutex_t libbpf_lock = PTHREAD_MUTEX_INITIALIZER;

static int capture_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[256];
	size_t n;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	if (level == LIBBPF_WARN || !libbpf_msg[0])
		snprintf(libbpf_msg, sizeof(libbpf_msg), "%s", line);
	return 0;
}

struct elf_ctx {
	Elf *elf;
	size_t shstrndx;
	Elf_Scn *symtab;
	Elf_Data *syms;
	size_t nsyms;
	size_t text_idx; /* 0 if none */
};

static const char *sec_name(struct elf_ctx *e, size_t idx)
{
	Elf_Scn *scn = elf_getscn(e->elf, idx);
	GElf_Shdr sh;

	if (!scn || !gelf_getshdr(scn, &sh))
		return "?";
	return elf_strptr(e->elf, e->shstrndx, sh.sh_name) ?: "?";
}

static const char *sym_name(struct elf_ctx *e, const GElf_Sym *sym)
{
	GElf_Shdr sh;

	if (GELF_ST_TYPE(sym->st_info) == STT_SECTION)
		return sec_name(e, sym->st_shndx);
	if (!gelf_getshdr(e->symtab, &sh))
		return "?";
	return elf_strptr(e->elf, sh.sh_link, sym->st_name) ?: "?";
}

static size_t find_section(struct elf_ctx *e, const char *name)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;
		const char *n;

		if (!gelf_getshdr(scn, &sh))
			continue;
		n = elf_strptr(e->elf, e->shstrndx, sh.sh_name);
		if (n && !strcmp(n, name))
			return elf_ndxscn(scn);
	}
	return 0;
}

/* The REL section that applies to section idx, or NULL. */
static Elf_Scn *find_rel(struct elf_ctx *e, size_t idx)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_REL && sh.sh_info == idx)
			return scn;
	}
	return NULL;
}

static int find_func(struct elf_ctx *e, size_t shndx, const char *name, GElf_Sym *out)
{
	for (size_t i = 0; i < e->nsyms; i++) {
		GElf_Sym sym;

		if (!gelf_getsym(e->syms, (int)i, &sym))
			continue;
		if (sym.st_shndx == shndx && GELF_ST_TYPE(sym.st_info) == STT_FUNC &&
		    !strcmp(sym_name(e, &sym), name)) {
			*out = sym;
			return 0;
		}
	}
	return -ENOENT;
}

struct out_prog {
	struct bpf_insn *insns;
	uint32_t cnt;
	int64_t text_base; /* where .text was appended, -1 if not yet */
};

static int append(struct out_prog *o, const struct bpf_insn *insns, size_t cnt)
{
	struct bpf_insn *p;

	if (o->cnt + cnt > DZ_MAX_INSNS * 16)
		return -E2BIG;
	p = realloc(o->insns, (o->cnt + cnt) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	memcpy(p + o->cnt, insns, cnt * sizeof(*p));
	o->insns = p;
	o->cnt += cnt;
	return 0;
}

static int append_text(struct elf_ctx *e, struct out_prog *o, char *err, size_t err_size)
{
	Elf_Data *data;
	Elf_Scn *scn;
	int ret;

	if (o->text_base >= 0)
		return 0;
	scn = e->text_idx ? elf_getscn(e->elf, e->text_idx) : NULL;
	data = scn ? elf_getdata(scn, NULL) : NULL;
	if (!data || !data->d_buf || data->d_size % 8)
		return dz__err(err, err_size, -EINVAL, "call into .text, but .text is unusable");
	o->text_base = o->cnt;
	ret = append(o, data->d_buf, data->d_size / 8);
	return ret ? dz__err(err, err_size, ret, "program too large with its subprograms") : 0;
}

/*
 * Applies the relocations of section shndx whose offsets fall in [start, end)
 * (bytes), the part of that section copied to out->insns at base.
 */
static int relocate(struct elf_ctx *e, struct out_prog *o, size_t shndx, uint64_t start,
		    uint64_t end, uint32_t base, char *err, size_t err_size)
{
	Elf_Scn *rel = find_rel(e, shndx);
	Elf_Data *data;
	GElf_Shdr sh;
	size_t n;

	if (!rel)
		return 0;
	if (!gelf_getshdr(rel, &sh) || !(data = elf_getdata(rel, NULL)) || !sh.sh_entsize)
		return dz__err(err, err_size, -EINVAL, "bad relocation section for %s",
			       sec_name(e, shndx));
	n = sh.sh_size / sh.sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Rel r;
		GElf_Sym sym;
		struct bpf_insn *insn;
		uint32_t idx;
		int64_t target;
		int ret;

		if (!gelf_getrel(data, (int)i, &r))
			return dz__err(err, err_size, -EINVAL, "bad relocation %zu", i);
		if (r.r_offset < start || r.r_offset >= end)
			continue;
		if (r.r_offset % 8)
			return dz__err(err, err_size, -EINVAL, "misaligned relocation at 0x%llx",
				       (unsigned long long)r.r_offset);
		if (!gelf_getsym(e->syms, (int)GELF_R_SYM(r.r_info), &sym))
			return dz__err(err, err_size, -EINVAL, "relocation with a bad symbol");
		idx = base + (r.r_offset - start) / 8;
		insn = &o->insns[idx];
		if (insn->code != (BPF_JMP | BPF_CALL) || insn->src_reg != BPF_PSEUDO_CALL) {
			const char *what =
			    insn->code == (BPF_LD | BPF_IMM | BPF_DW)
				? "maps and global data are not supported"
			    : insn->code == (BPF_JMP | BPF_CALL)
				? "calls to external functions (kfuncs) are not supported"
				: "unsupported relocation";

			return dz__err(err, err_size, -ENOTSUP,
				       "insn %u: relocation against '%s' (section %s): %s", idx,
				       sym_name(e, &sym), sec_name(e, sym.st_shndx), what);
		}
		if (sym.st_shndx != e->text_idx || !e->text_idx)
			return dz__err(err, err_size, -ENOTSUP,
				       "insn %u: call to '%s' outside .text is not supported", idx,
				       sym_name(e, &sym));
		/* The callee, as libbpf computes it: symbol offset + imm + 1, in insns. */
		target = (int64_t)(sym.st_value / 8) + insn->imm + 1;
		ret = append_text(e, o, err, err_size);
		if (ret)
			return ret;
		insn = &o->insns[idx]; /* append may have moved the array */
		target += o->text_base;
		if (target < 0 || target >= o->cnt)
			return dz__err(err, err_size, -EINVAL, "insn %u: call target out of range",
				       idx);
		insn->imm = (int32_t)(target - (idx + 1));
	}
	return 0;
}

static int load(struct elf_ctx *e, struct bpf_object *obj, const char *want_sec,
		enum dz_prog_type type, struct dz_prog **out, char *err, size_t err_size)
{
	struct out_prog o = {.text_base = -1};
	struct bpf_program *prog = NULL, *p;
	const char *sec, *name;
	GElf_Sym sym;
	size_t shndx;
	int ret;

	bpf_object__for_each_program(p, obj)
	{
		if (!want_sec || !strcmp(bpf_program__section_name(p), want_sec)) {
			prog = p;
			break;
		}
	}
	if (!prog)
		return want_sec
			   ? dz__err(err, err_size, -ENOENT, "no program in section '%s'", want_sec)
			   : dz__err(err, err_size, -ENOENT, "no program in the object");
	sec = bpf_program__section_name(prog);
	name = bpf_program__name(prog);
	shndx = find_section(e, sec);
	if (!shndx || find_func(e, shndx, name, &sym))
		return dz__err(err, err_size, -EINVAL, "cannot find program '%s' in section %s",
			       name, sec);
	ret = append(&o, bpf_program__insns(prog), bpf_program__insn_cnt(prog));
	if (ret) {
		dz__err(err, err_size, ret, "program too large");
		goto out;
	}
	if (shndx == e->text_idx) {
		/* The program is itself in .text: use all of .text, program first. */
		if (sym.st_value) {
			ret = dz__err(err, err_size, -ENOTSUP,
				      "program '%s' is not at the start of .text", name);
			goto out;
		}
		o.cnt = 0;
		ret = append_text(e, &o, err, err_size);
		if (!ret)
			ret = relocate(e, &o, shndx, 0, (uint64_t)o.cnt * 8, 0, err, err_size);
	} else {
		ret = relocate(e, &o, shndx, sym.st_value, sym.st_value + (uint64_t)o.cnt * 8, 0,
			       err, err_size);
		if (!ret && o.text_base >= 0)
			ret = relocate(e, &o, e->text_idx, 0, (uint64_t)(o.cnt - o.text_base) * 8,
				       o.text_base, err, err_size);
	}
	if (ret)
		goto out;
	ret = dz__prog_from_insns(o.insns, o.cnt, type, name, out, err, err_size);
out:
	free(o.insns);
	return ret;
}

int dz_prog__load_elf_mem(const void *buf, size_t len, const char *sec, enum dz_prog_type type,
			  struct dz_prog **out, char *err, size_t err_size)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "doze");
	struct elf_ctx e = {0};
	struct bpf_object *obj;
	libbpf_print_fn_t old;
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	int ret;

	*out = NULL;
	if (!buf || len < sizeof(Elf64_Ehdr) || memcmp(buf, ELFMAG, SELFMAG))
		return dz__err(err, err_size, -EINVAL, "not an ELF object (%s)",
			       len < sizeof(Elf64_Ehdr) ? "too short" : "bad magic");
	/*
	 * Only what a BPF object can be: 64-bit little-endian (libelf may convert
	 * foreign byte order in place, and buf is const).
	 */
	if (((const uint8_t *)buf)[EI_CLASS] != ELFCLASS64 ||
	    ((const uint8_t *)buf)[EI_DATA] != ELFDATA2LSB)
		return dz__err(
		    err, err_size, -EINVAL,
		    "not a 64-bit little-endian ELF object (as clang -target bpf makes)");
	/* libbpf's print hook is process-wide: one loader at a time swaps it. */
	pthread_mutex_lock(&libbpf_lock);
	libbpf_msg[0] = '\0';
	old = libbpf_set_print(capture_libbpf);
	obj = bpf_object__open_mem(buf, len, &opts);
	libbpf_set_print(old);
	pthread_mutex_unlock(&libbpf_lock);
	ret = libbpf_get_error(obj);
	if (ret || !obj)
		return dz__err(err, err_size, ret ? ret : -EINVAL, "not a usable BPF object: %s",
			       libbpf_msg[0] ? libbpf_msg : strerror(ret ? -ret : EINVAL));

	elf_version(EV_CURRENT);
	e.elf = elf_memory((char *)buf, len);
	if (!e.elf || !gelf_getehdr(e.elf, &eh) || elf_getshdrstrndx(e.elf, &e.shstrndx)) {
		ret = dz__err(err, err_size, -EINVAL, "bad ELF: %s", elf_errmsg(-1));
		goto out;
	}
	while ((scn = elf_nextscn(e.elf, scn))) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB) {
			e.symtab = scn;
			e.syms = elf_getdata(scn, NULL);
			e.nsyms = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		}
	}
	if (!e.syms) {
		ret = dz__err(err, err_size, -EINVAL, "no symbol table");
		goto out;
	}
	e.text_idx = find_section(&e, ".text");
	ret = load(&e, obj, sec, type, out, err, err_size);
out:
	if (e.elf)
		elf_end(e.elf);
	bpf_object__close(obj);
	return ret;
}
