/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fault service: serves missing guest pages from a page source through
 * userfaultfd.
 *
 * Guest RAM [host_addr, host_addr + size) is registered with userfaultfd in
 * MISSING mode. A service thread polls the userfaultfd, the source's
 * completion fd and a control eventfd. Per page it keeps one state byte
 * (missing / in flight / present / lost, plus flags). A missing-page fault
 * starts a demand fetch (deduplicated: two vCPUs faulting on one page cause
 * one fetch); every page that arrives is checked against its XXH64 checksum
 * (a mismatch is fetched again a bounded number of times, then the page is
 * lost), handed to the write-behind hook, installed with UFFDIO_COPY (which
 * wakes every thread waiting on it) and reported to the page-done hook.
 * Meanwhile a prefetcher streams the remaining pages in order at lower
 * priority, with a bounded window so it never starves demand.
 *
 * Synchronous faults: the faulting thread blocks in the kernel until
 * UFFDIO_COPY. The asynchronous layer plugs in through the decide hook: it
 * may answer DZ_FAULT_POISON, and the service then marks the page with
 * UFFDIO_POISON (the vCPU sees SIGBUS/EINTR or an MMIO exit and runs
 * something else); the later UFFDIO_COPY replaces the poison.
 *
 * Threads: every hook runs on the service thread. The query functions
 * (page_state, read, progress) and request() are safe from any thread.
 */
#ifndef DZ_VMM_FAULTSVC_H
#define DZ_VMM_FAULTSVC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "source.h"
#include "stats.h"

enum dz_page_state {
	DZ_PAGE_MISSING = 0,
	DZ_PAGE_INFLIGHT = 1,	/* requested from the source */
	DZ_PAGE_PRESENT = 2,	/* installed: safe to read */
	DZ_PAGE_LOST = 3,	/* the source cannot provide it (gone, truncated, corrupt) */
};

/* Answers of the decide hook. */
enum dz_fault_action {
	DZ_FAULT_WAIT = 0,	/* the thread waits in the kernel until the page is installed */
	DZ_FAULT_POISON = 1,	/* poison the page now: the access fails visibly, the fetch goes on */
};

/* How threads blocked on a page that turned out lost are released. */
enum dz_lost_release {
	DZ_LOST_ZEROPAGE = 0,	/* UFFDIO_ZEROPAGE: only after the lost hook stopped the VM */
	DZ_LOST_POISON = 1,	/* UFFDIO_POISON (falls back to zeropage if unsupported) */
};

struct dz_faultsvc_hooks {
	void *opaque;
	/*
	 * A fault on a page that is not present. @flags are UFFD_PAGEFAULT_FLAG_*. NULL = WAIT.
	 * Called once per fault: further events of a thread already waiting for the page are
	 * the same fault (stats: faults.repeated). POISON on a page other threads wait for
	 * wakes them too: their access fails visibly as well.
	 */
	int (*decide)(void *opaque, uint64_t gpa, pid_t tid, uint64_t flags);
	/* Bytes that must land in the page before it is installed (a retired guest write that
	 * exited as MMIO while the page was poisoned). @page is the 4 KiB about to be copied. */
	void (*before_install)(void *opaque, uint64_t gpa, void *page);
	/* A page became present (status 0) or lost (status < 0, e.g. -ENODATA, -EIO, -EBADMSG). */
	void (*page_done)(void *opaque, uint64_t gpa, int status);
	/*
	 * A page that a thread waits for is lost. @why names the page and the source. The sync
	 * restore stops the VM here; afterwards the service releases the waiting threads as
	 * lost_release says (so nothing hangs). NULL = nothing to do but release.
	 */
	void (*lost)(void *opaque, uint64_t gpa, int err, const char *why);
};

struct dz_faultsvc_config {
	void *host_addr;		/* page aligned */
	uint64_t size;			/* bytes, multiple of 4096 */
	uint64_t gpa_base;		/* guest-physical address of host_addr (usually 0) */
	struct dz_source *src;		/* the service takes ownership (closes it on destroy) */
	const uint64_t *checksums;	/* XXH64 (seed 0) per page, or NULL = no verification */
	bool prefetch;			/* stream the pages nobody asked for yet */
	unsigned int prefetch_window;	/* pages in flight for prefetch (default 64: about twice
					 * the bandwidth-delay product of a 1 ms, 1 Gbit/s store) */
	unsigned int prefetch_batch;	/* pages per prefetch request (default 16) */
	unsigned int max_retries;	/* fetches after a checksum mismatch (default 2) */
	enum dz_lost_release lost_release;
	const struct dz_faultsvc_hooks *hooks;	/* copied; may be NULL */
	/* Testing aid (`doze restore --verify-ram`): every page is compared with this file's
	 * bytes just before it is installed. NULL = off. */
	const char *verify_path;
	bool busy_poll;			/* spin instead of sleeping in poll (lower fault latency) */
};

