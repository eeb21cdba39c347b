/* SPDX-License-Identifier: GPL-2.0 */
/* Internal to lib/bpf (and its tests): the assembler with an option. */
#ifndef DZ_LIB_BPF_ASM_H
#define DZ_LIB_BPF_ASM_H

#include <stdbool.h>

#include <doze/bpf.h>

/*
 * dz_asm(), optionally without the final structural check (jump targets in
 * range), so a single instruction such as "goto pc-5" can be assembled alone
 * (the round-trip tests do that).
 */
int dz__asm(const char *text, struct bpf_insn **insns, uint32_t *cnt, char *err, size_t err_size,
	    bool check_targets);

#endif
