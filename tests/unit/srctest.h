/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the page-source and fault-service unit tests. */
#ifndef DZ_TESTS_SRCTEST_H
#define DZ_TESTS_SRCTEST_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "../../vmm/source.h"
#include "../../vmm/stats.h"

/* Distinct, reproducible contents for page @p. */
static inline void fill_page(uint64_t p, void *buf)
{
	uint64_t *w = buf, x = p * 0x9e3779b97f4a7c15ull + 1;

	for (int i = 0; i < 512; i++) {
		x ^= x >> 31;
		x *= 0xbf58476d1ce4e5b9ull;
		x ^= x >> 29;
		w[i] = x + (uint64_t)i;
	}
}

/* Temp files are removed at exit even when a test ends early (a failed check, a skip). */
static char srctest_files[8][64];
static int srctest_nfiles;

static void srctest_cleanup(void)
{
	for (int i = 0; i < srctest_nfiles; i++)
		unlink(srctest_files[i]);
}

/* A temp memory file of @npages pattern pages in @path; returns @path or NULL. */
static inline char *make_memfile(uint64_t npages, char *path, size_t len)
{
	char buf[4096];
	int fd;

	snprintf(path, len, "/tmp/dz-test-mem-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	if (srctest_nfiles < 8) {
		if (!srctest_nfiles)
			atexit(srctest_cleanup);
		snprintf(srctest_files[srctest_nfiles++], sizeof(srctest_files[0]), "%s", path);
	}
	for (uint64_t p = 0; p < npages; p++) {
		fill_page(p, buf);
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
			close(fd);
			return NULL;
		}
	}
	close(fd);
	return path;
}

static inline uint64_t *make_checksums(uint64_t npages)
{
	uint64_t *c = calloc(npages, sizeof(*c));
	char buf[4096];

	for (uint64_t p = 0; c && p < npages; p++) {
		fill_page(p, buf);
		c[p] = XXH64(buf, sizeof(buf), 0);
	}
	return c;
}

/* Collects @n completions within @timeout_ms; returns how many arrived. */
static inline int collect(struct dz_source *src, struct dz_src_done *done, int n, int timeout_ms)
{
	int got = 0;
	uint64_t end = dz_now_ns() + (uint64_t)timeout_ms * 1000000;

	while (got < n && dz_now_ns() < end) {
		struct pollfd p = { .fd = dz_source__fd(src), .events = POLLIN };
		int r;

		poll(&p, 1, 50);
		r = dz_source__reap(src, done + got, n - got);
		if (r > 0)
			got += r;
	}
	return got;
}

/* 1 if buf holds pages [p, p + n) of the pattern. */
static inline int pages_match(uint64_t p, uint32_t n, const void *buf)
{
	char ref[4096];

	for (uint32_t i = 0; i < n; i++) {
		fill_page(p + i, ref);
		if (memcmp(ref, (const char *)buf + (size_t)i * 4096, 4096))
			return 0;
	}
	return 1;
}

#endif
