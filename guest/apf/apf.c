// SPDX-License-Identifier: GPL-2.0
/*
 * The guest half of doze's asynchronous page faults (docs/abi.md).
 *
 * Boot: CPU 0 registers the eBPF predicate (guest/pred/pred.bpf.o, embedded
 * with .incbin) and the ranges the host must always serve synchronously; every
 * CPU points the host at its APF area and #VE information area.
 *
 * "Page not present" (#VE, vector 20, reason PAGE_NOT_PRESENT): the handler
 * checks that the interrupted context may sleep (IF was 1, preempt_count 0,
 * not in an interrupt, a real task) and puts the task to sleep on the token;
 * the faulting instruction runs again when it is woken. If the context cannot
 * sleep the host broke the contract: a hard error, the guest dies loudly.
 * "Page ready" (DZ_VEC_PAGE_READY): read the token from the APF area, clear
 * it, ACK, wake the sleeper (or remember an early wake).
 * "Page lost" (#VE, reason PAGE_LOST): a ring-3 task is killed (SIGBUS-like),
 * a kernel access with an exception-table fixup returns -EFAULT, anything else
 * panics with a clear message.
 *
 * The common cases (a task parks, page-ready wakes it) never get here: the
 * entry code handles them in a few dozen instructions (guest/entry.S, "the
 * fast paths"; guest ring 0 is emulated here, ~1 us per instruction). This
 * file handles the rest: lost pages, hard errors, wake-all, the #PF mode
 * and KVM's own APF.
 */
#include <doze/apf.h>

#include "kernel.h"
#include "apf.h"
#include "kvm.h"

#define RFLAGS_IF 0x200UL
#define EFAULT	  14

/* Each CPU's APF area and #VE information area live in its per-CPU block
 * (struct percpu: apf, ve), where the entry code reaches them through GS. */
static struct dz_pred_reg pred_reg __attribute__((aligned(64)));
static char pred_log[2048];
static struct dz_sync_ranges sync_ranges __attribute__((aligned(64)));
static bool apf_available;
static bool use_ve; /* #VE delivery; else Linux's #PF with CR2 = token */

/* guest/apf/pred.S */
extern const u8 dz_pred_obj[], dz_pred_obj_end[];

/* Exception table of kernel accesses that may hit a lost page (apf.h). */
extern const struct apf_extable __start_apf_extable[], __stop_apf_extable[];

