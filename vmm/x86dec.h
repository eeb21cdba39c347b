/* SPDX-License-Identifier: GPL-2.0 */
/*
 * x86-64 memory-operand decoder: which linear addresses does the instruction
 * at RIP touch? The asynchronous path uses it to fill the GVA of the #VE
 * information area: KVM tells the VMM the guest-physical page of a fault,
 * never its linear address, so the VMM decodes the faulting instruction,
 * computes the linear address of each of its memory accesses from the
 * registers, and keeps one only if the guest's page tables map it to the
 * faulting page (dz_x86_fault_gva).
 *
 * 64-bit mode only. What is decoded: legacy prefixes (66, 67, F0, F2, F3, the
 * segment overrides; FS/GS add their base, CS/DS/ES/SS are null), REX, the
 * one-byte, 0F, 0F 38 and 0F 3A maps (general-purpose, SSE and the common
 * SSE2-4 forms), VEX (AVX/AVX2 loads, stores and arithmetic, BMI), ModRM/SIB
 * with disp8/disp32, RIP-relative, moffs, and the implicit operands: the stack
 * (push, pop, call, ret, pushf, popf, leave), the string instructions
 * (RSI/RDI, REP with a zero count, the direction flag), xlat and bt with a
 * register bit offset. Anything else is -ENOTSUP: the decoder never guesses.
 */
#ifndef DZ_VMM_X86DEC_H
#define DZ_VMM_X86DEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DZ_X86_MAX_INSN	  15 /* architectural limit on the length of an instruction */
#define DZ_X86_MAX_ACCESS 2

/* General-purpose registers in encoding order (ModRM/SIB/REX numbering). */
enum {
	DZ_X86_RAX,
	DZ_X86_RCX,
	DZ_X86_RDX,
	DZ_X86_RBX,
	DZ_X86_RSP,
	DZ_X86_RBP,
	DZ_X86_RSI,
	DZ_X86_RDI,
	DZ_X86_R8,
	DZ_X86_R15 = 15,
};

#define DZ_X86_RFLAGS_DF (1ULL << 10)

struct dz_x86_regs {
	uint64_t gpr[16]; /* DZ_X86_RAX.. in encoding order */
	uint64_t rip;	  /* of the instruction (not used for decoding, for RIP-relative) */
	uint64_t rflags;
	uint64_t fs_base, gs_base; /* CS/DS/ES/SS have base 0 in 64-bit mode */
};

struct dz_x86_access {
	uint64_t gva;  /* linear address of the first byte */
	uint32_t size; /* bytes */
	bool write;
	/*
	 * A forward REP string instruction: the bytes the remaining iterations
	 * touch from gva on (size * count). Fast-string microcode may fault
	 * ahead of the element RSI/RDI name; dz_x86_fault_gva looks there only
	 * if the current element does not touch the faulting page. 0 otherwise.
	 */
	uint64_t span;
};

struct dz_x86_insn {
	uint8_t len; /* bytes of the instruction */
	uint8_t nr;  /* memory accesses, in the order the processor makes them */
	struct dz_x86_access acc[DZ_X86_MAX_ACCESS];
};

/*
 * Decodes the instruction in code[0 .. avail) with the register state r.
 * Returns 0 and fills out (nr may be 0: the instruction touches no data
 * memory, or a REP string instruction with a zero count), or
 *	-ENODATA  the bytes end before the instruction does (fetch more),
 *	-EINVAL   not a valid 64-bit instruction (too long, invalid opcode),
 *	-ENOTSUP  valid, but a form this decoder does not handle.
 * Never reads code[avail] or beyond.
 */
int dz_x86_decode(const uint8_t *code, size_t avail, const struct dz_x86_regs *r,
		  struct dz_x86_insn *out);

/* Linear -> guest-physical translation of the page holding gva (0 or < 0). */
typedef int (*dz_x86_xlate_fn)(void *opaque, uint64_t gva, uint64_t *gpa);

/*
 * Picks the linear address of the access that faulted on guest-physical
 * fault_gpa (exact: fault_gpa is the faulting byte; else only its page is
 * known) and VERIFIES it through xlate. The rule:
 *  - accesses are tried in the order the processor makes them; an access
 *    [gva, gva + size) is a candidate if one of its ends lies on a linear
 *    page that xlate maps to fault_gpa's page;
 *  - the result is the lowest byte of the access on that page (the access
 *    itself if it starts there, else the first byte of the page it crosses
 *    into), which is what the processor reports in CR2 for a #PF;
 *  - exact: the access must also cover fault_gpa's offset in the page, and
 *    the result is the linear address of exactly that byte;
 *  - a forward REP string access whose current element misses the page: the
 *    first page of its span (at most 16 pages) that maps to it, from its
 *    first byte there.
 * Returns 0 and *gva, or -ENOENT if no access maps to the page (or xlate
 * failed for all of them).
 */
int dz_x86_fault_gva(const struct dz_x86_insn *in, dz_x86_xlate_fn xlate, void *opaque,
		     uint64_t fault_gpa, bool exact, uint64_t *gva);

#endif
