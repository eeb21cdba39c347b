// SPDX-License-Identifier: GPL-2.0
/* http:// page source against Debian's nginx on loopback (tests/lib/nginx.sh): range
 * requests in flight together, short body and 416 past the end (lost, not zeros), 404,
 * a server that goes away (retries, then lost), unreachable at open. */
#include <signal.h>
#include <sys/stat.h>

#include "tap.h"
#include "srctest.h"

#define NPAGES 64

static char dir[64], port[16], state[256];

static int nginx(const char *verb, const char *arg)
{
	const char *srcdir = getenv("DZ_SRC");
	char cmd[1024], line[512] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "sh %s/tests/lib/nginx.sh %s %s", srcdir ? srcdir : ".", verb, arg);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (!fgets(line, sizeof(line), p))
		line[0] = 0;
	if (pclose(p))
		return -1;
	if (!strcmp(verb, "start") && sscanf(line, "%15s %255s", port, state) != 2)
		return -1;
	return 0;
}

int main(void)
{
	static char bufs[NPAGES][4096];
	struct dz_src_done done[NPAGES];
	struct dz_source_counters ctr;
	struct dz_source *src;
	char uri[256], err[256], path[128], *big;
	int n, good;

	signal(SIGPIPE, SIG_IGN);
	alarm(120);
	if (system("command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx"))
		skip_all("nginx is not installed (tools/install-deps installs nginx-light)");
	snprintf(dir, sizeof(dir), "/tmp/dz-http-XXXXXX");
	if (!mkdtemp(dir))
		skip_all("mkdtemp failed");
	chmod(dir, 0755);
	{
		char p[64];

		if (!make_memfile(NPAGES, p, sizeof(p)))
			skip_all("cannot create a temp file");
		snprintf(path, sizeof(path), "%s/mem", dir);
		if (rename(p, path))
			skip_all("rename failed");
	}

	/* Unreachable at open. */
	ok(dz_source__open("http://127.0.0.1:1/mem", NULL, &src, err, sizeof(err)) < 0 &&
		   strstr(err, "http://127.0.0.1:1/mem"),
	   "unreachable server at open: %s", err);

	if (nginx("start", dir))
		skip_all("nginx did not start");
	snprintf(uri, sizeof(uri), "http://127.0.0.1:%s/nothere", port);
	ok(dz_source__open(uri, NULL, &src, err, sizeof(err)) == -ENOENT && strstr(err, "404"),
	   "missing object: %s", err);

	snprintf(uri, sizeof(uri), "http://127.0.0.1:%s/mem?timeout=2s&connect_timeout=500ms", port);
	ok(!dz_source__open(uri, NULL, &src, err, sizeof(err)), "open %s: %s", uri, err);
	is_u64(dz_source__size(src), NPAGES * 4096ull, "size from Content-Length");
	for (int i = 0; i < NPAGES; i++)
		dz_source__submit(src, (uint64_t)i, (uint64_t)i, 1, bufs[i],
				  i % 2 ? DZ_PRIO_PREFETCH : DZ_PRIO_DEMAND);
	n = collect(src, done, NPAGES, 20000);
	good = 0;
	for (int i = 0; i < n; i++)
		good += !done[i].status && done[i].nvalid == 1 && pages_match(done[i].page, 1, done[i].buf);
	is_int(good, NPAGES, "64 range requests, every page right");
	big = aligned_alloc(4096, 32 * 4096);
	dz_source__submit(src, 1, 0, 32, big, DZ_PRIO_PREFETCH);
	ok(collect(src, done, 1, 5000) == 1 && done[0].nvalid == 32 && pages_match(0, 32, big),
	   "32 pages in one range (a range from 0)");
	memset(big, 0xee, 8 * 4096);
	dz_source__submit(src, 2, NPAGES - 3, 8, big, DZ_PRIO_DEMAND);
	ok(collect(src, done, 1, 5000) == 1, "range across the end answered");
	ok(done[0].nvalid == 3 && done[0].status == -ENODATA && pages_match(NPAGES - 3, 3, big),
	   "short body: 3 valid pages, the rest -ENODATA (nvalid %u, status %d)", done[0].nvalid,
	   done[0].status);
	memset(big, 0xee, 4096);
	dz_source__submit(src, 3, NPAGES + 5, 1, big, DZ_PRIO_DEMAND);
	ok(collect(src, done, 1, 5000) == 1 && done[0].nvalid == 0 && done[0].status == -ENODATA,
	   "wholly past the end (416): -ENODATA");
	dz_source__last_error(src, err, sizeof(err));
	ok(strstr(err, "416"), "error says 416: %s", err);
	good = 1;
	for (int i = 0; i < 4096; i++)
		good &= big[i] == (char)0xee;
	ok(good, "the 416's error body never lands in the buffer");
	dz_source__counters(src, &ctr);
	ok(ctr.requests == NPAGES + 3 && ctr.completed == NPAGES + 3, "requests counted");

	/* The server goes away: requests are retried with backoff, then reported lost. */
	nginx("stop", state);
	for (int i = 0; i < 4; i++)
		dz_source__submit(src, 100 + (uint64_t)i, (uint64_t)i, 1, bufs[i], DZ_PRIO_DEMAND);
	n = collect(src, done, 4, 20000);
	is_int(n, 4, "every request completes although the server is gone");
	good = 0;
	for (int i = 0; i < n; i++)
		good += done[i].status == -EIO && done[i].nvalid == 0;
	is_int(good, 4, "... as -EIO (lost)");
	dz_source__last_error(src, err, sizeof(err));
	ok(strstr(err, "gave up") && strstr(err, "2.0 s"), "reason: %s", err);
	dz_source__counters(src, &ctr);
	ok(ctr.retries >= 1, "retried %llu times first", (unsigned long long)ctr.retries);
	dz_source__close(src);
	free(big);
	unlink(path);
	rmdir(dir);
	return done_testing();
}
