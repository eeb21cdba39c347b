// SPDX-License-Identifier: GPL-2.0
/*
 * The userfaultfd fault service (see faultsvc.h for the model).
 *
 * Everything that changes a page's state happens on the service thread, so
 * the state table needs no lock: other threads only read it (atomically),
 * and PRESENT/LOST are final, so a reader that sees PRESENT may touch the
 * page.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <xxhash.h>

#include "faultsvc.h"

#define PAGE		4096ull

/* Debian 12's headers predate UFFDIO_POISON (Linux 6.6): the kernel has it. */
#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON	(1 << 14)
#endif
#ifndef _UFFDIO_POISON
#define _UFFDIO_POISON		(0x08)
struct uffdio_poison {
	struct uffdio_range range;
#define UFFDIO_POISON_MODE_DONTWAKE ((__u64)1 << 0)
	__u64 mode;
	__s64 updated;
};
#define UFFDIO_POISON		_IOWR(UFFDIO, _UFFDIO_POISON, struct uffdio_poison)
#endif
#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW	_IO(0xAA, 0x00)
#endif

/* The state byte. */
#define ST_MASK		0x03
#define RETRY_SHIFT	2
#define RETRY_MASK	0x0c
#define F_POISONED	0x10	/* UFFDIO_POISON is on the page */
#define F_DEMAND	0x20	/* a demand / hint / retry fetch is outstanding */
#define F_WAITERS	0x40	/* threads are blocked on it (fault records exist) */
#define F_PREFETCH	0x80	/* a prefetch fetch covering it is outstanding */

enum fetch_kind { K_DEMAND, K_PREFETCH, K_HINT };

struct fetch {
	struct fetch *next, **pprev;	/* all outstanding fetches */
	uint64_t page;
	uint32_t npages;
	enum fetch_kind kind;
	void *buf;
};

struct fault_rec {
	struct fault_rec *next;
	uint64_t page;
	uint64_t t;
	pid_t tid;
};

#define WAIT_BUCKETS 1024

struct hint {
	uint64_t page, npages;
	enum dz_src_prio prio;
};

struct dz_faultsvc {
	struct dz_faultsvc_config cfg;
	struct dz_faultsvc_hooks hooks;
	uint8_t *host;
	uint64_t npages;
	uint8_t *state;
	int uffd;
	int ctl_fd;
	int verify_fd;
	bool has_poison;
	pthread_t thread;
	bool started;

	struct fetch *fetches;
	struct fault_rec *waiters[WAIT_BUCKETS];
	uint64_t prefetch_cursor;
	uint64_t prefetch_inflight;	/* pages */
	bool want_all;			/* wait_all(): prefetch everything even if prefetch is off */

	pthread_mutex_t lock;		/* hints, stop, want_all, done_cond, lost_reason */
	pthread_cond_t done_cond;
	struct hint *hints;
	size_t nhints, hints_cap;
	bool stop;
	char lost_reason[512];

	uint64_t t_start;
	struct dz_faultsvc_stats st;	/* written by the service thread */
	uint64_t present, lost;		/* atomics, for progress */
};

/* ---- state helpers ---- */

static inline uint8_t st_get(struct dz_faultsvc *svc, uint64_t p)
{
	return __atomic_load_n(&svc->state[p], __ATOMIC_ACQUIRE);
}

static inline void st_set(struct dz_faultsvc *svc, uint64_t p, uint8_t v)
{
	__atomic_store_n(&svc->state[p], v, __ATOMIC_RELEASE);
}

static inline void st_state(struct dz_faultsvc *svc, uint64_t p, uint8_t s)
{
	st_set(svc, p, (uint8_t)((st_get(svc, p) & ~ST_MASK) | s));
}

static inline uint64_t gpa_of(struct dz_faultsvc *svc, uint64_t p)
{
	return svc->cfg.gpa_base + p * PAGE;
}

static inline uint64_t addr_of(struct dz_faultsvc *svc, uint64_t p)
{
	return (uint64_t)(uintptr_t)svc->host + p * PAGE;
}

/* ---- fault records ---- */

/* True if @tid already waits for @p: then a new event for it is the same fault seen again
 * (KVM retries a fault after a signal interrupted the wait, or after its no-wait try). */
static bool is_waiting(struct dz_faultsvc *svc, uint64_t p, pid_t tid)
{
	if (!tid || !(st_get(svc, p) & F_WAITERS))
		return false;
	for (struct fault_rec *w = svc->waiters[p % WAIT_BUCKETS]; w; w = w->next)
		if (w->page == p && w->tid == tid)
			return true;
	return false;
}

static void add_waiter(struct dz_faultsvc *svc, uint64_t p, uint64_t t, pid_t tid)
{
	struct fault_rec *w = malloc(sizeof(*w));

	if (!w)
		return;	/* the wait still ends; it just goes unmeasured */
	w->page = p;
	w->t = t;
	w->tid = tid;
	w->next = svc->waiters[p % WAIT_BUCKETS];
	svc->waiters[p % WAIT_BUCKETS] = w;
	st_set(svc, p, st_get(svc, p) | F_WAITERS);
}

