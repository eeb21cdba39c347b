/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause */
/*
 * doze guest ABI: what the VMM and a doze guest agree on (docs/abi.md explains
 * every item). Shared by the host (vmm/) and the freestanding reference guest
 * (guest/), so it uses only fixed-width types and no libc.
 *
 *  1. boot protocol: entry state of every vCPU and the boot info page;
 *  2. I/O ports: console, "snapshot now", result/power off, progress, phases, panic;
 *  3. interrupt vectors the VMM injects (userspace irqchip);
 *  4. CPUID leaves;
 *  5. MSRs: Linux KVM's paravirtual async-PF MSRs (mirrored) and doze's own range;
 *  6. the per-vCPU #VE information area and async page-fault tokens;
 *     6b. lost pages reported as a machine check when #VE is not armed.
 * Items 5 and 6 are reserved here; their behaviour comes with the asynchronous
 * page-fault path.
 */
#ifndef _UAPI_DOZE_ABI_H
#define _UAPI_DOZE_ABI_H

#ifndef __ASSEMBLER__
#include <linux/types.h>
#endif

#define DZ_ABI_VERSION		1

/* ---- 1. boot protocol -------------------------------------------------- */
/*
 * Every vCPU starts directly in 64-bit long mode at the ELF entry point:
 *	RDI = DZ_BOOT_INFO_GPA, RSI = vCPU index (0..nr_cpus-1), RSP = 0,
 *	RFLAGS = 0x2 (IF=0), CR0 = PE|MP|ET|NE|WP|PG, CR4 = PAE, EFER = LME|LMA|NXE,
 *	CR3 = boot_info.pt_root: identity map of all RAM with 2 MiB pages,
 *	      present|writable|user (the guest narrows this itself),
 *	CS = 0x08 (64-bit code, DPL 0), DS/ES/SS/FS/GS = 0x10 (flat data),
 *	GDTR/IDTR limit 0: the guest loads its own GDT, TSS and IDT first thing.
 * No INIT/SIPI: all vCPUs run from the start. Guest ELF segments are loaded at
 * their physical addresses (p_paddr), at or above DZ_KERNEL_MIN_GPA.
 */
#define DZ_BOOT_INFO_GPA	0x1000ULL	/* struct dz_boot_info (one page) */
#define DZ_BOOT_PT_GPA		0x2000ULL	/* PML4, then PDPT, then one PD per GiB */
#define DZ_BOOT_PT_MAX_END	0x80000ULL	/* boot page tables end below this */
#define DZ_KERNEL_MIN_GPA	0x100000ULL	/* lowest GPA an ELF segment may use */
#define DZ_MAX_RAM		(64ULL << 30)

#define DZ_BOOT_MAGIC		0x544f4f42455a4f44ULL	/* "DOZEBOOT" little-endian */
#define DZ_WORKLOAD_MAX		256

#ifndef __ASSEMBLER__
struct dz_boot_info {
	__u64 magic;		/* DZ_BOOT_MAGIC */
	__u32 version;		/* DZ_ABI_VERSION */
	__u32 nr_cpus;
	__u64 ram_size;		/* bytes of RAM at GPA 0 */
	__u64 pt_root;		/* GPA of the boot PML4 */
	__u64 pt_end;		/* first GPA after the boot page tables */
	__u64 image_start;	/* lowest GPA of the loaded ELF segments */
	__u64 image_end;	/* first GPA after them (page aligned) */
	__u64 tsc_khz;		/* guest TSC frequency, 0 if unknown */
	__u32 tick_hz;		/* rate of DZ_VEC_TIMER injections */
	__u32 flags;		/* DZ_BOOT_F_* */
	__u64 reserved[6];
	char workload[DZ_WORKLOAD_MAX]; /* NUL-terminated "name[:k=v,...]" */
};
#endif

#define DZ_BOOT_F_SNAPSHOT	(1U << 0)	/* the VMM will take a snapshot when asked */
#define DZ_BOOT_F_LAPIC		(1U << 1)	/* in-kernel LAPIC (--irqchip kernel): enable x2APIC
						   and EOI every interrupt; ticks and IPIs come as MSIs */

