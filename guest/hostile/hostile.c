// SPDX-License-Identifier: GPL-2.0
/*
 * Workload `hostile`: a guest that attacks its VMM through the async
 * page-fault ABI (docs/abi.md, docs/async.md) and checks every answer.
 *
 * It writes garbage to every doze MSR and to Linux's APF MSRs, points the APF
 * area, the #VE area and the predicate registration block at out-of-RAM,
 * straddling, wrapping, MMIO-range and overlapping addresses, registers
 * malformed and malicious programs (context read out of bounds, 5000
 * instructions, a back-edge, bad opcodes, unknown helpers, ELF garbage), ACKs
 * page-ready tokens it never got, re-registers over and over and touches all
 * of RAM while armed at odd places. Every probe compares what it gets with
 * the documented answer (#GP, or the verdict's errno) and prints
 *
 *     hostile: ok NAME            or    hostile: FAIL NAME: why
 *
 * then powers off with status OK only if every probe passed (checksum =
 * probes passed, expected = probes run), so `doze restore` exits 0 only then.
 *
 * The probes run after the snapshot point: under `doze run --snapshot` the
 * run ends there, and `doze restore` (where the async ABI is live) runs them
 * with RAM arriving lazily. Under a plain `doze run` the VMM offers no async
 * ABI (DZ_MSR_FEATURES says so) and the probes check that every doze MSR
 * write is refused with #GP.
 *
 * Everything runs on CPU 0 in ring 0 with IF = 0 (use --cpus 1).
 */
#include <doze/abi.h>
#include <doze/apf.h>

#include "kernel.h"

int hx_wrmsr(u32 msr, u64 val);
int hx_rdmsr(u32 msr, u64 *val);
void hx_gp(void);
extern u64 hx_gp_orig, hx_gp_count;
void hx_ve(void);
void hx_pr(void);
#define HX_LOG 1024
struct ve_rec {
	u32 reason, busy;
	u64 token, gpa;
};
extern struct ve_rec hx_ve_log[HX_LOG];
extern u32 hx_pr_log[HX_LOG];
extern u64 hx_ve_area, hx_apf_area, hx_ve_n, hx_pr_n, hx_ve_rearm, hx_pf_n, hx_pf_orig;
void hx_pf(void);

#define MSR_APF_EN  0x4b564d02
#define MSR_APF_INT 0x4b564d06
#define MSR_APF_ACK 0x4b564d07
#define APF_EN_ON   (1UL << 0)
#define APF_EN_INT  (1UL << 3)

#define EINVAL	22
#define EFAULT	14
#define E2BIG	7
#define ENOEXEC 8
#define EACCES	13

#define LOG_SIZE 4096
#define CANARY	 0xa5

struct insn {
	u8 code;
	u8 regs; /* dst:4 | src:4 << 4 */
	short off;
	s32 imm;
};

/* Probe buffers live in the kernel image's .bss/.data. The "cold" ones are
 * written before the snapshot point and not touched after it, so a restored
 * guest registers a program the host has to fetch first. */
static struct dz_pred_reg reg __attribute__((aligned(64)));
static u8 logbuf[LOG_SIZE + 64] __attribute__((aligned(4096)));
static struct insn prog[5000] __attribute__((aligned(4096)));
static struct insn cold_prog[2] __attribute__((aligned(4096)));
static struct dz_pred_reg cold_reg __attribute__((aligned(4096)));
static u8 cold_log[4096] __attribute__((aligned(4096)));
static u8 areas[4096] __attribute__((aligned(4096)));
static struct dz_sync_ranges ranges __attribute__((aligned(64)));

static u32 passed, run;
static bool ve_mode; /* #VE offered (else only Linux's #PF: --async-delivery pf) */
static u64 ram;

static void result(const char *name, bool good, const char *fmt, u64 a, u64 b)
{
	run++;
	if (good) {
		passed++;
		printk("hostile: ok %s\n", name);
		return;
	}
	printk("hostile: FAIL %s: ", name);
	printk(fmt, a, b);
	printk("\n");
}

/* wrmsr must raise #GP */
static void expect_gp(const char *name, u32 msr, u64 val)
{
	int r = hx_wrmsr(msr, val);

	result(name, r == -1, "wrmsr %lx accepted (want #GP)", val, 0);
}

/* wrmsr must be accepted */
static void expect_ok(const char *name, u32 msr, u64 val)
{
	int r = hx_wrmsr(msr, val);

	result(name, r == 0, "wrmsr %lx raised #GP (want accepted)", val, 0);
}

static u16 *idt_entry(int vec)
{
	struct {
		u16 limit;
		u64 base;
	} __attribute__((packed)) idtr;

	__asm__ volatile("sidt %0" : "=m"(idtr));
	return (u16 *)(idtr.base + 16 * vec);
}

