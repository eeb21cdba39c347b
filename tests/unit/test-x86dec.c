// SPDX-License-Identifier: GPL-2.0
/*
 * The x86-64 memory-operand decoder (vmm/x86dec.c) against the processor.
 *
 * Each instruction form below is assembled into this test (top-level asm) and
 * run natively with registers chosen so that its memory operand reaches a
 * PROT_NONE page. The SIGSEGV handler takes the processor's own register
 * state at the fault (ucontext) and its fault address (si_addr, i.e. CR2);
 * the decoder gets the same bytes and registers, and dz_x86_fault_gva must
 * name exactly si_addr. So the oracle is the CPU, not a second decoder.
 *
 * Then: every truncation of every form asks for more bytes, random byte
 * streams never crash the decoder (run it under ASan: make check-asan), the
 * forms it does not decode say -ENOTSUP, and the verification rule picks the
 * right access through a translation that is not the identity.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include <asm/prctl.h>
#include <cpuid.h>

#include "tap.h"
#include "../../vmm/x86dec.h"

/* ---- native machinery ------------------------------------------------------------------ */

/* Three pages in .bss (RIP-relative cases reach them): rw, PROT_NONE, rw. */
__asm__(".bss\n"
	".balign 4096\n"
	".globl x86dec_area\n"
	"x86dec_area: .zero 3 * 4096\n"
	".text\n"
	/* x86dec_run(struct run *): load every register and RFLAGS, jump to x86dec_target */
	".globl x86dec_run\n"
	".type x86dec_run, @function\n"
	"x86dec_run:\n"
	"	pushq 128(%rdi)\n"
	"	popfq\n"
	"	mov 0(%rdi), %rax\n"
	"	mov 8(%rdi), %rcx\n"
	"	mov 16(%rdi), %rdx\n"
	"	mov 24(%rdi), %rbx\n"
	"	mov 40(%rdi), %rbp\n"
	"	mov 48(%rdi), %rsi\n"
	"	mov 64(%rdi), %r8\n"
	"	mov 72(%rdi), %r9\n"
	"	mov 80(%rdi), %r10\n"
	"	mov 88(%rdi), %r11\n"
	"	mov 96(%rdi), %r12\n"
	"	mov 104(%rdi), %r13\n"
	"	mov 112(%rdi), %r14\n"
	"	mov 120(%rdi), %r15\n"
	"	mov 32(%rdi), %rsp\n"
	"	mov 56(%rdi), %rdi\n"
	"	jmp *x86dec_target(%rip)\n");

extern uint8_t x86dec_area[];
void x86dec_run(void *regs);
void *x86dec_target;

/* one form per line: */
/* clang-format off */
/* One instruction under test: NAME .. NAME_end, then ud2 (reached only if it did not fault). */
#define INSN(name, text)                                                                       \
	extern const uint8_t name[], name##_end[];                                             \
	__asm__(".pushsection .text.x86dec, \"ax\"\n" #name ":\n\t" text "\n" #name "_end:\n\t" \
		"ud2\n.popsection\n")

/* where a register's initial value points */
enum base { B_NONE, B_ABS, B_HA, B_HG, B_HB, B_LA, B_LG, B_FS, B_LGHI };
enum { F_AVX = 1, F_AVX2 = 2, F_FMA = 4, F_BMI1 = 8, F_BMI2 = 16, F_MOVBE = 32, F_SSE42 = 64, F_LOW = 128, F_IO = 256 };
#define DF 16 /* pseudo register: RFLAGS.DF */

struct init {
	int8_t reg;
	uint8_t base;
	int64_t off;
};

struct tcase {
	const char *name;
	const uint8_t *start, *end;
	unsigned int need;
	struct init in[6];
};

#define R(r, b, o) {DZ_X86_##r, B_##b, (int64_t)(o)}
#define SETDF	   {DF, B_ABS, 1}
#define C(n, need, ...) {#n, n, n##_end, need, {__VA_ARGS__}}

/* three pages mapped here: the 67 and moffs forms need low addresses */
#define LOW_BASE 0x10000000ULL

/* ---- the instruction forms -------------------------------------------------------------- */

