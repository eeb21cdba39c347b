// SPDX-License-Identifier: GPL-2.0
/*
 * The guest-virtual address of a fault seen only by its guest-physical page
 * (see faultgva.h).
 */
#include <errno.h>

#include "faultgva.h"
#include "x86dec.h"

#define X86_CR0_PG   (1ULL << 31)
#define X86_EFER_LMA (1ULL << 10)

struct walk {
	struct dz_guest_ops ops;
	uint64_t cr3, cr4;
};

static int xlate(void *opaque, uint64_t gva, uint64_t *gpa)
{
	const struct walk *w = opaque;

	return dz_gva_to_gpa(&w->ops, w->cr3, w->cr4, gva, gpa);
}

/*
 * Reads up to DZ_X86_MAX_INSN bytes at rip, page by page, stopping at the
 * first page that cannot be read. Returns the bytes read; *stop is the linear
 * address where it stopped.
 */
static size_t fetch(const struct dz_guestmem *gm, const struct walk *w, uint64_t rip, uint8_t *code,
		    uint64_t *stop)
{
	size_t n = 0;

	while (n < DZ_X86_MAX_INSN) {
		uint64_t la = rip + n, gpa;
		size_t chunk = 4096 - (la & 4095);

		if (chunk > DZ_X86_MAX_INSN - n)
			chunk = DZ_X86_MAX_INSN - n;
		if (xlate((void *)w, la, &gpa) || dz_guestmem__read(gm, gpa, code + n, chunk))
			break;
		n += chunk;
	}
	*stop = rip + n;
	return n;
}

int dz_fault_gva(const struct dz_guestmem *gm, const struct kvm_regs *regs,
		 const struct kvm_sregs *sregs, uint64_t gpa, bool exact, uint64_t *gva)
{
	struct walk w = {.cr3 = sregs->cr3, .cr4 = sregs->cr4};
	struct dz_x86_regs r = {
	    .gpr = {regs->rax, regs->rcx, regs->rdx, regs->rbx, regs->rsp, regs->rbp, regs->rsi,
		    regs->rdi, regs->r8, regs->r9, regs->r10, regs->r11, regs->r12, regs->r13,
		    regs->r14, regs->r15},
	    .rip = regs->rip,
	    .rflags = regs->rflags,
	    .fs_base = sregs->fs.base,
	    .gs_base = sregs->gs.base,
	};
	struct dz_x86_insn in;
	uint8_t code[DZ_X86_MAX_INSN];
	uint64_t stop, page;
	size_t n;
	int err;

	/* 64-bit mode with paging: the only mode the decoder knows */
	if (!(sregs->cr0 & X86_CR0_PG) || !(sregs->efer & X86_EFER_LMA) || !sregs->cs.l)
		return -ENOTSUP;
	dz_guestmem__bpf_ops(gm, &w.ops);
	n = fetch(gm, &w, regs->rip, code, &stop);
	err = dz_x86_decode(code, n, &r, &in);
	if (err == -ENODATA) {
		/*
		 * The instruction runs into a page that cannot be read: if that
		 * page is the faulting one, the fault was the fetch itself, at
		 * its first byte there (RIP, or the start of the next page).
		 */
		err = xlate(&w, stop, &page);
		if (err)
			return err;
		if ((page & ~0xfffULL) != (gpa & ~0xfffULL))
			return -ENOENT;
		*gva = stop;
		return 0;
	}
	if (err)
		return err;
	return dz_x86_fault_gva(&in, xlate, &w, gpa, exact, gva);
}
