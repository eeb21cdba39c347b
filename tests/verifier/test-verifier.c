// SPDX-License-Identifier: GPL-2.0
/*
 * The verifier corpus runner (TAP). For every case in tests/verifier/cases/:
 *  - verifies at log levels 2, 1 and 0: the verdict and errno must not depend
 *    on the log level and must be the expected ones; a rejection's log must
 *    contain the expected reason, an acceptance's must end with "processed";
 *  - runs every accepted program with the fast and with the checked
 *    interpreter on a synthetic context: both must succeed (the checked one
 *    faulting on an accepted program would be a verifier escape) with the same
 *    r0, equal to .retval where given.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <doze/bpf.h>
#include <doze/filter.h>

#include "tap.h"
#include "verifier/corpus.h"

#define LOG_SIZE (1u << 20)

/* ---- synthetic guest: RAM where each aligned u64 holds its own address ---- */
#define GUEST_RAM (64u << 10)

static int fake_read_gpa(void *opaque, uint64_t gpa, void *dst, uint32_t len)
{
	uint8_t *d = dst;
	uint32_t i;

	(void)opaque;
	if (gpa >= GUEST_RAM || len > GUEST_RAM - gpa)
		return -EFAULT;
	for (i = 0; i < len; i++) {
		uint64_t a = gpa + i, word = a & ~7ull;

		d[i] = (uint8_t)(word >> ((a & 7) * 8));
	}
	return 0;
}

static void fake_trace(void *opaque, const char *msg, uint64_t arg)
{
	(void)opaque;
	(void)msg;
	(void)arg;
}

static const struct dz_guest_ops fake_ops = {
    .read_gpa = fake_read_gpa,
    .trace = fake_trace,
};

static void init_ctx(struct dz_pred_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->vcpu = 1;
	c->cpl = 3;
	c->rflags = 0x202;
	c->rip = 0xffffffff81000000ull;
	c->rsp = 0x7ffc0000;
	c->rax = 0x1122334455667788ull;
	c->rbx = 2;
	c->rcx = 3;
	c->rdx = 4;
	c->cr0 = 0x80050033;
	c->cr3 = 0;
	c->cr4 = 0x20;
	c->efer = 0xd01;
	c->gs_base = 0x2000;
	c->kernel_gs_base = 0x3000;
	c->fault_gpa = 0x5000;
	c->fault_gva = 0x7f0000001000ull;
	c->access = DZ_ACCESS_WRITE;
	c->flags = DZ_PRED_F_GVA_VALID;
}

/* ---- the corpus ---- */
#include "verifier/all-cases.h"

static uint32_t prog_len(const struct vcase *c)
{
	uint32_t len = MAX_TEST_INSNS;

	if (c->len)
		return c->len;
	while (len > 0) {
		const struct bpf_insn *i = &c->insns[len - 1];

		if (i->code || i->dst_reg || i->src_reg || i->off || i->imm)
			break;
		len--;
	}
	return len;
}

static const char *last_line(const char *log)
{
	size_t n = strlen(log);
	const char *p;

	while (n && log[n - 1] == '\n')
		n--;
	for (p = log + n; p > log && p[-1] != '\n'; p--)
		;
	return p;
}