/* ModRM: mod 0/1/2, SIB with and without base/index, every scale, REX.B/X/R */
INSN(m_load, "mov (%rax), %ecx");
INSN(m_store, "mov %ecx, (%rax)");
INSN(m_disp8, "mov 0x7f(%rbx), %ecx");
INSN(m_disp8neg, "mov -0x80(%rbx), %ecx");
INSN(m_disp32, "mov 0x12345(%rsi), %rcx");
INSN(m_disp32neg16, "mov -0x12345(%rdi), %cx");
INSN(m_sib1, "movb (%rcx,%rdx,1), %al");
INSN(m_sib2, "mov 8(%rax,%rbx,2), %ecx");
INSN(m_sib4, "mov -4(%rax,%rbx,4), %ecx");
INSN(m_sib8, "mov 0x100(%rax,%rbx,8), %rcx");
INSN(m_nobase, "mov 0x100(,%r9,4), %eax");
INSN(m_rsp, "mov (%rsp), %eax");
INSN(m_rspidx, "mov 16(%rsp,%rcx,2), %eax");
INSN(m_rbp, "mov 8(%rbp), %eax");
INSN(m_riz, ".byte 0x8b, 0x0c, 0xa0 /* mov (%rax,%riz,4), %ecx: SIB index 100 */");
INSN(m_r12, "mov (%r12), %eax");
INSN(m_r13, "mov (%r13), %eax");
INSN(m_r12idx, "mov 4(%rax,%r12,8), %r11");
INSN(m_r15r14, "mov -8(%r15,%r14,2), %r10d");
INSN(m_cross, "mov (%rax), %rcx");
INSN(m_cross_store, "mov %ecx, (%rax)");
INSN(m_nullseg, ".byte 0x3e\n\tmov (%rax), %ecx");
/* ALU, groups, read-modify-write */
INSN(a_add81, "addl $0x12345678, 8(%rax)");
INSN(a_cmp66, "cmpw $0x1234, (%rax)");
INSN(a_add83, "addq $-1, (%rax)");
INSN(a_or80, "orb $1, (%rax)");
INSN(a_adc, "adc %rcx, (%rax)");
INSN(a_sub_load, "sub (%rax), %edx");
INSN(a_lockinc, "lock incl (%rax)");
INSN(a_decb, "decb (%rax)");
INSN(a_not, "notq (%rax)");
INSN(a_neg, "negb (%rax)");
INSN(a_mul, "mulq (%rax)");
INSN(a_testf7, "testl $0x11223344, (%rax)");
INSN(a_testf6, "testb $1, (%rax)");
INSN(a_test85, "test %ecx, (%rax)");
INSN(a_xchg, "xchg %eax, (%rbx)");
INSN(a_cmpxchg, "lock cmpxchg %ecx, (%rbx)");
INSN(a_xadd, "xadd %rcx, (%rbx)");
INSN(a_cx16, "lock cmpxchg16b (%rbx)");
INSN(a_cx8, "cmpxchg8b (%rbx)");
INSN(a_movzx, "movzbl (%rax), %ecx");
INSN(a_movsxw, "movswq (%rax), %rcx");
INSN(a_movsxd, "movslq (%rax), %rcx");
INSN(a_cmov, "cmovne (%rax), %rcx");
INSN(a_setcc, "sete (%rax)");
INSN(a_shl, "shll $3, (%rax)");
INSN(a_sar1, "sarq (%rax)");
INSN(a_rolcl, "rolw %cl, (%rax)");
INSN(a_shld, "shldl $3, %ecx, (%rax)");
INSN(a_shrd, "shrd %cl, %rcx, (%rax)");
INSN(a_imul6b, "imul $7, (%rax), %ecx");
INSN(a_imul69, "imul $300, (%rax), %ecx");
INSN(a_imul0f, "imul (%rax), %rcx");
INSN(a_popcnt, "popcnt (%rax), %rcx");
INSN(a_bsf, "bsf (%rax), %ecx");
INSN(a_tzcnt, "tzcnt (%rax), %rcx");
INSN(a_movbe, "movbe (%rax), %ecx");
INSN(a_movbe_st, "movbe %rcx, (%rax)");
INSN(a_crc32b, "crc32b (%rax), %ecx");
INSN(a_crc32q, "crc32q (%rax), %rcx");
INSN(a_movnti, "movnti %rcx, (%rax)");
INSN(a_movsreg, "mov %ds, (%rax)");
INSN(a_movimm, "movq $-2, 8(%rax)");
INSN(a_movimmb, "movb $7, (%rax)");
/* RIP-relative, with immediates after the displacement */
INSN(r_load, "mov x86dec_area + 4096 + 40(%rip), %eax");
INSN(r_cmpl, "cmpl $0x12345678, x86dec_area + 4096 + 40(%rip)");
INSN(r_movb, "movb $1, x86dec_area + 4096(%rip)");
INSN(r_cmpw, "cmpw $0x1234, x86dec_area + 4096 + 2(%rip)");
INSN(r_addq, "addq $8, x86dec_area + 4096 + 8(%rip)");
INSN(r_testl, "testl $0x11223344, x86dec_area + 4096 + 16(%rip)");
INSN(r_pextrb, "pextrb $3, %xmm0, x86dec_area + 4096 + 9(%rip)");
INSN(r_shld, "shldl $3, %eax, x86dec_area + 4096 + 12(%rip)");
INSN(r_cross, "movq x86dec_area + 4096 - 4(%rip), %rax");
INSN(r_vex, "vmovdqu x86dec_area + 4096 + 32(%rip), %ymm0");
INSN(r_vpextrb, "vpextrb $1, %xmm0, x86dec_area + 4096 + 7(%rip)");
/* address size 67: 32-bit effective addresses (the registers carry junk above) */
INSN(s_a32, "mov (%eax), %ecx");
INSN(s_a32sib, "mov 0x10(%ebx,%ecx,4), %edx");
INSN(s_a32gs, "mov %gs:(%eax), %ecx");
INSN(s_a32lods, "addr32 lodsb");
INSN(s_a32stos, "addr32 stosq");
INSN(s_a32xlat, "addr32 xlat");
INSN(s_a32push, ".byte 0x67\n\tpush %rax");
INSN(s_moffs32, ".byte 0x67, 0xa0\n\t.long 0x10001010");
INSN(s_moffs64, "movabs 0x10001010, %al");
INSN(s_moffs_st, "movabs %eax, 0x10000ffe");
/* segment overrides */
INSN(g_fs, "mov %fs:8(%rax), %ecx");
INSN(g_gsabs, "mov %gs:0x100, %eax");
INSN(g_gsmovs, "movsb %gs:(%rsi), %es:(%rdi)");
INSN(g_gsstore, "mov %rcx, %gs:0x100(%rax,%rbx,8)");
/* the stack */
INSN(k_push, "push %rax");
INSN(k_push12, "push %r12");
INSN(k_pushw, "pushw %ax");
INSN(k_pop, "pop %rcx");
INSN(k_pushimm, "push $0x12345678");
INSN(k_pushimm8, "push $1");
INSN(k_pushf, "pushf");
INSN(k_popf, "popf");
INSN(k_call, "call .+5");
INSN(k_ret, "ret");
INSN(k_retimm, "ret $16");
INSN(k_callm, "call *(%rax)");
INSN(k_callr, "call *%rax");
INSN(k_jmpm, "jmp *8(%rax)");
INSN(k_pushm, "push (%rax)");
INSN(k_popm, "pop (%rax)");
INSN(k_poprsp, "pop 8(%rsp)");
INSN(k_pushrsp, "pushq 8(%rsp)");
INSN(k_leave, "leave");
/* strings */
INSN(t_movsb, "movsb");
INSN(t_movsq, "movsq");
INSN(t_movsl, "movsl");
INSN(t_repmovsb, "rep movsb");
INSN(t_repmovsq, "rep movsq");
INSN(t_repstosb, "rep stosb");
INSN(t_repstosq, "rep stosq");
INSN(t_lodsw, "lodsw");
INSN(t_scasl, "scasl");
INSN(t_cmpsb, "cmpsb");
INSN(t_cmpsq, "cmpsq");
INSN(t_repecmpsb, "repe cmpsb");
INSN(t_repnescasb, "repne scasb");
INSN(t_xlat, "xlat");
INSN(t_outsb, "outsb");
INSN(t_gsoutsb, "outsb %gs:(%rsi), (%dx)");
INSN(t_repoutsw, "rep outsw");
INSN(t_insl, "insl");
/* bit tests: the register offset reaches beyond the operand, both ways */
INSN(b_btq, "bt %rcx, (%rax)");
INSN(b_btsl, "bts %ecx, (%rax)");
INSN(b_btrw, "btrw %cx, 2(%rax)");
INSN(b_btcimm, "btcl $35, (%rax)");
/* SSE */
INSN(x_movups, "movups (%rax), %xmm1");
INSN(x_movaps_st, "movaps %xmm1, (%rax)");
INSN(x_movss, "movss (%rax), %xmm1");
INSN(x_movsd_st, "movsd %xmm1, (%rax)");
INSN(x_movlps, "movlps (%rax), %xmm1");
INSN(x_movhpd_st, "movhpd %xmm1, (%rax)");
INSN(x_addps, "addps (%rax), %xmm1");
INSN(x_mulsd, "mulsd (%rax), %xmm1");
INSN(x_ucomiss, "ucomiss (%rax), %xmm1");
INSN(x_cvtss2sd, "cvtss2sd (%rax), %xmm1");
INSN(x_pxor, "pxor (%rax), %xmm1");
INSN(x_paddd_mmx, "paddd (%rax), %mm1");
INSN(x_punpck_mmx, "punpcklbw (%rax), %mm0");
INSN(x_movd, "movd (%rax), %xmm0");
INSN(x_movq_f3, "movq (%rax), %xmm0");
INSN(x_movq_d6, "movq %xmm0, (%rax)");
INSN(x_movd_st, "movd %xmm0, (%rax)");
INSN(x_movdqu, "movdqu (%rax), %xmm0");
INSN(x_movdqa_st, "movdqa %xmm0, (%rax)");
INSN(x_pshufd, "pshufd $1, (%rax), %xmm0");
INSN(x_pshufb, "pshufb (%rax), %xmm0");
INSN(x_pmovzx, "pmovzxbw (%rax), %xmm0");
INSN(x_pextrw, "pextrw $1, %xmm0, (%rax)");
INSN(x_pinsrd, "pinsrd $1, (%rax), %xmm0");
INSN(x_roundsd, "roundsd $1, (%rax), %xmm0");
INSN(x_pcmpistri, "pcmpistri $0, (%rax), %xmm0");
INSN(x_ldmxcsr, "ldmxcsr (%rax)");
INSN(x_stmxcsr, "stmxcsr (%rax)");
INSN(x_shufps, "shufps $1, (%rax), %xmm0");
INSN(x_cmpps, "cmpps $1, (%rax), %xmm0");
INSN(x_movntdq, "movntdq %xmm0, (%rax)");
INSN(x_ext, "movups (%r8,%r9,8), %xmm15");
/* AVX, AVX2, FMA, BMI */
INSN(v_movups, "vmovups (%rax), %ymm0");
INSN(v_movdqu_st, "vmovdqu %ymm0, (%rax)");
INSN(v_addps, "vaddps 8(%rax,%rbx,4), %ymm1, %ymm2");
INSN(v_movss, "vmovss (%rax), %xmm0");
INSN(v_movsd_st, "vmovsd %xmm0, (%rax)");
INSN(v_bcast, "vbroadcastss (%r13), %ymm0");
INSN(v_pbcastd, "vpbroadcastd (%rax), %ymm0");
INSN(v_pxor, "vpxor (%rax), %ymm1, %ymm2");
INSN(v_pshufb, "vpshufb (%rax), %xmm1, %xmm2");
INSN(v_movq, "vmovq (%rax), %xmm0");
INSN(v_movd_st, "vmovd %xmm0, (%rax)");
INSN(v_extract, "vextracti128 $1, %ymm0, (%rax)");
INSN(v_insert, "vinsertf128 $1, (%rax), %ymm0, %ymm1");
INSN(v_pmovzx, "vpmovzxbd (%rax), %ymm0");
INSN(v_fma_ps, "vfmadd231ps (%rax), %ymm1, %ymm2");
INSN(v_fma_sd, "vfmadd231sd (%rax), %xmm1, %xmm2");
INSN(v_ext, "vmovups (%r8,%r9,8), %xmm15");
INSN(v_andn, "andn (%rax), %rcx, %rdx");
INSN(v_shlx, "shlx %rcx, (%rax), %rdx");
INSN(v_bextr, "bextr %ecx, (%rax), %edx");
INSN(v_pdep, "pdep (%rax), %rcx, %rdx");
INSN(v_mulx, "mulx (%rax), %rcx, %rdx");
/* sizes: most start size - 1 bytes before the guard page, so a decoded size
 * too small misses it (aligned 16-byte legacy SSE forms start at the page) */