static u64 align_up(u64 v, u64 a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Arms this CPU: APF area + page-ready vector, then the #VE area. IF = 0. */
void apf_arm_cpu(void)
{
	struct percpu *pc = this_cpu();

	apf_kvm_arm_cpu(&pc->apf);
	if (!apf_available)
		return;
	pc->apf.flags = 0;
	pc->apf.token = 0;
	pc->ve.busy = 0;
	wrmsr(DZ_MSR_KVM_ASYNC_PF_INT, DZ_VEC_PAGE_READY);
	wrmsr(DZ_MSR_KVM_ASYNC_PF_EN,
	      (u64)&pc->apf | DZ_KVM_ASYNC_PF_ENABLED | DZ_KVM_ASYNC_PF_DELIVERY_AS_INT);
	if (use_ve)
		wrmsr(DZ_MSR_VE_INFO, (u64)&pc->ve | DZ_VE_ENABLE);
}

/* VM-wide registrations: the never-async ranges and the predicate. */
static void apf_register(void)
{
	extern char __kernel_end[];
	u64 kheap_end;
	s64 verdict;

	if (apf_kvm_peer) /* KVM's APF: doze's MSRs are not offered */
		return;

	/*
	 * Everything below the end of the kernel heap: boot page tables, kernel
	 * image, user text, per-CPU areas (GDT, TSS) and kernel stacks. Same
	 * arithmetic as boot_cpu0() in main.c.
	 */
	kheap_end =
	    align_up((u64)__kernel_end, HUGE_SIZE) +
	    align_up(GUEST_MAX_CPUS * sizeof(struct percpu) + MAX_TASKS * KSTACK_SIZE, HUGE_SIZE);
	sync_ranges.nr = 1;
	sync_ranges.range[0].start = 0;
	sync_ranges.range[0].end = kheap_end;
	wrmsr(DZ_MSR_SYNC_RANGES, (u64)&sync_ranges);

	pred_reg.prog_gpa = (u64)dz_pred_obj;
	pred_reg.prog_len = dz_pred_obj_end - dz_pred_obj;
	pred_reg.log_gpa = (u64)pred_log;
	pred_reg.log_size = sizeof(pred_log);
	pred_reg.verdict = 1;
	wrmsr(DZ_MSR_PRED, (u64)&pred_reg);
	verdict = (s64)rdmsr(DZ_MSR_PRED);
	if (verdict)
		printk("apf: predicate rejected (%ld): %s\n", verdict, pred_log);
}

static bool detect(void)
{
	u64 f = rdmsr(DZ_MSR_FEATURES);

	/* predicate registration is doze's; #VE is optional (else the Linux #PF mode) */
	apf_available = f & DZ_CPUID_F_PRED;
	use_ve = f & DZ_CPUID_F_VE;
	if (apf_kvm_detect(f)) /* KVM's own APF (doze restore --policy kvm, kvm.c) */
		apf_available = true;
	return apf_available;
}

/* CPU 0 at boot, before the other CPUs run (IF = 0). */
void apf_init(void)
{
	if (!detect()) {
		printk("apf: the VMM offers no #VE page-not-present: faults stay synchronous\n");
		return;
	}
	apf_register();
	printk("apf: %s page-not-present armed, predicate %s (%lu bytes)\n",
	       use_ve ? "#VE" : "Linux-compatible #PF", pred_reg.verdict ? "REJECTED" : "registered",
	       (u64)pred_reg.prog_len);
}

/*
 * After a snapshot point: the host's async state is not part of a snapshot, so
 * a restored guest arms again (harmless in the original run). Called on the CPU
 * that asked for the snapshot; the others are armed from their IPI handler.
 */
static volatile u32 rearm_pending[GUEST_MAX_CPUS];

void apf_rearm_all(void)
{
	u32 me = this_cpu()->cpu;

	/* the VMM that restored us may offer more (or less) than the one that booted us */
	if (!detect())
		return;
	apf_register();
	apf_arm_cpu();
	for (u32 c = 0; c < nr_cpus; c++) {
		if (c == me)
			continue;
		rearm_pending[c] = 1;
		outl(DZ_PORT_IPI, c << 8 | DZ_VEC_IPI);
	}
}

void apf_ipi(void)
{
	u32 me = this_cpu()->cpu;

	if (rearm_pending[me]) {
		rearm_pending[me] = 0;
		apf_arm_cpu();
	}
}

/* ---- hard error: the host delivered page-not-present where we cannot sleep ---- */

static void __attribute__((noreturn)) hard_error(const struct regs *r, u32 why, u64 token, u64 gpa)
{
	static const char *const what[] = {
	    [DZ_HARD_IF_OFF] = "interrupts were off (IF=0)",
	    [DZ_HARD_PREEMPT_OFF] = "preemption was off (preempt_count > 0)",
	    [DZ_HARD_IN_IRQ] = "inside an interrupt/exception handler",
	    [DZ_HARD_NO_TASK] = "no task to put to sleep (idle)",
	};

	cli();
	printk("HARD ERROR: async page-not-present (token %lx, GPA %lx) at RIP %lx CPL %lu: "
	       "this context cannot sleep: %s\n",
	       token, gpa, r->rip, r->cs & 3, what[why]);
	for (;;) {
		register u64 rbx __asm__("rbx") = r->rip;

		__asm__ volatile("outl %%eax, %%dx"
				 :
				 : "a"(DZ_PANIC_HARD_ERROR), "d"((u16)DZ_PORT_PANIC), "r"(rbx),
				   "c"((u64)why), "S"(gpa), "D"(r->cs));
		__asm__ volatile("hlt");
	}
}

/* ---- lost pages ---- */

/* The workload overrides this to account for the task; without it the task just ends. */
void __attribute__((weak, noreturn)) apf_task_killed(void)
{
	cli();
	task_exit();
}

void apf_lost_page(struct regs *r, u64 gpa, u32 err)
{
	if (r->cs & 3) {
		/* SIGBUS-like: the task dies, the others go on */
		printk("task %u killed: SIGBUS (page %lx lost, error %u) at RIP %lx\n",
		       current()->id, gpa, err, r->rip);
		apf_task_killed();
		return;
	}
	for (const struct apf_extable *e = __start_apf_extable; e < __stop_apf_extable; e++) {
		if (e->insn == r->rip) {
			r->rip = e->fixup;
			r->rax = (u64)-EFAULT;
			return;
		}
	}
	cli();
	panic("kernel access to lost page %lx (error %u) at RIP %lx with no fixup", gpa, err,
	      r->rip);
}

/* ---- #VE ---- */

/* Why the interrupted context cannot sleep, 0 if it can. */
static u32 cannot_sleep(const struct regs *r, const struct percpu *pc)
{
	if (!(r->rflags & RFLAGS_IF))
		return DZ_HARD_IF_OFF;
	if (pc->preempt_count)
		return DZ_HARD_PREEMPT_OFF;
	if (pc->irq_depth)
		return DZ_HARD_IN_IRQ;
	if (pc->current == pc->idle)
		return DZ_HARD_NO_TASK;
	return 0;
}

void ve_dispatch(struct regs *r)
{
	struct percpu *pc = this_cpu();
	struct dz_ve_info *ve = &pc->ve;
	u32 reason = ve->reason, why;
	u64 token = ve->token, gpa = ve->gpa;

	if (reason == DZ_VE_PAGE_NOT_PRESENT) {
		why = cannot_sleep(r, pc);
		if (why)
			hard_error(r, why, token, gpa);
		ve->busy = 0; /* re-arm before we sleep: other tasks may fault */
		sleep_on_token(token);
		return; /* iretq runs the faulting instruction again */
	}
	if (reason == DZ_VE_PAGE_LOST) {
		u32 err = ve->error;

		ve->busy = 0;
		apf_lost_page(r, gpa, err);
		return;
	}
	die(DZ_VEC_VE, r);
}

/*
 * Linux-compatible mode (no #VE): "page not present" is a #PF with CR2 = token
 * and the APF area's flags = 1, which we clear. False for a genuine #PF.
 */
bool apf_page_fault(struct regs *r)
{
	struct percpu *pc = this_cpu();
	struct dz_apf_area *a = &pc->apf;
	u64 token;
	u32 why;

	if (a->flags != DZ_KVM_PV_REASON_PAGE_NOT_PRESENT)
		return false;
	__asm__ volatile("mov %%cr2, %0" : "=r"(token));
	a->flags = 0;
	why = cannot_sleep(r, pc);
	if (why)
		hard_error(r, why, token, 0);
	apf_kvm_count(a, (r->cs & 3) ? APF_KVM_NP_RING3 : APF_KVM_NP_RING0);
	token = apf_sleep_key(token);
	if (token)
		sleep_on_token(token);
	return true;
}

/* ---- page ready (IRQ, IF was 1) ---- */

void apf_page_ready(void)
{
	struct dz_apf_area *a = &this_cpu()->apf;
	u64 token = a->token;

	a->token = 0;
	wrmsr(DZ_MSR_KVM_ASYNC_PF_ACK, 1);
	apf_kvm_count(a, token == DZ_TOKEN_WAKE_ALL ? APF_KVM_WAKE_ALL : APF_KVM_READY);
	token = apf_wake_key(token);
	if (token)
		wake_token(token);
}