/* Ends the waits on page @p: measured if @served. */
static void end_waits(struct dz_faultsvc *svc, uint64_t p, bool served, uint64_t now)
{
	struct fault_rec **pp = &svc->waiters[p % WAIT_BUCKETS];

	if (!(st_get(svc, p) & F_WAITERS))
		return;
	while (*pp) {
		struct fault_rec *w = *pp;

		if (w->page != p) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		if (served) {
			dz_hist__add(&svc->st.wait_ns, now - w->t);
			svc->st.stall_ns += now - w->t;
		}
		free(w);
	}
	st_set(svc, p, st_get(svc, p) & ~F_WAITERS);
}

/* ---- userfaultfd ---- */

static int open_uffd(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);

		if (dev < 0)
			return -errno;
		fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
		close(dev);
		if (fd < 0)
			return -errno;
	}
	return fd;
}

static int uffd_poison(struct dz_faultsvc *svc, uint64_t p)
{
	struct uffdio_poison pz = { .range = { .start = addr_of(svc, p), .len = PAGE } };

	if (!svc->has_poison)
		return -EOPNOTSUPP;
	if (ioctl(svc->uffd, UFFDIO_POISON, &pz) && errno != EEXIST)
		return -errno;
	return 0;
}

static int uffd_zero(struct dz_faultsvc *svc, uint64_t p)
{
	struct uffdio_zeropage z = { .range = { .start = addr_of(svc, p), .len = PAGE } };

	if (ioctl(svc->uffd, UFFDIO_ZEROPAGE, &z) && errno != EEXIST)
		return -errno;
	return 0;
}

static void uffd_wake(struct dz_faultsvc *svc, uint64_t p)
{
	struct uffdio_range r = { .start = addr_of(svc, p), .len = PAGE };

	ioctl(svc->uffd, UFFDIO_WAKE, &r);
}

/* ---- fetching ---- */

static int submit(struct dz_faultsvc *svc, uint64_t p, uint32_t n, enum fetch_kind kind,
		  enum dz_src_prio prio)
{
	struct fetch *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	f->buf = aligned_alloc(PAGE, n * PAGE);
	if (!f->buf) {
		free(f);
		return -ENOMEM;
	}
	f->page = p;
	f->npages = n;
	f->kind = kind;
	r = dz_source__submit(svc->cfg.src, (uint64_t)(uintptr_t)f, p, n, f->buf, prio);
	if (r) {
		free(f->buf);
		free(f);
		return r;
	}
	f->next = svc->fetches;
	if (f->next)
		f->next->pprev = &f->next;
	f->pprev = &svc->fetches;
	svc->fetches = f;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t s = st_get(svc, p + i);

		s = (uint8_t)((s & ~ST_MASK) | DZ_PAGE_INFLIGHT);
		s |= kind == K_PREFETCH ? F_PREFETCH : F_DEMAND;
		st_set(svc, p + i, s);
	}
	if (kind == K_PREFETCH)
		svc->prefetch_inflight += n;
	return 0;
}

static void release_fetch(struct dz_faultsvc *svc, struct fetch *f)
{
	*f->pprev = f->next;
	if (f->next)
		f->next->pprev = f->pprev;
	if (f->kind == K_PREFETCH)
		svc->prefetch_inflight -= f->npages;
	free(f->buf);
	free(f);
}

static void all_done_check(struct dz_faultsvc *svc)
{
	if (svc->st.pages_present + svc->st.pages_lost < svc->npages)
		return;
	if (!svc->st.all_present_ns)
		svc->st.all_present_ns = dz_now_ns() - svc->t_start;
	pthread_mutex_lock(&svc->lock);
	pthread_cond_broadcast(&svc->done_cond);
	pthread_mutex_unlock(&svc->lock);
}

/* A page the source cannot provide. */
static void page_lost(struct dz_faultsvc *svc, uint64_t p, int err, const char *detail)
{
	uint8_t s = st_get(svc, p);
	bool waited = s & (F_WAITERS | F_POISONED);
	char why[512];

	if ((s & ST_MASK) == DZ_PAGE_LOST || (s & ST_MASK) == DZ_PAGE_PRESENT)
		return;
	snprintf(why, sizeof(why), "page at GPA 0x%llx lost: %s [source %s]",
		 (unsigned long long)gpa_of(svc, p), detail, dz_source__uri(svc->cfg.src));
	pthread_mutex_lock(&svc->lock);
	if (!svc->lost_reason[0])
		snprintf(svc->lost_reason, sizeof(svc->lost_reason), "%s", why);
	pthread_mutex_unlock(&svc->lock);
	st_state(svc, p, DZ_PAGE_LOST);
	svc->st.pages_lost++;
	__atomic_add_fetch(&svc->lost, 1, __ATOMIC_RELAXED);
	if (svc->hooks.page_done)
		svc->hooks.page_done(svc->hooks.opaque, gpa_of(svc, p), err);
	if (waited) {
		/* Someone needs this page: let the owner react first (stop the VM), then
		 * release the blocked threads so none of them hangs. */
		if (svc->hooks.lost)
			svc->hooks.lost(svc->hooks.opaque, gpa_of(svc, p), err, why);
		if (svc->cfg.lost_release == DZ_LOST_POISON && !uffd_poison(svc, p))
			st_set(svc, p, st_get(svc, p) | F_POISONED);
		else if (!(s & F_POISONED))
			uffd_zero(svc, p);
		end_waits(svc, p, false, 0);
	}
	all_done_check(svc);
}

