// SPDX-License-Identifier: GPL-2.0
/*
 * The fault service on REAL userfaultfd (anonymous memory, no KVM): threads
 * touch pages and the service fetches them from file: and tcp:// sources.
 */
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "tap.h"
#include "srctest.h"
#include "../../vmm/faultsvc.h"
#include "../../vmm/pageserver.h"

#define NPAGES 512

static char memfile[64], shortfile[64], badfile[64];
static uint64_t *sums;
static __thread sigjmp_buf *tl_jb;
static __thread volatile uint64_t tl_bus_addr;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (!tl_jb)
		abort();
	tl_bus_addr = (uint64_t)(uintptr_t)si->si_addr;
	siglongjmp(*tl_jb, 1);
}

struct ctx {
	struct dz_faultsvc *svc;
	char *mem;
	int lost_calls;
	char lost_why[512];
	int done_calls;
	uint64_t poison_page;	/* decide: POISON for this page (UINT64_MAX = never) */
};

static int decide(void *opaque, uint64_t gpa, pid_t tid, uint64_t flags)
{
	struct ctx *c = opaque;

	return gpa / 4096 == c->poison_page ? DZ_FAULT_POISON : DZ_FAULT_WAIT;
}

static void lost(void *opaque, uint64_t gpa, int err, const char *why)
{
	struct ctx *c = opaque;

	if (!c->lost_calls++)
		snprintf(c->lost_why, sizeof(c->lost_why), "%s", why);
}

static void page_done(void *opaque, uint64_t gpa, int status)
{
	struct ctx *c = opaque;

	__atomic_add_fetch(&c->done_calls, 1, __ATOMIC_RELAXED);
}

static const struct dz_faultsvc_hooks hooks_tmpl = {
	.decide = decide, .lost = lost, .page_done = page_done,
};

static struct dz_faultsvc_hooks hooks;

