// SPDX-License-Identifier: GPL-2.0
/*
 * Where the asynchronous page-fault half (guest/apf/) plugs into the kernel.
 * These weak defaults keep a kernel built without it working: no #VE, no
 * page-ready interrupt, kernel copies that cannot fail. guest/apf/apf.c
 * provides the real ones.
 */
#include "kernel.h"

void __attribute__((weak)) apf_init(void)
{
}

void __attribute__((weak)) apf_arm_cpu(void)
{
}

void __attribute__((weak)) apf_rearm_all(void)
{
}

void __attribute__((weak)) apf_ipi(void)
{
}

void __attribute__((weak)) apf_page_ready(void)
{
}

/* #PF: true if it was an async "page not present" (Linux-compatible mode) and
 * has been handled; false for a genuine page fault (the guest dies). */
bool __attribute__((weak)) apf_page_fault(struct regs *r)
{
	return false;
}

/* One 64-byte record: 0, or -EFAULT when a page of src is lost. */
long __attribute__((weak)) apf_copy_record(u64 *dst, const u64 *src)
{
	dst[0] = src[0];
	dst[1] = src[1];
	dst[2] = src[2];
	dst[3] = src[3];
	dst[4] = src[4];
	dst[5] = src[5];
	dst[6] = src[6];
	dst[7] = src[7];
	return 0;
}

void __attribute__((weak)) mce_init_cpu(void)
{
}

/* #MC: without guest/apf nothing reports lost pages this way: fatal. */
void __attribute__((weak)) mce_dispatch(struct regs *r)
{
	die(18, r);
}
