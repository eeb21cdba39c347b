/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry code of the reference guest: boot, exception/interrupt/syscall entry,
 * context switch. Every path is counted in instructions (guest ring 0 is
 * emulated here, ~1 us each); the counts are in docs/vmm.md.
 *
 * Trap frame (struct regs, lowest address first):
 *	r11 r10 r9 r8 rdi rsi rdx rcx rax | vector error | rip cs rflags rsp ss
 * Only caller-saved registers are pushed: C preserves the others, and
 * switch_to saves them when a task is switched out.
 */
#include "kernel.h"

#define F_CS	(12 * 8)	/* offset of cs in struct regs */

.macro SAVE_CALLER
	push %rax
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	push %r11
.endm

.macro RESTORE_CALLER
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
.endm

	.section .text.boot, "ax"
	.globl _start
/* RDI = boot info, RSI = vCPU index, RSP = 0, IF = 0 (boot protocol) */
_start:
	cmp $GUEST_MAX_CPUS, %rsi
	jae 2f
	lea 1(%rsi), %rax
	shl $13, %rax			/* 8 KiB boot stack per CPU: becomes its idle task's stack */
	lea boot_stacks(%rip), %rsp
	add %rax, %rsp
	call kmain
2:	mov $DZ_PANIC_TOO_MANY_CPUS, %eax	/* too many CPUs: tell the VMM */
	mov $DZ_PORT_PANIC, %edx
	xor %ebx, %ebx
	out %eax, %dx
	cli
	hlt
	jmp 2b

	.text
/* ---- exceptions 0..31: one 16-byte stub each ---- */
	.balign 16
	.globl exc_stubs
exc_stubs:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.balign 16
.if (\v == 8) || (\v == 10) || (\v == 11) || (\v == 12) || (\v == 13) || (\v == 14) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
.else
	pushq $0
.endif
	pushq $\v
.if \v == 20
	jmp ve_common
.elseif (\v == 14) || (\v == 18)
	jmp pf_common
.else
	jmp exc_common
.endif
.endr

/* Exceptions: counted as interrupt depth, C decides (exception_dispatch). */
exc_common:
	testb $3, 24(%rsp)		/* CS of the interrupted context */
	jz 1f
	swapgs
1:	SAVE_CALLER
	incl %gs:PC_IRQ_DEPTH
	mov %rsp, %rdi
	call exception_dispatch
	decl %gs:PC_IRQ_DEPTH
	RESTORE_CALLER
	testb $3, 24(%rsp)
	jz 2f
	swapgs
2:	add $16, %rsp
	iretq

/* #VE (vector 20): like an exception, but its handler may put the task to
 * sleep (async page fault), so it does not count as interrupt depth. */
ve_common:
	testb $3, 24(%rsp)
	jz 1f
	swapgs
1:	SAVE_CALLER
	mov %rsp, %rdi
	call ve_dispatch
	RESTORE_CALLER
	testb $3, 24(%rsp)
	jz 2f
	swapgs
2:	add $16, %rsp
	iretq

/* #PF (vector 14): a genuine page fault is fatal here, but in the Linux-compatible
 * async mode (MSR_KVM_ASYNC_PF_EN) "page not present" arrives as a #PF with
 * CR2 = token and its handler sleeps: no interrupt depth, like #VE. #MC (18)
 * comes here too: in that mode it reports a lost page and may end the task. */
pf_common:
	testb $3, 24(%rsp)
	jz 1f
	swapgs
1:	SAVE_CALLER
	mov %rsp, %rdi
	call pf_dispatch
	RESTORE_CALLER
	testb $3, 24(%rsp)
	jz 2f
	swapgs
2:	add $16, %rsp
	iretq