INSN(z_movddup, "movddup (%rax), %xmm0");
INSN(z_movsldup, "movsldup (%rax), %xmm0");
INSN(z_movshdup, "movshdup (%rax), %xmm0");
INSN(z_movhps, "movhps (%rax), %xmm0");
INSN(z_movlps_st, "movlps %xmm0, (%rax)");
INSN(z_unpckhpd, "unpckhpd (%rax), %xmm0");
INSN(z_andnps, "andnps (%rax), %xmm0");
INSN(z_movntps, "movntps %xmm0, (%rax)");
INSN(z_ucomisd, "ucomisd (%rax), %xmm0");
INSN(z_comiss, "comiss (%rax), %xmm0");
INSN(z_sqrtss, "sqrtss (%rax), %xmm0");
INSN(z_rcpss, "rcpss (%rax), %xmm0");
INSN(z_rsqrtps, "rsqrtps (%rax), %xmm0");
INSN(z_cvtps2pd, "cvtps2pd (%rax), %xmm0");
INSN(z_cvtpd2ps, "cvtpd2ps (%rax), %xmm0");
INSN(z_cvtsd2ss, "cvtsd2ss (%rax), %xmm0");
INSN(z_cvtdq2ps, "cvtdq2ps (%rax), %xmm0");
INSN(z_cmpss, "cmpss $2, (%rax), %xmm0");
INSN(z_shufpd, "shufpd $1, (%rax), %xmm0");
INSN(z_movq_rexw, "movq (%rax), %xmm0");
INSN(z_movq66_ld, ".byte 0x66, 0x48, 0x0f, 0x6e, 0x00 /* movq (%rax), %xmm0 */");
INSN(z_movq66_st, ".byte 0x66, 0x48, 0x0f, 0x7e, 0x00 /* movq %xmm0, (%rax) */");
INSN(z_pshufw, "pshufw $1, (%rax), %mm0");
INSN(z_movntq, "movntq %mm0, (%rax)");
INSN(z_pcmpeqb_mmx, "pcmpeqb (%rax), %mm0");
INSN(z_punpckhbw_mmx, "punpckhbw (%rax), %mm0");
INSN(z_punpckldq_mmx, "punpckldq (%rax), %mm0");
INSN(z_packsswb_mmx, "packsswb (%rax), %mm0");
INSN(z_pmaddwd, "pmaddwd (%rax), %xmm0");
INSN(z_psubusb, "psubusb (%rax), %xmm0");
INSN(z_punpcklqdq, "punpcklqdq (%rax), %xmm0");
INSN(z_pmovsxbq, "pmovsxbq (%rax), %xmm0");
INSN(z_pmovsxbd, "pmovsxbd (%rax), %xmm0");
INSN(z_pmovzxdq, "pmovzxdq (%rax), %xmm0");
INSN(z_ptest, "ptest (%rax), %xmm0");
INSN(z_movntdqa, "movntdqa (%rax), %xmm0");
INSN(z_pminsd, "pminsd (%rax), %xmm0");
INSN(z_phaddw_mmx, "phaddw (%rax), %mm0");
INSN(z_insertps, "insertps $0x10, (%rax), %xmm0");
INSN(z_pinsrb, "pinsrb $1, (%rax), %xmm0");
INSN(z_pinsrq, "pinsrq $1, (%rax), %xmm0");
INSN(z_extractps, "extractps $1, %xmm0, (%rax)");
INSN(z_pextrq, "pextrq $1, %xmm0, (%rax)");
INSN(z_roundss, "roundss $1, (%rax), %xmm0");
INSN(z_blendps, "blendps $1, (%rax), %xmm0");
INSN(z_dpps, "dpps $1, (%rax), %xmm0");
INSN(z_palignr_mmx, "palignr $1, (%rax), %mm0");
INSN(z_pcmpestri, "pcmpestri $0, (%rax), %xmm0");
INSN(z_vmovddup, "vmovddup (%rax), %ymm0");
INSN(z_vmovddup128, "vmovddup (%rax), %xmm0");
INSN(z_vcvtps2pd, "vcvtps2pd (%rax), %ymm0");
INSN(z_vbroadcastsd, "vbroadcastsd (%rax), %ymm0");
INSN(z_vbroadcastf128, "vbroadcastf128 (%rax), %ymm0");
INSN(z_vpbroadcastb, "vpbroadcastb (%rax), %ymm0");
INSN(z_vpbroadcastw, "vpbroadcastw (%rax), %ymm0");
INSN(z_vpbroadcastq, "vpbroadcastq (%rax), %ymm0");
INSN(z_vbroadcasti128, "vbroadcasti128 (%rax), %ymm0");
INSN(z_vpmovsxbq, "vpmovsxbq (%rax), %ymm0");
INSN(z_vpmovzxwd, "vpmovzxwd (%rax), %ymm0");
INSN(z_vpermq, "vpermq $1, (%rax), %ymm0");
INSN(z_vperm2i128, "vperm2i128 $1, (%rax), %ymm1, %ymm0");
INSN(z_vpblendd, "vpblendd $1, (%rax), %ymm1, %ymm0");
INSN(z_vpsllvd, "vpsllvd (%rax), %ymm1, %ymm0");
INSN(z_vpermilps, "vpermilps (%rax), %ymm1, %ymm0");
INSN(z_vpermps, "vpermps (%rax), %ymm1, %ymm0");
INSN(z_vblendvps, "vblendvps %ymm2, (%rax), %ymm1, %ymm0");
INSN(z_vinserti128, "vinserti128 $1, (%rax), %ymm1, %ymm0");
INSN(z_vextractf128, "vextractf128 $1, %ymm0, (%rax)");
INSN(z_vptest, "vptest (%rax), %ymm0");
INSN(z_vpextrq, "vpextrq $1, %xmm0, (%rax)");
INSN(z_vpinsrb, "vpinsrb $1, (%rax), %xmm1, %xmm0");
INSN(z_vroundsd, "vroundsd $1, (%rax), %xmm1, %xmm0");
INSN(z_vmovntdq, "vmovntdq %ymm0, (%rax)");
INSN(z_vcmpps, "vcmpps $1, (%rax), %ymm1, %ymm0");
INSN(z_vshufps, "vshufps $1, (%rax), %ymm1, %ymm0");
INSN(z_vpcmpgtq, "vpcmpgtq (%rax), %ymm1, %ymm0");
INSN(z_vfmadd132ss, "vfmadd132ss (%rax), %xmm1, %xmm0");
INSN(z_vfnmsub231pd, "vfnmsub231pd (%rax), %ymm1, %ymm0");
INSN(z_blsr, "blsr (%rax), %rcx");
INSN(z_bzhi, "bzhi %rdx, (%rax), %rcx");
INSN(z_pext, "pext (%rax), %ecx, %edx");
INSN(z_sarx, "sarx %rdx, (%rax), %rcx");
INSN(z_shrx, "shrx %edx, (%rax), %ecx");
INSN(z_crc32w, "crc32w (%rax), %ecx");
INSN(z_movbe16, "movbe (%rax), %cx");
INSN(z_xaddb, "xadd %cl, (%rax)");
INSN(z_cmpxchgb, "cmpxchg %cl, (%rax)");
INSN(z_btsimm, "btsq $3, (%rax)");
INSN(z_pushwimm, "pushw $1");
INSN(z_popw, "popw %cx");
INSN(z_pushfw, "pushfw");
INSN(z_mulb, "mulb (%rax)");
INSN(z_idivw, "idivw (%rax)");
INSN(z_shrb, "shrb %cl, (%rax)");
INSN(z_rcrl1, "rcrl (%rax)");
INSN(z_movsbw, "movsbw (%rax), %cx");
INSN(z_movzwq, "movzwq (%rax), %rcx");
INSN(z_cmovw, "cmovew (%rax), %cx");
INSN(z_setnz, "setnz (%rax)");
INSN(z_imulw, "imulw $300, (%rax), %cx");
INSN(z_testw, "testw $0x1234, (%rax)");
INSN(z_movsrw, "mov (%rax), %es");
INSN(z_lzcnt, "lzcnt (%rax), %ecx");
INSN(z_popcntw, "popcnt (%rax), %cx");
INSN(z_bsrq, "bsr (%rax), %rcx");
INSN(z_cmpsw, "cmpsw");
INSN(z_movsw_cross, "movsw");

