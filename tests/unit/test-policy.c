// SPDX-License-Identifier: GPL-2.0
/*
 * Asynchronous page-fault policies: the decision matrix of sync/user/always/bpf,
 * the adaptive minimum wait, host-side refusals (not armed, token limit), the
 * predicate context built from KVM registers, and predicates that read guest
 * memory through the page-state-checked view (a missing page is never touched).
 */
#include <errno.h>
#include <stddef.h>

#include <doze/filter.h>

#include "tap.h"
#include "../../vmm/policy.h"

#define IF (1ull << 9)

static uint8_t ram[16 * 4096];
static bool present[16];

static bool page_present(void *opaque, uint64_t pfn)
{
	return pfn < 16 && present[pfn];
}

static const struct dz_guestmem gm = {
    .ram = ram,
    .size = sizeof(ram),
    .page_present = page_present,
};

static struct dz_pred_ctx ctx_at(uint32_t cpl, bool ifl)
{
	struct dz_pred_ctx c = {.cpl = cpl, .rflags = 0x2 | (ifl ? IF : 0)};

	return c;
}

static const struct dz_fault_env ok_env = {.armed = true, .tokens_available = true};

static struct dz_prog *mkprog(const struct bpf_insn *insns, uint32_t cnt)
{
	struct dz_prog *p = NULL;

	if (dz_prog__new(insns, cnt, DZ_PROG_PREDICATE, &p))
		return NULL;
	p->verified = true; /* hand-checked here; the verifier has its own tests */
	return p;
}

static void test_parse(void)
{
	enum dz_policy_kind k;

	ok(!dz_policy_kind__parse("bpf", &k) && k == DZ_POLICY_BPF, "parse bpf");
	ok(!dz_policy_kind__parse("always", &k) && k == DZ_POLICY_ALWAYS, "parse always");
	is_int(dz_policy_kind__parse("kvm2", &k), -EINVAL, "unknown policy rejected");
	is_int(dz_policy_kind__parse(NULL, &k), -EINVAL, "NULL rejected");
	is_str(dz_policy_kind__name(DZ_POLICY_USER), "user", "name of user");
	is_str(dz_decide_reason__name(DZ_SYNC_TOKEN_LIMIT), "token_limit", "reason key");
	is_str(dz_decide_reason__name(DZ__DECIDE_MAX), "?", "out-of-range reason");
}

static void test_matrix(void)
{
	static const struct {
		enum dz_policy_kind kind;
		uint32_t cpl;
		bool ifl;
		enum dz_decide_reason want;
	} cases[] = {
	    {DZ_POLICY_SYNC, 3, true, DZ_SYNC_POLICY},
	    {DZ_POLICY_SYNC, 0, true, DZ_SYNC_POLICY},
	    {DZ_POLICY_USER, 3, true, DZ_DECIDE_ASYNC},
	    {DZ_POLICY_USER, 3, false, DZ_SYNC_NOT_INTERRUPTIBLE},
	    {DZ_POLICY_USER, 0, true, DZ_SYNC_POLICY},
	    {DZ_POLICY_USER, 0, false, DZ_SYNC_NOT_INTERRUPTIBLE},
	    {DZ_POLICY_ALWAYS, 0, true, DZ_DECIDE_ASYNC},
	    {DZ_POLICY_ALWAYS, 0, false, DZ_SYNC_NOT_INTERRUPTIBLE},
	    {DZ_POLICY_BPF, 3, true, DZ_DECIDE_ASYNC}, /* no predicate: as user */
	    {DZ_POLICY_BPF, 0, true, DZ_SYNC_POLICY},
	};

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dz_policy *p;
		struct dz_pred_ctx c = ctx_at(cases[i].cpl, cases[i].ifl);

		dz_policy__new(cases[i].kind, 0, &gm, &p);
		is_int(dz_policy__decide(p, &c, &ok_env), cases[i].want, "%s, CPL %u, IF=%d -> %s",
		       dz_policy_kind__name(cases[i].kind), cases[i].cpl, cases[i].ifl,
		       dz_decide_reason__name(cases[i].want));
		dz_policy__free(p);
	}
}

