// SPDX-License-Identifier: GPL-2.0
/*
 * Machine checks. A guest that has no #VE area armed (the Linux-compatible
 * #PF mode) learns that a page will never arrive the way hardware reports
 * poisoned memory, and QEMU host-poisoned guest RAM: #MC with the address in
 * bank 0 (include/uapi/doze/abi.h, 6b). It then gets what the #VE error
 * event gives: a ring-3 task is killed, a kernel copy returns -EFAULT through
 * the exception table, anything else panics. Any other machine check is fatal.
 *
 * #MC enters through pf_common (entry.S): no interrupt depth, so a killed
 * task's CPU can go on scheduling.
 */
#include "apf.h"

/* The VMM reports lost pages as machine checks and DZ_MSR_ERROR says why. */
static bool doze_lost_mce(void)
{
	u32 max, sig[3], feat, b, c, d;

	cpuid(DZ_CPUID_BASE, &max, &sig[0], &sig[1], &sig[2]);
	if (sig[0] != DZ_CPUID_SIG_EBX || sig[1] != DZ_CPUID_SIG_ECX || max < DZ_CPUID_FEATURES)
		return false;
	cpuid(DZ_CPUID_FEATURES, &feat, &b, &c, &d);
	return feat & DZ_CPUID_F_LOST_MCE;
}

/* Every CPU at boot, IF = 0: machine-check architecture on, bank 0 enabled. */
void mce_init_cpu(void)
{
	u32 a, b, c, d;
	u64 cap, cr4;

	cpuid(1, &a, &b, &c, &d);
	if (!(d & (1U << 7)) || !(d & (1U << 14))) /* MCE, MCA */
		return;
	cap = rdmsr(DZ_MSR_MCG_CAP);
	if (!(cap & 0xff))
		return; /* no bank: a machine check would be fatal anyway */
	if (cap & DZ_MCG_CAP_CTL_P)
		wrmsr(DZ_MSR_MCG_CTL, ~0ULL);
	wrmsr(DZ_MSR_MC0_CTL, ~0ULL);
	wrmsr(DZ_MSR_MC0_STATUS, 0);
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | (1UL << 6)));
}

void mce_dispatch(struct regs *r)
{
	u64 mcg = rdmsr(DZ_MSR_MCG_STATUS), st = rdmsr(DZ_MSR_MC0_STATUS);
	u64 addr = rdmsr(DZ_MSR_MC0_ADDR);
	u64 need = DZ_MCI_STATUS_VAL | DZ_MCI_STATUS_UC | DZ_MCI_STATUS_ADDRV;
	u32 err = DZ_ERR_NONE;

	if (!(mcg & DZ_MCG_STATUS_MCIP) || (st & need) != need) {
		cli();
		panic("machine check: MCG_STATUS %lx MC0_STATUS %lx MC0_ADDR %lx at RIP %lx", mcg, st,
		      addr, r->rip);
	}
	if (doze_lost_mce())
		err = (u32)rdmsr(DZ_MSR_ERROR);
	/* the bank is read: a later machine check may come (MCIP set would shut down) */
	wrmsr(DZ_MSR_MC0_STATUS, 0);
	wrmsr(DZ_MSR_MCG_STATUS, 0);
	apf_lost_page(r, addr & ~0xfffUL, err);
}
