/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hostile test mode's MSR accessors: a #GP from wrmsr/rdmsr is caught
 * (hx_gp, installed on vector 13 by hostile.c) and turned into a return value,
 * so the guest can probe which writes the VMM refuses.
 *
 *   int hx_wrmsr(u32 msr, u64 val)    0, or -1 if the write raised #GP
 *   int hx_rdmsr(u32 msr, u64 *val)   0, or -1 if the read raised #GP
 */
	.set HX_LOG, 1024		/* entries in hx_ve_log / hx_pr_log (hostile.c: HX_LOG) */

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

/* #VE (vector 20, no error code), ring 0 only. A hostile handler: it never
 * sleeps, it records the first 24 bytes of the #VE area (reason, busy, token,
 * gpa) in hx_ve_log and returns to the faulting access at once. It clears busy
 * (re-arms) only when hx_ve_rearm is set. */
	.globl hx_ve
hx_ve:
	push %rax
	push %rcx
	push %rdx
	mov hx_ve_area(%rip), %rcx
	mov hx_ve_n(%rip), %rax
	cmp $HX_LOG, %rax
	jae 1f
	imul $24, %rax, %rax
	lea hx_ve_log(%rip), %rdx
	add %rax, %rdx
	mov (%rcx), %rax
	mov %rax, (%rdx)
	mov 8(%rcx), %rax
	mov %rax, 8(%rdx)
	mov 16(%rcx), %rax
	mov %rax, 16(%rdx)
1:	incq hx_ve_n(%rip)
	cmpq $0, hx_ve_rearm(%rip)
	je 2f
	movl $0, 4(%rcx)		/* busy = 0 */
2:	pop %rdx
	pop %rcx
	pop %rax
	iretq

/* #PF (vector 14, error code) in the Linux-compatible mode: page-not-present
 * when the APF area's flags say so (CR2 = token), recorded in hx_ve_log like a
 * #VE (gpa 0); any other #PF goes to the kernel's handler (hx_pf_orig). */
	.globl hx_pf
hx_pf:
	push %rax
	push %rcx
	push %rdx
	mov hx_apf_area(%rip), %rcx
	test %rcx, %rcx
	jz 3f
	cmpl $1, (%rcx)
	jne 3f
	mov hx_ve_n(%rip), %rax
	cmp $HX_LOG, %rax
	jae 1f
	imul $24, %rax, %rax
	lea hx_ve_log(%rip), %rdx
	add %rax, %rdx
	movl $1, (%rdx)
	movl $0xffffffff, 4(%rdx)
	mov %cr2, %rax
	mov %rax, 8(%rdx)
	movq $0, 16(%rdx)
1:	incq hx_ve_n(%rip)
	incq hx_pf_n(%rip)
	cmpq $0, hx_ve_rearm(%rip)
	je 2f
	movl $0, (%rcx)			/* flags = 0: re-armed */
2:	pop %rdx
	pop %rcx
	pop %rax
	add $8, %rsp			/* drop the error code */
	iretq
3:	pop %rdx
	pop %rcx
	pop %rax
	jmp *hx_pf_orig(%rip)

/* Page ready (vector 34): record the token, clear it, ACK. */
	.globl hx_pr
hx_pr:
	push %rax
	push %rcx
	push %rdx
	mov hx_apf_area(%rip), %rcx
	mov 4(%rcx), %eax
	mov hx_pr_n(%rip), %rdx
	cmp $HX_LOG, %rdx
	jae 1f
	push %rsi
	lea hx_pr_log(%rip), %rsi
	mov %eax, (%rsi,%rdx,4)
	pop %rsi
1:	incq hx_pr_n(%rip)
	movl $0, 4(%rcx)		/* token = 0: the area is free for the next one */
	mov $0x445a0003, %ecx		/* DZ_MSR_PAGE_READY_ACK */
	mov $1, %eax
	xor %edx, %edx
	wrmsr
	pop %rdx
	pop %rcx
	pop %rax
	iretq

	.bss
	.globl hx_ve_log, hx_pr_log
	.balign 64
hx_ve_log:	.skip 24 * HX_LOG
hx_pr_log:	.skip 4 * HX_LOG

	.data
	.globl hx_ve_area, hx_apf_area, hx_ve_n, hx_pr_n, hx_ve_rearm, hx_pf_n, hx_pf_orig
	.balign 8
hx_pf_n:	.quad 0
hx_pf_orig:	.quad 0
hx_ve_area:	.quad 0
hx_apf_area:	.quad 0
hx_ve_n:	.quad 0
hx_pr_n:	.quad 0
hx_ve_rearm:	.quad 0
	.globl hx_gp_orig, hx_gp_count
	.balign 8
hx_gp_orig:	.quad 0
hx_gp_count:	.quad 0

	.section .note.GNU-stack, "", @progbits