static const struct tcase cases[] = {
	C(m_load, 0, R(RAX, HG, 8)),
	C(m_store, 0, R(RAX, HG, 0)),
	C(m_disp8, 0, R(RBX, HG, -0x7f + 4)),
	C(m_disp8neg, 0, R(RBX, HG, 0x80 + 12)),
	C(m_disp32, 0, R(RSI, HG, -0x12345 + 16)),
	C(m_disp32neg16, 0, R(RDI, HG, 0x12345 + 2)),
	C(m_sib1, 0, R(RCX, HA, 0), R(RDX, ABS, 4096 + 3)),
	C(m_sib2, 0, R(RAX, HG, -8 - 200), R(RBX, ABS, 100)),
	C(m_sib4, 0, R(RAX, HA, 0), R(RBX, ABS, (4096 + 44) / 4)),
	C(m_sib8, 0, R(RAX, HG, -0x100), R(RBX, ABS, 2)),
	C(m_nobase, 0, R(R8 + 1, ABS, 0)), /* set below: r9 = (HG - 0x100) / 4 + 3 */
	C(m_rsp, 0, R(RSP, HG, 24)),
	C(m_rspidx, 0, R(RSP, HG, 0), R(RCX, ABS, 4)),
	C(m_rbp, 0, R(RBP, HG, 0)),
	C(m_riz, 0, R(RAX, HG, 4)),
	C(m_r12, 0, R(R8 + 4, HG, 8)),
	C(m_r13, 0, R(R8 + 5, HG, 16)),
	C(m_r12idx, 0, R(RAX, HG, -4), R(R8 + 4, ABS, 1)),
	C(m_r15r14, 0, R(R15, HG, 0), R(R8 + 6, ABS, 12)),
	C(m_cross, 0, R(RAX, HG, -3)),
	C(m_cross_store, 0, R(RAX, HB, -2)),
	C(m_nullseg, 0, R(RAX, HG, 0)),
	C(a_add81, 0, R(RAX, HG, 0)),
	C(a_cmp66, 0, R(RAX, HG, 6)),
	C(a_add83, 0, R(RAX, HG, 0)),
	C(a_or80, 0, R(RAX, HG, 1)),
	C(a_adc, 0, R(RAX, HG, -4)),
	C(a_sub_load, 0, R(RAX, HG, 0)),
	C(a_lockinc, 0, R(RAX, HG, 4)),
	C(a_decb, 0, R(RAX, HG, 4)),
	C(a_not, 0, R(RAX, HG, 8)),
	C(a_neg, 0, R(RAX, HG, 5)),
	C(a_mul, 0, R(RAX, HG, 16)),
	C(a_testf7, 0, R(RAX, HG, 0)),
	C(a_testf6, 0, R(RAX, HG, 0)),
	C(a_test85, 0, R(RAX, HG, 0)),
	C(a_xchg, 0, R(RBX, HG, 0)),
	C(a_cmpxchg, 0, R(RBX, HG, 0)),
	C(a_xadd, 0, R(RBX, HG, 0)),
	C(a_cx16, 0, R(RBX, HG, 16)),
	C(a_cx8, 0, R(RBX, HG, -4)),
	C(a_movzx, 0, R(RAX, HG, 0)),
	C(a_movsxw, 0, R(RAX, HG, -1)),
	C(a_movsxd, 0, R(RAX, HG, -2)),
	C(a_cmov, 0, R(RAX, HG, 0)),
	C(a_setcc, 0, R(RAX, HG, 0)),
	C(a_shl, 0, R(RAX, HG, 0)),
	C(a_sar1, 0, R(RAX, HG, 0)),
	C(a_rolcl, 0, R(RAX, HG, 0)),
	C(a_shld, 0, R(RAX, HG, 0)),
	C(a_shrd, 0, R(RAX, HG, 0)),
	C(a_imul6b, 0, R(RAX, HG, 0)),
	C(a_imul69, 0, R(RAX, HG, 0)),
	C(a_imul0f, 0, R(RAX, HG, 0)),
	C(a_popcnt, F_SSE42, R(RAX, HG, 0)),
	C(a_bsf, 0, R(RAX, HG, 0)),
	C(a_tzcnt, F_BMI1, R(RAX, HG, 0)),
	C(a_movbe, F_MOVBE, R(RAX, HG, 0)),
	C(a_movbe_st, F_MOVBE, R(RAX, HG, -4)),
	C(a_crc32b, F_SSE42, R(RAX, HG, 0)),
	C(a_crc32q, F_SSE42, R(RAX, HG, 0)),
	C(a_movnti, 0, R(RAX, HG, 0)),
	C(a_movsreg, 0, R(RAX, HG, 0)),
	C(a_movimm, 0, R(RAX, HG, -8)),
	C(a_movimmb, 0, R(RAX, HG, 0)),
	C(r_load, 0),
	C(r_cmpl, 0),
	C(r_movb, 0),
	C(r_cmpw, 0),
	C(r_addq, 0),
	C(r_testl, 0),
	C(r_pextrb, 0),
	C(r_shld, 0),
	C(r_cross, 0),
	C(r_vex, F_AVX),
	C(r_vpextrb, F_AVX),
	C(s_a32, F_LOW, R(RAX, LGHI, 8)),
	C(s_a32sib, F_LOW, R(RBX, ABS, 0x1234fffffff0LL), R(RCX, ABS, 0)), /* rcx set below */
	C(s_a32gs, 0, R(RAX, ABS, 0x777700000100LL)),
	C(s_a32lods, F_LOW, R(RSI, LGHI, 5)),
	C(s_a32stos, F_LOW, R(RDI, LGHI, 8)),
	C(s_a32xlat, F_LOW, R(RBX, LGHI, -10), R(RAX, ABS, 0xabcd14)),
	C(s_a32push, 0, R(RSP, HG, 8)),
	C(s_moffs32, F_LOW),
	C(s_moffs64, F_LOW),
	C(s_moffs_st, F_LOW),
	C(g_fs, 0, R(RAX, FS, 8 - 8)),
	C(g_gsabs, 0),
	C(g_gsmovs, 0, R(RSI, ABS, 0x100), R(RDI, HA, 0)),
	C(g_gsstore, 0, R(RAX, ABS, 16), R(RBX, ABS, 1)),
	C(k_push, 0, R(RSP, HG, 8)),
	C(k_push12, 0, R(RSP, HG, 8)),
	C(k_pushw, 0, R(RSP, HG, 2)),
	C(k_pop, 0, R(RSP, HG, 16)),
	C(k_pushimm, 0, R(RSP, HG, 8)),
	C(k_pushimm8, 0, R(RSP, HG, 16)),
	C(k_pushf, 0, R(RSP, HG, 8)),
	C(k_popf, 0, R(RSP, HG, 0)),
	C(k_call, 0, R(RSP, HG, 8)),
	C(k_ret, 0, R(RSP, HG, 32)),
	C(k_retimm, 0, R(RSP, HG, 32)),
	C(k_callm, 0, R(RAX, HG, 0)),
	C(k_callm, 0, R(RAX, HA, 0), R(RSP, HG, 8)), /* the target is read, the push faults */
	C(k_callr, 0, R(RAX, HA, 0), R(RSP, HG, 8)),
	C(k_jmpm, 0, R(RAX, HG, 0)),
	C(k_pushm, 0, R(RAX, HG, 0)),
	C(k_pushm, 0, R(RAX, HA, 0), R(RSP, HG, 8)),
	C(k_popm, 0, R(RSP, HG, 0)),
	C(k_popm, 0, R(RSP, HA, 16), R(RAX, HG, 8)),
	C(k_poprsp, 0, R(RSP, HG, -16)), /* the address uses RSP after the pop */
	C(k_pushrsp, 0, R(RSP, HG, 8)),
	C(k_leave, 0, R(RBP, HG, 8)),
	C(t_movsb, 0, R(RSI, HA, 10), R(RDI, HG, 3)),
	C(t_movsq, 0, R(RSI, HG, 8), R(RDI, HA, 0)),
	C(t_movsl, 0, SETDF, R(RSI, HA, 0), R(RDI, HG, 4088)),
	C(t_movsq, 0, SETDF, R(RSI, HA, 0), R(RDI, HG, -4)),
	C(t_repmovsb, 0, R(RSI, HA, 0), R(RDI, HG, -100), R(RCX, ABS, 300)),
	C(t_repmovsb, 0, R(RSI, HA, 0), R(RDI, HA, 100), R(RCX, ABS, 5000)),
	C(t_repmovsq, 0, R(RSI, HA, 0), R(RDI, HG, -400), R(RCX, ABS, 100)),
	C(t_repstosb, 0, R(RDI, HA, 100), R(RCX, ABS, 5000)),
	C(t_repstosq, 0, SETDF, R(RDI, HB, 16), R(RCX, ABS, 10)),
	C(t_lodsw, 0, R(RSI, HG, 2)),
	C(t_scasl, 0, R(RDI, HG, 0)),
	C(t_cmpsb, 0, R(RSI, HA, 0), R(RDI, HG, 1)),
	C(t_cmpsq, 0, R(RSI, HG, 0), R(RDI, HA, 0)),
	C(t_repecmpsb, 0, R(RSI, HA, 2048), R(RDI, HA, 0), R(RCX, ABS, 5000)),
	C(t_repnescasb, 0, R(RAX, ABS, 1), R(RDI, HA, 0), R(RCX, ABS, 10000)),
	C(t_xlat, 0, R(RBX, HG, -10), R(RAX, ABS, 0x1234514)),
	/* port 0x80: the POST port Linux itself writes for I/O delays */
	C(t_outsb, F_IO, R(RDX, ABS, 0x80), R(RSI, HG, 5)),
	C(t_gsoutsb, F_IO, R(RDX, ABS, 0x80), R(RSI, ABS, 0x100)),
	C(t_repoutsw, F_IO, R(RDX, ABS, 0x80), R(RSI, HA, 4090), R(RCX, ABS, 10)),
	C(t_insl, F_IO, R(RDX, ABS, 0x80), R(RDI, HG, 8)),
	C(b_btq, 0, R(RAX, HA, 0), R(RCX, ABS, 4096 * 8 + 77)),
	C(b_btsl, 0, R(RAX, HB, 64), R(RCX, ABS, (uint32_t)(-(64 + 4096 - 20) * 8))),
	C(b_btrw, 0, R(RAX, HG, -12), R(RCX, ABS, 8 * 10 + 3)),
	C(b_btcimm, 0, R(RAX, HG, 0)),
	C(x_movups, 0, R(RAX, HG, -8)),
	C(x_movaps_st, 0, R(RAX, HG, 16)),
	C(x_movss, 0, R(RAX, HG, -2)),
	C(x_movsd_st, 0, R(RAX, HG, 0)),
	C(x_movlps, 0, R(RAX, HG, 0)),
	C(x_movhpd_st, 0, R(RAX, HG, -4)),
	C(x_addps, 0, R(RAX, HG, 0)),
	C(x_mulsd, 0, R(RAX, HG, 0)),
	C(x_ucomiss, 0, R(RAX, HG, 0)),
	C(x_cvtss2sd, 0, R(RAX, HG, 0)),
	C(x_pxor, 0, R(RAX, HG, 0)),
	C(x_paddd_mmx, 0, R(RAX, HG, -4)),
	C(x_punpck_mmx, 0, R(RAX, HG, -2)),
	C(x_movd, 0, R(RAX, HG, 0)),
	C(x_movq_f3, 0, R(RAX, HG, -4)),
	C(x_movq_d6, 0, R(RAX, HG, -4)),
	C(x_movd_st, 0, R(RAX, HG, -2)),
	C(x_movdqu, 0, R(RAX, HG, -4)),
	C(x_movdqa_st, 0, R(RAX, HG, 0)),
	C(x_pshufd, 0, R(RAX, HG, 0)),
	C(x_pshufb, 0, R(RAX, HG, 0)),
	C(x_pmovzx, 0, R(RAX, HG, -4)),
	C(x_pextrw, 0, R(RAX, HG, -1)),
	C(x_pinsrd, 0, R(RAX, HG, -2)),
	C(x_roundsd, 0, R(RAX, HG, 0)),
	C(x_pcmpistri, F_SSE42, R(RAX, HG, 0)),
	C(x_ldmxcsr, 0, R(RAX, HG, 0)),
	C(x_stmxcsr, 0, R(RAX, HG, -2)),
	C(x_shufps, 0, R(RAX, HG, 0)),
	C(x_cmpps, 0, R(RAX, HG, 0)),
	C(x_movntdq, 0, R(RAX, HG, 0)),
	C(x_ext, 0, R(R8, HG, -80), R(R8 + 1, ABS, 11)),
	C(v_movups, F_AVX, R(RAX, HG, -16)),
	C(v_movdqu_st, F_AVX, R(RAX, HG, -8)),
	C(v_addps, F_AVX, R(RAX, HG, -8), R(RBX, ABS, 0)),
	C(v_movss, F_AVX, R(RAX, HG, 0)),
	C(v_movsd_st, F_AVX, R(RAX, HG, -4)),
	C(v_bcast, F_AVX, R(R8 + 5, HG, 4)),
	C(v_pbcastd, F_AVX2, R(RAX, HG, 0)),
	C(v_pxor, F_AVX2, R(RAX, HG, -16)),
	C(v_pshufb, F_AVX, R(RAX, HG, 0)),
	C(v_movq, F_AVX, R(RAX, HG, -4)),
	C(v_movd_st, F_AVX, R(RAX, HG, 0)),
	C(v_extract, F_AVX2, R(RAX, HG, -8)),
	C(v_insert, F_AVX, R(RAX, HG, -8)),
	C(v_pmovzx, F_AVX2, R(RAX, HG, -4)),
	C(v_fma_ps, F_FMA, R(RAX, HG, -16)),
	C(v_fma_sd, F_FMA, R(RAX, HG, -4)),
	C(v_ext, F_AVX, R(R8, HG, -80), R(R8 + 1, ABS, 11)),
	C(v_andn, F_BMI1, R(RAX, HG, -4)),
	C(v_shlx, F_BMI2, R(RAX, HG, 0)),
	C(v_bextr, F_BMI1, R(RAX, HG, -2)),
	C(v_pdep, F_BMI2, R(RAX, HG, 0)),
	C(v_mulx, F_BMI2, R(RAX, HG, -4)),
	C(z_movddup, 0, R(RAX, HG, 1 - 8)),
	C(z_movsldup, 0, R(RAX, HG, 0)),
	C(z_movshdup, 0, R(RAX, HG, 0)),
	C(z_movhps, 0, R(RAX, HG, 1 - 8)),
	C(z_movlps_st, 0, R(RAX, HG, 1 - 8)),
	C(z_unpckhpd, 0, R(RAX, HG, 0)),
	C(z_andnps, 0, R(RAX, HG, 0)),
	C(z_movntps, 0, R(RAX, HG, 0)),
	C(z_ucomisd, 0, R(RAX, HG, 1 - 8)),
	C(z_comiss, 0, R(RAX, HG, 1 - 4)),
	C(z_sqrtss, 0, R(RAX, HG, 1 - 4)),
	C(z_rcpss, 0, R(RAX, HG, 1 - 4)),
	C(z_rsqrtps, 0, R(RAX, HG, 0)),
	C(z_cvtps2pd, 0, R(RAX, HG, 1 - 8)),
	C(z_cvtpd2ps, 0, R(RAX, HG, 0)),
	C(z_cvtsd2ss, 0, R(RAX, HG, 1 - 8)),
	C(z_cvtdq2ps, 0, R(RAX, HG, 0)),
	C(z_cmpss, 0, R(RAX, HG, 1 - 4)),
	C(z_shufpd, 0, R(RAX, HG, 0)),
	C(z_movq_rexw, 0, R(RAX, HG, 1 - 8)),
	C(z_movq66_ld, 0, R(RAX, HG, 1 - 8)),
	C(z_movq66_st, 0, R(RAX, HG, 1 - 8)),
	C(z_pshufw, 0, R(RAX, HG, 1 - 8)),
	C(z_movntq, 0, R(RAX, HG, 1 - 8)),
	C(z_pcmpeqb_mmx, 0, R(RAX, HG, 1 - 8)),
	C(z_punpckhbw_mmx, 0, R(RAX, HG, 1 - 8)),
	C(z_punpckldq_mmx, 0, R(RAX, HG, 1 - 4)),
	C(z_packsswb_mmx, 0, R(RAX, HG, 1 - 8)),
	C(z_pmaddwd, 0, R(RAX, HG, 0)),
	C(z_psubusb, 0, R(RAX, HG, 0)),
	C(z_punpcklqdq, 0, R(RAX, HG, 0)),
	C(z_pmovsxbq, 0, R(RAX, HG, 1 - 2)),
	C(z_pmovsxbd, 0, R(RAX, HG, 1 - 4)),
	C(z_pmovzxdq, 0, R(RAX, HG, 1 - 8)),
	C(z_ptest, 0, R(RAX, HG, 0)),
	C(z_movntdqa, 0, R(RAX, HG, 0)),
	C(z_pminsd, 0, R(RAX, HG, 0)),
	C(z_phaddw_mmx, 0, R(RAX, HG, 1 - 8)),
	C(z_insertps, 0, R(RAX, HG, 1 - 4)),
	C(z_pinsrb, 0, R(RAX, HG, 1 - 1)),
	C(z_pinsrq, 0, R(RAX, HG, 1 - 8)),
	C(z_extractps, 0, R(RAX, HG, 1 - 4)),
	C(z_pextrq, 0, R(RAX, HG, 1 - 8)),
	C(z_roundss, 0, R(RAX, HG, 1 - 4)),
	C(z_blendps, 0, R(RAX, HG, 0)),
	C(z_dpps, 0, R(RAX, HG, 0)),
	C(z_palignr_mmx, 0, R(RAX, HG, 1 - 8)),
	C(z_pcmpestri, F_SSE42, R(RAX, HG, 0)),
	C(z_vmovddup, F_AVX, R(RAX, HG, 1 - 32)),
	C(z_vmovddup128, F_AVX, R(RAX, HG, 1 - 8)),
	C(z_vcvtps2pd, F_AVX, R(RAX, HG, 1 - 16)),
	C(z_vbroadcastsd, F_AVX, R(RAX, HG, 1 - 8)),
	C(z_vbroadcastf128, F_AVX, R(RAX, HG, 1 - 16)),
	C(z_vpbroadcastb, F_AVX2, R(RAX, HG, 1 - 1)),
	C(z_vpbroadcastw, F_AVX2, R(RAX, HG, 1 - 2)),
	C(z_vpbroadcastq, F_AVX2, R(RAX, HG, 1 - 8)),
	C(z_vbroadcasti128, F_AVX2, R(RAX, HG, 1 - 16)),
	C(z_vpmovsxbq, F_AVX2, R(RAX, HG, 1 - 4)),
	C(z_vpmovzxwd, F_AVX2, R(RAX, HG, 1 - 16)),
	C(z_vpermq, F_AVX2, R(RAX, HG, 1 - 32)),
	C(z_vperm2i128, F_AVX2, R(RAX, HG, 1 - 32)),
	C(z_vpblendd, F_AVX2, R(RAX, HG, 1 - 32)),
	C(z_vpsllvd, F_AVX2, R(RAX, HG, 1 - 32)),
	C(z_vpermilps, F_AVX, R(RAX, HG, 1 - 32)),
	C(z_vpermps, F_AVX2, R(RAX, HG, 1 - 32)),
	C(z_vblendvps, F_AVX, R(RAX, HG, 1 - 32)),
	C(z_vinserti128, F_AVX2, R(RAX, HG, 1 - 16)),
	C(z_vextractf128, F_AVX, R(RAX, HG, 1 - 16)),
	C(z_vptest, F_AVX, R(RAX, HG, 1 - 32)),
	C(z_vpextrq, F_AVX, R(RAX, HG, 1 - 8)),
	C(z_vpinsrb, F_AVX, R(RAX, HG, 1 - 1)),
	C(z_vroundsd, F_AVX, R(RAX, HG, 1 - 8)),
	C(z_vmovntdq, F_AVX, R(RAX, HG, 0)),
	C(z_vcmpps, F_AVX, R(RAX, HG, 1 - 32)),
	C(z_vshufps, F_AVX, R(RAX, HG, 1 - 32)),
	C(z_vpcmpgtq, F_AVX2, R(RAX, HG, 1 - 32)),
	C(z_vfmadd132ss, F_FMA, R(RAX, HG, 1 - 4)),
	C(z_vfnmsub231pd, F_FMA, R(RAX, HG, 1 - 32)),
	C(z_blsr, F_BMI1, R(RAX, HG, 1 - 8)),
	C(z_bzhi, F_BMI2, R(RAX, HG, 1 - 8)),
	C(z_pext, F_BMI2, R(RAX, HG, 1 - 4)),
	C(z_sarx, F_BMI2, R(RAX, HG, 1 - 8)),
	C(z_shrx, F_BMI2, R(RAX, HG, 1 - 4)),
	C(z_crc32w, F_SSE42, R(RAX, HG, 1 - 2)),
	C(z_movbe16, F_MOVBE, R(RAX, HG, 1 - 2)),
	C(z_xaddb, 0, R(RAX, HG, 1 - 1)),
	C(z_cmpxchgb, 0, R(RAX, HG, 1 - 1)),
	C(z_btsimm, 0, R(RAX, HG, 1 - 8)),
	C(z_pushwimm, 0, R(RSP, HG, 1)),
	C(z_popw, 0, R(RSP, HG, -1)),
	C(z_pushfw, 0, R(RSP, HG, 1)),
	C(z_mulb, 0, R(RAX, HG, 1 - 1)),
	C(z_idivw, 0, R(RAX, HG, 1 - 2)),
	C(z_shrb, 0, R(RAX, HG, 1 - 1)),
	C(z_rcrl1, 0, R(RAX, HG, 1 - 4)),
	C(z_movsbw, 0, R(RAX, HG, 1 - 1)),
	C(z_movzwq, 0, R(RAX, HG, 1 - 2)),
	C(z_cmovw, 0, R(RAX, HG, 1 - 2)),
	C(z_setnz, 0, R(RAX, HG, 1 - 1)),
	C(z_imulw, 0, R(RAX, HG, 1 - 2)),
	C(z_testw, 0, R(RAX, HG, 1 - 2)),
	C(z_movsrw, 0, R(RAX, HG, 1 - 2)),
	C(z_lzcnt, F_BMI1, R(RAX, HG, 1 - 4)),
	C(z_popcntw, F_SSE42, R(RAX, HG, 1 - 2)),
	C(z_bsrq, 0, R(RAX, HG, 1 - 8)),
	C(z_cmpsw, 0, R(RSI, HA, 0), R(RDI, HG, -1)),
	C(z_movsw_cross, 0, R(RSI, HG, -1), R(RDI, HA, 0)),
};