/*
 * ---- asynchronous page faults: the fast paths ----
 *
 * Guest ring 0 costs ~1 us per instruction here, and DESIGN.md budgets the
 * whole round trip (page-not-present, run another task, page-ready, run the
 * parked task again) at about 100 of them; tests/kvm/test-apf-cost counts
 * them. The common cases never enter C:
 *
 * ve_entry (#VE, vector 20): page-not-present where the context may sleep
 * saves every register once, in the frame any switched-out task has:
 *	[r15 r14 r13 r12 rbx rbp] [resume] [r11 r10 r9 r8 rdi rsi rdx rcx rax] [iret frame]
 * (switch_to's callee-saved words and return address on top, so whoever
 * switches back — this code, switch_to — just pops six and returns), files
 * the task under waiters[token & 63] and runs the head of the run queue, or
 * idle. Everything else (lost page, a context that cannot sleep: the hard
 * error) takes the old path through the vector-20 stub and ve_dispatch().
 *
 * irq_entry_page_ready: read and clear the token, wake its sleeper by direct
 * index (or remember the early page-ready), ACK. It does not preempt the task
 * it interrupted (the woken task runs when that one parks, blocks, or at the
 * next tick: fewer switches, same work); when it interrupted idle's hlt it
 * returns into idle_switch, which runs the woken task at once (through a real
 * iretq to ring 0 first: switching straight from the handler to a ring-3
 * task's iretq, or an iretq to ring 0 with IF = 0 after idle's hlt, stopped
 * the vCPU with a HLT exit under single-stepping on this backend).
 * Wake-all goes to C.
 *
 * Run queue: rq_head == NULL means empty; rq_tail is stale then.
 */
.macro PARK_SAVE resume
	SAVE_CALLER
	pushq $\resume
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
.endm

#define VE_STUB (exc_stubs + 16 * DZ_VEC_VE)

	.globl ve_entry
ve_entry:
	testb $3, 8(%rsp)
	jz ve_kernel
	swapgs
	cmpl $DZ_VE_PAGE_NOT_PRESENT, %gs:PC_VE_REASON
	jne ve_slow_user
	cmpq $0, %gs:PC_PREEMPT		/* preempt_count and irq_depth, one load */
	jne ve_slow_user
	/* ring 3: IF is 1 (IOPL 0: ring 3 cannot clear it), current is a task */
	PARK_SAVE ve_resume_user
	mov %gs:PC_CURRENT, %rdi
	jmp ve_park
ve_slow_user:
	swapgs				/* the stub's path swaps again */
	jmp VE_STUB
ve_kernel:
	cmpl $DZ_VE_PAGE_NOT_PRESENT, %gs:PC_VE_REASON
	jne VE_STUB
	testl $0x200, 16(%rsp)		/* IF of the interrupted context */
	jz VE_STUB
	cmpq $0, %gs:PC_PREEMPT
	jne VE_STUB
	PARK_SAVE ve_resume_kernel
	mov %gs:PC_CURRENT, %rdi
	cmp %gs:PC_IDLE, %rdi
	je ve_unsave			/* idle cannot sleep: the hard error, in C */
/* RDI = current, its registers saved: sleep on the token unless it is ready already */
ve_park:
	mov %gs:PC_VE_TOKEN, %rax
	movl $0, %gs:PC_VE_BUSY		/* re-arm: another task may fault now */
	mov %eax, %ecx
	and $(DZ_MAX_TOKENS - 1), %ecx
	btr %rcx, %gs:PC_READY_EARLY
	jc task_resume			/* page-ready came first: retry at once */
	mov %rax, T_TOKEN(%rdi)
	movl $TASK_BLOCKED, T_STATE(%rdi)
	mov %rdi, %gs:PC_WAITERS(,%rcx,8)
	mov %rsp, T_KSP(%rdi)
/* The current task is saved (or needs nothing): run the next ready task, or idle. */
pick_next:
	mov %gs:PC_RQ_HEAD, %rsi
	test %rsi, %rsi
	jz to_idle
	mov T_NEXT(%rsi), %rax
	mov %rax, %gs:PC_RQ_HEAD
	mov %rsi, %gs:PC_CURRENT
	lea KSTACK_SIZE(%rsi), %rax	/* its kernel stack: the task struct sits at the bottom */
	mov %rax, %gs:PC_TSS_RSP0
	mov T_KSP(%rsi), %rsp
/* First instruction of a task switched back in: switch_to's frame. */
	.globl task_resume
task_resume:
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret
to_idle:
	mov %gs:PC_IDLE, %rsi
	mov %rsi, %gs:PC_CURRENT
	mov %gs:PC_IDLE_SP, %rsp
	jmp idle_loop
ve_unsave:
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	add $8, %rsp
	RESTORE_CALLER
	jmp VE_STUB