static void source_detail(struct dz_faultsvc *svc, int status, char *buf, size_t len)
{
	char e[256];

	dz_source__last_error(svc->cfg.src, e, sizeof(e));
	snprintf(buf, len, "%s%s%s", strerror(-status), e[0] ? ": " : "", e);
}

/* Installs pages [p, p + n) from @data (already verified). */
static void install(struct dz_faultsvc *svc, uint64_t p, uint32_t n, char *data,
		    enum fetch_kind kind)
{
	uint64_t done = 0, now;

	for (uint32_t i = 0; i < n; i++) {
		if (svc->hooks.before_install)
			svc->hooks.before_install(svc->hooks.opaque, gpa_of(svc, p + i),
						  data + i * PAGE);
	}
	while (done < n) {
		struct uffdio_copy c = {
			.dst = addr_of(svc, p + done),
			.src = (uint64_t)(uintptr_t)(data + done * PAGE),
			.len = (n - done) * PAGE,
		};

		if (!ioctl(svc->uffd, UFFDIO_COPY, &c)) {
			done = n;
			break;
		}
		if (errno == EAGAIN) {
			if (c.copy > 0)
				done += (uint64_t)c.copy / PAGE;
			continue;
		}
		if (c.copy > 0)
			done += (uint64_t)c.copy / PAGE;
		if (errno == EEXIST) {
			/* Already there (released as zeropage after a stop): count it as present,
			 * the data in it is what the VM saw. */
			done++;
			continue;
		}
		/* The mapping went away (process exit): nothing more to install. */
		for (uint64_t i = done; i < n; i++) {
			char d[128];

			snprintf(d, sizeof(d), "UFFDIO_COPY failed: %s", strerror(errno));
			page_lost(svc, p + i, -errno, d);
		}
		n = (uint32_t)done;
		break;
	}
	now = dz_now_ns();
	for (uint32_t i = 0; i < n; i++) {
		uint64_t q = p + i;
		uint8_t s = st_get(svc, q);

		if ((s & ST_MASK) == DZ_PAGE_LOST)
			continue;
		st_set(svc, q, (uint8_t)((s & ~(ST_MASK | F_POISONED)) | DZ_PAGE_PRESENT));
		svc->st.pages_present++;
		__atomic_add_fetch(&svc->present, 1, __ATOMIC_RELAXED);
		svc->st.bytes += PAGE;
		if (kind == K_PREFETCH)
			svc->st.pages_prefetch++;
		else if (kind == K_HINT)
			svc->st.pages_hint++;
		else
			svc->st.pages_demand++;
		end_waits(svc, q, true, now);
		if (svc->hooks.page_done)
			svc->hooks.page_done(svc->hooks.opaque, gpa_of(svc, q), 0);
	}
	all_done_check(svc);
}

static bool verify(struct dz_faultsvc *svc, uint64_t p, const void *data)
{
	bool ok = !svc->cfg.checksums || XXH64(data, PAGE, 0) == svc->cfg.checksums[p];

	/* --verify-ram compares what will be installed: a copy the checksum rejects is
	 * fetched again, never installed, so it is no RAM mismatch */
	if (ok && svc->verify_fd >= 0) {
		char ref[PAGE];
		ssize_t n = pread(svc->verify_fd, ref, PAGE, (off_t)(p * PAGE));

		if (n != (ssize_t)PAGE || memcmp(ref, data, PAGE))
			svc->st.ram_verify_mismatches++;
	}
	return ok;
}