/* Points IDT vector @vec at @h; returns the previous handler. */
static u64 idt_swap(int vec, u64 h)
{
	u16 *e = idt_entry(vec);
	u64 old = (u64)e[0] | (u64)e[3] << 16 | (u64) * (u32 *)(e + 4) << 32;

	e[0] = (u16)h;
	e[3] = (u16)(h >> 16);
	*(u32 *)(e + 4) = (u32)(h >> 32);
	return old;
}

static void install_gp_hook(void)
{
	hx_gp_orig = idt_swap(13, (u64)hx_gp);
}

/* Fills the registration block (verdict preset to a value the host never writes). */
static void set_reg(u64 gpa_prog, u32 len, u64 gpa_log, u32 log_size)
{
	reg = (struct dz_pred_reg){.prog_gpa = gpa_prog,
				   .prog_len = len,
				   .log_gpa = gpa_log,
				   .log_size = log_size,
				   .verdict = 12345};
}

/* Registers the block at @blk; returns the verdict rdmsr reports. */
static s64 do_register(u64 blk)
{
	u64 v = 0;

	if (hx_wrmsr(DZ_MSR_PRED, blk))
		return -1000; /* registration must never #GP */
	if (hx_rdmsr(DZ_MSR_PRED, &v))
		return -1001;
	return (s64)v;
}

static void expect_verdict(const char *name, u64 blk, s64 want)
{
	s64 v = do_register(blk);

	result(name, v == want, "verdict %ld, want %ld", (u64)v, (u64)want);
}

static void fill_log_canary(void)
{
	for (u32 i = 0; i < sizeof(logbuf); i++)
		logbuf[i] = CANARY;
}

static bool log_canary_intact(u32 from)
{
	for (u32 i = from; i < sizeof(logbuf); i++)
		if (logbuf[i] != CANARY)
			return false;
	return true;
}

static void set_prog(u32 n, const struct insn *src)
{
	for (u32 i = 0; i < n; i++)
		prog[i] = src[i];
}

static const struct insn ret0[] = {{0xb7, 0x00, 0, 0}, {0x95, 0, 0, 0}};

/* ---- the ABI is not offered (plain doze run): every write is refused ---- */

static void probes_no_abi(void)
{
	static const u32 msrs[] = {
	    MSR_APF_EN,	  MSR_APF_INT,		 MSR_APF_ACK,	  DZ_MSR_VE_INFO,    DZ_MSR_PRED,
	    DZ_MSR_ERROR, DZ_MSR_PAGE_READY_ACK, DZ_MSR_FEATURES, DZ_MSR_SYNC_RANGES};
	u32 refused = 0;

	for (u32 i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++)
		refused += hx_wrmsr(msrs[i], 1) == -1;
	result("no async ABI: every doze and APF MSR write raises #GP",
	       refused == sizeof(msrs) / sizeof(msrs[0]), "%lu of %lu refused", refused,
	       sizeof(msrs) / sizeof(msrs[0]));
}

/* ---- MSR arguments ---- */