/* ---- 2. I/O ports ------------------------------------------------------ */
/*
 * All reachable from ring 3 when the guest runs its tasks with IOPL=3. Values
 * that do not fit the port write travel in registers the VMM reads at the exit.
 */
#define DZ_PORT_CONSOLE		0x00e9	/* outb: one console byte (line-buffered, prefixed "[cpuN] ") */
#define DZ_PORT_BASE		0x05d0
#define DZ_PORT_SNAPSHOT	0x05d0	/* outl DZ_SNAPSHOT_REQUEST: "snapshot now"; returns when written (or
					   at once without --snapshot). inl: 1 if the VMM takes snapshots */
#define DZ_PORT_RESULT		0x05d1	/* outl status (DZ_STATUS_*): power off with RBX = checksum,
					   RCX = expected checksum (computed independently by the guest) */
#define DZ_PORT_PROGRESS	0x05d2	/* outl n: n more work units done on this vCPU */
#define DZ_PORT_PHASE		0x05d3	/* outl DZ_PHASE_*: timestamped by the VMM */
#define DZ_PORT_PANIC		0x05d4	/* outl vector or DZ_PANIC_*: guest died; RBX = RIP, RCX = error
					   code, RSI = CR2, RDI = CS of the fatal event (message already
					   on the console) */
#define DZ_PORT_IPI		0x05d5	/* outl (cpu << 8 | vector): interrupt another vCPU */
#define DZ_PORT_END		0x05df	/* DZ_PORT_BASE..DZ_PORT_END are reserved for doze */

#define DZ_SNAPSHOT_REQUEST	0x534e4150	/* "SNAP" */

#define DZ_STATUS_OK		0	/* checksum matched */
#define DZ_STATUS_MISMATCH	1	/* checksum != expected */
#define DZ_STATUS_BAD_PARAMS	2	/* workload string not understood */
#define DZ_STATUS_NO_MEMORY	3	/* RAM too small for the workload */
#define DZ_STATUS_TASK_KILLED	4	/* a task was killed (lost page, SIGBUS-like); the
					   checksum covers the tasks that finished */
#define DZ_STATUS_EFAULT	5	/* a system call returned -EFAULT (lost page) to a task */

#define DZ_PHASE_BOOT		1	/* kernel initialised, tasks created */
#define DZ_PHASE_FILL_DONE	2	/* fill phase finished (snapshot point follows) */
#define DZ_PHASE_WORK_START	3	/* workload phase starts */
#define DZ_PHASE_WORK_DONE	4	/* all tasks finished */

#define DZ_PANIC_ASSERT		0x100	/* guest assertion failed */
#define DZ_PANIC_HARD_ERROR	0x101	/* async page fault where the context cannot sleep */
#define DZ_PANIC_LOST_PAGE	0x102	/* lost page in a context that cannot report it */
#define DZ_PANIC_TOO_MANY_CPUS	0x103	/* this vCPU's index is beyond what the guest supports */

/* ---- 3. interrupt vectors (userspace irqchip, no EOI needed) ------------ */
#define DZ_VEC_VE		20	/* #VE: "page not present" (exception, no error code) */
#define DZ_VEC_TIMER		32	/* periodic tick, boot_info.tick_hz */
#define DZ_VEC_IPI		33	/* DZ_PORT_IPI default vector */
#define DZ_VEC_PAGE_READY	34	/* "page ready" (async path) */
#define DZ_DEFAULT_TICK_HZ	100

/* ---- 4. CPUID ---------------------------------------------------------- */
/*
 * 0x40000000/0x40000001 stay KVM's (signature "KVMKVMKVM", PV feature bits),
 * so Linux guests find them. doze's own leaves sit in the next hypervisor slot:
 *	0x40000100: EAX = max doze leaf, EBX/ECX/EDX = "dozeDOZEdoze"
 *	0x40000101: EAX = DZ_CPUID_F_* features, EBX = DZ_ABI_VERSION,
 *		    ECX = DZ_MSR_BASE
 */