/* clang-format on */

/* ---- running one form ------------------------------------------------------------------- */

struct run {
	uint64_t gpr[16];
	uint64_t rflags;
};

static sigjmp_buf fault_jb;
static volatile struct {
	int sig, code;
	uint64_t addr, rip, rflags;
	uint64_t gpr[16];
} got;

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	static const int map[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
				    REG_RSI, REG_RDI, REG_R8,  REG_R9,	REG_R10, REG_R11,
				    REG_R12, REG_R13, REG_R14, REG_R15};
	ucontext_t *uc = ucv;

	got.sig = sig;
	got.code = si->si_code;
	got.addr = (uint64_t)si->si_addr;
	got.rip = uc->uc_mcontext.gregs[REG_RIP];
	got.rflags = uc->uc_mcontext.gregs[REG_EFL];
	for (int i = 0; i < 16; i++)
		got.gpr[i] = uc->uc_mcontext.gregs[map[i]];
	siglongjmp(fault_jb, 1);
}

static uint64_t HA, HG, HB, LG, fs_base, gs_base;
static bool have_low;

static uint64_t base_value(int b)
{
	switch (b) {
	case B_HA:
		return HA;
	case B_HG:
		return HG;
	case B_HB:
		return HB;
	case B_LA:
		return LG - 4096;
	case B_LG:
		return LG;
	case B_LGHI:
		return LG | 0xdead00000000ULL;
	case B_FS:
		return HG - fs_base;
	}
	return 0;
}

