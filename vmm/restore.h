/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Lazy restore of a snapshot: the VM resumes with its RAM empty and every
 * page arrives through the fault service from a page source.
 *
 *   snapshot (state + checksums) -> vm__create(lazy_ram) -> fault service on
 *   the RAM -> vm__restore_state -> vm__run -> stats
 *
 * The policy decides per fault whether a vCPU waits (sync) or the guest is
 * told "page not present" and runs another task (vmm/apf.h, docs/async.md).
 * A lost page is reported to the guest (#VE, reason PAGE_LOST); a guest that
 * cannot be told stops the VM with an error naming the page and the source.
 */
#ifndef DZ_VMM_RESTORE_H
#define DZ_VMM_RESTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "faultsvc.h"
#include "vm.h"

struct dz_restore_opts {
	const char *state_path;
	const char *source_uri;
	const char *policy;		/* sync | user | always | bpf (vmm/policy.h) | kvm (kvmapf.h) */
	uint64_t async_min_wait_ns;	/* adaptive: a source faster than this is waited for */
	bool async_trace;		/* one stderr line per async event */
	bool async_pf;			/* Linux-compatible #PF delivery only (no #VE) */
	int kvm_guest;			/* --policy kvm: enum dz_kvm_guest (testing aid) */
	bool pin;			/* vCPU i on CPU i, other threads on the rest (vmm/pin.h) */
	bool prefetch;
	unsigned int prefetch_window;	/* 0 = default */
	unsigned int prefetch_batch;	/* 0 = default */
	bool busy_poll;
	const char *stats_json;		/* NULL = none */
	const char *verify_ram;		/* memory file to compare every installed page with */
	bool no_run;			/* don't run the guest: fetch every page, compare all RAM */
	bool quiet;			/* no guest console */
	bool progress;			/* progress line on stderr */
	double timeout_s;		/* stop the guest after this long (0 = never) */
};

struct dz_restore_result {
	struct vm_result vm;
	struct dz_faultsvc_stats svc;
	bool ran;			/* the guest was started */
	bool all_verified;		/* every page of RAM was checksum-verified */
	uint64_t ram_compared;		/* --no-run: pages compared with the memory file */
	uint64_t ram_mismatches;	/* --verify-ram: pages differing from the memory file */
	char lost_reason[512];
	char error[768];		/* why the restore failed, "" if it did not */
};

/* 0 if the guest finished with its checksum OK and no page was lost; < 0 otherwise (the
 * reason in res->error). */
int dz_restore__run(const struct dz_restore_opts *o, struct dz_restore_result *res);

#endif