ve_resume_user:
	RESTORE_CALLER
	swapgs
	iretq
ve_resume_kernel:
	RESTORE_CALLER
	iretq

#define MSR_ASYNC_PF_ACK 0x4b564d07	/* DZ_MSR_KVM_ASYNC_PF_ACK without its C suffix */

/* Page ready (vector DZ_VEC_PAGE_READY, IF was 1). RAX RCX RDX saved. */
.macro PAGE_READY_BODY slow
	mov %gs:PC_APF_TOKEN, %eax
	movl $0, %gs:PC_APF_TOKEN	/* the host may write the next one (after the ACK) */
	mov %eax, %ecx
	and $(DZ_MAX_TOKENS - 1), %ecx
	mov %gs:PC_WAITERS(,%rcx,8), %rdx
	test %rdx, %rdx
	jz 1f
	cmp T_TOKEN(%rdx), %rax
	jne 1f
	movq $0, %gs:PC_WAITERS(,%rcx,8)
	movl $TASK_READY, T_STATE(%rdx)
	movq $0, T_NEXT(%rdx)
	cmpq $0, %gs:PC_RQ_HEAD
	je 2f
	mov %gs:PC_RQ_TAIL, %rcx
	mov %rdx, T_NEXT(%rcx)
	jmp 3f
2:	mov %rdx, %gs:PC_RQ_HEAD
3:	mov %rdx, %gs:PC_RQ_TAIL
	jmp 4f
1:	cmp $0xffffffff, %eax		/* wake all (no sleeper has that token): C */
	je \slow
	bts %rcx, %gs:PC_READY_EARLY	/* before its sleeper: remembered (Linux's dummy wake) */
4:	mov $MSR_ASYNC_PF_ACK, %ecx
	mov $1, %eax
	xor %edx, %edx
	wrmsr
.endm

	.globl irq_entry_page_ready
irq_entry_page_ready:
	testb $3, 8(%rsp)
	jz pr_kernel
	swapgs
	push %rax
	push %rcx
	push %rdx
	PAGE_READY_BODY pr_slow_user
	pop %rdx
	pop %rcx
	pop %rax
	swapgs
	iretq
pr_kernel:
	push %rax
	push %rcx
	push %rdx
	PAGE_READY_BODY pr_slow_kernel
	cmpq $idle_woken, 24(%rsp)	/* interrupted idle's hlt: run the woken task now */
	je 1f
	pop %rdx
	pop %rcx
	pop %rax
	iretq
1:	movq $idle_switch, 24(%rsp)	/* idle keeps no registers */
	add $24, %rsp
	iretq
pr_slow_user:
	movl $0xffffffff, %gs:PC_APF_TOKEN /* the C path reads it again */
	pop %rdx
	pop %rcx
	pop %rax
	swapgs
	jmp irq_entry_page_ready_slow
pr_slow_kernel:
	movl $0xffffffff, %gs:PC_APF_TOKEN
	pop %rdx
	pop %rcx
	pop %rax
	jmp irq_entry_page_ready_slow

/* switch_to_idle(prev): prev stops (callee-saved registers on its stack, like
 * switch_to), idle restarts its loop on an empty stack. */
	.globl switch_to_idle
switch_to_idle:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, T_KSP(%rdi)
	jmp to_idle

/* The idle loop (IF = 0 except in sti;hlt, which is atomic: no wakeup is lost). */
	.globl idle_enter
idle_enter:
	mov %gs:PC_IDLE_SP, %rsp
idle_loop:
	cli
	cmpq $0, %gs:PC_RQ_HEAD
	jne 1f
	sti
	hlt
idle_woken:
	jmp idle_loop
idle_switch:				/* page-ready woke a task while idle (irq_entry_page_ready) */
	cli
	jmp pick_next
1:	call schedule
	jmp idle_loop

/* ---- timer tick (vector 32): 8 instructions from ring 3 when no other task is ready ---- */
	.globl timer_entry
timer_entry:
	testb $3, 8(%rsp)
	jz timer_kernel
	swapgs
	incq %gs:PC_TICKS
	cmpq $0, %gs:PC_RQ_HEAD
	jne timer_preempt
	swapgs
	iretq
