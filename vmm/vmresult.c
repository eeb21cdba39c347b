// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's own time line in a run's --stats-json: its phase markers and its
 * progress series, written the same way by doze run, doze restore and the
 * benchmark's eager restore so that one reader (the benchmark, plots) serves all.
 */
#include <doze/abi.h>

#include "stats.h"
#include "vm.h"

const char *vm_phase__name(uint32_t phase)
{
	switch (phase) {
	case DZ_PHASE_BOOT:
		return "boot";
	case DZ_PHASE_FILL_DONE:
		return "fill_done";
	case DZ_PHASE_WORK_START:
		return "work_start";
	case DZ_PHASE_WORK_DONE:
		return "work_done";
	default:
		return "other";
	}
}

const char *vm_status__str(int status)
{
	switch (status) {
	case DZ_STATUS_OK:
		return "checksum OK";
	case DZ_STATUS_MISMATCH:
		return "checksum mismatch";
	case DZ_STATUS_BAD_PARAMS:
		return "workload not understood";
	case DZ_STATUS_NO_MEMORY:
		return "not enough guest RAM (--mem)";
	case DZ_STATUS_TASK_KILLED:
		return "a task was killed by a lost page (SIGBUS-like)";
	case DZ_STATUS_EFAULT:
		return "a system call returned -EFAULT (lost page)";
	default:
		return "unknown guest status";
	}
}

void vm_result__write_series(const struct vm_result *r, struct dz_json *j)
{
	dz_json__arr_begin(j, "phases");
	for (size_t i = 0; i < r->nr_phases; i++) {
		dz_json__obj_begin(j, NULL);
		dz_json__str(j, "phase", vm_phase__name(r->phases[i].phase));
		dz_json__double(j, "t", r->phases[i].t);
		dz_json__obj_end(j);
	}
	dz_json__arr_end(j);
	/* work rate over time: [t, cpu, cumulative units] */
	dz_json__arr_begin(j, "progress");
	for (size_t i = 0; i < r->nr_progress; i++) {
		dz_json__arr_begin(j, NULL);
		dz_json__double(j, NULL, r->progress[i].t);
		dz_json__u64(j, NULL, r->progress[i].cpu);
		dz_json__u64(j, NULL, r->progress[i].units);
		dz_json__arr_end(j);
	}
	dz_json__arr_end(j);
}