static void probes_msrs(void)
{
	static const u64 garbage[] = {0,
				      1,
				      ~0UL,
				      1UL << 63,
				      0x8000000000000001UL,
				      0xdeadbeefcafebabeUL,
				      0x3f,
				      0x41,
				      0xfee00001UL,
				      0xfffffffffffff001UL};
	u64 area = (u64)areas, v;
	u32 gp = 0, total = 0;

	/* doze's range beyond the assigned MSRs: nobody handles them */
	for (u32 i = 6; i < 256; i++) {
		gp += hx_wrmsr(DZ_MSR_BASE + i, 0x1234) == -1;
		gp += hx_rdmsr(DZ_MSR_BASE + i, &v) == -1;
		total += 2;
	}
	result("unassigned MSRs of doze's range raise #GP (read and write)", gp == total,
	       "%lu of %lu raised #GP", gp, total);

	/* APF_INT */
	expect_gp("APF_INT vector 31 (< 32)", MSR_APF_INT, 31);
	expect_gp("APF_INT vector 256", MSR_APF_INT, 256);
	expect_gp("APF_INT all ones", MSR_APF_INT, ~0UL);
	/* APF_EN before any vector was set (a restored VMM starts with none) */
	expect_gp("APF_EN without INT delivery bit", MSR_APF_EN, area | APF_EN_ON);
	expect_ok("APF_INT vector 34", MSR_APF_INT, DZ_VEC_PAGE_READY);
	expect_gp("APF_EN reserved bits 4-5", MSR_APF_EN, area | APF_EN_ON | APF_EN_INT | 0x30);
	expect_gp("APF_EN area at end of RAM", MSR_APF_EN, ram | APF_EN_ON | APF_EN_INT);
	expect_gp("APF_EN area straddling the end of RAM", MSR_APF_EN,
		  (ram - 32) | APF_EN_ON | APF_EN_INT);
	expect_gp("APF_EN area in the LAPIC MMIO range", MSR_APF_EN,
		  0xfee00000UL | APF_EN_ON | APF_EN_INT);
	expect_gp("APF_EN area at 2^63", MSR_APF_EN, (1UL << 63) | APF_EN_ON | APF_EN_INT);
	expect_gp("APF_EN area at the top of the address space", MSR_APF_EN,
		  0xffffffffffffffc0UL | APF_EN_ON | APF_EN_INT);
	expect_ok("APF_EN area in the last 64 bytes of RAM", MSR_APF_EN,
		  (ram - 64) | APF_EN_ON | APF_EN_INT);
	v = 0;
	hx_rdmsr(MSR_APF_EN, &v);
	result("APF_EN reads back what was accepted", v == ((ram - 64) | APF_EN_ON | APF_EN_INT),
	       "read %lx want %lx", v, (ram - 64) | APF_EN_ON | APF_EN_INT);
	expect_ok("APF_EN disable", MSR_APF_EN, 0);

	/* #VE area */
	expect_gp("VE_INFO reserved bits 1-5", DZ_MSR_VE_INFO, area | 0x3f);
	expect_gp("VE_INFO area at end of RAM", DZ_MSR_VE_INFO, ram | DZ_VE_ENABLE);
	expect_gp("VE_INFO area in the LAPIC MMIO range", DZ_MSR_VE_INFO,
		  0xfee00000UL | DZ_VE_ENABLE);
	expect_gp("VE_INFO area at the top of the address space", DZ_MSR_VE_INFO,
		  0xffffffffffffffc0UL | DZ_VE_ENABLE);
	if (ve_mode) {
		expect_ok("VE_INFO area in the last 64 bytes of RAM", DZ_MSR_VE_INFO,
			  (ram - 64) | DZ_VE_ENABLE);
		expect_ok("VE_INFO disable", DZ_MSR_VE_INFO, 0);
	} else {
		expect_gp("VE_INFO refused: #VE not offered (--async-delivery pf)", DZ_MSR_VE_INFO,
			  (ram - 64) | DZ_VE_ENABLE);
	}

	/* ACKs of tokens never handed out */
	expect_gp("APF_ACK value 2", MSR_APF_ACK, 2);
	expect_gp("PAGE_READY_ACK value ~0", DZ_MSR_PAGE_READY_ACK, ~0UL);
	gp = 0;
	for (u32 i = 0; i < 200; i++) {
		gp += hx_wrmsr(MSR_APF_ACK, 1) == -1;
		gp += hx_wrmsr(DZ_MSR_PAGE_READY_ACK, 1) == -1;
	}
	result("400 ACKs of page-ready tokens never delivered are harmless", gp == 0,
	       "%lu raised #GP", gp, 0);

	/* FEATURES is read-only, ERROR reads 0 until a page is lost */
	expect_gp("FEATURES write", DZ_MSR_FEATURES, 0);
	v = ~0UL;
	result("ERROR reads 0 (no page lost)", !hx_rdmsr(DZ_MSR_ERROR, &v) && v == 0, "read %lx", v,
	       0);
	expect_ok("ERROR write clears", DZ_MSR_ERROR, 0xdead);

	/* never-async ranges */
	expect_gp("SYNC_RANGES block not 8-byte aligned", DZ_MSR_SYNC_RANGES, (u64)&ranges + 4);
	expect_gp("SYNC_RANGES block outside RAM", DZ_MSR_SYNC_RANGES, ram);
	expect_gp("SYNC_RANGES block straddling the end of RAM", DZ_MSR_SYNC_RANGES, ram - 8);
	ranges.nr = DZ_SYNC_RANGES_MAX + 1;
	expect_gp("SYNC_RANGES with 9 ranges", DZ_MSR_SYNC_RANGES, (u64)&ranges);
	ranges.nr = 0xffffffff;
	expect_gp("SYNC_RANGES with 2^32-1 ranges", DZ_MSR_SYNC_RANGES, (u64)&ranges);
	ranges.nr = 1;
	ranges.range[0].start = 0x200000;
	ranges.range[0].end = 0x100000;
	expect_gp("SYNC_RANGES range ending before it starts", DZ_MSR_SYNC_RANGES, (u64)&ranges);
	ranges.range[0].start = 0;
	ranges.range[0].end = ~0UL;
	expect_ok("SYNC_RANGES [0, 2^64-1)", DZ_MSR_SYNC_RANGES, (u64)&ranges);
	v = 0;
	hx_rdmsr(DZ_MSR_SYNC_RANGES, &v);
	result("SYNC_RANGES reads back 1", v == 1, "read %lu", v, 0);
	ranges.nr = 0;
	expect_ok("SYNC_RANGES cleared", DZ_MSR_SYNC_RANGES, (u64)&ranges);

	/* garbage everywhere: whatever the answer, the VMM survives and stays consistent */
	total = 0;
	{
		static const u32 msrs[] = {
		    MSR_APF_EN,	     MSR_APF_INT,	 MSR_APF_ACK,
		    DZ_MSR_VE_INFO,  DZ_MSR_ERROR,	 DZ_MSR_PAGE_READY_ACK,
		    DZ_MSR_FEATURES, DZ_MSR_SYNC_RANGES, DZ_MSR_PRED};

		for (u32 m = 0; m < sizeof(msrs) / sizeof(msrs[0]); m++)
			for (u32 g = 0; g < sizeof(garbage) / sizeof(garbage[0]); g++) {
				hx_wrmsr(msrs[m], garbage[g]);
				hx_rdmsr(msrs[m], &v);
				total++;
			}
	}
	hx_wrmsr(MSR_APF_EN, 0);
	hx_wrmsr(DZ_MSR_VE_INFO, 0);
	v = 1;
	result("garbage written to every MSR: the VMM answers, state reads back disabled",
	       !hx_rdmsr(MSR_APF_EN, &v) && v == 0, "APF_EN reads %lx after %lu writes", v, total);
}

