/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A view of guest RAM for the VMM's own reads and writes (eBPF predicate
 * helpers, predicate registration, the APF and #VE areas).
 *
 * The VMM must never touch a guest page that is not present yet: a missing
 * page would block the VMM thread on userfaultfd, a poisoned one would SIGBUS
 * it. Every access therefore asks the page-state callback first (the fault
 * service provides it) and fails with -EAGAIN instead of touching the page.
 */
#ifndef DZ_VMM_GUESTMEM_H
#define DZ_VMM_GUESTMEM_H

#include <stdbool.h>
#include <stdint.h>

#include <doze/bpf.h>

#define DZ_PAGE_SHIFT 12
#define DZ_PAGE_SIZE  (1ULL << DZ_PAGE_SHIFT)

struct dz_guestmem {
	uint8_t *ram;  /* host address of guest-physical 0 */
	uint64_t size; /* bytes of guest RAM, from GPA 0 */
	/*
	 * true if the 4 KiB page at GPA pfn << 12 may be accessed now. NULL means
	 * every page is present (fresh boot, no userfaultfd).
	 */
	bool (*page_present)(void *opaque, uint64_t pfn);
	void *opaque;
};

/* 0 if [gpa, gpa + len) lies inside RAM, -EFAULT otherwise (len 0 is in range). */
int dz_guestmem__check_range(const struct dz_guestmem *gm, uint64_t gpa, uint64_t len);
/* 0, -EFAULT outside RAM, -EAGAIN if a page of the range is not present. */
int dz_guestmem__check(const struct dz_guestmem *gm, uint64_t gpa, uint64_t len);
int dz_guestmem__read(const struct dz_guestmem *gm, uint64_t gpa, void *dst, uint64_t len);
int dz_guestmem__write(const struct dz_guestmem *gm, uint64_t gpa, const void *src, uint64_t len);

/* Fills ops so the eBPF engine reads guest memory through gm (ops->opaque = gm). */
void dz_guestmem__bpf_ops(const struct dz_guestmem *gm, struct dz_guest_ops *ops);

#endif
