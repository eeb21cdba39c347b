// SPDX-License-Identifier: GPL-2.0
/*
 * dz_fault_gva (vmm/faultgva.c) on a synthetic guest whose page tables do not
 * map linear addresses to the same guest-physical ones: the instruction is
 * fetched through the page tables (across a page boundary too), the decoded
 * address is verified against the faulting page, the faulting page itself is
 * never read, a faulting instruction fetch is recognised, and whatever cannot
 * be decided is refused.
 */
#include <errno.h>
#include <linux/kvm.h>

#include "tap.h"
#include "synth-guest.h"
#include "../../vmm/faultgva.h"

#define ROOT	 0x100000ULL /* CR3: above the tables sg_alloc hands out */
#define CODE_VA	 0x400000ULL
#define CODE_PA	 0x210000ULL
#define CODE2_PA 0x180000ULL /* the next code page: elsewhere */
#define DATA_VA	 0x7f0000001000ULL
#define DATA_PA	 0x320000ULL

static struct synth_guest *g;

static bool present(void *opaque, uint64_t pfn)
{
	(void)opaque;
	return pfn < SG_PAGES && !g->missing[pfn];
}

static int fgva(const struct kvm_regs *regs, const struct kvm_sregs *s, uint64_t gpa, bool exact,
		uint64_t *gva)
{
	struct dz_guestmem gm = {.ram = g->mem, .size = SG_SIZE, .page_present = present};

	*gva = 0;
	return dz_fault_gva(&gm, regs, s, gpa, exact, gva);
}

int main(void)
{
	struct kvm_sregs s = {0};
	struct kvm_regs regs = {0};
	uint64_t gva, leaf;

	g = sg_new();
	memset(g->mem + ROOT, 0, 4096);
	g->next_free = ROOT + 0x1000;
	sg_map(g, ROOT, 4, CODE_VA, CODE_PA, 4096);
	sg_map(g, ROOT, 4, CODE_VA + 0x1000, CODE2_PA, 4096);
	leaf = sg_map(g, ROOT, 4, DATA_VA, DATA_PA, 4096);
	s.cr0 = (1ULL << 31) | 1;
	s.cr3 = ROOT;
	s.cr4 = 1 << 5;
	s.efer = (1 << 10) | (1 << 8);
	s.cs.l = 1;

	/* mov 8(%rax), %ecx at the end of the first code page */
	memcpy(g->mem + CODE_PA + 0xff0, (uint8_t[]){0x8b, 0x48, 0x08}, 3);
	regs.rip = CODE_VA + 0xff0;
	regs.rax = DATA_VA;
	g->missing[DATA_PA / 4096] = 1; /* the faulting page: never read */
	is_int(fgva(&regs, &s, DATA_PA, false, &gva), 0, "load: the GVA verifies");
	is_u64(gva, DATA_VA + 8, "load: the operand's linear address");
	is_int(fgva(&regs, &s, DATA_PA + 8, true, &gva), 0, "exact GPA (MMIO exit)");
	is_u64(gva, DATA_VA + 8, "exact GPA: the same byte");
	is_int(fgva(&regs, &s, DATA_PA + 0x10, true, &gva), -ENOENT,
	       "exact GPA the access does not cover: refused");
	is_int(fgva(&regs, &s, DATA_VA & 0xffffff, false, &gva), -ENOENT,
	       "a page the operand does not map to: refused");
	is_int(fgva(&regs, &s, CODE_PA, false, &gva), -ENOENT,
	       "the code page (present, decoded, not touched as data): refused");

	/* an instruction split over two code pages at different GPAs */
	memcpy(g->mem + CODE_PA + 0xffe, (uint8_t[]){0x8b, 0x48}, 2);
	g->mem[CODE2_PA] = 0x08;
	regs.rip = CODE_VA + 0xffe;
	is_int(fgva(&regs, &s, DATA_PA, false, &gva), 0, "split instruction: fetched across pages");
	is_u64(gva, DATA_VA + 8, "split instruction: the operand's linear address");
	g->missing[CODE2_PA / 4096] = 1;
	is_int(fgva(&regs, &s, CODE2_PA, false, &gva), 0,
	       "its second code page is the missing one: the fetch faulted");
	is_u64(gva, CODE_VA + 0x1000, "fetch fault: the first byte on that page");
	is_int(fgva(&regs, &s, DATA_PA, false, &gva), -ENOENT,
	       "second code page missing, data page asked: cannot decode, refused");
	regs.rip = CODE_VA + 0x1000 + 0x10;
	is_int(fgva(&regs, &s, CODE2_PA, false, &gva), 0, "RIP's own page missing: the fetch");
	is_u64(gva, regs.rip, "fetch fault at RIP: RIP");
	g->missing[CODE2_PA / 4096] = 0;

	/* FS override: the base comes from the segment registers */
	memcpy(g->mem + CODE_PA + 0x100, (uint8_t[]){0x64, 0x8b, 0x08}, 3);
	regs.rip = CODE_VA + 0x100;
	s.fs.base = DATA_VA - 0x10000;
	regs.rax = 0x10000 + 0x123;
	is_int(fgva(&regs, &s, DATA_PA, false, &gva), 0, "mov %%fs:(%%rax): verifies");
	is_u64(gva, DATA_VA + 0x123, "mov %%fs:(%%rax): FS base + RAX");

	/* what cannot be decided */
	g->missing[leaf / 4096] = 1;
	is_int(fgva(&regs, &s, DATA_PA, false, &gva), -ENOENT,
	       "the data's page table is not present: not verified");
	g->missing[leaf / 4096] = 0;
	s.cs.l = 0;
	is_int(fgva(&regs, &s, DATA_PA, false, &gva), -ENOTSUP, "compatibility mode: not decoded");
	s.cs.l = 1;
	memcpy(g->mem + CODE_PA + 0x200, (uint8_t[]){0xd9, 0x00}, 2); /* fld (%rax) */
	regs.rip = CODE_VA + 0x200;
	is_int(fgva(&regs, &s, DATA_PA, false, &gva), -ENOTSUP, "x87: not decoded, no GVA");
	is_u64(gva, 0, "nothing written to *gva on failure");
	sg_free(g);
	return done_testing();
}