/* ---- predicate registration ---- */

static void probes_pred(void)
{
	u64 blk = (u64)&reg, lg = (u64)logbuf, pg = (u64)prog;
	s64 v;

	expect_verdict("PRED block not 8-byte aligned: -EINVAL", blk + 4, -EINVAL);
	expect_verdict("PRED block at end of RAM: -EFAULT", ram, -EFAULT);
	expect_verdict("PRED block straddling the end of RAM: -EFAULT", ram - 16, -EFAULT);
	expect_verdict("PRED block in the LAPIC MMIO range: -EFAULT", 0xfee00000UL, -EFAULT);
	expect_verdict("PRED block at the top of the address space: -EFAULT", 0xfffffffffffffff8UL,
		       -EFAULT);

	set_prog(2, ret0);
	set_reg(pg, 0, lg, LOG_SIZE);
	expect_verdict("PRED empty program: -EINVAL", blk, -EINVAL);
	result("... the verdict is written into the block too", reg.verdict == -EINVAL,
	       "block verdict %ld", (u64)(s64)reg.verdict, 0);
	set_reg(pg, 300u << 10, lg, LOG_SIZE);
	expect_verdict("PRED 300 KiB image: -E2BIG", blk, -E2BIG);
	set_reg(pg, 12, lg, LOG_SIZE);
	expect_verdict("PRED raw length 12 (not a multiple of 8): -EINVAL", blk, -EINVAL);
	set_reg(ram - 8, 16, lg, LOG_SIZE);
	expect_verdict("PRED program straddling the end of RAM: -EFAULT", blk, -EFAULT);
	set_reg(0xfffffffffffffff8UL, 16, lg, LOG_SIZE);
	expect_verdict("PRED program wrapping around 2^64: -EFAULT", blk, -EFAULT);
	set_reg(pg, 16, ram - 8, 64);
	expect_verdict("PRED log straddling the end of RAM: -EFAULT", blk, -EFAULT);
	set_reg(pg, 16, 0xffffffffffffff00UL, 0x200);
	expect_verdict("PRED log wrapping around 2^64: -EFAULT", blk, -EFAULT);
	set_reg(pg, 16, lg, 2u << 20);
	expect_verdict("PRED 2 MiB log buffer: -E2BIG", blk, -E2BIG);
	set_reg(pg, 16, pg + 8, 64);
	expect_verdict("PRED log overlapping the program: -EINVAL", blk, -EINVAL);
	set_reg(pg, 16, blk + 8, 64);
	expect_verdict("PRED log overlapping the registration block: -EINVAL", blk, -EINVAL);

	/* 5000 instructions */
	for (u32 i = 0; i < 4999; i++)
		prog[i] = ret0[0];
	prog[4999] = ret0[1];
	set_reg(pg, 5000 * 8, lg, LOG_SIZE);
	expect_verdict("PRED 5000 raw instructions: -E2BIG", blk, -E2BIG);

	/* ELF magic, then garbage */
	for (u32 i = 0; i < 64; i++)
		((u8 *)prog)[i] = (u8)(i * 37);
	((u8 *)prog)[0] = 0x7f, ((u8 *)prog)[1] = 'E', ((u8 *)prog)[2] = 'L', ((u8 *)prog)[3] = 'F';
	set_reg(pg, 64, lg, LOG_SIZE);
	expect_verdict("PRED ELF magic followed by garbage: -ENOEXEC", blk, -ENOEXEC);

	/* malicious programs: the verifier says no, with a log */
	{
		static const struct insn oob[] = {{0x79, 0x10, 4096, 0}, {0x95, 0, 0, 0}};
		static const struct insn neg[] = {{0x79, 0x10, -8, 0}, {0x95, 0, 0, 0}};
		static const struct insn wr[] = {
		    {0x7a, 0x01, 0, 7}, {0xb7, 0, 0, 0}, {0x95, 0, 0, 0}};
		static const struct insn loop[] = {
		    {0xb7, 0, 0, 0}, {0x05, 0, -1, 0}, {0x95, 0, 0, 0}};
		static const struct insn back[] = {
		    {0xb7, 0, 0, 0}, {0x07, 0, 0, 1}, {0x05, 0, -2, 0}, {0x95, 0, 0, 0}};
		static const struct insn bad[] = {{0xff, 0, 0, 0}, {0x95, 0, 0, 0}};
		static const struct insn helper[] = {{0x85, 0, 0, 9999}, {0x95, 0, 0, 0}};
		static const struct insn noexit[] = {{0xb7, 0, 0, 0}};
		static const struct insn r10[] = {{0xb7, 0x0a, 0, 0}, {0x95, 0, 0, 0}};
		static const struct insn leak[] = {{0xbf, 0x10, 0, 0}, {0x95, 0, 0, 0}};

		fill_log_canary();
		set_prog(2, oob);
		set_reg(pg, 16, lg, LOG_SIZE);
		expect_verdict("PRED context read out of bounds (r1 + 4096): -EACCES", blk,
			       -EACCES);
		result("... the log says why, NUL-terminated inside the buffer",
		       logbuf[0] != CANARY && logbuf[0] && log_canary_intact(LOG_SIZE),
		       "log[0] %lx", logbuf[0], 0);
		result("... the block's other fields are untouched",
		       reg.prog_gpa == pg && reg.prog_len == 16 && reg.log_gpa == lg &&
			   reg.log_size == LOG_SIZE && reg.reserved == 0,
		       "prog_len %lu log_size %lu", reg.prog_len, reg.log_size);
		set_prog(2, neg);
		expect_verdict("PRED context read at r1 - 8: -EACCES", blk, -EACCES);
		set_prog(3, wr);
		set_reg(pg, 24, lg, LOG_SIZE);
		expect_verdict("PRED context write: -EACCES", blk, -EACCES);
		set_prog(3, loop);
		expect_verdict("PRED endless loop (ja -1): -EINVAL", blk, -EINVAL);
		set_prog(4, back);
		set_reg(pg, 32, lg, LOG_SIZE);
		expect_verdict("PRED back-edge: -EINVAL", blk, -EINVAL);
		set_prog(2, bad);
		set_reg(pg, 16, lg, LOG_SIZE);
		expect_verdict("PRED invalid opcode 0xff: -EINVAL", blk, -EINVAL);
		set_prog(2, helper);
		v = do_register(blk);
		result("PRED unknown helper 9999: rejected", v < 0 && v > -1000, "verdict %ld",
		       (u64)v, 0);
		set_prog(1, noexit);
		set_reg(pg, 8, lg, LOG_SIZE);
		v = do_register(blk);
		result("PRED falls off the end: rejected", v < 0 && v > -1000, "verdict %ld",
		       (u64)v, 0);
		set_prog(2, r10);
		set_reg(pg, 16, lg, LOG_SIZE);
		expect_verdict("PRED writes the frame pointer: -EACCES", blk, -EACCES);
		set_prog(2, leak);
		v = do_register(blk);
		result("PRED returns the context pointer: rejected", v < 0 && v > -1000,
		       "verdict %ld", (u64)v, 0);

		/* tiny log buffers: never a byte more than the guest gave */
		fill_log_canary();
		set_prog(2, oob);
		set_reg(pg, 16, lg, 1);
		expect_verdict("PRED log_size 1: still -EACCES", blk, -EACCES);
		result("... only the NUL is written", logbuf[0] == 0 && log_canary_intact(1),
		       "log[0] %lx log[1] %lx", logbuf[0], logbuf[1]);
		fill_log_canary();
		set_reg(pg, 16, lg, 0);
		expect_verdict("PRED log_size 0: still -EACCES", blk, -EACCES);
		result("... nothing is written", log_canary_intact(0), "log[0] %lx", logbuf[0], 0);
		fill_log_canary();
		set_reg(pg, 16, lg, 17);
		do_register(blk);
		result("PRED log_size 17: at most 17 bytes, NUL-terminated",
		       log_canary_intact(17) && logbuf[16] == 0, "log[16] %lx log[17] %lx",
		       logbuf[16], logbuf[17]);
	}

	/* a flood of bad registrations: each one answered, none crashes the VMM
	 * (the host test counts what they cost its log) */
	{
		u32 bad = 0;

		for (u32 i = 0; i < 2000; i++)
			bad += do_register(blk + 4) != -EINVAL;
		result("PRED 2000 unaligned registrations in a row: -EINVAL every time", bad == 0,
		       "%lu other answers", bad, 0);
	}

	/* a good program, registered again and again */
	set_prog(2, ret0);
	set_reg(pg, 16, lg, LOG_SIZE);
	expect_verdict("PRED r0 = 0; exit: accepted", blk, 0);
	{
		u32 bad = 0;

		for (u32 i = 0; i < 20; i++)
			bad += do_register(blk) != 0;
		result("PRED re-registered 20 times: accepted every time", bad == 0, "%lu refused",
		       bad, 0);
	}
}

