// SPDX-License-Identifier: GPL-2.0
/*
 * Program objects and loading by file suffix: ".o" ELF (elf.c), ".s"/".asm"
 * text (asm.c), ".bin" raw little-endian struct bpf_insn. Loaders check the
 * program's structure (every instruction decodes, jumps land inside), so bad
 * files are refused here with a clear reason; safety is the verifier's job.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "insn.h"
#include "load.h"

int dz_prog__new(const struct bpf_insn *insns, uint32_t cnt, enum dz_prog_type type,
		 struct dz_prog **out)
{
	struct dz_prog *prog;

	*out = NULL;
	if (!insns || cnt == 0 || cnt > DZ_MAX_INSNS * 16)
		return -EINVAL;
	if (type != DZ_PROG_PREDICATE && type != DZ_PROG_MEM)
		return -EINVAL;
	prog = calloc(1, sizeof(*prog));
	if (!prog)
		return -ENOMEM;
	prog->insns = malloc((size_t)cnt * sizeof(*insns));
	if (!prog->insns) {
		free(prog);
		return -ENOMEM;
	}
	memcpy(prog->insns, insns, (size_t)cnt * sizeof(*insns));
	prog->insn_cnt = cnt;
	prog->type = type;
	*out = prog;
	return 0;
}

void dz_prog__free(struct dz_prog *prog)
{
	if (!prog)
		return;
	free(prog->insns);
	free(prog);
}

int dz__err(char *err, size_t size, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && size) {
		va_start(ap, fmt);
		vsnprintf(err, size, fmt, ap);
		va_end(ap);
	}
	return ret;
}

int dz__read_file(const char *path, void **buf, size_t *len, size_t max, char *err, size_t err_size)
{
	struct stat st;
	size_t got = 0;
	char *p = NULL;
	FILE *f;
	int ret;

	*buf = NULL;
	*len = 0;
	f = fopen(path, "rb");
	if (!f)
		return dz__err(err, err_size, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = dz__err(err, err_size, -EINVAL, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		ret = dz__err(err, err_size, -E2BIG, "%s: too large (%lld bytes, limit %zu)", path,
			      (long long)st.st_size, max);
		goto out;
	}
	p = malloc(st.st_size + 1); /* + NUL so text can be parsed in place */
	if (!p) {
		ret = -ENOMEM;
		goto out;
	}
	got = fread(p, 1, st.st_size, f);
	if (ferror(f)) {
		ret = dz__err(err, err_size, -EIO, "%s: read error", path);
		goto out;
	}
	p[got] = '\0';
	*buf = p;
	*len = got;
	p = NULL;
	ret = 0;
out:
	free(p);
	fclose(f);
	return ret;
}

/* Wraps checked instructions into a program; names it after the file. */
int dz__prog_from_insns(const struct bpf_insn *insns, uint32_t cnt, enum dz_prog_type type,
			const char *name, struct dz_prog **out, char *err, size_t err_size)
{
	char why[160];
	int ret;

	if (cnt == 0)
		return dz__err(err, err_size, -EINVAL, "%s: no instructions", name);
	if (cnt > DZ_MAX_INSNS * 16)
		return dz__err(err, err_size, -E2BIG, "%s: %u instructions is too many", name, cnt);
	ret = dz_prog__check(insns, cnt, why, sizeof(why));
	if (ret)
		return dz__err(err, err_size, ret, "%s: %s", name, why);
	ret = dz_prog__new(insns, cnt, type, out);
	if (ret)
		return dz__err(err, err_size, ret, "%s: %s", name, strerror(-ret));
	snprintf((*out)->name, sizeof((*out)->name), "%s", name);
	return 0;
}

static int load_bin(const char *path, const char *name, enum dz_prog_type type,
		    struct dz_prog **out, char *err, size_t err_size)
{
	size_t len;
	void *buf;
	int ret;

	ret = dz__read_file(path, &buf, &len, (size_t)DZ_MAX_INSNS * 16 * 8, err, err_size);
	if (ret)
		return ret;
	if (len % sizeof(struct bpf_insn)) {
		ret = dz__err(err, err_size, -EINVAL,
			      "%s: size %zu is not a multiple of 8 (truncated instruction?)", path,
			      len);
		goto out;
	}
	/* struct bpf_insn is the little-endian wire format on this (x86-64) host. */
	ret = dz__prog_from_insns(buf, len / 8, type, name, out, err, err_size);
out:
	free(buf);
	return ret;
}

static int load_asm(const char *path, const char *name, enum dz_prog_type type,
		    struct dz_prog **out, char *err, size_t err_size)
{
	struct bpf_insn *insns = NULL;
	char why[200];
	uint32_t cnt;
	size_t len;
	void *buf;
	int ret;

	ret = dz__read_file(path, &buf, &len, 16 << 20, err, err_size);
	if (ret)
		return ret;
	if (memchr(buf, '\0', len)) {
		ret = dz__err(err, err_size, -EINVAL, "%s: binary data in a text file", path);
		goto out;
	}
	ret = dz_asm(buf, &insns, &cnt, why, sizeof(why));
	if (ret) {
		dz__err(err, err_size, ret, "%s: %s", path, why);
		goto out;
	}
	ret = dz__prog_from_insns(insns, cnt, type, name, out, err, err_size);
out:
	free(insns);
	free(buf);
	return ret;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

int dz_prog__load_file(const char *path, const char *sec, enum dz_prog_type type,
		       struct dz_prog **out, char *err, size_t err_size)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t len;
	void *buf;
	int ret;

	*out = NULL;
	if (has_suffix(path, ".bin"))
		return load_bin(path, name, type, out, err, err_size);
	if (has_suffix(path, ".s") || has_suffix(path, ".asm"))
		return load_asm(path, name, type, out, err, err_size);
	if (!has_suffix(path, ".o"))
		return dz__err(err, err_size, -EINVAL,
			       "%s: unknown program format (expected .o, .s, .asm or .bin)", path);
	ret = dz__read_file(path, &buf, &len, 64 << 20, err, err_size);
	if (ret)
		return ret;
	ret = dz_prog__load_elf_mem(buf, len, sec, type, out, err, err_size);
	if (ret && err && err_size) {
		/* Prefix the reason with the file name. */
		char *why = strdup(err);

		if (why) {
			snprintf(err, err_size, "%s: %s", path, why);
			free(why);
		}
	}
	free(buf);
	return ret;
}
