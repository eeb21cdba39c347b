/* SPDX-License-Identifier: GPL-2.0 */
/*
 * doze reference guest kernel: shared definitions.
 *
 * Guest ring 0 is emulated on the project's machines (~1 µs per instruction),
 * so every kernel path here is written for instruction count: registers are
 * saved once, the run queue is an O(1) FIFO per CPU, tokens index the wait
 * table directly, and heavy work (fills, scans, checksums) runs in ring 3.
 *
 * Memory: identity mapped (virtual == physical), 2 MiB pages.
 * Tasks never migrate: all scheduling state is per CPU and touched with IF=0.
 */
#ifndef DZ_GUEST_KERNEL_H
#define DZ_GUEST_KERNEL_H

#include <doze/abi.h>

#include "pred/percpu.h"

#ifndef __ASSEMBLER__
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;
typedef long s64;
typedef int s32;
typedef short s16;
typedef signed char s8;
typedef unsigned long uintptr_t;
typedef unsigned long size_t;
#define NULL ((void *)0)
#define bool _Bool
#define true 1
#define false 0
#endif

#define GUEST_MAX_CPUS	32
#define MAX_TASKS	256
#define KSTACK_SIZE	16384	/* task struct at the bottom, trap frame at the top */
#define USTACK_SIZE	65536
#define PAGE_SIZE	4096UL
#define HUGE_SIZE	(2UL << 20)

/* GDT selectors (same layout on every CPU) */
#define KERNEL_CS	0x08
#define KERNEL_DS	0x10
#define USER_DS		0x1b	/* 0x18 | RPL 3 */
#define USER_CS		0x23	/* 0x20 | RPL 3 */
#define TSS_SEL		0x28
#define USER_RFLAGS	0x202	/* IF | bit 1 */

/* Offsets used by the assembly entry code (checked by _Static_assert in sched.c). */
#define PC_SELF			DZ_PERCPU_SELF
#define PC_CURRENT		DZ_PERCPU_CURRENT
#define PC_PREEMPT		DZ_PERCPU_PREEMPT_COUNT	/* u32, and irq_depth right after it */
#define PC_IRQ_DEPTH		DZ_PERCPU_IRQ_DEPTH
#define PC_CPU			DZ_PERCPU_CPU
#define PC_NR_TASKS		DZ_PERCPU_NR_TASKS
/* guest-private fields start at DZ_PERCPU_FIXED_END (percpu.h reserves up to 63) */
#define PC_NEED_RESCHED		64
#define PC_TICKS		72
#define PC_RQ_HEAD		80	/* NULL = run queue empty (rq_tail is then stale) */
#define PC_RQ_TAIL		88
#define PC_IDLE			96
#define PC_IDLE_SP		104	/* top of the idle task's stack: idle restarts there */
#define PC_READY_EARLY		112
#define PC_VE			128	/* struct dz_ve_info */
#define PC_VE_REASON		(PC_VE + 0)
#define PC_VE_BUSY		(PC_VE + 4)
#define PC_VE_TOKEN		(PC_VE + 8)
#define PC_APF			192	/* struct dz_apf_area */
#define PC_APF_TOKEN		(PC_APF + 4)
#define PC_WAITERS		256	/* struct task *[DZ_MAX_TOKENS] */
#define PC_TSS			(PC_WAITERS + 8 * DZ_MAX_TOKENS + 64) /* after the GDT */
#define PC_TSS_RSP0		(PC_TSS + 4)

#define T_KSP		0
#define T_KSTACK_TOP	8
#define T_NEXT		16
#define T_STATE		24
#define T_TOKEN		40

#define TASK_READY	0
#define TASK_RUNNING	1
#define TASK_BLOCKED	2
#define TASK_DEAD	3

#ifndef __ASSEMBLER__
#include <doze/apf.h>