/* The host writes the APF and #VE areas and reads the registration block: let
 * them overlap each other and the block, then walk all of RAM. */
static void probes_overlap(void)
{
	u64 a = (u64)areas;
	u64 sum = 0;
	s64 v;

	expect_ok("APF_INT 34", MSR_APF_INT, DZ_VEC_PAGE_READY);
	expect_ok("APF_EN and VE_INFO on the same 64 bytes", MSR_APF_EN,
		  a | APF_EN_ON | APF_EN_INT);
	hx_wrmsr(DZ_MSR_VE_INFO, a | DZ_VE_ENABLE);
	/* the registration block on top of both areas */
	set_prog(2, ret0);
	*(struct dz_pred_reg *)areas = (struct dz_pred_reg){
	    .prog_gpa = (u64)prog, .prog_len = 16, .log_gpa = (u64)logbuf, .log_size = 64};
	v = do_register(a);
	result("PRED block on top of the APF and #VE areas: accepted", v == 0, "verdict %ld",
	       (u64)v, 0);
	/* the program itself in the areas, the block elsewhere */
	reg = (struct dz_pred_reg){
	    .prog_gpa = a + 16, .prog_len = 16, .log_gpa = (u64)logbuf, .log_size = 64};
	((struct insn *)(areas + 16))[0] = ret0[0];
	((struct insn *)(areas + 16))[1] = ret0[1];
	v = do_register((u64)&reg);
	result("PRED program inside the APF/#VE areas: accepted", v == 0, "verdict %ld", (u64)v, 0);
	/* every page of RAM, once, with the areas armed at the end of RAM */
	hx_wrmsr(MSR_APF_EN, (ram - 64) | APF_EN_ON | APF_EN_INT);
	hx_wrmsr(DZ_MSR_VE_INFO, (ram - 64) | DZ_VE_ENABLE);
	for (u64 p = 0; p < ram; p += 4096) {
		sum += *(volatile u8 *)p;
		if ((p & 0xfffff) == 0)
			do_register((u64)&reg); /* re-register now and then */
	}
	result("every page of RAM read with the areas armed at the end of RAM", true, "%lu%lu", sum,
	       0);
	hx_wrmsr(MSR_APF_EN, 0);
	hx_wrmsr(DZ_MSR_VE_INFO, 0);
}