struct dz_faultsvc_stats {
	uint64_t faults_total;		/* userfaultfd page-fault events */
	uint64_t faults_sync;		/* the thread waited */
	uint64_t faults_poisoned;	/* the decide hook chose POISON */
	uint64_t faults_spurious;	/* the page was already present (raced with install) */
	uint64_t faults_on_lost;	/* faults on a page already lost */
	uint64_t faults_repeated;	/* the same thread's fault on the same page, seen again
					 * while it waits (KVM retries): not counted in total */
	uint64_t pages_total;
	uint64_t pages_present;
	uint64_t pages_demand;		/* installed by a demand fetch */
	uint64_t pages_prefetch;	/* installed by the prefetcher */
	uint64_t pages_hint;		/* installed on request() (no fault) */
	uint64_t pages_verified;	/* checksum checked and matched */
	uint64_t pages_lost;
	uint64_t pages_poisoned;
	uint64_t duplicate_arrivals;	/* fetched twice (prefetch raced a demand fetch) */
	uint64_t bytes;			/* installed */
	uint64_t retries;		/* re-fetches after a checksum mismatch or cancel */
	uint64_t checksum_failures;
	uint64_t ram_verify_mismatches;	/* --verify-ram: installed bytes differing from the file */
	uint64_t stall_ns;		/* sum of sync fault waits */
	uint64_t elapsed_ns;		/* service start to stats call */
	uint64_t all_present_ns;	/* service start to the last page present (0 = not yet) */
	struct dz_hist wait_ns;		/* per sync fault: uffd event read to UFFDIO_COPY done */
	struct dz_source_counters src;
};

struct dz_faultsvc;

/* Registers the range and starts the service thread. Returns 0 or -errno (-EPERM without
 * access to userfaultfd, -EINVAL for a bad range). On failure the source is NOT closed. */
int dz_faultsvc__create(const struct dz_faultsvc_config *cfg, struct dz_faultsvc **out);

/* Stops the thread, releases any thread still waiting (as for a lost page), unregisters,
 * closes the source. Call after the vCPU threads are gone. */
void dz_faultsvc__destroy(struct dz_faultsvc *svc);

enum dz_page_state dz_faultsvc__page_state(struct dz_faultsvc *svc, uint64_t gpa);
/* For struct dz_guestmem.page_present (opaque = svc). */
bool dz_faultsvc__page_present(void *svc, uint64_t pfn);
bool dz_faultsvc__page_poisoned(struct dz_faultsvc *svc, uint64_t gpa);

/*
 * The VMM's own read of guest memory: copies only if every page of the range is present;
 * never touches a missing or poisoned page. 0, -EAGAIN (not present yet: a fetch is
 * requested), -EIO (a page is lost), -EFAULT (outside the range).
 */
int dz_faultsvc__read(struct dz_faultsvc *svc, uint64_t gpa, void *dst, uint64_t len);

/* Asks for pages without a fault (prefetch hint, or a page the async layer needs).
 * Pages already present or in flight are skipped. Any thread. */
int dz_faultsvc__request(struct dz_faultsvc *svc, uint64_t gpa, uint64_t len, enum dz_src_prio prio);

/* Poisons a page now (the async layer), if it is not present. 0, -EEXIST if present,
 * -EOPNOTSUPP without UFFDIO_POISON. Service thread only (from a hook). */
int dz_faultsvc__poison(struct dz_faultsvc *svc, uint64_t gpa);

/* Waits until every page is present or lost, or @timeout_ns passed. 0 or -ETIMEDOUT.
 * Implies requesting all pages (even with prefetch off). */
int dz_faultsvc__wait_all(struct dz_faultsvc *svc, uint64_t timeout_ns);

/* Counts for a progress line. */
void dz_faultsvc__progress(struct dz_faultsvc *svc, uint64_t *present, uint64_t *lost,
			   uint64_t *total, uint64_t *bytes);

void dz_faultsvc__stats(struct dz_faultsvc *svc, struct dz_faultsvc_stats *st);
/* Writes the stats as members of the current JSON object. */
void dz_faultsvc__stats_json(struct dz_faultsvc *svc, struct dz_json *j);

bool dz_faultsvc__has_poison(struct dz_faultsvc *svc);
uint64_t dz_faultsvc__expected_latency_ns(struct dz_faultsvc *svc);
struct dz_source *dz_faultsvc__source(struct dz_faultsvc *svc);

/* The first lost page's report ("page 0x1234000 (GPA) lost: <source error>"), "" if none. */
void dz_faultsvc__lost_reason(struct dz_faultsvc *svc, char *buf, size_t len);

#endif