/* the page of addr is the PROT_NONE one of either area */
static bool in_guard(uint64_t addr)
{
	return (addr & ~0xfffULL) == HG || (have_low && (addr & ~0xfffULL) == LG);
}

static int xlate_identity(void *opaque, uint64_t gva, uint64_t *gpa)
{
	(void)opaque;
	*gpa = gva;
	return 0;
}

static unsigned int cpu_features(void)
{
	unsigned int f = 0, a, b, c, d;

	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx"))
		f |= F_AVX;
	if (__builtin_cpu_supports("avx2"))
		f |= F_AVX2;
	if (__builtin_cpu_supports("fma"))
		f |= F_FMA;
	if (__builtin_cpu_supports("bmi"))
		f |= F_BMI1;
	if (__builtin_cpu_supports("bmi2"))
		f |= F_BMI2;
	if (__builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("popcnt"))
		f |= F_SSE42;
	if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 22)))
		f |= F_MOVBE;
	if (have_low)
		f |= F_LOW;
	if (!ioperm(0x80, 1, 1)) /* root only: ins/outs need the port */
		f |= F_IO;
	return f;
}

/* Runs one form natively; 0 if it faulted inside a guard page at its first byte. */
static int run_native(const struct tcase *t, struct run *in)
{
	memset((void *)&got, 0, sizeof(got));
	x86dec_target = (void *)t->start;
	if (!sigsetjmp(fault_jb, 1))
		x86dec_run(in);
	__asm__ volatile("emms"); /* an MMX form leaves the x87 unit in MMX state */
	return 0;
}