static void on_completion(struct dz_faultsvc *svc, const struct dz_src_done *d)
{
	struct fetch *f = (struct fetch *)(uintptr_t)d->cookie;
	uint64_t run_start = 0;
	uint32_t run_len = 0;

	for (uint32_t i = 0; i <= f->npages; i++) {
		uint64_t p = f->page + i;
		uint8_t s, own = f->kind == K_PREFETCH ? F_PREFETCH : F_DEMAND;
		char *data = (char *)f->buf + (uint64_t)i * PAGE;
		bool ok = false;

		if (i < f->npages) {
			s = (uint8_t)(st_get(svc, p) & ~own);
			st_set(svc, p, s);
			if ((s & ST_MASK) == DZ_PAGE_PRESENT || (s & ST_MASK) == DZ_PAGE_LOST) {
				if (i < d->nvalid)
					svc->st.duplicate_arrivals++;
			} else if (i < d->nvalid) {
				ok = verify(svc, p, data);
				if (ok && svc->cfg.checksums)
					svc->st.pages_verified++;
			}
		}
		/* Install runs of good pages with one UFFDIO_COPY each. */
		if (ok) {
			if (!run_len)
				run_start = p;
			run_len++;
			continue;
		}
		if (run_len) {
			install(svc, run_start, run_len,
				(char *)f->buf + (run_start - f->page) * PAGE, f->kind);
			run_len = 0;
		}
		if (i == f->npages)
			break;
		s = st_get(svc, p);
		if ((s & ST_MASK) == DZ_PAGE_PRESENT || (s & ST_MASK) == DZ_PAGE_LOST)
			continue;
		if (i < d->nvalid) {
			/* Checksum mismatch: fetch again, a bounded number of times. */
			unsigned int tries = (s & RETRY_MASK) >> RETRY_SHIFT;

			svc->st.checksum_failures++;
			if (tries >= svc->cfg.max_retries || tries >= 3) {
				char why[128];

				snprintf(why, sizeof(why),
					 "checksum mismatch (XXH64) on %u fetches", tries + 1);
				page_lost(svc, p, -EBADMSG, why);
				continue;
			}
			st_set(svc, p, (uint8_t)((s & ~RETRY_MASK) | ((tries + 1) << RETRY_SHIFT)));
			svc->st.retries++;
			if (!(s & (F_DEMAND | F_PREFETCH)) &&
			    submit(svc, p, 1, K_DEMAND,
				   (s & F_WAITERS) ? DZ_PRIO_DEMAND : DZ_PRIO_PREFETCH))
				page_lost(svc, p, -ENOMEM, "out of memory re-fetching it");
			continue;
		}
		/* Not delivered. */
		if (s & (F_DEMAND | F_PREFETCH))
			continue;	/* another fetch of it is still under way */
		if (d->status == -ECANCELED || d->status == -ESHUTDOWN) {
			if (s & F_WAITERS) {
				svc->st.retries++;
				if (submit(svc, p, 1, K_DEMAND, DZ_PRIO_DEMAND))
					page_lost(svc, p, -ENOMEM, "out of memory re-fetching it");
			} else {
				st_state(svc, p, DZ_PAGE_MISSING);
				if (p < svc->prefetch_cursor)
					svc->prefetch_cursor = p;
			}
			continue;
		}
		/* A batch that failed for a reason other than "past the end" may have
		 * failed for one bad page: ask for each of its pages alone once before
		 * declaring any lost, so one page the source never delivers does not
		 * take its whole batch with it. */
		if (f->npages > 1 && d->status != -ENODATA) {
			svc->st.retries++;
			if (!submit(svc, p, 1, K_DEMAND,
				    (s & F_WAITERS) ? DZ_PRIO_DEMAND : DZ_PRIO_PREFETCH))
				continue;
		}
		{
			char why[384];

			source_detail(svc, d->status ? d->status : -EIO, why, sizeof(why));
			page_lost(svc, p, d->status ? d->status : -EIO, why);
		}
	}
	release_fetch(svc, f);
}

static void on_fault(struct dz_faultsvc *svc, const struct uffd_msg *m, uint64_t now)
{
	uint64_t addr = m->arg.pagefault.address & ~(PAGE - 1);
	uint64_t base = (uint64_t)(uintptr_t)svc->host, p;
	pid_t tid = (pid_t)m->arg.pagefault.feat.ptid;
	uint8_t s;
	int action = DZ_FAULT_WAIT;

	if (addr < base || addr >= base + svc->npages * PAGE)
		return;
	p = (addr - base) / PAGE;
	s = st_get(svc, p);
	if ((s & ST_MASK) == DZ_PAGE_INFLIGHT && is_waiting(svc, p, tid)) {
		svc->st.faults_repeated++;	/* the same wait, seen again: not a new fault */
		return;
	}
	svc->st.faults_total++;
	switch (s & ST_MASK) {
	case DZ_PAGE_PRESENT:
		svc->st.faults_spurious++;
		uffd_wake(svc, p);
		return;
	case DZ_PAGE_LOST:
		svc->st.faults_on_lost++;
		if (svc->hooks.lost) {
			char why[512];

			pthread_mutex_lock(&svc->lock);
			snprintf(why, sizeof(why), "%s", svc->lost_reason);
			pthread_mutex_unlock(&svc->lock);
			svc->hooks.lost(svc->hooks.opaque, gpa_of(svc, p), -EIO, why);
		}
		if (svc->cfg.lost_release == DZ_LOST_POISON && !uffd_poison(svc, p))
			st_set(svc, p, st_get(svc, p) | F_POISONED);
		else
			uffd_zero(svc, p);
		return;
	}
	if (svc->hooks.decide)
		action = svc->hooks.decide(svc->hooks.opaque, gpa_of(svc, p), tid,
					   m->arg.pagefault.flags);
	if (action == DZ_FAULT_POISON && svc->has_poison) {
		svc->st.faults_poisoned++;
		if (!(s & F_POISONED) && !uffd_poison(svc, p)) {
			st_set(svc, p, st_get(svc, p) | F_POISONED);
			svc->st.pages_poisoned++;
		}
	} else {
		svc->st.faults_sync++;
		add_waiter(svc, p, now, tid);
	}
	s = st_get(svc, p);
	/* Demand goes ahead of a prefetch that may be queued behind others. */
	if (!(s & F_DEMAND) && submit(svc, p, 1, K_DEMAND, DZ_PRIO_DEMAND))
		page_lost(svc, p, -ENOMEM, "out of memory requesting it");
}

