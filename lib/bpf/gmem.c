// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory as a predicate sees it: the x86-64 page walk (4- and 5-level
 * paging, 2 MiB and 1 GiB pages) over guest-physical reads the caller supplies,
 * and the DZ_PROG_PREDICATE helpers built on it. Nothing here waits: a page
 * (or page-table page) that is not present yet comes back from read_gpa as
 * -EAGAIN and is passed straight up, so the predicate can decide without it.
 */
#include <errno.h>
#include <string.h>

#include "insn.h"

#define X86_CR0_PG   (1ULL << 31)
#define X86_CR4_LA57 (1ULL << 12)
#define X86_EFER_LMA (1ULL << 10)
#define PTE_P	     (1ULL << 0)
#define PTE_PS	     (1ULL << 7)
#define PTE_ADDR     0x000ffffffffff000ULL /* bits 51:12 */
#define PAGE_SIZE_4K 4096ULL

int dz_gva_to_gpa(const struct dz_guest_ops *ops, uint64_t cr3, uint64_t cr4, uint64_t gva,
		  uint64_t *gpa)
{
	int levels = (cr4 & X86_CR4_LA57) ? 5 : 4;
	int top = 12 + 9 * levels - 1; /* highest translated bit: 47 or 56 */
	uint64_t table = cr3 & PTE_ADDR, pte;
	int64_t hi = (int64_t)gva >> top;
	int level, ret;

	if (!ops || !ops->read_gpa)
		return -EFAULT;
	if (hi != 0 && hi != -1)
		return -EFAULT; /* non-canonical */

	for (level = levels; level >= 1; level--) {
		int shift = 12 + 9 * (level - 1);
		uint64_t idx = (gva >> shift) & 511;

		ret = ops->read_gpa(ops->opaque, table + idx * 8, &pte, sizeof(pte));
		if (ret < 0)
			return ret; /* -EAGAIN: table page not present yet */
		if (!(pte & PTE_P))
			return -EFAULT;
		if (pte & PTE_PS) {
			uint64_t mask;

			if (level != 2 && level != 3)
				return -EFAULT; /* PS is reserved at this level */
			mask = (1ULL << shift) - 1;
			*gpa = (pte & PTE_ADDR & ~mask) | (gva & mask);
			return 0;
		}
		table = pte & PTE_ADDR;
	}
	*gpa = table | (gva & (PAGE_SIZE_4K - 1));
	return 0;
}

int dz_read_gva(const struct dz_guest_ops *ops, uint64_t cr3, uint64_t cr4, uint64_t gva, void *dst,
		uint32_t len)
{
	uint8_t *p = dst;

	while (len) {
		uint32_t chunk = PAGE_SIZE_4K - (gva & (PAGE_SIZE_4K - 1));
		uint64_t gpa;
		int ret;

		if (chunk > len)
			chunk = len;
		ret = dz_gva_to_gpa(ops, cr3, cr4, gva, &gpa);
		if (ret < 0)
			return ret;
		ret = ops->read_gpa(ops->opaque, gpa, p, chunk);
		if (ret < 0)
			return ret;
		p += chunk;
		gva += chunk;
		len -= chunk;
	}
	return 0;
}

/* A linear-address read the way the guest's MMU would do it right now. */
static int ctx_read_linear(const struct dz_pred_ctx *c, const struct dz_guest_ops *ops,
			   uint64_t gva, void *dst, uint32_t len)
{
	if (!(c->cr0 & X86_CR0_PG))
		return ops->read_gpa(ops->opaque, gva, dst, len);
	if (!(c->efer & X86_EFER_LMA))
		return -EFAULT; /* 32-bit/PAE paging: not supported */
	return dz_read_gva(ops, c->cr3, c->cr4, gva, dst, len);
}

static int64_t helper_read(int32_t id, const struct dz_pred_ctx *c, const struct dz_guest_ops *ops,
			   void *dst, uint32_t size, uint64_t addr)
{
	int ret;

	if (!size)
		return 0;
	if (size > DZ_PRED_MAX_READ) {
		ret = -EINVAL;
		goto fail;
	}
	if (!ops || !ops->read_gpa) {
		ret = -EFAULT;
		goto fail;
	}
	switch (id) {
	case DZ_HELPER_READ_GPA:
		ret = ops->read_gpa(ops->opaque, addr, dst, size);
		break;
	case DZ_HELPER_READ_PERCPU:
		/* The kernel's GS base: swapped into KERNEL_GS_BASE while in ring 3. */
		addr += c->cpl == 3 ? c->kernel_gs_base : c->gs_base;
		/* fallthrough */
	default:
		ret = ctx_read_linear(c, ops, addr, dst, size);
		break;
	}
	if (ret >= 0)
		return 0;
fail:
	memset(dst, 0, size);
	return ret;
}

int64_t dz__helper_call(int32_t id, uint64_t r1, uint64_t r2, uint64_t r3, const void *ctx,
			const struct dz_guest_ops *ops)
{
	const struct dz_pred_ctx *c = ctx;
	uint32_t size = (uint32_t)r2;

	switch (id) {
	case DZ_HELPER_READ_GVA:
	case DZ_HELPER_READ_GPA:
	case DZ_HELPER_READ_PERCPU:
		return helper_read(id, c, ops, (void *)(uintptr_t)r1, size, r3);
	case DZ_HELPER_TRACE: {
		char msg[DZ_PRED_MAX_READ + 1];

		if (size > DZ_PRED_MAX_READ)
			return -EINVAL;
		if (ops && ops->trace) {
			memcpy(msg, (const void *)(uintptr_t)r1, size);
			msg[size] = '\0';
			ops->trace(ops->opaque, msg, r3);
		}
		return 0;
	}
	}
	return -ENOSYS;
}