struct tss {
	u32 reserved0;
	u64 rsp0, rsp1, rsp2;
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __attribute__((packed));


struct task {
	u64 ksp;		/* T_KSP: kernel RSP while switched out */
	u64 kstack_top;		/* T_KSTACK_TOP: TSS.RSP0 while it runs */
	struct task *next;	/* run queue link */
	u32 state;
	u32 cpu;
	u32 id;			/* global task number */
	u32 kind;		/* workload kind */
	u64 token;		/* token it sleeps on, if any */
	const char *name;
};

/* The trap frame the entry code builds (lowest address first). */
struct regs {
	u64 r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss;
};

struct percpu {
	u64 self;		   /* 0 */
	struct task *current;	   /* 8 */
	u32 preempt_count;	   /* 16 */
	u32 irq_depth;		   /* 20 */
	u32 cpu;		   /* 24 */
	u32 nr_tasks;		   /* 28: live tasks of this CPU (ready, running or asleep) */
	u32 reserved[8];	   /* 32..63: reserved by percpu.h */
	u32 need_resched;	   /* 64 */
	u32 pad0;
	u64 ticks;		   /* 72 */
	struct task *rq_head;	   /* 80 */
	struct task *rq_tail;	   /* 88 */
	struct task *idle;	   /* 96 */
	u64 idle_sp;		   /* 104 */
	u64 ready_early;	   /* 112: tokens whose page-ready came before the sleeper */
	u64 pad1;
	/* the host writes these two (#VE information, APF area): 64-byte aligned */
	struct dz_ve_info ve __attribute__((aligned(64)));	/* 128 */
	struct dz_apf_area apf __attribute__((aligned(64)));	/* 192 */
	struct task *waiters[DZ_MAX_TOKENS]; /* 256: token & 63 -> sleeping task */
	u64 gdt[8] __attribute__((aligned(16)));
	struct tss tss __attribute__((aligned(16)));
} __attribute__((aligned(64)));

/* ---- CPU helpers ---- */
static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	__asm__ volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

static inline struct task *current(void)
{
	struct task *t;

	__asm__ volatile("mov %%gs:8, %0" : "=r"(t));
	return t;
}

static inline void outb(u16 port, u8 v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(u16 port, u32 v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline void cli(void)
{
	__asm__ volatile("cli" ::: "memory");
}

static inline void sti(void)
{
	__asm__ volatile("sti" ::: "memory");
}

static inline void preempt_disable(void)
{
	__asm__ volatile("incl %%gs:16" ::: "memory");
}

static inline void preempt_enable(void)
{
	__asm__ volatile("decl %%gs:16" ::: "memory");
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

/* ---- kernel services ---- */
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void die(u32 code, const struct regs *r) __attribute__((noreturn));
void power_off(u32 status, u64 checksum, u64 expected) __attribute__((noreturn));
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

/* scheduler (sched.c); all called with IF=0 */
void schedule(void);		/* current stops running (blocked/dead/requeued) */
void yield(void);
void wake(struct task *t);
void sleep_on_token(u64 token);
void wake_token(u64 token);
struct task *task_create_user(int cpu, void (*entry)(void *), void *arg, u64 ustack_top);
struct task *task_create_kthread(int cpu, void (*fn)(void *), void *arg);
void sched_init_cpu(struct percpu *pc, struct task *idle);
void task_exit(void) __attribute__((noreturn));

/* memory (main.c) */
void *kalloc(size_t size, size_t align);	/* kernel heap, supervisor pages */
void *ualloc(size_t size, size_t align);	/* user heap, user pages */
extern struct percpu *percpus[GUEST_MAX_CPUS];
extern u32 nr_cpus;

/* workloads (workload.c) */
void workload_setup(const char *spec);
long do_syscall(u64 a0, u64 a1, u64 a2, u64 nr);
void exception_dispatch(struct regs *r);
void irq_dispatch(struct regs *r);

/* asynchronous page faults (guest/apf/; weak defaults in hooks.c) */
void apf_init(void);		/* CPU 0 at boot, IF = 0 */
void apf_arm_cpu(void);		/* every CPU at boot, IF = 0 */
void apf_rearm_all(void);	/* after the snapshot point, on the CPU that asked */
void apf_ipi(void);		/* from the IPI handler */
void apf_page_ready(void);	/* from the DZ_VEC_PAGE_READY handler */
void apf_task_killed(void) __attribute__((noreturn)); /* current ring-3 task killed (lost page) */
long apf_copy_record(u64 *dst, const u64 *src);	/* 0 or -EFAULT */
bool apf_page_fault(struct regs *r);		/* #PF: true if async page-not-present handled */
void apf_lost_page(struct regs *r, u64 gpa, u32 err); /* a lost page: kill, fix up or panic */
void mce_init_cpu(void);			/* every CPU at boot: machine checks on */
void mce_dispatch(struct regs *r);		/* #MC (a lost page without #VE) */

static inline void cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	return ((u64)hi << 32) | lo;
}

/* entry.S */
void switch_to(struct task *prev, struct task *next);
void switch_to_idle(struct task *prev);	/* idle restarts its loop: it keeps no state */
void idle_enter(void) __attribute__((noreturn)); /* this CPU's idle loop */
extern char exc_stubs[];	/* 32 stubs, 16 bytes apart */
void timer_entry(void);
void irq_entry_ipi(void);
void irq_entry_page_ready(void);
void irq_entry_page_ready_slow(void);
void ve_entry(void);
void syscall_entry(void);
void lapic_timer_entry(void);
void lapic_ipi_entry(void);
void lapic_page_ready_entry(void);
void spurious_entry(void);
void start_user(void);
void start_kthread(void);
void load_gdt_tss(u64 *gdt, u16 limit);

#endif /* __ASSEMBLER__ */
#endif