#define DZ_CPUID_BASE		0x40000100U
#define DZ_CPUID_FEATURES	0x40000101U
#define DZ_CPUID_SIG_EBX	0x657a6f64U	/* "doze" */
#define DZ_CPUID_SIG_ECX	0x455a4f44U	/* "DOZE" */
#define DZ_CPUID_SIG_EDX	0x657a6f64U	/* "doze" */
#define DZ_CPUID_F_PORTS	(1U << 0)	/* the ports above */
#define DZ_CPUID_F_VE		(1U << 1)	/* #VE page-not-present delivery */
#define DZ_CPUID_F_PRED		(1U << 2)	/* eBPF predicate registration */
#define DZ_CPUID_F_KVM_LAPIC	(1U << 3)	/* KVM's in-kernel LAPIC (doze restore --policy kvm):
						   software-enable the x2APIC, EOI every interrupt */
#define DZ_CPUID_F_KVM_APF	(1U << 4)	/* KVM's own async PF owns MSR_KVM_ASYNC_PF_*: arm it
						   (Linux #PF mode); doze's #VE and predicate are off */
#define DZ_CPUID_F_LOST_MCE	(1U << 5)	/* a lost page the guest cannot be told by #VE comes
						   as a machine check (#MC, bank DZ_MCE_BANK; 6b.) */

/* ---- 5. MSRs ----------------------------------------------------------- */
/* Linux KVM paravirtual async PF, mirrored (handled in userspace through the MSR filter). */
#define DZ_MSR_KVM_ASYNC_PF_EN	0x4b564d02U
#define DZ_MSR_KVM_ASYNC_PF_INT	0x4b564d06U
#define DZ_MSR_KVM_ASYNC_PF_ACK	0x4b564d07U

/* doze's own range: DZ_MSR_BASE .. DZ_MSR_BASE + DZ_MSR_COUNT - 1 (all reach the VMM). */
#define DZ_MSR_BASE		0x445a0000U	/* "DZ" */
#define DZ_MSR_COUNT		0x100U
#define DZ_MSR_VE_INFO		(DZ_MSR_BASE + 0)	/* GPA of this vCPU's struct dz_ve_info | DZ_VE_ENABLE */
#define DZ_MSR_PRED		(DZ_MSR_BASE + 1)	/* GPA of a struct dz_pred_reg: register a predicate */
#define DZ_MSR_ERROR		(DZ_MSR_BASE + 2)	/* read: DZ_ERR_* reason of the last lost page */
#define DZ_MSR_PAGE_READY_ACK	(DZ_MSR_BASE + 3)	/* write 1: page-ready consumed, send the next */
#define DZ_MSR_FEATURES		(DZ_MSR_BASE + 4)	/* read: DZ_CPUID_F_* */

/* ---- 6. #VE information area and tokens -------------------------------- */
#define DZ_VE_ENABLE		1ULL	/* bit 0 of DZ_MSR_VE_INFO; the area is 64-byte aligned */

/* struct dz_ve_info::reason */
#define DZ_VE_PAGE_NOT_PRESENT	1	/* sleep on token; a page-ready with the same token follows */
#define DZ_VE_PAGE_LOST		2	/* the page can never arrive: report (SIGBUS / -EFAULT) */

#define DZ_VE_BUSY		0xffffffffU	/* host wrote the area; guest writes 0 to re-arm */

/* struct dz_ve_info::flags */
#define DZ_VE_F_GVA_VALID	(1U << 0)
#define DZ_VE_F_WRITE		(1U << 1)	/* the faulting access was a write */

/* Modelled on the hardware's #VE information area: the host fills it only while
 * busy == 0, sets busy = DZ_VE_BUSY and injects vector 20; the guest handler
 * copies what it needs and clears busy (no nested #VE before that). */
#ifndef __ASSEMBLER__
struct dz_ve_info {
	__u32 reason;	/* DZ_VE_* */
	__u32 busy;	/* DZ_VE_BUSY while the guest owns the contents */
	__u64 token;	/* pairs page-not-present with its page-ready */
	__u64 gpa;	/* guest-physical address of the missing page */
	__u64 gva;	/* linear address of the access if DZ_VE_F_GVA_VALID (verified
			   through the guest's page tables to map to gpa's page), else 0 */
	__u32 flags;	/* DZ_VE_F_* */
	__u32 error;	/* DZ_ERR_* for DZ_VE_PAGE_LOST */
	__u64 reserved[3];
};
#endif

/*
 * Tokens: at most DZ_MAX_TOKENS outstanding per vCPU. The host picks tokens so
 * that (token & (DZ_MAX_TOKENS - 1)) differs between the outstanding tokens of a
 * vCPU: the guest keeps a direct-index table token -> waiting task.
 */
#define DZ_MAX_TOKENS		64
#define DZ_TOKEN_WAKE_ALL	0xffffffffULL

/*
 * ---- 6b. Lost pages as a machine check ----------------------------------
 * A guest that has no #VE area armed (Linux-compatible #PF mode, or a guest
 * that never asked for #VE) learns of a lost page the way hardware reports
 * poisoned memory and QEMU reports host-poisoned guest RAM: a machine check.
 * The host gives each vCPU DZ_MCE_BANK (MCG_CAP: 1 bank, MCG_SER_P, and
 * MCG_CTL_P where KVM offers it) and raises #MC only when the guest can take
 * it: CR4.MCE = 1, MC0_CTL (and MCG_CTL if present) all ones, MCG_STATUS.MCIP
 * clear; otherwise the run stops naming the page. The bank then holds:
 *	MC0_STATUS = VAL|UC|EN|MISCV|ADDRV|S, plus AR and MCACOD 0x134 (data
 *		     load: the access did not retire, RIP is the instruction;
 *		     MCG_STATUS = MCIP|EIPV), or MCACOD 0x17a without AR (a
 *		     ring-0 write that already retired; MCG_STATUS = MCIP|RIPV)
 *	MC0_ADDR   = guest-physical address, MC0_MISC = DZ_MCE_MISC_PAGE
 * and DZ_MSR_ERROR the DZ_ERR_* reason. The guest clears MC0_STATUS and
 * MCG_STATUS when done (a second #MC while MCIP is set shuts the VM down).
 */
#define DZ_MCE_BANK		0
#define DZ_MSR_MCG_CAP		0x179U
#define DZ_MSR_MCG_STATUS	0x17aU
#define DZ_MSR_MCG_CTL		0x17bU
#define DZ_MSR_MC0_CTL		0x400U
#define DZ_MSR_MC0_STATUS	0x401U
#define DZ_MSR_MC0_ADDR		0x402U
#define DZ_MSR_MC0_MISC		0x403U
#define DZ_MCG_CAP_CTL_P	(1ULL << 8)
#define DZ_MCG_CAP_SER_P	(1ULL << 24)
#define DZ_MCG_STATUS_RIPV	(1ULL << 0)
#define DZ_MCG_STATUS_EIPV	(1ULL << 1)
#define DZ_MCG_STATUS_MCIP	(1ULL << 2)
#define DZ_MCI_STATUS_VAL	(1ULL << 63)
#define DZ_MCI_STATUS_UC	(1ULL << 61)
#define DZ_MCI_STATUS_EN	(1ULL << 60)
#define DZ_MCI_STATUS_MISCV	(1ULL << 59)
#define DZ_MCI_STATUS_ADDRV	(1ULL << 58)
#define DZ_MCI_STATUS_S		(1ULL << 56)
#define DZ_MCI_STATUS_AR	(1ULL << 55)
#define DZ_MCACOD_DATA_LOAD	0x134	/* SRAR data load */
#define DZ_MCACOD_WRITEBACK	0x17a	/* SRAO explicit writeback */
#define DZ_MCE_MISC_PAGE	(12 | (2 << 6))	/* address LSB 12 (a page), physical address mode */

/* DZ_MSR_ERROR / dz_ve_info::error */
#define DZ_ERR_NONE		0
#define DZ_ERR_SOURCE_GONE	1	/* page source unreachable or refused the page */
#define DZ_ERR_TRUNCATED	2	/* memory file shorter than the page */
#define DZ_ERR_CHECKSUM		3	/* page checksum mismatch after retries */

/* Predicate registration block written by the guest, pointed to by DZ_MSR_PRED. */
#ifndef __ASSEMBLER__
struct dz_pred_reg {
	__u64 prog_gpa;	/* eBPF instructions */
	__u32 prog_len;	/* in bytes, multiple of 8 */
	__u32 log_size;	/* bytes available at log_gpa */
	__u64 log_gpa;	/* verifier log (NUL-terminated) */
	__s32 verdict;	/* host: 0 accepted, else -errno */
	__u32 reserved;
};
#endif

#endif /* _UAPI_DOZE_ABI_H */