static void setup_regs(const struct tcase *t, struct run *in)
{
	memset(in, 0, sizeof(*in));
	memset((void *)HA, 0, 4096); /* the readable neighbours hold zeros for every form */
	memset((void *)HB, 0, 4096);
	in->gpr[DZ_X86_RSP] = HA + 2048; /* a harmless stack unless the form says otherwise */
	in->rflags = 0x202;
	for (int i = 0; i < 6; i++) {
		const struct init *x = &t->in[i];

		if (x->base == B_NONE)
			continue;
		if (x->reg == DF)
			in->rflags |= DZ_X86_RFLAGS_DF;
		else
			in->gpr[x->reg] = base_value(x->base) + (uint64_t)x->off;
	}
	/* values a table cannot spell */
	if (t->start == m_nobase)
		in->gpr[9] = (HG - 0x100) / 4 + 3;
	if (t->start == s_a32sib) /* 0xfffffff0 + 0x10 + 4 * ecx wraps to LG + 8 */
		in->gpr[DZ_X86_RCX] = 0xabcd00000000ULL | ((LG + 8) / 4);
}

static void check_case(const struct tcase *t, unsigned int have)
{
	size_t len = t->end - t->start;
	struct dz_x86_regs r = {0};
	struct dz_x86_insn in;
	struct run regs;
	uint64_t gva = 0;
	uint8_t *buf;
	int err;

	if ((t->need & have) != t->need) {
		ok(1,
		   "# SKIP %s: needs a CPU feature, a low mapping or I/O permission (ioperm) "
		   "missing here",
		   t->name);
		return;
	}
	setup_regs(t, &regs);
	run_native(t, &regs);
	if (!ok(got.sig == SIGSEGV && got.rip == (uint64_t)t->start && in_guard(got.addr),
		"%s faults natively at its own RIP in a guard page", t->name)) {
		diag("signal %d code %d addr %#lx rip %#lx (form at %p)", got.sig, got.code,
		     (unsigned long)got.addr, (unsigned long)got.rip, (void *)t->start);
		return;
	}
	memcpy(r.gpr, (const void *)got.gpr, sizeof(r.gpr));
	r.rip = got.rip;
	r.rflags = got.rflags;
	r.fs_base = fs_base;
	r.gs_base = gs_base;
	/* an exact-size heap copy: ASan catches any read past the instruction */
	buf = malloc(len);
	memcpy(buf, t->start, len);
	err = dz_x86_decode(buf, len, &r, &in);
	if (!is_int(err, 0, "%s decodes", t->name)) {
		free(buf);
		return;
	}
	is_int(in.len, len, "%s: length %zu", t->name, len);
	err = dz_x86_fault_gva(&in, xlate_identity, NULL, got.addr & ~0xfffULL, false, &gva);
	if (!is_u64(err ? ~0ULL : gva, got.addr, "%s: decoded GVA is the CPU's fault address",
		    t->name)) {
		for (unsigned int i = 0; i < in.nr; i++)
			diag("access %u: %#lx size %u %s span %lu", i, (unsigned long)in.acc[i].gva,
			     in.acc[i].size, in.acc[i].write ? "write" : "read",
			     (unsigned long)in.acc[i].span);
	}
	err = dz_x86_fault_gva(&in, xlate_identity, NULL, got.addr, true, &gva);
	is_u64(err ? ~0ULL : gva, got.addr, "%s: the same with the exact faulting GPA", t->name);
	/* every truncation asks for more bytes */
	for (size_t k = 0; k < len; k++) {
		uint8_t *cut = malloc(k ? k : 1);

		memcpy(cut, t->start, k);
		err = dz_x86_decode(cut, k, &r, &in);
		free(cut);
		if (err != -ENODATA) {
			ok(0, "%s cut to %zu bytes: -ENODATA (got %d)", t->name, k, err);
			break;
		}
	}
	free(buf);
}

/* ---- without the processor -------------------------------------------------------------- */

static int dec(const char *what, const uint8_t *b, size_t n, const struct dz_x86_regs *r,
	       struct dz_x86_insn *in)
{
	(void)what;
	return dz_x86_decode(b, n, r, in);
}

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

static void test_refusals(void)
{
	struct dz_x86_regs r = {0};
	struct dz_x86_insn in;
	uint8_t pad[16];

	memset(pad, 0x66, sizeof(pad));
	is_int(dec("", pad, 16, &r, &in), -EINVAL, "16 prefixes: longer than 15 bytes");
	is_int(dec("", BYTES(0x26, 0x64, 0x8b, 0x00), &r, &in), -ENOTSUP,
	       "ES and FS overrides together: undefined which wins, refused");
	is_int(dec("", BYTES(0x64, 0x65, 0x8b, 0x00), &r, &in), -ENOTSUP, "FS and GS together");
	is_int(dec("", BYTES(0xf2, 0xf3, 0xa4), &r, &in), -ENOTSUP, "REPNE and REP together");
	is_int(dec("", BYTES(0xd9, 0x00), &r, &in), -ENOTSUP, "x87 is not decoded");
	is_int(dec("", BYTES(0x0f, 0x01, 0x10), &r, &in), -ENOTSUP, "lgdt (system) is not decoded");
	is_int(dec("", BYTES(0x0f, 0xae, 0x20), &r, &in), -ENOTSUP, "xsave (size from XCR0)");
	is_int(dec("", BYTES(0x0f, 0xae, 0x00), &r, &in), -ENOTSUP,
	       "fxsave (the processor does not fault at its first byte)");
	is_int(dec("", BYTES(0x0f, 0xf7, 0xc1), &r, &in), -ENOTSUP, "maskmovq (implicit RDI)");
	is_int(dec("", BYTES(0xc4, 0xe2, 0x7d, 0x90, 0x04, 0x88), &r, &in), -ENOTSUP,
	       "AVX2 gather (VSIB)");
	is_int(dec("", BYTES(0x62, 0xf1, 0x7c, 0x48, 0x10, 0x00), &r, &in), -EINVAL,
	       "EVEX (AVX-512) is refused");
	is_int(dec("", BYTES(0x66, 0xc5, 0xf8, 0x10, 0x00), &r, &in), -EINVAL,
	       "66 before VEX is #UD");
	is_int(dec("", BYTES(0x66, 0xe8, 0, 0, 0, 0), &r, &in), -ENOTSUP,
	       "66 call: Intel and AMD disagree, refused");
	is_int(dec("", BYTES(0xc8, 8, 0, 0), &r, &in), -ENOTSUP, "enter is not decoded");
	is_int(dec("", BYTES(0x06), &r, &in), -EINVAL, "push es: invalid in 64-bit mode");
	is_int(dec("", BYTES(0x8f, 0xe9, 0x78, 0x01, 0x00), &r, &in), -ENOTSUP, "XOP");
	is_int(dec("", BYTES(0x67, 0x0f, 0xa3, 0x08), &r, &in), -ENOTSUP,
	       "bt with a register offset and 67: not decoded");
	is_int(dec("", NULL, 0, &r, &in), -EINVAL, "no bytes at all");
	is_int(dec("", BYTES(0x8d, 0x04, 0x24), &r, &in), 0, "lea decodes");
	is_int(in.nr, 0, "lea touches no memory");
	is_int(dec("", BYTES(0x0f, 0x18, 0x08), &r, &in), 0, "prefetch decodes");
	is_int(in.nr, 0, "prefetch never faults: no access");

	/* ins/outs (natively tested only where ioperm works): ES:RDI / seg:RSI */
	r.gpr[DZ_X86_RSI] = 0x1000;
	r.gpr[DZ_X86_RDI] = 0x2000;
	r.gs_base = 0x70000;
	is_int(dec("", BYTES(0x65, 0x6e), &r, &in), 0, "outsb %%gs:(%%rsi) decodes");
	ok(in.nr == 1 && in.acc[0].gva == 0x71000 && in.acc[0].size == 1 && !in.acc[0].write,
	   "outsb %%gs:(%%rsi): reads 1 byte at GS base + RSI");
	is_int(dec("", BYTES(0x66, 0x65, 0x6d), &r, &in), 0, "insw decodes");
	ok(in.nr == 1 && in.acc[0].gva == 0x2000 && in.acc[0].size == 2 && in.acc[0].write,
	   "insw: writes 2 bytes at ES:RDI (no override)");
	r.gs_base = 0;

	/* a zero REP count touches nothing; with 67 only ECX counts */
	r.gpr[DZ_X86_RCX] = 0;
	is_int(dec("", BYTES(0xf3, 0xa4), &r, &in), 0, "rep movsb, RCX = 0: decodes");
	is_int(in.nr, 0, "rep movsb, RCX = 0: no access");
	r.gpr[DZ_X86_RCX] = 1ULL << 32;
	is_int(dec("", BYTES(0x67, 0xf3, 0xaa), &r, &in), 0, "addr32 rep stosb, ECX = 0");
	is_int(in.nr, 0, "addr32 rep stosb, ECX = 0: no access");
	is_int(dec("", BYTES(0xf3, 0xaa), &r, &in), 0, "rep stosb, RCX = 1 << 32");
	is_int(in.nr, 1, "rep stosb, RCX = 1 << 32: one access");
}