static char *new_region(void)
{
	char *m = mmap(NULL, NPAGES * 4096ull, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	return m == MAP_FAILED ? NULL : m;
}

static int start(struct ctx *c, const char *uri, bool prefetch, enum dz_lost_release rel,
		 const uint64_t *checksums)
{
	struct dz_faultsvc_config cfg = { 0 };
	struct dz_source *src;
	char err[256];
	int r;

	memset(c, 0, sizeof(*c));
	c->poison_page = UINT64_MAX;
	c->mem = new_region();
	r = dz_source__open(uri, NULL, &src, err, sizeof(err));
	if (r) {
		diag("open %s: %s", uri, err);
		return r;
	}
	hooks = hooks_tmpl;
	hooks.opaque = c;
	cfg.host_addr = c->mem;
	cfg.size = NPAGES * 4096ull;
	cfg.src = src;
	cfg.checksums = checksums;
	cfg.prefetch = prefetch;
	cfg.prefetch_window = 64;
	cfg.lost_release = rel;
	cfg.hooks = &hooks;
	r = dz_faultsvc__create(&cfg, &c->svc);
	if (r) {
		diag("faultsvc: %s", strerror(-r));
		dz_source__close(src);
	}
	return r;
}

static void stop(struct ctx *c)
{
	dz_faultsvc__destroy(c->svc);
	munmap(c->mem, NPAGES * 4096ull);
}

/* ---- toucher threads ---- */

struct toucher {
	pthread_t th;
	struct ctx *c;
	int idx, nthreads;
	uint64_t only_page;	/* UINT64_MAX = a stride of all pages */
	pthread_barrier_t *bar;
	int bad, sigbus;
	uint64_t bus_page;
};

static void *touch(void *arg)
{
	struct toucher *t = arg;
	sigjmp_buf jb;
	char ref[4096];
	volatile uint64_t p;

	if (t->bar)
		pthread_barrier_wait(t->bar);
	tl_jb = &jb;
	p = t->only_page != UINT64_MAX ? t->only_page : (uint64_t)t->idx;
	for (; p < NPAGES; p += (uint64_t)t->nthreads) {
		if (sigsetjmp(jb, 1)) {
			t->sigbus++;
			t->bus_page = (tl_bus_addr - (uint64_t)(uintptr_t)t->c->mem) / 4096;
			/* A poisoned page: wait until the service says it is present or lost. */
			while (dz_faultsvc__page_state(t->c->svc, p * 4096) == DZ_PAGE_INFLIGHT ||
			       dz_faultsvc__page_state(t->c->svc, p * 4096) == DZ_PAGE_MISSING)
				usleep(1000);
			if (dz_faultsvc__page_state(t->c->svc, p * 4096) != DZ_PAGE_PRESENT)
				goto next;
		}
		fill_page(p, ref);
		if (memcmp(ref, t->c->mem + p * 4096, 4096))
			t->bad++;
next:
		if (t->only_page != UINT64_MAX)
			break;
	}
	tl_jb = NULL;
	return NULL;
}

static void run_touchers(struct ctx *c, int n, uint64_t only_page, struct toucher *t)
{
	pthread_barrier_t bar;

	pthread_barrier_init(&bar, NULL, (unsigned int)n);
	for (int i = 0; i < n; i++) {
		t[i] = (struct toucher){ .c = c, .idx = i, .nthreads = n, .only_page = only_page,
					 .bar = &bar };
		pthread_create(&t[i].th, NULL, touch, &t[i]);
	}
	for (int i = 0; i < n; i++)
		pthread_join(t[i].th, NULL);
	pthread_barrier_destroy(&bar);
}

static int region_matches(struct ctx *c)
{
	char ref[4096];

	for (uint64_t p = 0; p < NPAGES; p++) {
		fill_page(p, ref);
		if (memcmp(ref, c->mem + p * 4096, 4096))
			return 0;
	}
	return 1;
}

static void test_demand(const char *uri, int nthreads, bool prefetch)
{
	struct ctx c;
	struct toucher t[4];
	struct dz_faultsvc_stats st;
	int bad = 0;

	if (start(&c, uri, prefetch, DZ_LOST_ZEROPAGE, sums)) {
		ok(0, "start %s", uri);
		return;
	}
	run_touchers(&c, nthreads, UINT64_MAX, t);
	for (int i = 0; i < nthreads; i++)
		bad += t[i].bad + t[i].sigbus;
	is_int(bad, 0, "%s: %d threads read every page right (prefetch %s)", uri, nthreads,
	       prefetch ? "on" : "off");
	ok(region_matches(&c), "%s: region equals the memory file byte for byte", uri);
	ok(!dz_faultsvc__wait_all(c.svc, 10000000000ull), "all present");
	dz_faultsvc__stats(c.svc, &st);
	is_u64(st.pages_present, NPAGES, "pages present");
	is_u64(st.pages_verified, NPAGES, "every page's checksum verified");
	is_u64(st.pages_demand + st.pages_prefetch + st.pages_hint, NPAGES, "demand + prefetch = all");
	/* With prefetch on, the prefetcher may win every race: then there is no fault at all. */
	ok((prefetch || st.faults_total > 0) && st.faults_sync == st.faults_total,
	   "faults counted (%llu, all sync)",
	   (unsigned long long)st.faults_total);
	if (!prefetch)
		is_u64(st.pages_demand, NPAGES, "prefetch off: every page came by demand");
	ok(st.wait_ns.count == st.faults_sync && st.wait_ns.max >= dz_hist__quantile(&st.wait_ns, 0.5),
	   "wait histogram: p50 %llu ns, p99 %llu ns, max %llu ns",
	   (unsigned long long)dz_hist__quantile(&st.wait_ns, 0.5),
	   (unsigned long long)dz_hist__quantile(&st.wait_ns, 0.99),
	   (unsigned long long)st.wait_ns.max);
	is_u64(st.pages_lost, 0, "nothing lost");
	stop(&c);
}

static void test_dedup(void)
{
	struct ctx c;
	struct toucher t[4];
	struct dz_faultsvc_stats st;
	char uri[128];

	snprintf(uri, sizeof(uri), "file:%s?latency=200ms", memfile);
	if (start(&c, uri, false, DZ_LOST_ZEROPAGE, sums)) {
		ok(0, "start");
		return;
	}
	run_touchers(&c, 4, 5, t);
	ok(!t[0].bad && !t[1].bad && !t[2].bad && !t[3].bad, "4 threads on one page read it right");
	/* The threads wake inside UFFDIO_COPY, a moment before the service counts the page. */
	for (int i = 0; i < 5000; i++) {
		dz_faultsvc__stats(c.svc, &st);
		if (st.pages_present)
			break;
		usleep(1000);
	}
	is_u64(st.src.requests, 1, "one page, four faulting threads: fetched once");
	is_u64(st.pages_demand, 1, "one page installed");
	ok(st.faults_total >= 1, "%llu fault events", (unsigned long long)st.faults_total);
	stop(&c);
}

static void test_checksum(bool poison)
{
	struct ctx c;
	struct toucher t[1];
	struct dz_faultsvc_stats st;
	uint64_t *bad = malloc(NPAGES * sizeof(*bad));
	char uri[128];

	memcpy(bad, sums, NPAGES * sizeof(*bad));
	bad[3] ^= 1;	/* the source's page 3 will never match */
	snprintf(uri, sizeof(uri), "file:%s", memfile);
	if (start(&c, uri, false, poison ? DZ_LOST_POISON : DZ_LOST_ZEROPAGE, bad)) {
		ok(0, "start");
		free(bad);
		return;
	}
	if (poison && !dz_faultsvc__has_poison(c.svc)) {
		ok(1, "# skip no UFFDIO_POISON");
		stop(&c);
		free(bad);
		return;
	}
	run_touchers(&c, 1, 3, t);
	dz_faultsvc__stats(c.svc, &st);
	is_u64(st.checksum_failures, 3, "mismatch fetched 1 + 2 retries");
	is_u64(st.retries, 2, "2 retries");
	is_u64(st.pages_lost, 1, "then the page is lost");
	is_int(dz_faultsvc__page_state(c.svc, 3 * 4096), DZ_PAGE_LOST, "state lost");
	is_int(c.lost_calls, 1, "lost hook called once");
	ok(strstr(c.lost_why, "0x3000") && strstr(c.lost_why, "checksum") && strstr(c.lost_why, "file:"),
	   "reason names the GPA, the cause and the source: %s", c.lost_why);
	if (poison)
		ok(t[0].sigbus == 1 && t[0].bus_page == 3, "the waiting thread was released by SIGBUS");
	else
		ok(t[0].bad == 1 && t[0].sigbus == 0, "the waiting thread was released (zero page)");
	{
		char tmp[8];

		is_int(dz_faultsvc__read(c.svc, 3 * 4096, tmp, 8), -EIO, "VMM read of a lost page: -EIO");
	}
	stop(&c);
	free(bad);
}

static void test_prefetch_and_read(void)
{
	struct ctx c;
	struct dz_faultsvc_stats st;
	char uri[128], buf[4096], ref[4096];
	int r;

	snprintf(uri, sizeof(uri), "file:%s", memfile);
	if (start(&c, uri, false, DZ_LOST_ZEROPAGE, sums)) {
		ok(0, "start");
		return;
	}
	/* The VMM's own read never touches a missing page. */
	is_int(dz_faultsvc__read(c.svc, 10 * 4096 + 100, buf, 64), -EAGAIN, "read of a missing page: -EAGAIN");
	is_int(dz_faultsvc__read(c.svc, NPAGES * 4096ull, buf, 1), -EFAULT, "read outside: -EFAULT");
	for (int i = 0; i < 500 && (r = dz_faultsvc__read(c.svc, 10 * 4096 + 100, buf, 64)) == -EAGAIN; i++)
		usleep(2000);
	fill_page(10, ref);
	ok(r == 0 && !memcmp(buf, ref + 100, 64), "the read requested the page, then succeeds");
	ok(dz_faultsvc__page_present(c.svc, 10), "page_present(pfn) for guestmem");
	dz_faultsvc__stats(c.svc, &st);
	is_u64(st.pages_hint, 1, "fetched as a hint, no fault");
	is_u64(st.faults_total, 0, "no fault taken");
	stop(&c);

	if (start(&c, uri, true, DZ_LOST_ZEROPAGE, sums)) {
		ok(0, "start");
		return;
	}
	ok(!dz_faultsvc__wait_all(c.svc, 20000000000ull), "prefetch fills everything");
	dz_faultsvc__stats(c.svc, &st);
	is_u64(st.pages_prefetch, NPAGES, "all by prefetch");
	is_u64(st.faults_total, 0, "without a fault");
	ok(region_matches(&c), "region equals the file");
	stop(&c);
}

static void test_truncated(void)
{
	struct ctx c;
	struct dz_faultsvc_stats st;
	char uri[128], why[512];

	snprintf(uri, sizeof(uri), "file:%s", shortfile);
	if (start(&c, uri, true, DZ_LOST_ZEROPAGE, sums)) {
		ok(0, "start");
		return;
	}
	ok(!dz_faultsvc__wait_all(c.svc, 20000000000ull), "truncated file: every page settled");
	dz_faultsvc__stats(c.svc, &st);
	is_u64(st.pages_lost, 3, "the 3 pages past the end are lost");
	is_u64(st.pages_present, NPAGES - 3, "the rest are present");
	is_int(dz_faultsvc__page_state(c.svc, (NPAGES - 1) * 4096ull), DZ_PAGE_LOST, "last page lost");
	dz_faultsvc__lost_reason(c.svc, why, sizeof(why));
	ok(strstr(why, "GPA 0x1fd000") && strstr(why, "past the end"), "reason: %s", why);
	stop(&c);
}

static void test_poison_decide(void)
{
	struct ctx c;
	struct toucher t[1];
	struct dz_faultsvc_stats st;
	char uri[128];

	snprintf(uri, sizeof(uri), "file:%s?latency=50ms", memfile);
	if (start(&c, uri, false, DZ_LOST_POISON, sums)) {
		ok(0, "start");
		return;
	}
	if (!dz_faultsvc__has_poison(c.svc)) {
		ok(1, "# skip no UFFDIO_POISON");
		stop(&c);
		return;
	}
	c.poison_page = 7;
	run_touchers(&c, 1, 7, t);
	dz_faultsvc__stats(c.svc, &st);
	ok(t[0].sigbus == 1 && t[0].bus_page == 7, "decide=POISON: the access fails visibly (SIGBUS)");
	is_int(t[0].bad, 0, "after the page arrived (UFFDIO_COPY over the poison) it reads right");
	is_u64(st.faults_poisoned, 1, "counted as a poisoned fault");
	is_u64(st.pages_poisoned, 1, "one page poisoned");
	stop(&c);
}

static void *serve(void *arg)
{
	dz_pageserver__run(arg);
	return NULL;
}

static void test_tcp(void)
{
	struct dz_pageserver_opts o = { .mem_path = memfile, .listen = "127.0.0.1:0" };
	struct dz_pageserver *ps;
	struct dz_pageserver_stats pst;
	pthread_t th;
	char uri[128], err[256];

	if (dz_pageserver__create(&o, &ps, err, sizeof(err))) {
		ok(0, "pageserver: %s", err);
		return;
	}
	pthread_create(&th, NULL, serve, ps);
	snprintf(uri, sizeof(uri), "tcp://%s", dz_pageserver__addr(ps));
	test_demand(uri, 2, false);
	test_demand(uri, 3, true);
	dz_pageserver__stop(ps);
	pthread_join(th, NULL);
	dz_pageserver__stats(ps, &pst);
	is_u64(pst.clients, 2, "the server saw both clients");
	dz_pageserver__destroy(ps);
}

/* The server dies mid-restore: the pages it never sent are lost within the timeout, threads
 * waiting for them are released, nothing hangs. */
static void test_tcp_dies(void)
{
	struct dz_pageserver_opts o = { .mem_path = memfile, .listen = "127.0.0.1:0",
					.die_after_pages = 40 };
	struct dz_pageserver *ps;
	struct toucher t[2];
	struct dz_faultsvc_stats st;
	struct ctx c;
	pthread_t th;
	char uri[160], err[256];
	int sig = 0;

	if (dz_pageserver__create(&o, &ps, err, sizeof(err))) {
		ok(0, "pageserver: %s", err);
		return;
	}
	pthread_create(&th, NULL, serve, ps);
	snprintf(uri, sizeof(uri), "tcp://%s?timeout=1s&connect_timeout=200ms", dz_pageserver__addr(ps));
	if (start(&c, uri, false, DZ_LOST_POISON, sums)) {
		ok(0, "start");
		return;
	}
	run_touchers(&c, 2, UINT64_MAX, t);	/* the server dies after 40 pages meanwhile */
	pthread_join(th, NULL);
	dz_pageserver__destroy(ps);
	dz_faultsvc__stats(c.svc, &st);
	sig = t[0].sigbus + t[1].sigbus + t[0].bad + t[1].bad;
	ok(st.pages_present >= 30 && st.pages_present < NPAGES, "%llu pages arrived before the server died",
	   (unsigned long long)st.pages_present);
	ok(st.pages_lost > 0, "%llu pages lost", (unsigned long long)st.pages_lost);
	ok(sig > 0, "the threads waiting for them were released (%d)", sig);
	ok(c.lost_calls > 0 && strstr(c.lost_why, "tcp://") && strstr(c.lost_why, "GPA 0x"),
	   "reason names page and source: %s", c.lost_why);
	stop(&c);
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO | SA_NODEFER };
	char uri[128];
	int fd;

	/* Valgrind runs one thread at a time: a thread blocked in a userfaultfd fault (a plain
	 * memory access, not a syscall) would hold it forever. ASan covers this test instead. */
	if (getenv("LD_PRELOAD") && strstr(getenv("LD_PRELOAD"), "vgpreload"))
		skip_all("userfaultfd faults deadlock under valgrind (use SAN=1)");
	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (fd < 0 && access("/dev/userfaultfd", R_OK | W_OK))
		skip_all("no userfaultfd here (%s)", strerror(errno));
	if (fd >= 0)
		close(fd);
	alarm(300);	/* a hang fails the test instead of hanging the suite */
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!make_memfile(NPAGES, memfile, sizeof(memfile)) ||
	    !make_memfile(NPAGES - 3, shortfile, sizeof(shortfile)) ||
	    !make_memfile(NPAGES, badfile, sizeof(badfile)))
		skip_all("cannot create temp files");
	sums = make_checksums(NPAGES);

	snprintf(uri, sizeof(uri), "file:%s", memfile);
	test_demand(uri, 4, false);
	test_demand(uri, 2, true);
	test_dedup();
	test_checksum(false);
	test_checksum(true);
	test_prefetch_and_read();
	test_truncated();
	test_poison_decide();
	test_tcp();
	test_tcp_dies();

	unlink(memfile);
	unlink(shortfile);
	unlink(badfile);
	free(sums);
	return done_testing();
}