static void test_host_side(void)
{
	struct dz_policy *p;
	struct dz_pred_ctx c = ctx_at(3, true);
	struct dz_fault_env env = ok_env;
	struct dz_policy_stats st;
	enum dz_decide_reason why;

	dz_policy__new(DZ_POLICY_ALWAYS, 1000000, &gm, &p);
	env.expected_latency_ns = 100000;
	is_int(dz_policy__decide(p, &c, &env), DZ_SYNC_ADAPTIVE,
	       "100us source, 1ms min wait: adaptive");
	env.expected_latency_ns = 2000000;
	is_int(dz_policy__decide(p, &c, &env), DZ_DECIDE_ASYNC, "2ms source: async");
	env.expected_latency_ns = 0;
	is_int(dz_policy__decide(p, &c, &env), DZ_DECIDE_ASYNC, "unknown latency: async");
	env.tokens_available = false;
	is_int(dz_policy__decide(p, &c, &env), DZ_SYNC_TOKEN_LIMIT, "no token left: token_limit");
	ok(!dz_policy__may_async(p, &env, &why) && why == DZ_SYNC_TOKEN_LIMIT,
	   "may_async agrees before any vCPU state is known");
	env = ok_env;
	env.armed = false;
	is_int(dz_policy__decide(p, &c, &env), DZ_SYNC_NOT_ARMED, "APF not enabled: not_armed");
	c = ctx_at(0, false);
	is_int(dz_policy__decide(p, &c, &ok_env), DZ_SYNC_NOT_INTERRUPTIBLE,
	       "IF=0: not_interruptible");
	dz_policy__count(p, DZ_SYNC_NOT_VISIBLE);
	dz_policy__get_stats(p, &st);
	is_int(st.decisions[DZ_DECIDE_ASYNC], 2, "2 async counted");
	is_int(st.decisions[DZ_SYNC_ADAPTIVE], 1, "1 adaptive counted");
	is_int(st.decisions[DZ_SYNC_NOT_VISIBLE], 1,
	       "not_visible counted through dz_policy__count");
	is_int(st.async_by_cpl[3], 2, "async faults by ring: 2 at CPL 3");
	is_int(st.sync_by_cpl[0], 1, "sync faults by ring: 1 at CPL 0");
	dz_policy__free(p);
}

static void test_ctx_from_kvm(void)
{
	struct kvm_regs r = {
	    .rax = 1, .r15 = 15, .rip = 0xffffffff81000000ull, .rsp = 0x7000, .rflags = 0x202};
	struct kvm_sregs s = {.cr0 = 0x80050033, .cr3 = 0x2000, .cr4 = 0x20, .efer = 0x500};
	struct dz_pred_ctx c;

	s.cs.selector = 0x2b;
	s.gs.base = 0x1234;
	s.fs.base = 0x99;
	dz_pred_ctx__from_kvm(&c, 3, &r, &s, 0xabc, 0x5008, 0x400008, true, DZ_ACCESS_WRITE);
	ok(c.vcpu == 3 && c.cpl == 3 && c.rax == 1 && c.r15 == 15 && c.rip == r.rip &&
	       c.rsp == 0x7000 && c.rflags == 0x202,
	   "general registers, RIP, RSP, RFLAGS, CPL from CS.RPL");
	ok(c.cr0 == s.cr0 && c.cr3 == 0x2000 && c.cr4 == 0x20 && c.efer == 0x500 &&
	       c.gs_base == 0x1234 && c.fs_base == 0x99 && c.kernel_gs_base == 0xabc,
	   "control registers and segment bases");
	ok(c.fault_gpa == 0x5008 && c.fault_gva == 0x400008 && c.access == DZ_ACCESS_WRITE &&
	       c.flags == DZ_PRED_F_GVA_VALID,
	   "fault address and access");
	dz_pred_ctx__from_kvm(&c, 0, &r, &s, 0, 0x5008, 0x400008, false, DZ_ACCESS_READ);
	ok(c.fault_gva == 0 && c.flags == 0, "an unknown GVA reads as 0 without the flag");
}

/* r0 = (ctx->rax == 42) */
static const struct bpf_insn prog_rax[] = {
    BPF_LDX_MEM(BPF_DW, BPF_REG_2, BPF_REG_1, offsetof(struct dz_pred_ctx, rax)),
    BPF_MOV64_IMM(BPF_REG_0, 0),
    BPF_JMP_IMM(BPF_JNE, BPF_REG_2, 42, 1),
    BPF_MOV64_IMM(BPF_REG_0, 1),
    BPF_EXIT_INSN(),
};

/* u32 v; if (dz_read_gpa(&v, 4, 0x3000)) return 0; return v == 7; */
static const struct bpf_insn prog_gpa[] = {
    BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),  BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8),
    BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 0), BPF_MOV64_IMM(BPF_REG_2, 4),
    BPF_MOV64_IMM(BPF_REG_3, 0x3000),	   BPF_CALL_HELPER(DZ_HELPER_READ_GPA),
    BPF_JMP_IMM(BPF_JNE, BPF_REG_0, 0, 4), BPF_LDX_MEM(BPF_W, BPF_REG_2, BPF_REG_10, -8),
    BPF_MOV64_IMM(BPF_REG_0, 0),	   BPF_JMP_IMM(BPF_JNE, BPF_REG_2, 7, 1),
    BPF_MOV64_IMM(BPF_REG_0, 1),	   BPF_EXIT_INSN(),
};