/* Registration from pages that were written before the snapshot and not touched
 * since: the host must fetch them, not answer -EAGAIN (a restored guest). */
static void probe_cold(bool restored)
{
	s64 v = do_register((u64)&cold_reg);

	result(restored ? "PRED from pages not fetched yet (restored guest): accepted"
			: "PRED from the cold buffers: accepted",
	       v == 0, "verdict %ld", (u64)v, 0);
	result("... and the verdict landed in the block", cold_reg.verdict == 0,
	       "block verdict %ld", (u64)(s64)cold_reg.verdict, 0);
}

/* ---- asynchronous delivery, handled by a guest that plays by none of the rules ---- */

#define COLD_PAGES 512 /* 2 MiB at ram - 4 MiB: written before the snapshot only */
static u64 cold;

static u64 cold_word(u64 i)
{
	return 0x5a5a000000000000UL ^ (i * 0x9e3779b97f4a7c15UL);
}

static void cold_fill(void)
{
	cold = ram - (4UL << 20);
	for (u64 i = 0; i < COLD_PAGES; i++)
		*(volatile u64 *)(cold + i * 4096 + (i % 512) * 8) = cold_word(i);
}

/* Reads pages [from, to) of the cold region with IF = 1 (faults may go async);
 * returns how many read back wrong. */
