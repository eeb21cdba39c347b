/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Predicate registration: the guest writes the GPA of a struct dz_pred_reg
 * (include/uapi/doze/abi.h) to DZ_MSR_PRED. The host copies the program out of
 * guest RAM, loads it (raw instructions, or an ELF object from
 * clang -target bpf, told apart by the ELF magic), verifies it, installs it in
 * the policy on acceptance, and writes the verdict and the verifier log back
 * into the guest buffers the block names. See docs/abi.md for the error codes.
 */
#ifndef DZ_VMM_PREDREG_H
#define DZ_VMM_PREDREG_H

#include <stdint.h>

#include "guestmem.h"
#include "policy.h"

#define DZ_PRED_MAX_IMAGE (256u << 10) /* largest program image (ELF or raw) */
#define DZ_PRED_MAX_LOG	  (1u << 20)   /* largest log buffer the guest may name */

struct dz_predreg_result {
	int verdict;	      /* 0 accepted, else -errno (also what rdmsr DZ_MSR_PRED returns) */
	uint32_t insn_cnt;    /* of the loaded program, 0 if it never loaded */
	bool elf;	      /* the image was an ELF object */
	bool verdict_written; /* the verdict reached the guest's block */
	bool log_written;
	char reason[160]; /* one line for the host's own log */
};

/*
 * Registers the predicate the block at reg_gpa describes. Never fails itself:
 * every problem ends up as res->verdict (and is returned). A rejected program
 * leaves the previously installed predicate in place.
 */
int dz_predreg__register(struct dz_policy *p, const struct dz_guestmem *gm, uint64_t reg_gpa,
			 struct dz_predreg_result *res);

#endif
