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

/* ---- timer tick (vector 32): 8 instructions from ring 3 when no other task is ready ---- */
	.globl timer_entry
timer_entry:
	testb $3, 8(%rsp)
	jz timer_kernel
	swapgs
	incq %gs:PC_TICKS
	cmpl $0, %gs:PC_NR_READY
	jne timer_preempt
	swapgs
	iretq
timer_kernel:				/* ring 0 is never preempted by the tick: flag it */
	incq %gs:PC_TICKS
	cmpl $0, %gs:PC_NR_READY
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
	.globl irq_entry_ipi, irq_entry_page_ready
irq_entry_ipi:
	pushq $0
	pushq $DZ_VEC_IPI
	jmp irq_common
irq_entry_page_ready:
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
	LAPIC_STUB lapic_page_ready_entry, irq_entry_page_ready
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
	mov %gs:PC_TSS_RSP0, %rdx
	mov %rax, (%rdx)
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
