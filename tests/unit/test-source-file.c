// SPDX-License-Identifier: GPL-2.0
/* file: page source: reads, truncation (lost, not zeros), the latency model, URI errors. */
#include "tap.h"
#include "srctest.h"

#define NPAGES 64

static void test_parsers(void)
{
	uint64_t v;

	ok(!dz_parse_duration_ns("1ms", &v) && v == 1000000, "1ms");
	ok(!dz_parse_duration_ns("250us", &v) && v == 250000, "250us");
	ok(!dz_parse_duration_ns("2s", &v) && v == 2000000000ull, "2s");
	ok(!dz_parse_duration_ns("5", &v) && v == 5000000, "bare number is ms");
	ok(dz_parse_duration_ns("5 ms", &v) == -EINVAL, "space rejected");
	ok(dz_parse_duration_ns("-1ms", &v) == -EINVAL, "negative rejected");
	ok(dz_parse_duration_ns("1h", &v) == -EINVAL, "unknown unit rejected");
	ok(!dz_parse_rate_bps("1gbit", &v) && v == 125000000, "1gbit = 125 MB/s");
	ok(!dz_parse_rate_bps("100Mbit", &v) && v == 12500000, "100Mbit");
	ok(!dz_parse_rate_bps("50MB/s", &v) && v == 50000000, "50MB/s");
	ok(!dz_parse_rate_bps("1GiB", &v) && v == 1073741824ull, "1GiB");
	ok(dz_parse_rate_bps("fast", &v) == -EINVAL, "garbage rate rejected");
	ok(dz_parse_rate_bps("0gbit", &v) == -EINVAL, "zero rate rejected");
	ok(!dz_parse_size("64M", &v) && v == 64ull << 20, "64M");
	ok(!dz_parse_size("2GiB", &v) && v == 2ull << 30, "2GiB");
	ok(!dz_parse_size("4096", &v) && v == 4096, "4096");
	ok(dz_parse_size("1.5", &v) == -EINVAL, "fractional bytes rejected");
	ok(dz_parse_size("12X", &v) == -EINVAL, "bad suffix rejected");
}

static void test_open_errors(const char *path)
{
	struct dz_source *src;
	char err[256], uri[512];

	ok(dz_source__open("ftp://x/y", NULL, &src, err, sizeof(err)) == -EINVAL && strstr(err, "unknown page source"),
	   "unknown scheme: %s", err);
	ok(dz_source__open("file:/nonexistent/mem", NULL, &src, err, sizeof(err)) == -ENOENT &&
		   strstr(err, "/nonexistent/mem"),
	   "missing file names the path: %s", err);
	snprintf(uri, sizeof(uri), "file:%s?latency=fast", path);
	ok(dz_source__open(uri, NULL, &src, err, sizeof(err)) == -EINVAL && strstr(err, "latency"),
	   "bad option value: %s", err);
	snprintf(uri, sizeof(uri), "file:%s?colour=blue", path);
	ok(dz_source__open(uri, NULL, &src, err, sizeof(err)) == -EINVAL && strstr(err, "colour"),
	   "unknown option: %s", err);
	ok(dz_source__open("file:", NULL, &src, err, sizeof(err)) == -EINVAL, "empty path: %s", err);
	ok(dz_source__open("file:/tmp", NULL, &src, err, sizeof(err)) == -EINVAL, "directory: %s", err);
}

