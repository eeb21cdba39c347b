// SPDX-License-Identifier: GPL-2.0
/*
 * Page-state-checked access to guest RAM for the VMM itself (see guestmem.h).
 */
#include <errno.h>
#include <string.h>

#include "guestmem.h"

int dz_guestmem__check_range(const struct dz_guestmem *gm, uint64_t gpa, uint64_t len)
{
	if (gpa > gm->size || len > gm->size - gpa)
		return -EFAULT;
	return 0;
}

int dz_guestmem__check(const struct dz_guestmem *gm, uint64_t gpa, uint64_t len)
{
	int err = dz_guestmem__check_range(gm, gpa, len);

	if (err || !len || !gm->page_present)
		return err;
	for (uint64_t pfn = gpa >> DZ_PAGE_SHIFT; pfn <= (gpa + len - 1) >> DZ_PAGE_SHIFT; pfn++)
		if (!gm->page_present(gm->opaque, pfn))
			return -EAGAIN;
	return 0;
}

int dz_guestmem__read(const struct dz_guestmem *gm, uint64_t gpa, void *dst, uint64_t len)
{
	int err = dz_guestmem__check(gm, gpa, len);

	if (err)
		return err;
	memcpy(dst, gm->ram + gpa, len);
	return 0;
}

int dz_guestmem__write(const struct dz_guestmem *gm, uint64_t gpa, const void *src, uint64_t len)
{
	int err = dz_guestmem__check(gm, gpa, len);

	if (err)
		return err;
	memcpy(gm->ram + gpa, src, len);
	return 0;
}

static int bpf_read_gpa(void *opaque, uint64_t gpa, void *dst, uint32_t len)
{
	return dz_guestmem__read(opaque, gpa, dst, len);
}

void dz_guestmem__bpf_ops(const struct dz_guestmem *gm, struct dz_guest_ops *ops)
{
	memset(ops, 0, sizeof(*ops));
	ops->opaque = (void *)gm;
	ops->read_gpa = bpf_read_gpa;
}
