// SPDX-License-Identifier: GPL-2.0
/*
 * vm__with_paused from outside the vCPU threads while the guest runs: every
 * vCPU is stopped (its instruction pointer does not move while we hold it),
 * the run still ends with checksum OK, and a snapshot taken at such an
 * arbitrary point (ring 3, ring 0, interrupt pending, mid-syscall...) restores
 * eagerly to the same result.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../../vmm/snapshot.h"
#include "../../vmm/vm.h"
#include "tap.h"

static char guest[4096], dir[] = "/tmp/dz-pause-XXXXXX", prefix[4200];

struct runner {
	struct vm *vm;
	struct vm_result res;
	int err;
};

static void *run_thread(void *arg)
{
	struct runner *r = arg;

	r->err = vm__run(r->vm, &r->res);
	return NULL;
}

struct probe {
	uint64_t rip[2][8];
	int still;
};

/* While paused: read every vCPU's RIP twice, 20 ms apart. */
static int look(struct vm *vm, void *arg)
{
	struct probe *p = arg;
	int n = vm__nr_vcpus(vm);

	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < n; i++) {
			struct kvm_regs r;

			if (vcpu__get_regs(vm__vcpu(vm, i), &r))
				return -EIO;
			p->rip[k][i] = r.rip;
		}
		usleep(20000);
	}
	p->still = 1;
	for (int i = 0; i < n; i++)
		p->still &= p->rip[0][i] == p->rip[1][i];
	return 0;
}

static int snap(struct vm *vm, void *arg)
{
	return vm__save_snapshot(vm, arg);
}

static void one(const char *workload, int cpus, bool kernel_irqchip)
{
	struct vm_config cfg = {
		.guest_path = guest,
		.ram_size = 128ULL << 20,
		.nr_cpus = cpus,
		.workload = workload,
		.quiet = true,
		.in_kernel_irqchip = kernel_irqchip,
	};
	struct runner r = { 0 };
	struct probe p = { 0 };
	struct vm_result res2;
	char state[4300], mem[4300];
	struct vm *vm2;
	pthread_t t;
	int e1, e2, e3;
	uint64_t bad;
	struct dz_snapshot *s;

	snprintf(state, sizeof(state), "%s.state", prefix);
	snprintf(mem, sizeof(mem), "%s.mem", prefix);
	if (vm__create(&cfg, &r.vm) || vm__load_guest(r.vm)) {
		ok(0, "%s: VM created and loaded", workload);
		return;
	}
	pthread_create(&t, NULL, run_thread, &r);
	usleep(60000);
	e1 = vm__with_paused(r.vm, look, &p);
	usleep(30000);
	e2 = vm__with_paused(r.vm, snap, prefix);
	usleep(10000);
	e3 = vm__with_paused(r.vm, look, &p);
	pthread_join(t, NULL);
	if (r.err)
		diag("run: %s", r.res.error);
	ok(r.err == 0 && r.res.checksum_ok, "%s/%d%s: run ends with checksum OK after three pauses",
	   workload, cpus, kernel_irqchip ? " (in-kernel LAPIC)" : "");
	ok((!e1 || e1 == -ECANCELED) && (!e3 || e3 == -ECANCELED), "pauses succeed (%d, %d)", e1,
	   e3);
	ok(e1 || p.still, "no vCPU moves while paused");
	is_int(e2, 0, "a snapshot from outside the vCPU threads mid-run");
	vm__destroy(r.vm);
	if (e2)
		return;
	ok(!dz_snapshot__open(state, &s) && !dz_snapshot__verify_mem(s, mem, &bad),
	   "its pages verify");
	dz_snapshot__close(s);
	cfg.guest_path = NULL;
	if (vm__create(&cfg, &vm2)) {
		ok(0, "second VM");
		return;
	}
	e1 = dz_snapshot__load_mem(mem, vm__ram(vm2), vm__ram_size(vm2));
	if (!e1)
		e1 = vm__restore_state(vm2, state);
	if (e1)
		diag("restore: %s", vm__last_error(vm2));
	if (!e1)
		e1 = vm__run(vm2, &res2);
	if (e1)
		diag("restored run: %s", res2.error);
	ok(!e1 && res2.checksum_ok, "restored from the mid-run snapshot: checksum OK");
	is_u64(res2.checksum, r.res.checksum, "same checksum as the run it was taken from");
	vm__destroy(vm2);
	unlink(state);
	unlink(mem);
}

int main(void)
{
	const char *build = getenv("DZ_BUILD");

	if (access("/dev/kvm", R_OK | W_OK)) {
		printf("1..0 # SKIP /dev/kvm not accessible (run as root)\n");
		return 0;
	}
	snprintf(guest, sizeof(guest), "%s/guest/doze-guest.elf", build ? build : "build");
	if (access(guest, R_OK)) {
		printf("1..0 # SKIP no guest image at %s\n", guest);
		return 0;
	}
	if (!mkdtemp(dir)) {
		printf("1..0 # SKIP mkdtemp failed\n");
		return 0;
	}
	snprintf(prefix, sizeof(prefix), "%s/mid", dir);
	/* long enough (~0.3-1 s) that the pauses land in the workload */
	one("mixed:passes=4,size=8M,kbuf=4M,abuf=4M", 2, false);
	one("scan:tasks=3,size=16M,passes=6", 1, false);
	one("mixed:passes=4,size=8M,kbuf=4M,abuf=4M", 2, true);
	rmdir(dir);
	return done_testing();
}
