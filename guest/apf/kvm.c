// SPDX-License-Identifier: GPL-2.0
/*
 * The reference guest under KVM's own in-kernel async page faults (the peer
 * baseline, `doze restore --policy kvm`, docs/kvm-peer.md).
 *
 * What differs from doze's Linux-compatible #PF mode is only the setup:
 * KVM delivers interrupts through its in-kernel LAPIC, so the guest
 * software-enables it (x2APIC, SVR) before the first fault, EOIs every
 * interrupt, and writes MSR_KVM_ASYNC_PF_INT before MSR_KVM_ASYNC_PF_EN. The
 * page-not-present #PF (flags = 1, CR2 = token) and the page-ready interrupt
 * are handled by apf.c's apf_page_fault and apf_page_ready; KVM's tokens go
 * through apf_token_key, and KVM's wake-all after enabling (0xffffffff) wakes
 * nobody.
 */
#include "kvm.h"

#define MSR_APIC_BASE  0x1b
#define MSR_X2APIC_SVR 0x80f
#define APIC_BASE_ADDR 0xfee00000UL
#define APIC_BASE_BSP  (1UL << 8)
#define APIC_BASE_EXTD (1UL << 10)
#define APIC_BASE_EN   (1UL << 11)
#define COUNTERS_MAGIC 0x544e43464170415aUL /* "ZApAFCNT", vmm/kvmapf.h */

bool apf_kvm_peer;
static bool kvm_lapic;

/* Per CPU (IF = 0 whenever touched): the KVM token holding each waiter slot,
 * and the tokens whose page-ready came before their sleeper. */
#define EARLY_MAX 8
static u32 slot_token[GUEST_MAX_CPUS][DZ_MAX_TOKENS];
static u32 early[GUEST_MAX_CPUS][EARLY_MAX];

/* An interrupt gate of the (shared) IDT: the entry stubs that EOI first. */
static void idt_gate(int vec, void (*h)(void))
{
	struct {
		u16 limit;
		u64 base;
	} __attribute__((packed)) idtr;
	u64 a = (u64)h, *e;

	__asm__ volatile("sidt %0" : "=m"(idtr));
	e = (u64 *)(idtr.base + (u64)vec * 16);
	e[1] = a >> 32;
	e[0] =
	    (a & 0xffff) | ((u64)KERNEL_CS << 16) | (0x8eUL << 40) | (((a >> 16) & 0xffff) << 48);
}

/* x2APIC mode (through xAPIC: disabled -> x2APIC is refused) and SVR enabled. */
static void lapic_on(void)
{
	u64 base = rdmsr(MSR_APIC_BASE);

	if (!(base & APIC_BASE_EXTD)) {
		if (!(base & APIC_BASE_EN)) {
			base = APIC_BASE_ADDR | APIC_BASE_EN | (base & APIC_BASE_BSP);
			wrmsr(MSR_APIC_BASE, base);
		}
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_EXTD);
	}
	wrmsr(MSR_X2APIC_SVR, 0x100 | 0xff); /* enabled, spurious vector 0xff */
}

bool apf_kvm_detect(u64 f)
{
	kvm_lapic = f & DZ_CPUID_F_KVM_LAPIC;
	apf_kvm_peer = f & DZ_CPUID_F_KVM_APF; /* without the LAPIC: a test of the known stall */
	if (apf_kvm_peer && !kvm_lapic) /* KVM's tokens need apf_kvm_wake_key: the C path */
		idt_gate(DZ_VEC_PAGE_READY, irq_entry_page_ready_slow);
	if (kvm_lapic) {
		/* a snapshot of a userspace-irqchip run has gates that never EOI */
		idt_gate(DZ_VEC_TIMER, lapic_timer_entry);
		idt_gate(DZ_VEC_IPI, lapic_ipi_entry);
		idt_gate(DZ_VEC_PAGE_READY, lapic_page_ready_entry);
		idt_gate(0xff, spurious_entry);
		lapic_on();
	}
	return apf_kvm_peer;
}

static u64 *ctr[GUEST_MAX_CPUS]; /* this CPU's counters (APF area pad) */

static inline u64 *counters(void)
{
	return ctr[this_cpu()->cpu];
}

/* The key of slot s for token t: slot in the low bits, never 0, never wake-all. */
static inline u64 key(u32 t, u64 s)
{
	return ((u64)t << 6) | s;
}

u64 apf_kvm_sleep_key(u64 token)
{
	u32 cpu = this_cpu()->cpu, t = (u32)token;
	u64 s = (t >> 12) & (DZ_MAX_TOKENS - 1);

	for (int i = 0; i < EARLY_MAX; i++)
		if (early[cpu][i] == t) {
			early[cpu][i] = 0;
			return 0;
		}
	for (int n = 0; n < DZ_MAX_TOKENS; n++, s = (s + 1) & (DZ_MAX_TOKENS - 1)) {
		if (!slot_token[cpu][s]) {
			slot_token[cpu][s] = t;
			if (n)
				counters()[APF_KVM_PROBED]++;
			return key(t, s);
		}
	}
	return 0; /* 64 sleepers: KVM queues no more than that per vCPU; retry */
}

u64 apf_kvm_wake_key(u64 token)
{
	u32 cpu = this_cpu()->cpu, t = (u32)token;
	u64 s = (t >> 12) & (DZ_MAX_TOKENS - 1);

	if (token == DZ_TOKEN_WAKE_ALL) {
		for (int i = 0; i < DZ_MAX_TOKENS; i++)
			slot_token[cpu][i] = 0;
		for (int i = 0; i < EARLY_MAX; i++)
			early[cpu][i] = 0;
		return token;
	}
	for (int n = 0; n < DZ_MAX_TOKENS; n++, s = (s + 1) & (DZ_MAX_TOKENS - 1)) {
		if (slot_token[cpu][s] == t) {
			slot_token[cpu][s] = 0;
			return key(t, s);
		}
	}
	counters()[APF_KVM_EARLY]++;
	for (int i = 0; i < EARLY_MAX; i++)
		if (!early[cpu][i]) {
			early[cpu][i] = t;
			break;
		}
	return 0;
}

void apf_kvm_arm_cpu(struct dz_apf_area *a)
{
	u64 *c = (u64 *)a->pad;

	ctr[this_cpu()->cpu] = c;
	if (kvm_lapic)
		lapic_on();
	if (!apf_kvm_peer)
		return;
	c[APF_KVM_NP_RING3] = c[APF_KVM_NP_RING0] = 0;
	c[APF_KVM_READY] = c[APF_KVM_WAKE_ALL] = 0;
	c[APF_KVM_EARLY] = c[APF_KVM_PROBED] = 0;
	c[APF_KVM_MAGIC] = COUNTERS_MAGIC;
}
