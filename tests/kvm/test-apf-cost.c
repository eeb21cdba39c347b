// SPDX-License-Identifier: GPL-2.0
/*
 * The reference guest's asynchronous page-fault round trip, counted in guest
 * ring-0 instructions (ring 0 is emulated here, ~1 us each; DESIGN.md asks
 * for about 100 per round trip).
 *
 * A small lazy restore (policy bpf, 1 vCPU, two tasks, file source with 1 ms
 * latency, no prefetch) runs with KVM_GUESTDBG_SINGLESTEP on. Every debug
 * exit is one retired ring-0 instruction (ring 3 runs natively and is not
 * traced). The trace is cut into:
 *
 *   park   #VE page-not-present, from its entry until the vCPU runs on
 *	    another stack (the next task or idle);
 *   ready  page-ready interrupt: entry, ACK, wake, until its iretq or until
 *	    it switches stacks (to the woken task);
 *   back   from the first instruction on the parked task's stack again
 *	    (plus, when idle picked it, idle's instructions since the
 *	    interrupt) until the iretq that re-executes the faulting access.
 *
 * A #VE whose page-ready came first ("early": it returns at once) is counted
 * apart. On this backend the step after an event delivery and after swapgs
 * merges with the next instruction; the gaps are filled from the guest ELF's
 * disassembly (objdump), so the counts are exact.
 *
 * Run twice: the syscall workload (faults in ring 0, inside SYS_RECORDS) and
 * the scan workload (faults in ring 3). Budgets: see BUDGET_* below and
 * docs/async.md ("Instruction budget"). Debugging aids: DZ_ONLY=0|1 runs one
 * workload, DZ_TRACE=1 prints the first 3000 steps (RIP, RSP) on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../vmm/apf.h"
#include "../../vmm/faultsvc.h"
#include "../../vmm/snapshot.h"
#include "../../vmm/source.h"
#include "../../vmm/vm.h"
#include <doze/abi.h>
#include "tap.h"

/*
 * Budgets, in ring-0 instructions, for every episode that stays in the fast
 * paths of guest/entry.S (from ve_entry up to timer_entry, and switch_to,
 * which resumes a parked task's frame the same way): which variant runs
 * (ring 0 or 3, next task or idle, woken from idle or not) depends on timing,
 * the cost of each does not, so the test checks the most expensive one seen,
 * and their sum as the worst round trip (46 + 34 + 28 = 108 when this was
 * written; the median round trip is 97-98). Episodes that went through C
 * (idle's loop calling schedule()) are reported, not budgeted. The
 * guest before the fast paths took 191 and 222 (medians; docs/async.md,
 * "Instruction budget").
 */
#define BUDGET_TOTAL 110
#define BUDGET_PARK  48
#define BUDGET_READY 36
#define BUDGET_BACK  30

/* ---- the guest's instructions, from objdump ---- */
struct insn {
	uint64_t addr;
	uint8_t kind; /* I_* */
};
enum { I_PLAIN, I_BRANCH, I_IRET, I_SWAPGS, I_HLT, I_PUSH };

static struct insn *insns;
static size_t nr_insns;
static uint64_t fast_lo, fast_hi; /* guest/entry.S's fast paths: [ve_entry, timer_entry) */
static uint64_t sw_lo, sw_hi;	  /* and switch_to, which resumes the same frames: [switch_to, start_user) */

static bool in_fast(uint64_t a)
{
	return (a >= fast_lo && a < fast_hi) || (a >= sw_lo && a < sw_hi);
}

static int load_insns(const char *elf)
{
	char cmd[4200], line[512];
	size_t cap = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "objdump -d --no-show-raw-insn '%s' 2>/dev/null", elf);
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	while (fgets(line, sizeof(line), p)) {
		unsigned long long a;
		char mn[64];
		int kind = I_PLAIN;

		if (sscanf(line, "%llx <%63[^>]>:", &a, mn) == 2) {
			if (!strcmp(mn, "ve_entry"))
				fast_lo = a;
			else if (!strcmp(mn, "timer_entry"))
				fast_hi = a;
			else if (!strcmp(mn, "switch_to"))
				sw_lo = a;
			else if (!strcmp(mn, "start_user"))
				sw_hi = a;
			continue;
		}
		if (sscanf(line, " %llx:\t%63s", &a, mn) != 2)
			continue;
		if (mn[0] == 'j' || !strncmp(mn, "call", 4) || !strncmp(mn, "ret", 3) ||
		    !strncmp(mn, "lret", 4))
			kind = I_BRANCH;
		else if (!strcmp(mn, "iretq"))
			kind = I_IRET;
		else if (!strcmp(mn, "swapgs"))
			kind = I_SWAPGS;
		else if (!strcmp(mn, "hlt"))
			kind = I_HLT;
		else if (!strncmp(mn, "push", 4))
			kind = I_PUSH;
		if (nr_insns == cap) {
			cap = cap ? 2 * cap : 4096;
			insns = realloc(insns, cap * sizeof(*insns));
			if (!insns)
				abort();
		}
		insns[nr_insns++] = (struct insn){ a, (uint8_t)kind };
	}
	pclose(p);
	return nr_insns ? 0 : -ENOENT;
}

