// SPDX-License-Identifier: GPL-2.0
/* ELF loading of clang -target bpf objects (placeholder until the libbpf loader lands). */
#include <errno.h>

#include "load.h"

int dz_prog__load_elf_mem(const void *buf, size_t len, const char *sec, enum dz_prog_type type,
			  struct dz_prog **out, char *err, size_t err_size)
{
	*out = NULL;
	return dz__err(err, err_size, -ENOTSUP, "ELF loading is not implemented yet");
}