static void read_faults(struct dz_faultsvc *svc)
{
	struct uffd_msg msgs[32];

	for (;;) {
		ssize_t n = read(svc->uffd, msgs, sizeof(msgs));
		uint64_t now = dz_now_ns();

		if (n <= 0)
			return;
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(msgs[0]); i++)
			if (msgs[i].event == UFFD_EVENT_PAGEFAULT)
				on_fault(svc, &msgs[i], now);
	}
}

static void reap(struct dz_faultsvc *svc)
{
	struct dz_src_done d[8];
	int n;

	/*
	 * A few at a time: installing a prefetch batch takes a while (checksums, copies),
	 * and a fault that arrives meanwhile should not wait for a whole backlog. The
	 * source's fd stays readable while completions are left.
	 */
	n = dz_source__reap(svc->cfg.src, d, 8);
	for (int i = 0; i < n; i++) {
		on_completion(svc, &d[i]);
		/* A fault that came in meanwhile goes to the source before the next batch
		 * is installed (a non-blocking read: EAGAIN when there is none). */
		if (i + 1 < n)
			read_faults(svc);
	}
}

static void take_hints(struct dz_faultsvc *svc)
{
	struct hint *h;
	size_t n;
	uint64_t v;

	if (read(svc->ctl_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&svc->lock);
	h = svc->hints;
	n = svc->nhints;
	svc->hints = NULL;
	svc->nhints = svc->hints_cap = 0;
	pthread_mutex_unlock(&svc->lock);
	for (size_t i = 0; i < n; i++) {
		uint64_t p = h[i].page, end = h[i].page + h[i].npages;

		while (p < end) {
			uint32_t run = 0;

			while (p + run < end && run < svc->cfg.prefetch_batch &&
			       (st_get(svc, p + run) & ST_MASK) == DZ_PAGE_MISSING)
				run++;
			if (!run) {
				p++;
				continue;
			}
			if (submit(svc, p, run, K_HINT, h[i].prio))
				break;
			p += run;
		}
	}
	free(h);
}

static void top_up_prefetch(struct dz_faultsvc *svc)
{
	bool want_all;

	pthread_mutex_lock(&svc->lock);
	want_all = svc->want_all;
	pthread_mutex_unlock(&svc->lock);
	if (!svc->cfg.prefetch && !want_all)
		return;
	while (svc->prefetch_inflight < svc->cfg.prefetch_window &&
	       svc->prefetch_cursor < svc->npages) {
		uint64_t p = svc->prefetch_cursor;
		uint32_t run = 0;

		if ((st_get(svc, p) & ST_MASK) != DZ_PAGE_MISSING) {
			svc->prefetch_cursor++;
			continue;
		}
		while (p + run < svc->npages && run < svc->cfg.prefetch_batch &&
		       (st_get(svc, p + run) & ST_MASK) == DZ_PAGE_MISSING)
			run++;
		if (submit(svc, p, run, K_PREFETCH, DZ_PRIO_PREFETCH))
			break;
		svc->prefetch_cursor = p + run;
	}
}

static void *service_thread(void *arg)
{
	struct dz_faultsvc *svc = arg;

	for (;;) {
		struct pollfd p[3] = {
			{ .fd = svc->uffd, .events = POLLIN },
			{ .fd = dz_source__fd(svc->cfg.src), .events = POLLIN },
			{ .fd = svc->ctl_fd, .events = POLLIN },
		};
		bool stop;

		top_up_prefetch(svc);
		if (poll(p, 3, svc->cfg.busy_poll ? 0 : -1) < 0 && errno != EINTR)
			break;
		pthread_mutex_lock(&svc->lock);
		stop = svc->stop;
		pthread_mutex_unlock(&svc->lock);
		if (stop)
			break;
		/* Faults first: a blocked vCPU's request should reach the source before we
		 * spend time installing prefetched pages. */
		if (p[0].revents)
			read_faults(svc);
		if (p[2].revents)
			take_hints(svc);
		if (p[1].revents)
			reap(svc);
	}
	return NULL;
}

/* ---- public API ---- */

int dz_faultsvc__create(const struct dz_faultsvc_config *cfg, struct dz_faultsvc **out)
{
	struct dz_faultsvc *svc;
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	uint64_t want, have;
	int fd, r;

	*out = NULL;
	if (!cfg->host_addr || !cfg->size || cfg->size % PAGE ||
	    (uintptr_t)cfg->host_addr % PAGE || !cfg->src)
		return -EINVAL;
	svc = calloc(1, sizeof(*svc));
	if (!svc)
		return -ENOMEM;
	svc->cfg = *cfg;
	if (cfg->hooks)
		svc->hooks = *cfg->hooks;
	if (!svc->cfg.prefetch_window)
		svc->cfg.prefetch_window = 64;
	if (!svc->cfg.prefetch_batch)
		svc->cfg.prefetch_batch = 16;
	if (svc->cfg.prefetch_batch > DZ_SRC_MAX_PAGES)
		svc->cfg.prefetch_batch = DZ_SRC_MAX_PAGES;
	if (!svc->cfg.max_retries)
		svc->cfg.max_retries = 2;
	svc->host = cfg->host_addr;
	svc->npages = cfg->size / PAGE;
	svc->uffd = svc->ctl_fd = svc->verify_fd = -1;
	pthread_mutex_init(&svc->lock, NULL);
	pthread_cond_init(&svc->done_cond, NULL);
	dz_hist__init(&svc->st.wait_ns);
	svc->st.pages_total = svc->npages;
	svc->state = calloc(svc->npages, 1);
	if (!svc->state) {
		r = -ENOMEM;
		goto fail;
	}
	svc->ctl_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (svc->ctl_fd < 0) {
		r = -errno;
		goto fail;
	}
	if (cfg->verify_path) {
		svc->verify_fd = open(cfg->verify_path, O_RDONLY | O_CLOEXEC);
		if (svc->verify_fd < 0) {
			r = -errno;
			goto fail;
		}
	}

	/* Ask what the kernel offers on a throw-away fd: UFFDIO_API works once per fd. */
	fd = open_uffd();
	if (fd < 0) {
		r = fd;
		goto fail;
	}
	r = ioctl(fd, UFFDIO_API, &api);
	have = api.features;
	close(fd);
	if (r) {
		r = -errno;
		goto fail;
	}
	want = UFFD_FEATURE_THREAD_ID | UFFD_FEATURE_POISON;
	svc->uffd = open_uffd();
	if (svc->uffd < 0) {
		r = svc->uffd;
		goto fail;
	}
	api = (struct uffdio_api){ .api = UFFD_API, .features = want & have };
	if (ioctl(svc->uffd, UFFDIO_API, &api)) {
		r = -errno;
		goto fail;
	}
	reg = (struct uffdio_register){
		.range = { .start = (uint64_t)(uintptr_t)svc->host, .len = cfg->size },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	if (ioctl(svc->uffd, UFFDIO_REGISTER, &reg)) {
		r = -errno;
		goto fail;
	}
	svc->has_poison = (have & UFFD_FEATURE_POISON) &&
			  (reg.ioctls & (1ull << _UFFDIO_POISON));
	svc->t_start = dz_now_ns();
	r = pthread_create(&svc->thread, NULL, service_thread, svc);
	if (r) {
		r = -r;
		goto fail;
	}
	svc->started = true;
	*out = svc;
	return 0;
fail:
	if (svc->verify_fd >= 0)
		close(svc->verify_fd);
	if (svc->uffd >= 0)
		close(svc->uffd);
	if (svc->ctl_fd >= 0)
		close(svc->ctl_fd);
	free(svc->state);
	pthread_cond_destroy(&svc->done_cond);
	pthread_mutex_destroy(&svc->lock);
	free(svc);
	return r;
}

static void kick(struct dz_faultsvc *svc)
{
	uint64_t one = 1;

	if (write(svc->ctl_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return;
}

void dz_faultsvc__destroy(struct dz_faultsvc *svc)
{
	struct uffdio_range range;

	if (!svc)
		return;
	pthread_mutex_lock(&svc->lock);
	svc->stop = true;
	pthread_mutex_unlock(&svc->lock);
	kick(svc);
	if (svc->started)
		pthread_join(svc->thread, NULL);
	/* Nobody may stay blocked on a page: release what is still waited for. */
	for (int b = 0; b < WAIT_BUCKETS; b++)
		while (svc->waiters[b]) {
			struct fault_rec *w = svc->waiters[b];

			uffd_zero(svc, w->page);
			end_waits(svc, w->page, false, 0);
		}
	range = (struct uffdio_range){ .start = (uint64_t)(uintptr_t)svc->host,
				       .len = svc->npages * PAGE };
	ioctl(svc->uffd, UFFDIO_UNREGISTER, &range);
	close(svc->uffd);
	/* The source goes first: after it is closed no buffer of ours is written. */
	dz_source__close(svc->cfg.src);
	while (svc->fetches)
		release_fetch(svc, svc->fetches);
	close(svc->ctl_fd);
	if (svc->verify_fd >= 0)
		close(svc->verify_fd);
	free(svc->hints);
	free(svc->state);
	pthread_cond_destroy(&svc->done_cond);
	pthread_mutex_destroy(&svc->lock);
	free(svc);
}

enum dz_page_state dz_faultsvc__page_state(struct dz_faultsvc *svc, uint64_t gpa)
{
	uint64_t p;

	if (gpa < svc->cfg.gpa_base || (gpa - svc->cfg.gpa_base) / PAGE >= svc->npages)
		return DZ_PAGE_LOST;
	p = (gpa - svc->cfg.gpa_base) / PAGE;
	return (enum dz_page_state)(st_get(svc, p) & ST_MASK);
}

bool dz_faultsvc__page_present(void *opaque, uint64_t pfn)
{
	struct dz_faultsvc *svc = opaque;

	return dz_faultsvc__page_state(svc, pfn * PAGE) == DZ_PAGE_PRESENT;
}

bool dz_faultsvc__page_poisoned(struct dz_faultsvc *svc, uint64_t gpa)
{
	uint64_t p = (gpa - svc->cfg.gpa_base) / PAGE;

	if (gpa < svc->cfg.gpa_base || p >= svc->npages)
		return false;
	return st_get(svc, p) & F_POISONED;
}

int dz_faultsvc__read(struct dz_faultsvc *svc, uint64_t gpa, void *dst, uint64_t len)
{
	uint64_t off, first, last;
	bool missing = false;

	if (!len)
		return 0;
	if (gpa < svc->cfg.gpa_base)
		return -EFAULT;
	off = gpa - svc->cfg.gpa_base;
	if (off >= svc->npages * PAGE || len > svc->npages * PAGE - off)
		return -EFAULT;
	first = off / PAGE;
	last = (off + len - 1) / PAGE;
	for (uint64_t p = first; p <= last; p++) {
		uint8_t s = st_get(svc, p) & ST_MASK;

		if (s == DZ_PAGE_LOST)
			return -EIO;
		if (s != DZ_PAGE_PRESENT)
			missing = true;
	}
	if (missing) {
		dz_faultsvc__request(svc, gpa, len, DZ_PRIO_DEMAND);
		return -EAGAIN;
	}
	memcpy(dst, svc->host + off, len);
	return 0;
}

int dz_faultsvc__request(struct dz_faultsvc *svc, uint64_t gpa, uint64_t len, enum dz_src_prio prio)
{
	uint64_t off, first, last;
	int r = 0;

	if (!len)
		return 0;
	if (gpa < svc->cfg.gpa_base)
		return -EFAULT;
	off = gpa - svc->cfg.gpa_base;
	if (off >= svc->npages * PAGE || len > svc->npages * PAGE - off)
		return -EFAULT;
	first = off / PAGE;
	last = (off + len - 1) / PAGE;
	pthread_mutex_lock(&svc->lock);
	if (svc->nhints == svc->hints_cap) {
		size_t cap = svc->hints_cap ? svc->hints_cap * 2 : 16;
		struct hint *h = realloc(svc->hints, cap * sizeof(*h));

		if (!h) {
			r = -ENOMEM;
			goto out;
		}
		svc->hints = h;
		svc->hints_cap = cap;
	}
	svc->hints[svc->nhints++] = (struct hint){ first, last - first + 1, prio };
out:
	pthread_mutex_unlock(&svc->lock);
	if (!r)
		kick(svc);
	return r;
}

int dz_faultsvc__poison(struct dz_faultsvc *svc, uint64_t gpa)
{
	uint64_t p = (gpa - svc->cfg.gpa_base) / PAGE;
	uint8_t s;
	int r;

	if (gpa < svc->cfg.gpa_base || p >= svc->npages)
		return -EFAULT;
	s = st_get(svc, p);
	if ((s & ST_MASK) == DZ_PAGE_PRESENT)
		return -EEXIST;
	if (s & F_POISONED)
		return 0;
	r = uffd_poison(svc, p);
	if (!r) {
		st_set(svc, p, st_get(svc, p) | F_POISONED);
		svc->st.pages_poisoned++;
	}
	return r;
}

int dz_faultsvc__wait_all(struct dz_faultsvc *svc, uint64_t timeout_ns)
{
	struct timespec ts;
	uint64_t end;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	end = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + timeout_ns;
	ts.tv_sec = (time_t)(end / 1000000000ull);
	ts.tv_nsec = (long)(end % 1000000000ull);
	pthread_mutex_lock(&svc->lock);
	svc->want_all = true;
	pthread_mutex_unlock(&svc->lock);
	kick(svc);
	pthread_mutex_lock(&svc->lock);
	while (__atomic_load_n(&svc->present, __ATOMIC_RELAXED) +
		       __atomic_load_n(&svc->lost, __ATOMIC_RELAXED) < svc->npages) {
		if (pthread_cond_timedwait(&svc->done_cond, &svc->lock, &ts) == ETIMEDOUT) {
			r = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&svc->lock);
	return r;
}

void dz_faultsvc__progress(struct dz_faultsvc *svc, uint64_t *present, uint64_t *lost,
			   uint64_t *total, uint64_t *bytes)
{
	uint64_t pr = __atomic_load_n(&svc->present, __ATOMIC_RELAXED);

	if (present)
		*present = pr;
	if (lost)
		*lost = __atomic_load_n(&svc->lost, __ATOMIC_RELAXED);
	if (total)
		*total = svc->npages;
	if (bytes)
		*bytes = pr * PAGE;
}

void dz_faultsvc__stats(struct dz_faultsvc *svc, struct dz_faultsvc_stats *st)
{
	*st = svc->st;
	st->elapsed_ns = dz_now_ns() - svc->t_start;
	dz_source__counters(svc->cfg.src, &st->src);
}

void dz_faultsvc__stats_json(struct dz_faultsvc *svc, struct dz_json *j)
{
	struct dz_faultsvc_stats *st = malloc(sizeof(*st));
	char why[512];

	if (!st)
		return;
	dz_faultsvc__stats(svc, st);
	dz_faultsvc__lost_reason(svc, why, sizeof(why));
	dz_json__str(j, "source", dz_source__uri(svc->cfg.src));
	dz_json__u64(j, "source_expected_latency_ns", dz_source__expected_latency_ns(svc->cfg.src));
	dz_json__bool(j, "uffd_poison", svc->has_poison);
	dz_json__bool(j, "prefetch", svc->cfg.prefetch);
	dz_json__obj_begin(j, "faults");
	dz_json__u64(j, "total", st->faults_total);
	dz_json__u64(j, "sync", st->faults_sync);
	dz_json__u64(j, "poisoned", st->faults_poisoned);
	dz_json__u64(j, "spurious", st->faults_spurious);
	dz_json__u64(j, "on_lost_page", st->faults_on_lost);
	dz_json__u64(j, "repeated", st->faults_repeated);
	dz_json__obj_end(j);
	dz_json__hist(j, "fault_wait_ns", &st->wait_ns);
	dz_json__u64(j, "vcpu_stall_ns", st->stall_ns);
	dz_json__obj_begin(j, "pages");
	dz_json__u64(j, "total", st->pages_total);
	dz_json__u64(j, "present", st->pages_present);
	dz_json__u64(j, "demand", st->pages_demand);
	dz_json__u64(j, "prefetch", st->pages_prefetch);
	dz_json__u64(j, "hint", st->pages_hint);
	dz_json__u64(j, "verified", st->pages_verified);
	dz_json__bool(j, "all_verified", svc->cfg.checksums && st->pages_verified == st->pages_total);
	dz_json__u64(j, "lost", st->pages_lost);
	dz_json__u64(j, "poisoned", st->pages_poisoned);
	dz_json__u64(j, "duplicate_arrivals", st->duplicate_arrivals);
	dz_json__obj_end(j);
	dz_json__u64(j, "bytes", st->bytes);
	dz_json__u64(j, "retries", st->retries);
	dz_json__u64(j, "checksum_failures", st->checksum_failures);
	if (svc->verify_fd >= 0)
		dz_json__u64(j, "ram_verify_mismatches", st->ram_verify_mismatches);
	dz_json__str(j, "lost_reason", why[0] ? why : NULL);
	dz_json__obj_begin(j, "source_io");
	dz_json__u64(j, "requests", st->src.requests);
	dz_json__u64(j, "completed", st->src.completed);
	dz_json__u64(j, "bytes", st->src.bytes);
	dz_json__u64(j, "retries", st->src.retries);
	dz_json__u64(j, "reconnects", st->src.reconnects);
	dz_json__obj_end(j);
	dz_json__double(j, "service_elapsed_s", (double)st->elapsed_ns / 1e9);
	dz_json__double(j, "all_present_s", (double)st->all_present_ns / 1e9);
	free(st);
}

bool dz_faultsvc__has_poison(struct dz_faultsvc *svc)
{
	return svc->has_poison;
}

uint64_t dz_faultsvc__expected_latency_ns(struct dz_faultsvc *svc)
{
	return dz_source__expected_latency_ns(svc->cfg.src);
}

struct dz_source *dz_faultsvc__source(struct dz_faultsvc *svc)
{
	return svc->cfg.src;
}

void dz_faultsvc__lost_reason(struct dz_faultsvc *svc, char *buf, size_t len)
{
	pthread_mutex_lock(&svc->lock);
	snprintf(buf, len, "%s", svc->lost_reason);
	pthread_mutex_unlock(&svc->lock);
}