static bool run_one(const struct vcase *c, char *log)
{
	struct bpf_insn *insns = (struct bpf_insn *)c->insns, *filled = NULL;
	uint32_t len = prog_len(c);
	struct dz_prog *prog = NULL;
	int ret[3], lvl, err;
	bool good = true;

	if (c->fill) {
		c->fill(&filled, &len);
		insns = filled;
	}
	err = dz_prog__new(insns, len, c->type, &prog);
	if (err) {
		diag("dz_prog__new: %d", err);
		free(filled);
		return false;
	}
	prog->mem_size = c->mem_size;

	for (lvl = c->slow ? 0 : 2; lvl >= 0; lvl--) {
		ret[lvl] = dz_prog__verify(prog, log, LOG_SIZE, (uint32_t)lvl);
		if (!c->slow && ret[lvl] != ret[2]) {
			diag("level %d gives %d, level 2 gave %d", lvl, ret[lvl], ret[2]);
			good = false;
		}
		if (c->result == ACCEPT && ret[lvl]) {
			diag("expected ACCEPT, got %d (%s) at log level %d; log tail:", ret[lvl],
			     strerror(-ret[lvl]), lvl);
			diag("%s", strlen(log) > 2000 ? log + strlen(log) - 2000 : log);
			good = false;
			break;
		}
		if (c->result == ACCEPT && !strstr(log, "processed ")) {
			diag("accepted but no 'processed' line at level %d: %s", lvl, log);
			good = false;
		}
		if (c->result == REJECT) {
			if (!ret[lvl]) {
				diag("expected REJECT (%s), got ACCEPT",
				     c->errstr ? c->errstr : "");
				good = false;
				break;
			}
			if (c->err && ret[lvl] != c->err) {
				diag("expected errno %d (%s), got %d (%s)", c->err,
				     strerror(-c->err), ret[lvl], strerror(-ret[lvl]));
				good = false;
			}
			if (c->errstr && !strstr(last_line(log), c->errstr)) {
				diag("reason '%s' is not the last log line at level %d; log tail:",
				     c->errstr, lvl);
				diag("%s", strlen(log) > 2000 ? log + strlen(log) - 2000 : log);
				good = false;
			}
			if (!*last_line(log)) {
				diag("rejected with an empty log");
				good = false;
			}
			if (!good)
				break;
		}
	}

	if (good && c->result == ACCEPT) {
		struct dz_run_opts opts = {.ops = &fake_ops};
		struct dz_pred_ctx ctx;
		uint64_t r_fast = 0, r_checked = 0;
		uint8_t *mem = NULL;
		void *arg;
		uint64_t arg_len;
		int e1, e2;
		uint32_t i;

		init_ctx(&ctx);
		arg = &ctx;
		arg_len = sizeof(ctx);
		if (c->type == DZ_PROG_MEM) {
			mem = malloc(c->mem_size ? c->mem_size : 1);
			for (i = 0; i < c->mem_size; i++)
				mem[i] = (uint8_t)i;
			arg = mem;
			arg_len = c->mem_size;
		}
		e1 = dz_prog__run(prog, arg, arg_len, &opts, &r_fast, NULL);
		if (c->type == DZ_PROG_MEM)
			for (i = 0; i < c->mem_size; i++)
				mem[i] = (uint8_t)i;
		opts.checked = true;
		e2 = dz_prog__run(prog, arg, arg_len, &opts, &r_checked, NULL);
		if (e1 || e2) {
			diag("accepted program failed to run: fast %d, checked %d", e1, e2);
			good = false;
		} else if (r_fast != r_checked) {
			diag("fast r0 %#llx != checked r0 %#llx", (unsigned long long)r_fast,
			     (unsigned long long)r_checked);
			good = false;
		} else if (c->check_retval && r_fast != c->retval) {
			diag("r0 %#llx, expected %#llx", (unsigned long long)r_fast,
			     (unsigned long long)c->retval);
			good = false;
		}
		free(mem);
	}
	dz_prog__free(prog);
	free(filled);
	return good;
}

/* Predicates in C compiled by clang (tests/verifier/clang/preds.bpf.c). */
static const struct {
	const char *sec;
	int err;
	const char *errstr;
	int check_retval;
	uint64_t retval;
} clang_cases[] = {
    {"accept/ring3_if", 0, NULL, 1, 1},
    {"accept/percpu_task", 0, NULL, 1, 1},
    {"accept/stack_walk", 0, NULL, 0, 0},
    {"accept/switch_cpl", 0, NULL, 1, 1},
    {"accept/subprog", 0, NULL, 1, 1},
    {"accept/percpu_array", 0, NULL, 0, 0},
    {"accept/trace", 0, NULL, 1, 0},
    {"accept/masked_size", 0, NULL, 0, 0},
    {"accept/spilled_sizes", 0, NULL, 0, 0},
    {"reject/merged_range_check", -EACCES, "R2 invalid zero-sized write", 0, 0},
    {"reject/leak_pointer", -EACCES, "R0 leaks addr as return value", 0, 0},
    {"reject/write_ctx", -EACCES, "R1 cannot write into ctx", 0, 0},
    {"reject/array_overrun", -EACCES, "invalid variable-offset read from stack", 0, 0},
};

