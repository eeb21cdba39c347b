/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause */
/*
 * doze predicate program type: the guest ABI shared by the host (lib/bpf, vmm)
 * and guests that write predicates in C (clang -O2 -target bpf).
 *
 * A predicate runs on the host for a fault the guest took on a page that is
 * not present yet. It reads the guest's state through a read-only context and
 * guest memory through helpers, and returns
 *	DZ_PRED_MAY_SLEEP (1)	the faulting context may sleep: deliver "page not present"
 *	DZ_PRED_MUST_NOT (0)	it may not: the host serves the fault synchronously
 * Any other return value is treated as 0.
 *
 * The layout is fixed (explicit padding, naturally aligned 8-byte fields) so the
 * same struct compiles identically for x86-64 and for the BPF target.
 */
#ifndef _UAPI_DOZE_PRED_H
#define _UAPI_DOZE_PRED_H

#include <linux/types.h>

#define DZ_PRED_MUST_NOT	0
#define DZ_PRED_MAY_SLEEP	1

/* struct dz_pred_ctx::access */
#define DZ_ACCESS_READ		0
#define DZ_ACCESS_WRITE		1
#define DZ_ACCESS_EXEC		2

/* struct dz_pred_ctx::flags */
#define DZ_PRED_F_GVA_VALID	(1U << 0)	/* fault_gva holds the faulting linear address */

struct dz_pred_ctx {
	__u32 vcpu;		/* vCPU index */
	__u32 cpl;		/* current privilege level, 0..3 */
	__u64 rflags;
	__u64 rip;
	__u64 rsp;
	__u64 rax, rbx, rcx, rdx, rsi, rdi, rbp;
	__u64 r8, r9, r10, r11, r12, r13, r14, r15;
	__u64 cr0, cr3, cr4, efer;
	__u64 fs_base, gs_base, kernel_gs_base;
	__u64 fault_gpa;	/* guest-physical address of the missing page (byte precise) */
	__u64 fault_gva;	/* linear address, valid if DZ_PRED_F_GVA_VALID */
	__u32 access;		/* DZ_ACCESS_* */
	__u32 flags;		/* DZ_PRED_F_* */
};

/*
 * Helper functions (BPF_CALL imm). Argument conventions follow the kernel's
 * bpf_probe_read_kernel(): (dst, size, src). All return 0 or a negative errno:
 * -EFAULT for an address that is not mapped by the guest's page tables or lies
 * outside guest RAM, -EAGAIN for a page that is not present yet (a helper never
 * waits for a page), -EINVAL for a bad size. On error dst is zeroed.
 */
enum dz_pred_helper {
	DZ_HELPER_UNSPEC = 0,
	/* long dz_read_gva(void *dst, __u32 size, __u64 gva): through the context's CR3 */
	DZ_HELPER_READ_GVA = 1,
	/* long dz_read_gpa(void *dst, __u32 size, __u64 gpa) */
	DZ_HELPER_READ_GPA = 2,
	/*
	 * long dz_read_percpu(void *dst, __u32 size, __u64 off): reads GS base + off,
	 * where the GS base is the kernel's (KERNEL_GS_BASE when CPL == 3, as after
	 * swapgs), the way a kernel reads its own per-CPU data.
	 */
	DZ_HELPER_READ_PERCPU = 3,
	/* long dz_trace(const char *msg, __u32 size, __u64 arg): logs msg and arg on the host */
	DZ_HELPER_TRACE = 4,
	__DZ_HELPER_MAX,
};

#define DZ_PRED_MAX_READ	256	/* largest size a read helper accepts */

#ifdef __bpf__
/* Declarations for predicates written in C, in the style of bpf_helper_defs.h. */
static long (*dz_read_gva)(void *dst, __u32 size, __u64 gva) = (void *)DZ_HELPER_READ_GVA;
static long (*dz_read_gpa)(void *dst, __u32 size, __u64 gpa) = (void *)DZ_HELPER_READ_GPA;
static long (*dz_read_percpu)(void *dst, __u32 size, __u64 off) = (void *)DZ_HELPER_READ_PERCPU;
static long (*dz_trace)(const char *msg, __u32 size, __u64 arg) = (void *)DZ_HELPER_TRACE;
#endif

#endif /* _UAPI_DOZE_PRED_H */