static u32 cold_touch(u64 from, u64 to, bool noise)
{
	u32 bad = 0;

	for (u64 i = from; i < to; i++) {
		u64 v;

		__asm__ volatile("sti");
		v = *(volatile u64 *)(cold + i * 4096 + (i % 512) * 8);
		__asm__ volatile("cli");
		bad += v != cold_word(i);
		if (noise && (i & 15) == 0) {
			hx_wrmsr(MSR_APF_ACK, 1); /* a token we never got */
			hx_wrmsr(DZ_MSR_PAGE_READY_ACK, 1);
		}
		if (noise && (i & 31) == 0)
			do_register((u64)&reg); /* re-register mid-flight */
	}
	return bad;
}

static void wait_ticks(u32 n)
{
	for (u32 i = 0; i < n; i++)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}

static bool token_seen(u32 t)
{
	for (u64 i = 0; i < hx_ve_n && i < HX_LOG; i++)
		if ((u32)hx_ve_log[i].token == t)
			return true;
	return false;
}

static void probes_async(void)
{
	struct dz_ve_info *ve = (void *)(areas + 64);
	struct dz_apf_area *apf = (void *)areas;
	u64 old_ve, old_pr, n_first, bad_rec = 0, bad_pr = 0;
	const char *what = ve_mode ? "#VE" : "#PF";
	u32 bad;

	/* only the cold region may go asynchronous */
	ranges.nr = 2;
	ranges.range[0].start = 0;
	ranges.range[0].end = cold;
	ranges.range[1].start = cold + COLD_PAGES * 4096;
	ranges.range[1].end = ram;
	expect_ok("async: never-async everywhere but the test region", DZ_MSR_SYNC_RANGES,
		  (u64)&ranges);
	old_ve = idt_swap(DZ_VEC_VE, (u64)hx_ve);
	old_pr = idt_swap(DZ_VEC_PAGE_READY, (u64)hx_pr);
	hx_pf_orig = idt_swap(14, (u64)hx_pf);
	hx_ve_area = (u64)ve;
	hx_apf_area = (u64)apf;
	hx_ve_rearm = 0;
	hx_wrmsr(MSR_APF_INT, DZ_VEC_PAGE_READY);
	expect_ok("async: APF armed", MSR_APF_EN, (u64)apf | APF_EN_ON | APF_EN_INT);
	if (ve_mode)
		expect_ok("async: #VE armed", DZ_MSR_VE_INFO, (u64)ve | DZ_VE_ENABLE);
	else
		expect_gp("async: #VE refused, page-not-present comes as #PF", DZ_MSR_VE_INFO,
			  (u64)ve | DZ_VE_ENABLE);
	{
		/* "may sleep": always (under --policy bpf every fault with IF = 1 is async) */
		static const struct insn ret1[] = {{0xb7, 0x00, 0, 1}, {0x95, 0, 0, 0}};

		set_prog(2, ret1);
		set_reg((u64)prog, 16, (u64)logbuf, 64);
		expect_verdict("async: predicate r0 = 1 accepted", (u64)&reg, 0);
	}

	/* A: the handler never re-arms: the host must not write the area again */
	bad = cold_touch(0, 64, false);
	n_first = hx_ve_n;
	result("async: area left busy (not re-armed): at most one page-not-present", n_first <= 1,
	       "%lu delivered", n_first, 0);
	result("async: every page read back right (A)", bad == 0, "%u wrong", bad, 0);
	if (!n_first)
		printk("hostile: info: no page-not-present delivered (this policy keeps ring-0 "
		       "faults synchronous)\n");

	/* B: re-arm at once, never sleep, ACK tokens never given, re-register in flight */
	ve->busy = 0;
	apf->flags = 0;
	hx_ve_rearm = 1;
	bad = cold_touch(64, 256, true);
	wait_ticks(20);
	result("async: every page read back right (B)", bad == 0, "%u wrong", bad, 0);
	for (u64 i = 0; i < hx_ve_n && i < HX_LOG; i++) {
		struct ve_rec *r = &hx_ve_log[i];
		u64 page = r->gpa & ~0xfffUL;

		if (r->reason != DZ_VE_PAGE_NOT_PRESENT || r->busy != DZ_VE_BUSY || !r->token ||
		    r->token >= 0xffffffffUL ||
		    (ve_mode && (page < cold || page >= cold + COLD_PAGES * 4096)))
			bad_rec++;
	}
	result("async: every page-not-present names a token (and, #VE, a page touched)",
	       bad_rec == 0, "%lu bad records of %lu", bad_rec, hx_ve_n);
	for (u64 i = 0; i < hx_pr_n && i < HX_LOG; i++)
		if (hx_pr_log[i] != 0xffffffffU && !token_seen(hx_pr_log[i]))
			bad_pr++;
	result("async: every page-ready carries a token the guest was given", bad_pr == 0,
	       "%lu unknown of %lu", bad_pr, hx_pr_n);
	printk("hostile: info: %lu %s, %lu page-ready\n", hx_ve_n, what, hx_pr_n);

	/* C: turn APF off with tokens outstanding, then on again at another area */
	__asm__ volatile("sti");
	(void)*(volatile u64 *)(cold + 256 * 4096 + 256 * 8);
	__asm__ volatile("cli");
	expect_ok("async: APF off with faults in flight", MSR_APF_EN, 0);
	wait_ticks(5);
	hx_apf_area = (u64)areas + 128;
	expect_ok("async: APF on again at another area", MSR_APF_EN,
		  ((u64)areas + 128) | APF_EN_ON | APF_EN_INT);
	bad = cold_touch(257, 320, false);
	wait_ticks(10);
	result("async: every page read back right (C)", bad == 0, "%u wrong", bad, 0);

	/* D: the #VE area (or, #PF mode, the APF area) in a page nobody touched yet */
	if (ve_mode) {
		hx_ve_area = cold + 511 * 4096 + 64;
		expect_ok("async: #VE area moved into a page not fetched yet", DZ_MSR_VE_INFO,
			  hx_ve_area | DZ_VE_ENABLE);
	} else {
		hx_apf_area = cold + 511 * 4096 + 64;
		expect_ok("async: APF area moved into a page not fetched yet", MSR_APF_EN,
			  hx_apf_area | APF_EN_ON | APF_EN_INT);
	}
	bad = cold_touch(320, 400, true);
	wait_ticks(10);
	result("async: every page read back right (D)", bad == 0, "%u wrong", bad, 0);
	result("async: the moved area did not clobber the page's data",
	       *(volatile u64 *)(cold + 511 * 4096 + 511 * 8) == cold_word(511), "%lx%lu",
	       *(volatile u64 *)(cold + 511 * 4096 + 511 * 8), 0);

	/* E: page-ready pending while the guest keeps IF = 0 and touches more memory */
	__asm__ volatile("sti");
	(void)*(volatile u64 *)(cold + 400 * 4096 + 400 * 8);
	__asm__ volatile("cli");
	bad = 0;
	for (u64 i = 401; i < 480; i++)
		bad += *(volatile u64 *)(cold + i * 4096 + (i % 512) * 8) != cold_word(i);
	wait_ticks(5);
	result("async: pages touched with IF = 0 while page-ready is pending read back right",
	       bad == 0, "%u wrong", bad, 0);

	hx_wrmsr(MSR_APF_EN, 0);
	hx_wrmsr(DZ_MSR_VE_INFO, 0);
	wait_ticks(2);
	/* the host's async_faults must count exactly these (deliveries, not decisions) */
	printk("hostile: info: %lu %s received in all\n", hx_ve_n, what);
	idt_swap(DZ_VEC_VE, old_ve);
	idt_swap(DZ_VEC_PAGE_READY, old_pr);
	idt_swap(14, hx_pf_orig);
	ranges.nr = 1;
	ranges.range[0].start = 0;
	ranges.range[0].end = ram;
	hx_wrmsr(DZ_MSR_SYNC_RANGES, (u64)&ranges);
}

