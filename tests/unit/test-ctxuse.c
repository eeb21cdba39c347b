// SPDX-License-Identifier: GPL-2.0
/*
 * What the verifier records about a predicate's use of its context and
 * helpers (dz_prog.ctx_read, .helpers_called), and the policy's answer to
 * "does this predicate need KERNEL_GS_BASE at this CPL" built on it: the host
 * skips a KVM_GET_MSRS per fault when the answer is no, so a load it missed
 * would hand the predicate a zero. Covers direct and moved context pointers,
 * a load on one branch only, re-verification, and the reference predicate.
 */
#include <stddef.h>

#include <doze/bpf.h>
#include <doze/filter.h>

#include "../../vmm/policy.h"
#include "tap.h"

#define OFF(f)	 offsetof(struct dz_pred_ctx, f)
#define SLOT(f)	 (1ULL << (OFF(f) / 8))
#define NINSN(a) (sizeof(a) / sizeof((a)[0]))

static struct dz_prog *verify(const struct bpf_insn *insns, uint32_t n, const char *name)
{
	static char log[16384];
	struct dz_prog *p = NULL;
	int err = dz_prog__new(insns, n, DZ_PROG_PREDICATE, &p);

	if (!err)
		err = dz_prog__verify(p, log, sizeof(log), 1);
	if (!ok(!err, "%s: verified", name)) {
		diag("%s", log);
		dz_prog__free(p);
		return NULL;
	}
	return p;
}

/* What the policy says with p registered, at CPL 0 and CPL 3. */
static void needs(struct dz_prog *p, bool cpl0, bool cpl3, const char *name)
{
	struct dz_policy *pol;

	if (dz_policy__new(DZ_POLICY_BPF, 0, NULL, &pol)) {
		ok(0, "%s: policy", name);
		return;
	}
	ok(!dz_policy__pred_needs_kernel_gs_base(pol, 0), "%s: no predicate, no MSR", name);
	if (dz_policy__set_predicate(pol, p)) {
		ok(0, "%s: registered", name);
		dz_prog__free(p);
	} else {
		is_int(dz_policy__pred_needs_kernel_gs_base(pol, 0), cpl0,
		       "%s: KERNEL_GS_BASE %s at CPL 0", name, cpl0 ? "needed" : "not needed");
		is_int(dz_policy__pred_needs_kernel_gs_base(pol, 3), cpl3,
		       "%s: KERNEL_GS_BASE %s at CPL 3", name, cpl3 ? "needed" : "not needed");
	}
	dz_policy__free(pol);
}

int main(void)
{
	const char *build = getenv("DZ_BUILD");
	char path[512], err[512];
	struct dz_prog *p;

	{
		const struct bpf_insn insns[] = {
		    BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_1, OFF(cpl)),
		    BPF_LDX_MEM(BPF_DW, BPF_REG_2, BPF_REG_1, OFF(gs_base)),
		    BPF_EXIT_INSN(),
		};

		p = verify(insns, NINSN(insns), "cpl and gs_base");
		if (p) {
			is_u64(p->ctx_read, SLOT(cpl) | SLOT(gs_base), "%s: the slots it loads",
			       "cpl and gs_base");
			is_u64(p->helpers_called, 0, "no helpers");
			needs(p, false, false, "cpl and gs_base");
		}
	}
	{
		const struct bpf_insn insns[] = {
		    BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_1, OFF(kernel_gs_base)),
		    BPF_EXIT_INSN(),
		};

		p = verify(insns, NINSN(insns), "kernel_gs_base");
		if (p) {
			is_u64(p->ctx_read, SLOT(kernel_gs_base), "kernel_gs_base: its slot");
			needs(p, true, true, "kernel_gs_base");
		}
	}
	{
		/* a narrow load through a moved context pointer */
		const struct bpf_insn insns[] = {
		    BPF_MOV64_REG(BPF_REG_2, BPF_REG_1),
		    BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, OFF(kernel_gs_base)),
		    BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_2, 4),
		    BPF_EXIT_INSN(),
		};

		p = verify(insns, NINSN(insns), "moved pointer");
		if (p) {
			is_u64(p->ctx_read, SLOT(kernel_gs_base), "moved pointer: the slot it reaches");
			needs(p, true, true, "moved pointer");
		}
	}
	{
		/* the load on one branch only */
		const struct bpf_insn insns[] = {
		    BPF_LDX_MEM(BPF_W, BPF_REG_2, BPF_REG_1, OFF(cpl)),
		    BPF_MOV64_IMM(BPF_REG_0, 0),
		    BPF_JMP_IMM(BPF_JNE, BPF_REG_2, 2, 1),
		    BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_1, OFF(kernel_gs_base)),
		    BPF_EXIT_INSN(),
		};

		p = verify(insns, NINSN(insns), "one branch");
		if (p)
			needs(p, true, true, "one branch");
	}
	{
		/* dz_read_percpu: KERNEL_GS_BASE only when the fault is at CPL 3 */
		const struct bpf_insn insns[] = {
		    BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		    BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8),
		    BPF_MOV64_IMM(BPF_REG_2, 8),
		    BPF_MOV64_IMM(BPF_REG_3, 0),
		    BPF_CALL_HELPER(DZ_HELPER_READ_PERCPU),
		    BPF_MOV64_IMM(BPF_REG_0, 0),
		    BPF_EXIT_INSN(),
		};

		p = verify(insns, NINSN(insns), "dz_read_percpu");
		if (p) {
			is_u64(p->ctx_read, 0, "dz_read_percpu: no context load");
			is_u64(p->helpers_called, 1U << DZ_HELPER_READ_PERCPU, "the helper recorded");
			needs(p, false, true, "dz_read_percpu");
		}
	}
	{
		/* verifying another program into the same object starts afresh */
		const struct bpf_insn a[] = {
		    BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_1, OFF(kernel_gs_base)),
		    BPF_EXIT_INSN(),
		};
		const struct bpf_insn b[] = {
		    BPF_MOV64_IMM(BPF_REG_0, 1),
		    BPF_EXIT_INSN(),
		};

		p = verify(a, NINSN(a), "first");
		if (p) {
			memcpy(p->insns, b, sizeof(b));
			ok(!dz_prog__verify(p, NULL, 0, 0) && p->ctx_read == 0 && !p->helpers_called,
			   "re-verification clears what the old program recorded");
			dz_prog__free(p);
		}
	}
	/* the reference predicate: the per-CPU area through GS at CPL 0 only */
	snprintf(path, sizeof(path), "%s/guest/pred.bpf.o", build ? build : "build");
	if (!dz_prog__load_file(path, NULL, DZ_PROG_PREDICATE, &p, err, sizeof(err)) &&
	    !dz_prog__verify(p, NULL, 0, 0)) {
		ok(!(p->ctx_read & SLOT(kernel_gs_base)),
		   "the reference predicate never loads kernel_gs_base");
		needs(p, false, true, "reference predicate");
	} else {
		ok(0, "the reference predicate %s loads and verifies: %s", path, err);
	}
	return done_testing();
}