timer_kernel:				/* ring 0 is never preempted by the tick: flag it */
	incq %gs:PC_TICKS
	cmpq $0, %gs:PC_RQ_HEAD
	je 1f
	movl $1, %gs:PC_NEED_RESCHED
1:	iretq
timer_preempt:				/* ring 3, another task is ready: round robin */
	pushq $0
	pushq $DZ_VEC_TIMER
	SAVE_CALLER
	call preempt_tick
	RESTORE_CALLER
	add $16, %rsp
	swapgs
	iretq

/* ---- other interrupts (IPI, page ready): C with interrupt depth; a task
 * they woke runs at once when the interrupt came from ring 3 ---- */
	.globl irq_entry_ipi, irq_entry_page_ready_slow
irq_entry_ipi:
	pushq $0
	pushq $DZ_VEC_IPI
	jmp irq_common
irq_entry_page_ready_slow:		/* wake-all, KVM's own APF (in-kernel LAPIC) */
	pushq $0
	pushq $DZ_VEC_PAGE_READY
irq_common:
	testb $3, 24(%rsp)
	jz 1f
	swapgs
1:	SAVE_CALLER
	incl %gs:PC_IRQ_DEPTH
	mov %rsp, %rdi
	call irq_dispatch
	decl %gs:PC_IRQ_DEPTH
	testb $3, F_CS(%rsp)		/* back to ring 3 and a task was woken (page ready, */
	jz 3f				/* barrier): let it run now, not at the next tick */
	cmpl $0, %gs:PC_NEED_RESCHED
	je 3f
	call preempt_tick
3:	RESTORE_CALLER
	testb $3, 24(%rsp)
	jz 2f
	swapgs
2:	add $16, %rsp
	iretq

/* ---- in-kernel LAPIC mode (DZ_BOOT_F_LAPIC): EOI, then the usual entry ---- */
.macro LAPIC_STUB name, target
	.globl \name
\name:
	push %rax
	push %rcx
	push %rdx
	mov $0x80b, %ecx		/* x2APIC EOI */
	xor %eax, %eax
	xor %edx, %edx
	wrmsr
	pop %rdx
	pop %rcx
	pop %rax
	jmp \target
.endm
	LAPIC_STUB lapic_timer_entry, timer_entry
	LAPIC_STUB lapic_ipi_entry, irq_entry_ipi
	LAPIC_STUB lapic_page_ready_entry, irq_entry_page_ready_slow
	.globl spurious_entry
spurious_entry:
	iretq

/* ---- system call: int $4 from ring 3, RAX = nr, RDI/RSI/RDX = args ----
 * Returns in RAX; RCX RDX RSI RDI R8-R11 are clobbered (the user wrapper says
 * so), so nothing is saved here: 7 instructions around do_syscall. */
	.globl syscall_entry
syscall_entry:
	swapgs
	push %rax			/* keeps the C call 16-byte aligned */
	mov %rax, %rcx
	call do_syscall
	add $8, %rsp
	swapgs
	iretq

/* ---- switch_to(prev, next): callee-saved registers stay on prev's stack ---- */
	.globl switch_to
switch_to:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, T_KSP(%rdi)
	mov T_KSP(%rsi), %rsp
	mov %rsi, %gs:PC_CURRENT
	mov T_KSTACK_TOP(%rsi), %rax
	mov %rax, %gs:PC_TSS_RSP0
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret

/* First run of a ring-3 task: switch_to returns here with R12 = its argument
 * and the initial iret frame above. */
	.globl start_user
start_user:
	mov %r12, %rdi
	swapgs
	iretq

/* First run of a kernel thread: R13 = function, R12 = argument. */
	.globl start_kthread
start_kthread:
	mov %r12, %rdi
	sti
	call *%r13
	call task_exit

/* load_gdt_tss(gdt, limit): load this CPU's GDT, reload segments, load TR. */
	.globl load_gdt_tss
load_gdt_tss:
	sub $16, %rsp
	mov %si, (%rsp)
	mov %rdi, 2(%rsp)
	lgdt (%rsp)
	add $16, %rsp
	mov $KERNEL_DS, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	pushq $KERNEL_CS
	lea 1f(%rip), %rax
	push %rax
	lretq
1:	mov $TSS_SEL, %eax
	ltr %ax
	ret

	.section .note.GNU-stack, "", @progbits
