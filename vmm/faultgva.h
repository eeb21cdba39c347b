/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest-virtual address of a fault the VMM saw only by its guest-physical
 * page (ring 3: SIGBUS + EINTR with RIP at the instruction; emulated ring 0:
 * an MMIO exit). Fetches the instruction at RIP through the guest's page
 * tables, decodes its memory operands (x86dec.h) and keeps only an address
 * the guest's page tables map to the faulting page. Fills the GVA of the #VE
 * information area (DZ_VE_F_GVA_VALID); never touches a page that is not
 * present (every read goes through the guestmem page-state check).
 */
#ifndef DZ_VMM_FAULTGVA_H
#define DZ_VMM_FAULTGVA_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "guestmem.h"

/*
 * gpa: the faulting guest-physical address; exact: it names the faulting byte
 * (an MMIO exit), else only its page is known (SIGBUS). Returns 0 and *gva,
 * or -ENOTSUP (not 64-bit mode, or an instruction the decoder does not
 * handle), -ENOENT (no access of the instruction maps to the page), -EAGAIN
 * (a page table or the code is not present yet), -EINVAL/-EFAULT.
 * An instruction fetch that faulted (the code page itself is the missing
 * one) gives the first byte of the instruction on that page.
 */
int dz_fault_gva(const struct dz_guestmem *gm, const struct kvm_regs *regs,
		 const struct kvm_sregs *sregs, uint64_t gpa, bool exact, uint64_t *gva);

#endif