int main(void)
{
	char path[64], uri[256], err[256];
	struct dz_source *src;
	struct dz_src_done done[NPAGES];
	struct dz_source_counters ctr;
	static char bufs[NPAGES][4096];
	char *big;
	int n, good;

	test_parsers();
	if (!make_memfile(NPAGES, path, sizeof(path)))
		skip_all("cannot create a temp file");
	test_open_errors(path);

	/* Plain reads: many in flight, demand and prefetch mixed. */
	snprintf(uri, sizeof(uri), "file:%s", path);
	ok(!dz_source__open(uri, NULL, &src, err, sizeof(err)), "open %s", uri);
	is_u64(dz_source__size(src), NPAGES * 4096, "size known");
	for (int i = 0; i < NPAGES; i++)
		dz_source__submit(src, (uint64_t)i, (uint64_t)i, 1, bufs[i],
				  i % 2 ? DZ_PRIO_PREFETCH : DZ_PRIO_DEMAND);
	n = collect(src, done, NPAGES, 5000);
	is_int(n, NPAGES, "every request completed");
	good = 0;
	for (int i = 0; i < n; i++)
		good += done[i].status == 0 && done[i].nvalid == 1 &&
			pages_match(done[i].page, 1, done[i].buf) && done[i].cookie == done[i].page;
	is_int(good, NPAGES, "every page byte for byte");
	big = aligned_alloc(4096, 16 * 4096);
	ok(!dz_source__submit(src, 7, 40, 16, big, DZ_PRIO_PREFETCH), "multi-page request");
	ok(collect(src, done, 1, 5000) == 1 && done[0].nvalid == 16 && pages_match(40, 16, big),
	   "16 pages in one request");
	/* Truncation: pages past the end are reported, not zero-filled. */
	ok(!dz_source__submit(src, 8, NPAGES - 4, 16, big, DZ_PRIO_DEMAND), "request across the end");
	ok(collect(src, done, 1, 5000) == 1, "completed");
	is_int(done[0].nvalid, 4, "4 pages before the end are valid");
	is_int(done[0].status, -ENODATA, "the rest is -ENODATA");
	ok(pages_match(NPAGES - 4, 4, big), "valid part is right");
	ok(!dz_source__submit(src, 9, NPAGES + 100, 1, big, DZ_PRIO_DEMAND), "request past the end");
	ok(collect(src, done, 1, 5000) == 1 && done[0].nvalid == 0 && done[0].status == -ENODATA,
	   "wholly past the end: -ENODATA");
	dz_source__last_error(src, err, sizeof(err));
	ok(strstr(err, "past the end"), "last error says why: %s", err);
	is_int(dz_source__submit(src, 1, 0, 0, big, DZ_PRIO_DEMAND), -EINVAL, "0 pages rejected");
	is_int(dz_source__submit(src, 1, 0, DZ_SRC_MAX_PAGES + 1, big, DZ_PRIO_DEMAND), -EINVAL,
	       "too many pages rejected");
	is_int(dz_source__cancel(src, 12345), -ENOENT, "cancel of an unknown request");
	dz_source__counters(src, &ctr);
	is_u64(ctr.requests, NPAGES + 3, "requests counted");
	ok(dz_source__expected_latency_ns(src) > 0, "expected latency is measured (%llu ns)",
	   (unsigned long long)dz_source__expected_latency_ns(src));
	dz_source__close(src);

	/* The latency model: nothing arrives before its latency; bandwidth serialises bytes. */
	snprintf(uri, sizeof(uri), "file://%s?latency=30ms&bandwidth=4MB", path);
	ok(!dz_source__open(uri, NULL, &src, err, sizeof(err)), "open with latency model: %s", err);
	ok(dz_source__expected_latency_ns(src) >= 30000000, "expected latency includes the model");
	{
		uint64_t t0 = dz_now_ns(), tmax = 0, lmin = UINT64_MAX;

		for (int i = 0; i < 8; i++)
			dz_source__submit(src, (uint64_t)i, (uint64_t)i, 1, bufs[i], DZ_PRIO_DEMAND);
		n = collect(src, done, 8, 5000);
		is_int(n, 8, "all 8 completed");
		for (int i = 0; i < n; i++) {
			if (done[i].latency_ns < lmin)
				lmin = done[i].latency_ns;
			if (!pages_match(done[i].page, 1, done[i].buf))
				lmin = 0;
		}
		tmax = dz_now_ns() - t0;
		ok(lmin >= 30000000, "no completion before the modelled latency (min %llu ns)",
		   (unsigned long long)lmin);
		/* 8 pages at 4 MB/s take >= 8 ms of link time on top of the latency. */
		ok(tmax >= 30000000 + 8 * 4096 * 1000000000ull / 4000000 - 1000000,
		   "bandwidth serialises the bytes (%llu ns)", (unsigned long long)tmax);
		diag("8 concurrent requests at 30 ms latency took %.1f ms (overlapped)", tmax / 1e6);
	}
	dz_source__close(src);

	/* Close with requests still queued behind the model: returns, nothing leaks. */
	snprintf(uri, sizeof(uri), "file:%s?latency=10s", path);
	ok(!dz_source__open(uri, NULL, &src, err, sizeof(err)), "open with 10 s latency");
	for (int i = 0; i < 4; i++)
		dz_source__submit(src, (uint64_t)i, (uint64_t)i, 1, bufs[i], DZ_PRIO_DEMAND);
	ok(collect(src, done, 4, 100) == 0, "nothing arrives early");
	dz_source__close(src);
	ok(1, "closed with requests outstanding");
	free(big);
	unlink(path);
	return done_testing();
}