/* Not the identity: linear page p -> guest-physical 0x100000 + 0x1000 * (p % 7). */
static int xlate_shuffle(void *opaque, uint64_t gva, uint64_t *gpa)
{
	(void)opaque;
	if ((gva >> 12) == 0x666)
		return -EFAULT; /* unmapped */
	*gpa = 0x100000 + 0x1000 * ((gva >> 12) % 7) + (gva & 0xfff);
	return 0;
}

static void test_verify(void)
{
	struct dz_x86_regs r = {0};
	struct dz_x86_insn in;
	uint64_t gva = 0;

	/* movsq: read 0x3008 (page 3 -> 0x103000), write 0x5ff8 (page 5 -> 0x105000) */
	r.gpr[DZ_X86_RSI] = 0x3008;
	r.gpr[DZ_X86_RDI] = 0x5ffc; /* crosses into page 6 -> 0x106000 */
	is_int(dz_x86_decode(BYTES(0x48, 0xa5), &r, &in), 0, "movsq decodes");
	is_int(in.nr, 2, "movsq: two accesses");
	is_int(dz_x86_fault_gva(&in, xlate_shuffle, NULL, 0x103000, false, &gva), 0,
	       "the source's page");
	is_u64(gva, 0x3008, "GVA of the source");
	is_int(dz_x86_fault_gva(&in, xlate_shuffle, NULL, 0x105000, false, &gva), 0,
	       "the destination's first page");
	is_u64(gva, 0x5ffc, "GVA of the destination");
	is_int(dz_x86_fault_gva(&in, xlate_shuffle, NULL, 0x106000, false, &gva), 0,
	       "the page the destination crosses into");
	is_u64(gva, 0x6000, "GVA: the first byte on that page");
	is_int(dz_x86_fault_gva(&in, xlate_shuffle, NULL, 0x106002, true, &gva), 0,
	       "exact GPA inside the crossing part");
	is_u64(gva, 0x6002, "GVA of exactly that byte");
	is_int(dz_x86_fault_gva(&in, xlate_shuffle, NULL, 0x106004, true, &gva), -ENOENT,
	       "exact GPA past the access: refused");
	is_int(dz_x86_fault_gva(&in, xlate_shuffle, NULL, 0x104000, false, &gva), -ENOENT,
	       "a page no access maps to: refused");
	is_int(dz_x86_fault_gva(&in, xlate_shuffle, NULL, 0x3000, false, &gva), -ENOENT,
	       "the GVA's own number as GPA: refused (the mapping decides)");

	/* an unmapped linear page never verifies */
	r.gpr[DZ_X86_RAX] = 0x666010;
	is_int(dz_x86_decode(BYTES(0x8b, 0x08), &r, &in), 0, "mov (%%rax) decodes");
	is_int(dz_x86_fault_gva(&in, xlate_shuffle, NULL, 0x100000 + 0x1000 * (0x666 % 7), false,
				&gva),
	       -ENOENT, "an access whose page does not translate: refused");

	/* fast strings: the element misses, the span reaches the page */
	r.gpr[DZ_X86_RDI] = 0x7f00;
	r.gpr[DZ_X86_RCX] = 0x300;
	is_int(dz_x86_decode(BYTES(0xf3, 0xaa), &r, &in), 0, "rep stosb decodes");
	is_int(dz_x86_fault_gva(&in, xlate_shuffle, NULL, 0x100000 + 0x1000 * (8 % 7), false, &gva),
	       0, "rep stosb: a page further on in the span");
	is_u64(gva, 0x8000, "rep stosb: its first byte");
	r.gpr[DZ_X86_RCX] = 0x10;
	is_int(dz_x86_decode(BYTES(0xf3, 0xaa), &r, &in), 0, "rep stosb decodes");
	is_int(dz_x86_fault_gva(&in, xlate_shuffle, NULL, 0x100000 + 0x1000 * (8 % 7), false, &gva),
	       -ENOENT, "rep stosb: a page past the span is not it");
}

/* Random bytes: the decoder returns a documented code and never reads past the end. */
static void test_garbage(void)
{
	static const uint8_t pfx[] = {0x66, 0x67, 0xf2, 0xf3, 0x64, 0x65, 0x48, 0x4f,
				      0x0f, 0xc4, 0xc5, 0x0f, 0x38, 0x3a, 0xf0, 0x2e};
	struct dz_x86_regs r;
	struct dz_x86_insn in;
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	unsigned int bad = 0, decoded = 0, n = 200000;

	for (unsigned int i = 0; i < 16; i++)
		r.gpr[i] = s * (i + 1);
	r.rip = 0x401000;
	r.rflags = 0x202;
	r.fs_base = r.gs_base = 0;
	for (unsigned int i = 0; i < n; i++) {
		size_t len;
		uint8_t *b;
		int err;

		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		len = s % 17;
		b = malloc(len ? len : 1);
		for (size_t k = 0; k < len; k++) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			/* bias towards prefixes and escapes so deep paths are reached */
			b[k] = (s & 3) == 0 ? pfx[(s >> 8) % sizeof(pfx)] : (uint8_t)(s >> 16);
		}
		r.rflags = (s & 1) ? 0x602 : 0x202;
		err = dz_x86_decode(b, len, &r, &in);
		if (!err) {
			decoded++;
			if (in.len > len || in.len > 15 || in.nr > DZ_X86_MAX_ACCESS)
				bad++;
		} else if (err != -ENODATA && err != -EINVAL && err != -ENOTSUP) {
			bad++;
		}
		free(b);
	}
	is_int(bad, 0, "%u random byte streams: only documented results (%u decoded)", n, decoded);
	ok(decoded > n / 10, "random streams reach the decoding paths (%u decoded)", decoded);
}

int main(void)
{
	stack_t ss = {.ss_size = 1 << 16};
	struct sigaction sa = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_ONSTACK};
	unsigned int have;
	void *low;

	test_refusals();
	test_verify();
	test_garbage();

	HA = (uint64_t)x86dec_area;
	HG = HA + 4096;
	HB = HG + 4096;
	if (mprotect((void *)HG, 4096, PROT_NONE))
		return 1;
	low = mmap((void *)LOW_BASE, 3 * 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	have_low = low == (void *)LOW_BASE && !mprotect((char *)low + 4096, 4096, PROT_NONE);
	LG = LOW_BASE + 4096;
	ss.ss_sp = malloc(ss.ss_size);
	sigaltstack(&ss, NULL);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	syscall(SYS_arch_prctl, ARCH_GET_FS, &fs_base);
	gs_base = HG - 0x100; /* %gs:0x100 is the guard page */
	if (syscall(SYS_arch_prctl, ARCH_SET_GS, gs_base))
		gs_base = 0;
	have = cpu_features();
	if (!have_low)
		diag("no mapping at %#llx: the 67/moffs forms are skipped", LOW_BASE);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i], have);
	syscall(SYS_arch_prctl, ARCH_SET_GS, 0UL);
	if (have & F_IO)
		ioperm(0x80, 1, 0);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	/* LeakSanitizer scans .bss at exit: give the guard page back */
	mprotect((void *)HG, 4096, PROT_READ | PROT_WRITE);
	if (have_low)
		munmap(low, 3 * 4096);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	free(ss.ss_sp);
	return done_testing();
}
