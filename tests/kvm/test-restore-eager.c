// SPDX-License-Identifier: GPL-2.0
/*
 * The snapshot is complete: boot the reference guest, let it ask for a
 * snapshot after its fill phase, then build a second VM, read PREFIX.mem into
 * its RAM eagerly (no userfaultfd), restore the vCPU and device state, run it,
 * and get the same checksum as a run that was never interrupted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../vmm/snapshot.h"
#include "../../vmm/vm.h"
#include "tap.h"

static char guest[4096];
static bool kernel_irqchip;

static int run_fresh(const char *workload, int cpus, const char *prefix, struct vm_result *res)
{
	struct vm_config cfg = {
		.guest_path = guest,
		.ram_size = 64ULL << 20,
		.nr_cpus = cpus,
		.workload = workload,
		.snapshot_prefix = prefix,
		.quiet = true,
		.in_kernel_irqchip = kernel_irqchip,
	};
	struct vm *vm;
	int err = vm__create(&cfg, &vm);

	if (err)
		return err;
	err = vm__load_guest(vm);
	if (!err)
		err = vm__run(vm, res);
	if (err && res->error[0])
		diag("run: %s", res->error);
	vm__destroy(vm);
	return err;
}

static int restore_eager(const char *prefix, struct vm_result *res)
{
	char state[4200], mem[4200];
	struct dz_snapshot *s;
	struct vm_config cfg = { .quiet = true, .in_kernel_irqchip = kernel_irqchip };
	struct vm *vm;
	int err;

	snprintf(state, sizeof(state), "%s.state", prefix);
	snprintf(mem, sizeof(mem), "%s.mem", prefix);
	err = dz_snapshot__open(state, &s);
	if (err)
		return err;
	cfg.ram_size = s->ram_size;
	cfg.nr_cpus = s->nr_cpus;
	cfg.workload = s->workload;
	err = vm__create(&cfg, &vm);
	dz_snapshot__close(s);
	if (err)
		return err;
	err = dz_snapshot__load_mem(mem, vm__ram(vm), vm__ram_size(vm));
	if (!err)
		err = vm__restore_state(vm, state);
	if (!err)
		err = vm__run(vm, res);
	if (err && res->error[0])
		diag("restored run: %s", res->error);
	vm__destroy(vm);
	return err;
}

static void one(const char *workload, int cpus, const char *dir)
{
	struct vm_result straight, snap, restored;
	char prefix[4096];
	char state[4200], mem[4200];
	struct dz_snapshot *s = NULL;
	uint64_t bad = 0;

	snprintf(prefix, sizeof(prefix), "%s/%s-%d", dir, workload, cpus);
	snprintf(state, sizeof(state), "%s.state", prefix);
	snprintf(mem, sizeof(mem), "%s.mem", prefix);

	is_int(run_fresh(workload, cpus, NULL, &straight), 0, "%s/%d: straight run", workload, cpus);
	ok(straight.checksum_ok, "%s/%d: straight run checksum OK", workload, cpus);
	is_int(run_fresh(workload, cpus, prefix, &snap), 0, "%s/%d: run with --snapshot", workload,
	       cpus);
	ok(snap.snapshot_taken && !snap.powered_off, "%s/%d: snapshot written, run ended there",
	   workload, cpus);
	if (!ok(!dz_snapshot__open(state, &s), "%s/%d: state file opens", workload, cpus))
		return;
	is_int(dz_snapshot__verify_mem(s, mem, &bad), 0, "%s/%d: every page matches its checksum",
	       workload, cpus);
	dz_snapshot__close(s);
	is_int(restore_eager(prefix, &restored), 0, "%s/%d: eager restore runs to the end", workload,
	       cpus);
	ok(restored.checksum_ok, "%s/%d: restored checksum OK", workload, cpus);
	is_u64(restored.checksum, straight.checksum,
	       "%s/%d: restored result equals the uninterrupted run's", workload, cpus);
	unlink(state);
	unlink(mem);
}

int main(void)
{
	const char *build = getenv("DZ_BUILD");
	char dir[] = "/tmp/dz-restore-XXXXXX";

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
		printf("1..0 # SKIP mkdtemp: %s\n", strerror(errno));
		return 0;
	}
	one("scan:size=2M", 1, dir);
	one("syscall:kbuf=2M", 2, dir);
	one("atomic:abuf=2M", 2, dir);
	one("mixed:size=1M,kbuf=1M,abuf=1M", 2, dir);
	/* the same with KVM's in-kernel LAPIC (LAPIC and MP state are saved too) */
	kernel_irqchip = true;
	one("mixed:size=1M,kbuf=1M,abuf=1M,seed=3", 2, dir);
	rmdir(dir);
	return done_testing();
}