/* u32 pc; dz_read_percpu(&pc, 4, 16) (preempt_count); return ok && pc == 0 */
static const struct bpf_insn prog_percpu[] = {
    BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),  BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8),
    BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 0), BPF_MOV64_IMM(BPF_REG_2, 4),
    BPF_MOV64_IMM(BPF_REG_3, 16),	   BPF_CALL_HELPER(DZ_HELPER_READ_PERCPU),
    BPF_JMP_IMM(BPF_JNE, BPF_REG_0, 0, 4), BPF_LDX_MEM(BPF_W, BPF_REG_2, BPF_REG_10, -8),
    BPF_MOV64_IMM(BPF_REG_0, 0),	   BPF_JMP_IMM(BPF_JNE, BPF_REG_2, 0, 1),
    BPF_MOV64_IMM(BPF_REG_0, 1),	   BPF_EXIT_INSN(),
};

static void test_bpf(void)
{
	struct dz_policy *p;
	struct dz_pred_ctx c = ctx_at(0, true);
	struct dz_policy_stats st;
	struct dz_prog *prog;

	dz_policy__new(DZ_POLICY_BPF, 0, &gm, &p);
	ok(!dz_policy__has_predicate(p), "no predicate at first");
	prog = mkprog(prog_rax, 5);
	prog->verified = false;
	is_int(dz_policy__set_predicate(p, prog), -EPERM, "an unverified program is refused");
	prog->verified = true;
	is_int(dz_policy__set_predicate(p, prog), 0, "a verified program is installed");
	c.rax = 42;
	is_int(dz_policy__decide(p, &c, &ok_env), DZ_DECIDE_ASYNC, "predicate yes at CPL 0: async");
	c.rax = 41;
	is_int(dz_policy__decide(p, &c, &ok_env), DZ_SYNC_PREDICATE, "predicate no: predicate_no");
	c = ctx_at(0, false);
	c.rax = 42;
	is_int(dz_policy__decide(p, &c, &ok_env), DZ_SYNC_NOT_INTERRUPTIBLE,
	       "IF=0 wins over the predicate");

	is_int(dz_policy__set_predicate(p, mkprog(prog_gpa, 12)), 0, "replace the predicate");
	c = ctx_at(0, true);
	*(uint32_t *)(ram + 0x3000) = 7;
	present[3] = true;
	is_int(dz_policy__decide(p, &c, &ok_env), DZ_DECIDE_ASYNC, "reads guest RAM: 7 -> async");
	present[3] = false;
	is_int(dz_policy__decide(p, &c, &ok_env), DZ_SYNC_PREDICATE,
	       "the page is not present: the helper fails, never touches it");

	is_int(dz_policy__set_predicate(p, mkprog(prog_percpu, 12)), 0, "per-CPU predicate");
	/* Identity map: PML4 at 0x1000 -> PDPT 0x2000 -> 1 GiB page at 0. */
	present[1] = present[2] = present[5] = true;
	*(uint64_t *)(ram + 0x1000) = 0x2000 | 3;
	*(uint64_t *)(ram + 0x2000) = 0x0 | 0x83;
	*(uint32_t *)(ram + 0x5000 + 16) = 0;
	*(uint32_t *)(ram + 0x6000 + 16) = 1;
	present[6] = true;
	c = ctx_at(0, true);
	c.cr3 = 0x1000;
	c.gs_base = 0x5000;
	c.kernel_gs_base = 0x6000;
	is_int(dz_policy__decide(p, &c, &ok_env), DZ_DECIDE_ASYNC,
	       "CPL 0 reads preempt_count at GS base: 0 -> async");
	c.cpl = 3;
	is_int(dz_policy__decide(p, &c, &ok_env), DZ_SYNC_PREDICATE,
	       "CPL 3 reads it at KERNEL_GS_BASE: 1 -> predicate_no");

	dz_policy__get_stats(p, &st);
	is_int(st.pred_evals, 6, "6 predicate evaluations (none for IF=0)");
	is_int(st.pred_may_sleep, 3, "3 said may sleep");
	ok(st.pred_insns_sum >= 6 * 5, "instructions counted (%llu)",
	   (unsigned long long)st.pred_insns_sum);
	ok(st.pred_ns_sum > 0, "evaluation time accumulated");
	dz_policy__free(p);
}

int main(void)
{
	test_parse();
	test_matrix();
	test_host_side();
	test_ctx_from_kvm();
	test_bpf();
	return done_testing();
}
