/* SPDX-License-Identifier: GPL-2.0 */
/* The reference predicate (guest/pred/pred.bpf.c, an ELF object from clang
 * -target bpf), embedded in the guest image for DZ_MSR_PRED registration. */
	.section .rodata.dz_pred, "a"
	.balign 8
	.globl dz_pred_obj, dz_pred_obj_end
dz_pred_obj:
	.incbin DZ_PRED_OBJ
dz_pred_obj_end:

	.section .note.GNU-stack, "", @progbits
