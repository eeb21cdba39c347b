// SPDX-License-Identifier: GPL-2.0
/*
 * dz-eager: the benchmark's "all memory present" baseline. Restores a snapshot
 * eagerly (the whole PREFIX.mem read into guest RAM before the vCPUs start, as
 * tests/kvm/test-restore-eager.c does), runs the guest to the end and writes
 * a stats JSON shaped like doze restore's (elapsed_s, guest, phases,
 * progress), so doze-bench reads it the same way. The same snapshot, the same
 * resume point and the same code path after it as a lazy restore: only the
 * missing pages are gone.
 *
 * usage: dz-eager STATEFILE MEMFILE STATS.json
 * Exit status: 0 checksum OK, 1 failure, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../vmm/snapshot.h"
#include "../../vmm/stats.h"
#include "../../vmm/vm.h"

static int write_stats(const char *path, const char *state, const struct dz_snapshot *s,
		       const struct vm_result *r, int err)
{
	FILE *f = fopen(path, "w");
	struct dz_json j;

	if (!f)
		return -errno;
	dz_json__init(&j, f);
	dz_json__obj_begin(&j, NULL);
	dz_json__str(&j, "command", "eager-restore");
	dz_json__str(&j, "state", state);
	dz_json__str(&j, "workload", s->workload);
	dz_json__i64(&j, "cpus", s->nr_cpus);
	dz_json__double(&j, "elapsed_s", r->elapsed_s);
	dz_json__obj_begin(&j, "guest");
	dz_json__bool(&j, "powered_off", r->powered_off);
	dz_json__i64(&j, "status", r->guest_status);
	dz_json__bool(&j, "checksum_ok", r->checksum_ok);
	dz_json__obj_end(&j);
	if (err)
		dz_json__str(&j, "error", r->error[0] ? r->error : strerror(-err));
	else
		dz_json__null(&j, "error");
	vm_result__write_series(r, &j);
	dz_json__obj_end(&j);
	err = dz_json__finish(&j);
	if (fclose(f) && !err)
		err = -EIO;
	return err;
}

int main(int argc, char **argv)
{
	struct dz_snapshot *s;
	struct vm_config cfg = { .quiet = true };
	struct vm_result res = { 0 };
	struct vm *vm;
	int err;

	if (argc != 4) {
		fprintf(stderr, "usage: dz-eager STATEFILE MEMFILE STATS.json\n");
		return 2;
	}
	err = dz_snapshot__open(argv[1], &s);
	if (err) {
		fprintf(stderr, "dz-eager: %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	cfg.ram_size = s->ram_size;
	cfg.nr_cpus = s->nr_cpus;
	cfg.workload = s->workload;
	err = vm__create(&cfg, &vm);
	if (err) {
		fprintf(stderr, "dz-eager: cannot create the VM: %s\n", strerror(-err));
		dz_snapshot__close(s);
		return 1;
	}
	err = dz_snapshot__load_mem(argv[2], vm__ram(vm), vm__ram_size(vm));
	if (err)
		fprintf(stderr, "dz-eager: %s: %s\n", argv[2], strerror(-err));
	if (!err) {
		err = vm__restore_state(vm, argv[1]);
		if (err)
			fprintf(stderr, "dz-eager: restoring %s: %s\n", argv[1], strerror(-err));
	}
	if (!err) {
		err = vm__run(vm, &res);
		if (err)
			fprintf(stderr, "dz-eager: run: %s\n", res.error[0] ? res.error : strerror(-err));
	}
	if (write_stats(argv[3], argv[1], s, &res, err))
		fprintf(stderr, "dz-eager: cannot write %s\n", argv[3]);
	if (!err)
		printf("dz-eager: checksum %s in %.3f s\n", res.checksum_ok ? "OK" : "WRONG", res.elapsed_s);
	vm__destroy(vm);
	dz_snapshot__close(s);
	return err || !res.checksum_ok ? 1 : 0;
}
