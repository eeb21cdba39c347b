// SPDX-License-Identifier: GPL-2.0
/*
 * The MSR half of the async page-fault ABI (vmm/apf-msr.c), without KVM: a
 * hand-built async state over a plain buffer standing for guest RAM (every
 * page present). Checks what arms a vCPU, what gets #GP, predicate
 * registration through DZ_MSR_PRED, the never-async ranges, features, ACK.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include <doze/filter.h>

#include "tap.h"
#include "../../vmm/apf-impl.h"

#define RAM_SIZE (1u << 20)

static struct dz_apf a;
static struct apf_vcpu v;
static struct kvm_run run;

/* 1 = handled; run.msr.error says whether the guest gets #GP */
static int wr(uint32_t msr, uint64_t val)
{
	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_X86_WRMSR;
	run.msr.index = msr;
	run.msr.data = val;
	return apf__on_msr(&v, &run);
}

static uint64_t rd(uint32_t msr)
{
	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_X86_RDMSR;
	run.msr.index = msr;
	apf__on_msr(&v, &run);
	return run.msr.data;
}

static const struct bpf_insn good[] = {
    BPF_MOV64_IMM(BPF_REG_0, 1),
    BPF_EXIT_INSN(),
};

int main(void)
{
	uint8_t *ram = calloc(1, RAM_SIZE);
	struct dz_pred_reg *reg = (void *)(ram + 0x1000);
	struct dz_sync_ranges *sr = (void *)(ram + 0x3000);

	a.ram = ram;
	a.ram_size = RAM_SIZE;
	a.gm = (struct dz_guestmem){.ram = ram, .size = RAM_SIZE};
	a.nr = 1;
	a.v = &v;
	pthread_mutex_init(&a.wait_lock, NULL);
	pthread_mutex_init(&a.wb_lock, NULL);
	pthread_mutex_init(&a.pin_lock, NULL);
	pthread_cond_init(&a.wb_cond, NULL);
	dz_policy__new(DZ_POLICY_BPF, 0, &a.gm, &a.policy);
	v.a = &a;
	v.wait_pfn = APF_NO_PFN;
	pthread_cond_init(&v.cond, NULL);
	dz_tokens__init(&v.tokens, 0, 0);

	is_int(wr(0x12345678, 1), 0, "an MSR outside the ABI is not ours");
	ok(wr(DZ_MSR_KVM_ASYNC_PF_EN, 0x2000 | 1 | 8) && run.msr.error,
	   "enable before the page-ready vector is set: #GP");
	ok(wr(DZ_MSR_KVM_ASYNC_PF_INT, 14) && run.msr.error, "a page-ready vector below 32: #GP");
	ok(wr(DZ_MSR_KVM_ASYNC_PF_INT, 0x122) && run.msr.error, "a vector wider than 8 bits: #GP");
	ok(wr(DZ_MSR_KVM_ASYNC_PF_INT, 34) && !run.msr.error, "vector 34 accepted");
	is_u64(rd(DZ_MSR_KVM_ASYNC_PF_INT), 34, "and read back");
	ok(wr(DZ_MSR_KVM_ASYNC_PF_EN, 0x2000 | 1) && run.msr.error,
	   "enable without interrupt delivery: #GP");
	ok(wr(DZ_MSR_KVM_ASYNC_PF_EN, 0x2000 | 0x10 | 1 | 8) && run.msr.error,
	   "reserved bits 4-5: #GP");
	ok(wr(DZ_MSR_KVM_ASYNC_PF_EN, (uint64_t)RAM_SIZE | 1 | 8) && run.msr.error,
	   "area outside guest RAM: #GP");
	ok(!atomic_load(&v.armed), "not armed after refused writes");
	ok(wr(DZ_MSR_KVM_ASYNC_PF_EN, 0x2000 | 1 | 8) && !run.msr.error, "enable accepted");
	ok(v.en && v.area_gpa == 0x2000 && atomic_load(&v.armed),
	   "armed, area at 0x2000 (#PF mode)");
	is_u64(rd(DZ_MSR_KVM_ASYNC_PF_EN), 0x2000 | 1 | 8, "EN reads back");

	ok(wr(DZ_MSR_VE_INFO, 0x2040 | 2 | 1) && run.msr.error, "#VE area with reserved bits: #GP");
	ok(wr(DZ_MSR_VE_INFO, (uint64_t)RAM_SIZE | 1) && run.msr.error,
	   "#VE area outside guest RAM: #GP");
	ok(wr(DZ_MSR_VE_INFO, 0x2040 | 1) && !run.msr.error && v.ve && v.ve_gpa == 0x2040,
	   "#VE delivery on");
	ok(atomic_load(&v.armed), "armed with #VE");
	ok(wr(DZ_MSR_KVM_ASYNC_PF_EN, 0) && !run.msr.error && !atomic_load(&v.armed),
	   "disabling APF disarms");
	wr(DZ_MSR_KVM_ASYNC_PF_EN, 0x2000 | 1 | 8);

	is_u64(rd(DZ_MSR_FEATURES), DZ_CPUID_F_PORTS | DZ_CPUID_F_VE | DZ_CPUID_F_PRED,
	       "features: ports, #VE, predicates");
	ok(wr(DZ_MSR_FEATURES, 1) && run.msr.error, "features is read-only");

	/* predicate registration */
	memcpy(ram + 0x4000, good, sizeof(good));
	*reg = (struct dz_pred_reg){.prog_gpa = 0x4000,
				    .prog_len = sizeof(good),
				    .log_gpa = 0x5000,
				    .log_size = 256,
				    .verdict = 99};
	ok(wr(DZ_MSR_PRED, 0x1000) && !run.msr.error, "registration never #GPs");
	is_int(reg->verdict, 0, "verdict 0 in the block");
	is_u64(rd(DZ_MSR_PRED), 0, "rdmsr DZ_MSR_PRED: 0");
	ok(dz_policy__has_predicate(a.policy), "installed");
	ok(wr(DZ_MSR_PRED, 0x1004) && !run.msr.error, "a misaligned block: no #GP either");
	is_int((int64_t)rd(DZ_MSR_PRED), -EINVAL, "rdmsr DZ_MSR_PRED says -EINVAL");
	ok(wr(DZ_MSR_PRED, (uint64_t)RAM_SIZE * 4) && !run.msr.error, "a block outside RAM");
	is_int((int64_t)rd(DZ_MSR_PRED), -EFAULT, "rdmsr DZ_MSR_PRED says -EFAULT");
	is_int(atomic_load(&a.pred_registered), 1, "one registration counted");
	is_int(atomic_load(&a.pred_rejected), 2, "two refusals counted");

	/* never-async ranges */
	*sr = (struct dz_sync_ranges){.nr = 2, .range = {{0, 0x10000}, {0x80000, 0x90000}}};
	ok(wr(DZ_MSR_SYNC_RANGES, 0x3000) && !run.msr.error, "two never-async ranges");
	is_u64(rd(DZ_MSR_SYNC_RANGES), 2, "read back: 2 in force");
	ok(apf__pinned(&a, 0x8000) && apf__pinned(&a, 0x8ffff) && !apf__pinned(&a, 0x90000) &&
	       !apf__pinned(&a, 0x20000),
	   "pinned exactly inside the ranges");
	sr->nr = DZ_SYNC_RANGES_MAX + 1;
	ok(wr(DZ_MSR_SYNC_RANGES, 0x3000) && run.msr.error, "too many ranges: #GP");
	sr->nr = 1;
	sr->range[0].start = 0x5000;
	sr->range[0].end = 0x4000;
	ok(wr(DZ_MSR_SYNC_RANGES, 0x3000) && run.msr.error, "end before start: #GP");
	is_u64(rd(DZ_MSR_SYNC_RANGES), 2, "a refused write leaves the ranges alone");
	sr->nr = 0;
	ok(wr(DZ_MSR_SYNC_RANGES, 0x3000) && !run.msr.error && !apf__pinned(&a, 0x8000),
	   "nr = 0 clears them");

	/* error reason and ACK */
	v.last_error = DZ_ERR_CHECKSUM;
	is_u64(rd(DZ_MSR_ERROR), DZ_ERR_CHECKSUM, "DZ_MSR_ERROR reads the last lost page's reason");
	wr(DZ_MSR_ERROR, 0);
	is_u64(rd(DZ_MSR_ERROR), 0, "a write clears it");
	ok(wr(DZ_MSR_KVM_ASYNC_PF_ACK, 2) && run.msr.error, "ACK with other bits: #GP");
	ok(wr(DZ_MSR_KVM_ASYNC_PF_ACK, 1) && !run.msr.error && v.acks == 0,
	   "an ACK with nothing in flight is harmless");

	dz_policy__free(a.policy);
	free(ram);
	return done_testing();
}