static void clang_tests(char *log, const char *obj)
{
	const char *build = getenv("DZ_BUILD");
	char path[4096], err[256];
	size_t i;

	if (!build) {
		diag("DZ_BUILD not set: skipping the clang-compiled predicates (%s)", obj);
		return;
	}
	snprintf(path, sizeof(path), "%s/tests/verifier/%s", build, obj);
	for (i = 0; i < sizeof(clang_cases) / sizeof(clang_cases[0]); i++) {
		struct dz_run_opts opts = {.ops = &fake_ops};
		struct dz_pred_ctx ctx;
		struct dz_prog *prog;
		uint64_t r_fast = 0, r_checked = 0;
		int ret, e1, e2;
		bool good;

		ret = dz_prog__load_file(path, clang_cases[i].sec, DZ_PROG_PREDICATE, &prog, err,
					 sizeof(err));
		if (ret) {
			ok(0, "%s %s: load", obj, clang_cases[i].sec);
			diag("%s", err);
			continue;
		}
		ret = dz_prog__verify(prog, log, LOG_SIZE, 1);
		good = ret == clang_cases[i].err;
		if (!good)
			diag("verify: %d, expected %d; log tail: %s", ret, clang_cases[i].err,
			     strlen(log) > 1500 ? log + strlen(log) - 1500 : log);
		if (good && clang_cases[i].errstr &&
		    !strstr(last_line(log), clang_cases[i].errstr)) {
			diag("reason '%s' not the last log line: %s", clang_cases[i].errstr, log);
			good = false;
		}
		if (good && !ret) {
			init_ctx(&ctx);
			e1 = dz_prog__run(prog, &ctx, sizeof(ctx), &opts, &r_fast, NULL);
			opts.checked = true;
			e2 = dz_prog__run(prog, &ctx, sizeof(ctx), &opts, &r_checked, NULL);
			if (e1 || e2 || r_fast != r_checked ||
			    (clang_cases[i].check_retval && r_fast != clang_cases[i].retval)) {
				diag("run: fast %d r0 %#llx, checked %d r0 %#llx", e1,
				     (unsigned long long)r_fast, e2, (unsigned long long)r_checked);
				good = false;
			}
		}
		ok(good, "%s %s", obj, clang_cases[i].sec);
		dz_prog__free(prog);
	}
}

/* API edge cases that do not fit the table. */
static void api_tests(char *log)
{
	struct bpf_insn ok_prog[] = {BPF_MOV64_IMM(BPF_REG_0, 0), BPF_EXIT_INSN()};
	struct bpf_insn bad_prog[] = {BPF_EXIT_INSN()};
	struct bpf_insn spill_prog[] = {
	    BPF_ST_MEM(BPF_W, BPF_REG_10, -8, 5),
	    BPF_ST_MEM(BPF_H, BPF_REG_10, -16, 5),
	    BPF_ST_MEM(BPF_W, BPF_REG_10, -12, 0),
	    BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_10, -8),
	    BPF_EXIT_INSN(),
	};
	struct dz_prog *prog, empty = {0};
	char small[48];
	int err;

	is_int(dz_prog__verify(NULL, log, LOG_SIZE, 1), -EINVAL, "api: NULL program");
	empty.insns = ok_prog;
	is_int(dz_prog__verify(&empty, log, LOG_SIZE, 1), -EINVAL, "api: empty program");
	ok(strstr(log, "empty program") != NULL, "api: empty program says so");

	dz_prog__new(ok_prog, 2, DZ_PROG_PREDICATE, &prog);
	is_int(dz_prog__verify(prog, NULL, 0, 2), 0, "api: no log buffer");
	ok(prog->verified, "api: accepted program is marked verified");
	prog->type = (enum dz_prog_type)7;
	is_int(dz_prog__verify(prog, log, LOG_SIZE, 0), -EINVAL, "api: unknown program type");
	ok(!prog->verified, "api: rejection clears verified");
	dz_prog__free(prog);

	/* a narrow spill prints the other bytes' types, then the spilled value */
	dz_prog__new(spill_prog, 5, DZ_PROG_PREDICATE, &prog);
	is_int(dz_prog__verify(prog, log, LOG_SIZE, 2), 0, "api: narrow spill program");
	if (!ok(strstr(log, "4: R0=5 R1=ctx() R10=fp0 fp-16=0000??5 fp-8=????5\n") != NULL,
		"api: the log shows narrow spills"))
		diag("got: %s", log);
	dz_prog__free(prog);

	dz_prog__new(bad_prog, 1, DZ_PROG_PREDICATE, &prog);
	err = dz_prog__verify(prog, small, sizeof(small), 2);
	is_int(err, -EACCES, "api: tiny log buffer");
	if (!ok(strstr(small, "R0 !read_ok") != NULL, "api: tiny log keeps the reason"))
		diag("got: %s", small);
	ok(strlen(small) < sizeof(small), "api: tiny log is NUL-terminated");
	dz_prog__free(prog);
}

int main(void)
{
	char *log = malloc(LOG_SIZE);
	size_t i, n = sizeof(tests) / sizeof(tests[0]);
	unsigned int accept = 0, reject = 0;

	if (!log)
		return 1;
	for (i = 0; i < n; i++) {
		const struct vcase *c = &tests[i];
		bool good = run_one(c, log);

		ok(good, "%s (%s)", c->descr, c->result == ACCEPT ? "accept" : "reject");
		if (c->result == ACCEPT)
			accept++;
		else
			reject++;
	}
	diag("%zu cases: %u accept, %u reject", n, accept, reject);
	api_tests(log);
	clang_tests(log, "clang-preds.bpf.o");
	clang_tests(log, "clang-preds-v3.bpf.o");
	free(log);
	return done_testing();
}
