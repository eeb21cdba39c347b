/* SPDX-License-Identifier: GPL-2.0 */
/*
 * apf_copy_record(dst, src): eight word moves, each load listed in the
 * exception table so a lost page returns -EFAULT instead of a panic.
 */
	.text
	.globl apf_copy_record
apf_copy_record:
.irp i, 0,1,2,3,4,5,6,7
1:	mov \i*8(%rsi), %rax
	mov %rax, \i*8(%rdi)
	.pushsection apf_extable, "a"
	.balign 8
	.quad 1b, 9f
	.popsection
.endr
	xor %eax, %eax
	ret
9:	ret				/* RAX = -EFAULT, set by the #VE handler */

	.section .note.GNU-stack, "", @progbits
