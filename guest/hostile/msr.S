/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hostile test mode's MSR accessors: a #GP from wrmsr/rdmsr is caught
 * (hx_gp, installed on vector 13 by hostile.c) and turned into a return value,
 * so the guest can probe which writes the VMM refuses.
 *
 *   int hx_wrmsr(u32 msr, u64 val)    0, or -1 if the write raised #GP
 *   int hx_rdmsr(u32 msr, u64 *val)   0, or -1 if the read raised #GP
 */
	.text
	.globl hx_wrmsr
hx_wrmsr:
	mov %edi, %ecx
	mov %rsi, %rax
	mov %rsi, %rdx
	shr $32, %rdx
hx_wrmsr_insn:
	wrmsr
	xor %eax, %eax
	ret

	.globl hx_rdmsr
hx_rdmsr:
	mov %edi, %ecx
hx_rdmsr_insn:
	rdmsr
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, (%rsi)
	xor %eax, %eax
	ret

hx_msr_faulted:
	incq hx_gp_count(%rip)
	mov $-1, %eax
	ret

/* #GP entry (ring 0 only here: the hostile mode never leaves ring 0). Stack:
 * error code, RIP, CS, RFLAGS, RSP, SS. A #GP on one of the two MSR
 * instructions resumes at hx_msr_faulted; anything else goes to the kernel's
 * own handler (hx_gp_orig), which dies with the usual report. */
	.globl hx_gp
hx_gp:
	push %rax
	mov 16(%rsp), %rax
	cmp $hx_wrmsr_insn, %rax
	je 1f
	cmp $hx_rdmsr_insn, %rax
	je 1f
	pop %rax
	jmp *hx_gp_orig(%rip)
1:	movq $hx_msr_faulted, 16(%rsp)
	pop %rax
	add $8, %rsp			/* drop the error code */
	iretq

	.data
	.globl hx_gp_orig, hx_gp_count
	.balign 8
hx_gp_orig:	.quad 0
hx_gp_count:	.quad 0

	.section .note.GNU-stack, "", @progbits
