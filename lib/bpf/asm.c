// SPDX-License-Identifier: GPL-2.0
/* Text assembler (placeholder until the parser lands). */
#include <errno.h>

#include "load.h"

int dz_asm(const char *text, struct bpf_insn **insns, uint32_t *cnt, char *err, size_t err_size)
{
	*insns = NULL;
	*cnt = 0;
	return dz__err(err, err_size, -ENOTSUP, "assembler is not implemented yet");
}