/* index of the instruction at addr, or -1 */
static long insn_idx(uint64_t addr)
{
	size_t lo = 0, hi = nr_insns;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (insns[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nr_insns && insns[lo].addr == addr ? (long)lo : -1;
}

static int insn_kind(uint64_t addr)
{
	long i = insn_idx(addr);

	return i < 0 ? -1 : insns[i].kind;
}

/* Instructions retired between two debug exits at prev and cur (same flow). */
static uint64_t retired(uint64_t prev, uint64_t cur)
{
	long a = insn_idx(prev), b = insn_idx(cur);

	if (a < 0 || b < 0 ||
	    (insns[a].kind != I_PLAIN && insns[a].kind != I_PUSH && insns[a].kind != I_SWAPGS))
		return 1; /* prev was a branch: cur is its target */
	if (b == a + 1)
		return 1;
	if (b > a + 1 && b <= a + 4)
		return (uint64_t)(b - a); /* merged steps in straight line */
	return 2;			  /* merged with a branch right after prev */
}

/* ---- per-kind samples ---- */
enum { K_PARK, K_READY, K_BACK, K_EARLY, K_NR };
static const char *const kname[K_NR] = { "park (#VE)", "page-ready", "switch back", "#VE early" };

struct samples {
	uint64_t *v;
	size_t n, cap;
};

static void add(struct samples *s, uint64_t v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			abort();
	}
	s->v[s->n++] = v;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(struct samples *s)
{
	if (!s->n)
		return 0;
	qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
	return s->v[s->n / 2];
}

/* ---- the tracer ---- */
#define NR_STACKS 4096 /* rsp >> 13 below 32 MiB: kernel stacks live low */

struct tracer {
	struct vm_hooks inner; /* the async path's own hooks */
	uint64_t h_ve, h_ready;	/* IDT handlers of vectors 20 and DZ_VEC_PAGE_READY */
	uint64_t handlers[48];
	bool armed;
	uint64_t last_rip; /* 0: in ring 3 (or nothing traced yet) */
	uint64_t last_stack;
	int kind; /* K_* or -1: not in a counted episode */
	uint64_t count;
	uint64_t idle_stack, idle_acc;
	uint64_t back_stack;
	uint64_t parked_rip[NR_STACKS]; /* faulting RIP of the task parked on that stack, 0 = none */
	struct samples s[K_NR];
	struct samples fast[K_NR]; /* the episodes that stayed in the fast paths */
	bool slow, idle_slow;	   /* this episode / idle's carried steps left them */
	uint64_t steps;
	int err;
};

static uint8_t *gva(struct vcpu *vcpu, uint64_t a) /* identity-mapped guest */
{
	struct vm *vm = vcpu__vm(vcpu);

	return a + 64 <= vm__ram_size(vm) ? (uint8_t *)vm__ram(vm) + a : NULL;
}

static uint64_t rd64(struct vcpu *vcpu, uint64_t a)
{
	uint8_t *p = gva(vcpu, a);
	uint64_t v = 0;

	if (p)
		memcpy(&v, p, 8);
	return v;
}

static int read_idt(struct tracer *t, struct vcpu *vcpu)
{
	struct kvm_sregs sr;

	if (vcpu__get_sregs(vcpu, &sr))
		return -EIO;
	for (int v = 0; v < 48; v++) {
		uint8_t *g = gva(vcpu, sr.idt.base + 16 * (uint64_t)v);
		uint16_t lo, mid;
		uint32_t hi;

		if (!g)
			return -EFAULT;
		memcpy(&lo, g, 2);
		memcpy(&mid, g + 6, 2);
		memcpy(&hi, g + 8, 4);
		t->handlers[v] = lo | (uint64_t)mid << 16 | (uint64_t)hi << 32;
	}
	t->h_ve = t->handlers[DZ_VEC_VE];
	t->h_ready = t->handlers[DZ_VEC_PAGE_READY];
	return 0;
}

/* The handler whose first bytes hold rip (an event was just delivered), or 0. */
static uint64_t entered(struct tracer *t, uint64_t rip)
{
	uint64_t best = 0;

	for (int v = 0; v < 48; v++)
		if (t->handlers[v] && rip >= t->handlers[v] && rip < t->handlers[v] + 12 &&
		    t->handlers[v] > best)
			best = t->handlers[v]; /* the closest: some entries are only a few bytes apart */
	return best;
}

static void end_episode(struct tracer *t)
{
	if (t->kind >= 0) {
		add(&t->s[t->kind], t->count);
		if (!t->slow)
			add(&t->fast[t->kind], t->count);
	}
	t->kind = -1;
	t->count = 0;
}

static int tr_before_entry(void *opaque, struct vcpu *vcpu)
{
	struct tracer *t = opaque;
	struct kvm_guest_debug dbg = { .control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP };

	if (!t->armed) {
		t->armed = true;
		if (ioctl(vcpu__fd(vcpu), KVM_SET_GUEST_DEBUG, &dbg))
			return -errno;
	}
	return t->inner.before_entry ? t->inner.before_entry(t->inner.opaque, vcpu) : 0;
}

static int tr_on_debug(void *opaque, struct vcpu *vcpu, struct kvm_run *run)
{
	struct tracer *t = opaque;
	struct kvm_regs r;
	uint64_t rip, stack, h;
	int k;

	if (vcpu__get_regs(vcpu, &r))
		return -EIO;
	if (!t->h_ve && read_idt(t, vcpu))
		return -EIO;
	rip = r.rip;
	stack = r.rsp >> 13;
	if (++t->steps > 4000000) {
		vm__stop(vcpu__vm(vcpu), -E2BIG, "too many single steps");
		return 1;
	}
	if (getenv("DZ_TRACE") && t->steps < 3000)
		fprintf(stderr, "step %llu rip %llx rsp %llx kind %d count %llu\n",
			(unsigned long long)t->steps, (unsigned long long)rip,
			(unsigned long long)r.rsp, t->kind, (unsigned long long)t->count);
	h = entered(t, rip);
	if (h && !(t->last_rip >= h && t->last_rip < h + 12)) {
		/* an event was delivered: count the handler's instructions so far */
		long a = insn_idx(h), b = insn_idx(rip);
		uint64_t n = a >= 0 && b >= a ? (uint64_t)(b - a) : 1, pushes = 0;

		for (long i = a; i >= 0 && i < b; i++)
			pushes += insns[i].kind == I_PUSH;
		if (t->kind >= 0 && insn_kind(t->last_rip) == I_IRET) {
			/* delivered right at the iretq's return (IF = 1 again): it retired */
			t->count++;
			if (t->kind == K_PARK)
				t->kind = K_EARLY;
			if (t->kind == K_BACK && t->back_stack < NR_STACKS)
				t->parked_rip[t->back_stack] = 0;
			end_episode(t);
		}
		if (t->kind >= 0) {
			t->err = -EPROTO; /* an event inside a counted episode (IF was 0 there) */
			diag("event at %llx (handler %llx) inside episode %d after %llx", (unsigned long long)rip,
			     (unsigned long long)h, t->kind, (unsigned long long)t->last_rip);
		}
		t->kind = -1;
		t->idle_acc = 0;
		t->idle_slow = false;
		if (h == t->h_ve || h == t->h_ready) {
			uint64_t frame = r.rsp + 8 * pushes;

			t->kind = h == t->h_ve ? K_PARK : K_READY;
			t->count = n;
			t->slow = !in_fast(h);
			if (h == t->h_ve && stack < NR_STACKS)
				t->parked_rip[stack] = rd64(vcpu, frame);
		}
		t->last_stack = stack;
		t->last_rip = rip;
		return 1;
	}
	if (t->last_rip) {
		uint64_t n = retired(t->last_rip, rip);
		bool after_iret = insn_kind(t->last_rip) == I_IRET;

		bool out = !in_fast(t->last_rip); /* what just retired */

		if (t->kind >= 0) {
			t->count += n;
			t->slow |= out;
		} else if (stack == t->idle_stack && t->last_stack == stack) {
			t->idle_acc += n;
			t->idle_slow |= out;
		}
		/* an iretq back to ring 0 just retired */
		if (after_iret) {
			long pi = t->back_stack < NR_STACKS ? insn_idx(t->parked_rip[t->back_stack]) : -1;

			/* (the step after an iretq to ring 0 merges with the instruction it returns to) */
			if (t->kind == K_BACK && pi >= 0 &&
			    (rip == insns[pi].addr || insn_idx(rip) == pi + 1)) {
				t->parked_rip[t->back_stack] = 0;
				end_episode(t);
			} else if (t->kind == K_PARK) {
				t->kind = K_EARLY;
				end_episode(t);
			} else if (t->kind >= 0) {
				end_episode(t);
			}
		}
	}
	/* the stack changed: a task switch */
	if (t->last_rip && stack != t->last_stack) {
		uint64_t carry = 0;
		bool carry_slow = false;

		if (t->kind == K_PARK || t->kind == K_READY)
			end_episode(t);
		else if (t->last_stack == t->idle_stack) {
			carry = t->idle_acc;
			carry_slow = t->idle_slow;
		}
		if (t->kind < 0 && stack < NR_STACKS && t->parked_rip[stack]) {
			t->kind = K_BACK;
			t->back_stack = stack;
			t->count = 1 + carry;
			t->slow = carry_slow || !in_fast(t->last_rip);
		} else if (t->kind == K_BACK) {
			t->kind = -1; /* left again before returning: not a clean switch back */
		}
		t->idle_acc = 0;
		t->idle_slow = false;
	}
	k = insn_kind(rip);
	if (k == I_HLT) {
		t->idle_stack = stack;
		t->idle_acc = 0;
		t->idle_slow = false;
	}
	/* the iretq (or swapgs; iretq) about to run returns to ring 3: nothing more is traced */
	if ((k == I_IRET || (k == I_SWAPGS && insn_kind(rip + 3) == I_IRET))) {
		uint64_t frame = r.rsp, rest = k == I_IRET ? 1 : 2;

		if (k == I_SWAPGS && insn_kind(rip + 3) != I_IRET)
			rest = 0;
		if ((rd64(vcpu, frame + 8) & 3) == 3) {
			if (t->kind == K_BACK && t->back_stack < NR_STACKS &&
			    rd64(vcpu, frame) == t->parked_rip[t->back_stack]) {
				t->count += rest;
				t->parked_rip[t->back_stack] = 0;
				end_episode(t);
			} else if (t->kind >= 0) {
				t->count += rest;
				if (t->kind == K_PARK)
					t->kind = K_EARLY;
				end_episode(t);
			}
			t->kind = -1;
			t->last_rip = 0;
			t->last_stack = stack;
			return 1;
		}
	}
	t->last_rip = rip;
	t->last_stack = stack;
	return 1;
}

/* forwarders to the async path's hooks */
#define FWD(name, ...) (t->inner.name ? t->inner.name(t->inner.opaque, __VA_ARGS__) : 0)
static void tr_vcpu_start(void *o, struct vcpu *v)
{
	struct tracer *t = o;

	if (t->inner.vcpu_start)
		t->inner.vcpu_start(t->inner.opaque, v);
}
static void tr_vcpu_stop(void *o, struct vcpu *v)
{
	struct tracer *t = o;

	if (t->inner.vcpu_stop)
		t->inner.vcpu_stop(t->inner.opaque, v);
}
static int tr_on_eintr(void *o, struct vcpu *v)
{
	struct tracer *t = o;

	return FWD(on_eintr, v);
}
/*
 * A ring-0 read of a poisoned page may be taken back: the async path completes
 * the MMIO with immediate_exit and expects EINTR, which single-stepping would
 * turn into a debug exit. Step off while it does that.
 */
static int tr_on_mmio(void *o, struct vcpu *v, struct kvm_run *run)
{
	struct tracer *t = o;
	struct kvm_guest_debug off = { 0 },
			       on = { .control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP };
	int r;

	if (ioctl(vcpu__fd(v), KVM_SET_GUEST_DEBUG, &off))
		return -errno;
	r = FWD(on_mmio, v, run);
	if (ioctl(vcpu__fd(v), KVM_SET_GUEST_DEBUG, &on))
		return -errno;
	return r;
}
static int tr_on_msr(void *o, struct vcpu *v, struct kvm_run *run)
{
	struct tracer *t = o;

	return FWD(on_msr, v, run);
}
static int tr_on_port(void *o, struct vcpu *v, struct kvm_run *run)
{
	struct tracer *t = o;

	return FWD(on_port, v, run);
}

/* A lazy restore of state under policy bpf with every ring-0 instruction traced. */
static int traced_restore(const char *state, const char *mem, struct tracer *t, struct vm_result *res,
			  struct dz_apf_stats *ast)
{
	struct dz_snapshot *s = NULL;
	struct dz_source *src = NULL;
	struct dz_faultsvc *svc = NULL;
	struct dz_apf *apf = NULL;
	struct vm *vm = NULL;
	struct dz_apf_config ac = { .policy = DZ_POLICY_BPF };
	struct dz_faultsvc_hooks fh = { 0 };
	struct dz_faultsvc_config fc = { 0 };
	struct vm_config vc = { 0 };
	struct vm_hooks vh = { 0 };
	char uri[4200], err[256];
	int e;

	memset(res, 0, sizeof(*res));
	e = dz_snapshot__open(state, &s);
	if (e)
		goto out;
	snprintf(uri, sizeof(uri), "file:%s?latency=1ms", mem);
	e = dz_source__open(uri, &(struct dz_source_opts){ .expect_size = s->ram_size }, &src, err,
			    sizeof(err));
	if (e) {
		diag("source: %s", err);
		goto out;
	}
	vc.ram_size = s->ram_size;
	vc.nr_cpus = (int)s->nr_cpus;
	vc.workload = s->workload;
	vc.lazy_ram = true;
	vc.quiet = true;
	vc.tick_hz = s->tick_hz;
	e = vm__create(&vc, &vm);
	if (e)
		goto out;
	ac.pinned[0].end = s->layout.image_end > s->layout.pt_end ? s->layout.image_end : s->layout.pt_end;
	ac.nr_pinned = 1;
	e = dz_apf__create(vm, &ac, &apf);
	if (e)
		goto out;
	dz_apf__faultsvc_hooks(apf, &fh);
	fc.host_addr = vm__ram(vm);
	fc.size = vm__ram_size(vm);
	fc.src = src;
	fc.checksums = dz_snapshot__checksums(s);
	fc.lost_release = DZ_LOST_POISON;
	fc.hooks = &fh;
	e = dz_faultsvc__create(&fc, &svc);
	if (e)
		goto out;
	src = NULL;
	dz_apf__set_faultsvc(apf, svc);
	e = vm__restore_state(vm, state);
	if (e)
		goto out;
	dz_apf__vm_hooks(apf, &t->inner);
	vh = (struct vm_hooks){ .opaque = t,
				.vcpu_start = tr_vcpu_start,
				.on_eintr = tr_on_eintr,
				.on_mmio = tr_on_mmio,
				.on_msr = tr_on_msr,
				.before_entry = tr_before_entry,
				.on_port = tr_on_port,
				.vcpu_stop = tr_vcpu_stop,
				.on_debug = tr_on_debug };
	vm__set_hooks(vm, &vh);
	e = vm__run(vm, res);
	if (e)
		diag("run: %s", res->error);
	dz_apf__stats(apf, ast);
out:
	if (svc)
		dz_faultsvc__destroy(svc);
	if (src)
		dz_source__close(src);
	if (vm)
		vm__destroy(vm);
	dz_apf__destroy(apf);
	if (s)
		dz_snapshot__close(s);
	return e;
}

int main(void)
{
	const char *build = getenv("DZ_BUILD") ? getenv("DZ_BUILD") : "build";
	static const char *const workloads[] = {
		"syscall:tasks=2,kbuf=1M,abuf=256K,passes=1", /* faults in ring 0 (SYS_RECORDS) */
		"scan:tasks=2,size=512K,passes=1",	      /* faults in ring 3 */
	};
	static struct tracer tr[2];
	char guest[4096], doze[4096], prefix[128], cmd[12000], state[200], mem[200];
	uint64_t med[K_NR], worst[K_NR];

	if (access("/dev/kvm", R_OK | W_OK)) {
		printf("1..0 # SKIP /dev/kvm not accessible (run as root)\n");
		return 0;
	}
	snprintf(guest, sizeof(guest), "%s/guest/doze-guest.elf", build);
	snprintf(doze, sizeof(doze), "%s/doze", build);
	if (access(guest, R_OK) || access(doze, X_OK)) {
		printf("1..0 # SKIP no guest image or doze binary under %s\n", build);
		return 0;
	}
	if (load_insns(guest)) {
		printf("1..0 # SKIP cannot disassemble %s (objdump)\n", guest);
		return 0;
	}
	for (int w = 0; w < 2; w++) {
		struct tracer *t = &tr[w];
		struct vm_result res;
		struct dz_apf_stats ast;
		int e;

		if (getenv("DZ_ONLY") && atoi(getenv("DZ_ONLY")) != w)
			continue;
		t->kind = -1;
		snprintf(prefix, sizeof(prefix), "/tmp/dz-apf-cost-%d-%d", (int)getpid(), w);
		snprintf(state, sizeof(state), "%s.state", prefix);
		snprintf(mem, sizeof(mem), "%s.mem", prefix);
		snprintf(cmd, sizeof(cmd), "'%s' run '%s' --quiet --mem 64M --workload '%s' --snapshot %s",
			 doze, guest, workloads[w], prefix);
		if (!ok(system(cmd) == 0, "%s: snapshot taken", workloads[w]))
			continue;
		e = traced_restore(state, mem, t, &res, &ast);
		ok(!e && res.checksum_ok, "%s: single-stepped lazy restore (bpf, 1 ms) ends with checksum OK",
		   workloads[w]);
		ok(!t->err, "%s: no event inside a counted episode", workloads[w]);
		diag("%s: page-ready %llu acks %llu", workloads[w], (unsigned long long)ast.page_ready,
		     (unsigned long long)ast.acks);
		diag("%s: %llu ring-0 instructions traced, %llu async faults (ring 0 %llu, ring 3 %llu)",
		     workloads[w], (unsigned long long)t->steps,
		     (unsigned long long)(ast.async_by_cpl[0] + ast.async_by_cpl[3]),
		     (unsigned long long)ast.async_by_cpl[0], (unsigned long long)ast.async_by_cpl[3]);
		unlink(state);
		unlink(mem);
		for (int k = 0; k < K_NR; k++) {
			struct samples *s = &t->s[k];
			uint64_t sum = 0;

			med[k] = median(s);
			worst[k] = t->fast[k].n ? (median(&t->fast[k]), t->fast[k].v[t->fast[k].n - 1]) : 0;
			for (size_t i = 0; i < s->n; i++)
				sum += s->v[i];
			if (s->n)
				diag("  %-12s %5zu episodes: min %llu median %llu mean %.1f max %llu; "
				     "%zu in the fast paths, at most %llu",
				     kname[k], s->n, (unsigned long long)s->v[0], (unsigned long long)med[k],
				     (double)sum / (double)s->n, (unsigned long long)s->v[s->n - 1],
				     t->fast[k].n, (unsigned long long)worst[k]);
		}
		diag("  round trip: median park + ready + back %llu, worst through the fast paths %llu "
		     "ring-0 instructions",
		     (unsigned long long)(med[K_PARK] + med[K_READY] + med[K_BACK]),
		     (unsigned long long)(worst[K_PARK] + worst[K_READY] + worst[K_BACK]));
		ok(t->fast[K_PARK].n >= 10 && t->fast[K_READY].n >= 10 && t->fast[K_BACK].n >= 10,
		   "%s: round trips through the fast paths traced (%zu park, %zu page-ready, %zu switch back)",
		   workloads[w], t->fast[K_PARK].n, t->fast[K_READY].n, t->fast[K_BACK].n);
		ok(worst[K_PARK] <= BUDGET_PARK, "%s: every park within %d (at most %llu)", workloads[w],
		   BUDGET_PARK, (unsigned long long)worst[K_PARK]);
		ok(worst[K_READY] <= BUDGET_READY, "%s: every page-ready within %d (at most %llu)",
		   workloads[w], BUDGET_READY, (unsigned long long)worst[K_READY]);
		ok(worst[K_BACK] <= BUDGET_BACK, "%s: every switch back within %d (at most %llu)",
		   workloads[w], BUDGET_BACK, (unsigned long long)worst[K_BACK]);
		ok(worst[K_PARK] + worst[K_READY] + worst[K_BACK] <= BUDGET_TOTAL,
		   "%s: worst round trip within %d ring-0 instructions (%llu; median %llu)", workloads[w],
		   BUDGET_TOTAL, (unsigned long long)(worst[K_PARK] + worst[K_READY] + worst[K_BACK]),
		   (unsigned long long)(med[K_PARK] + med[K_READY] + med[K_BACK]));
	}
	free(insns);
	return done_testing();
}
