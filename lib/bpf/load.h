/* SPDX-License-Identifier: GPL-2.0 */
/* Internal to lib/bpf: small shared pieces of the program loaders. */
#ifndef DZ_LIB_BPF_LOAD_H
#define DZ_LIB_BPF_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include <doze/bpf.h>

/* Formats a one-line reason into err (if any) and returns ret. */
int dz__err(char *err, size_t size, int ret, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Reads a whole regular file of at most max bytes; *buf is NUL-terminated. */
int dz__read_file(const char *path, void **buf, size_t *len, size_t max, char *err,
		  size_t err_size);
/* Structural check (dz_prog__check) then dz_prog__new, named NAME. */
int dz__prog_from_insns(const struct bpf_insn *insns, uint32_t cnt, enum dz_prog_type type,
			const char *name, struct dz_prog **out, char *err, size_t err_size);

#endif