void hostile_main(void) __attribute__((noreturn));
void hostile_main(void)
{
	struct dz_boot_info *bi = (void *)DZ_BOOT_INFO_GPA;
	u64 feat = 0;
	bool restored;

	cli();
	ram = bi->ram_size;
	install_gp_hook();
	cold_prog[0] = ret0[0];
	cold_prog[1] = ret0[1];
	cold_reg = (struct dz_pred_reg){.prog_gpa = (u64)cold_prog,
					.prog_len = sizeof(cold_prog),
					.log_gpa = (u64)cold_log,
					.log_size = sizeof(cold_log),
					.verdict = 12345};
	cold_fill();
	printk("hostile: snapshot point\n");
	/* With --snapshot the run ends here; a restored guest continues below. */
	outl(DZ_PORT_SNAPSHOT, DZ_SNAPSHOT_REQUEST);
	restored = !!(bi->flags & DZ_BOOT_F_SNAPSHOT);
	if (hx_rdmsr(DZ_MSR_FEATURES, &feat))
		feat = 0;
	printk("hostile: features %lx, probing\n", feat);
	ve_mode = !!(feat & DZ_CPUID_F_VE);
	if (!(feat & DZ_CPUID_F_PRED)) {
		probes_no_abi();
	} else {
		probe_cold(restored);
		probes_async();
		probes_msrs();
		probes_pred();
		probes_overlap();
	}
	printk("hostile: %u of %u probes passed, %lu #GP caught\n", passed, run, hx_gp_count);
	power_off(passed == run ? DZ_STATUS_OK : DZ_STATUS_MISMATCH, passed, run);
}
