// SPDX-License-Identifier: GPL-2.0
/*
 * file:PATH — pages straight from the snapshot's memory file.
 *
 * The reads themselves are local preads done on the source's I/O thread; the
 * latency model (source.c) decides when each completion becomes visible, so a
 * file source can stand in for remote storage in benchmarks. Pages past the
 * end of a truncated file complete with -ENODATA: they are lost, never zeros.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source-impl.h"

struct file_src {
	int fd;
	char *path;
};

static int file_open(struct dz_source *src, const char *path, char *err, size_t errlen)
{
	struct file_src *f;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = -errno;

		snprintf(err, errlen, "%s: cannot open %s: %s", src->uri, path, strerror(-e));
		return e;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: %s is not a regular file", src->uri, path);
		close(fd);
		return -EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (!f || !(f->path = strdup(path))) {
		free(f);
		close(fd);
		return -ENOMEM;
	}
	f->fd = fd;
	src->priv = f;
	src->size = (uint64_t)st.st_size;
	src->seed_latency_ns = 20000;	/* a page-cache pread plus the hand-off */
	return 0;
}

static void file_read(struct dz_source *src, struct file_src *f, struct dz_src_req *r)
{
	size_t want = (size_t)r->npages * DZ_SRC_PAGE_SIZE, got = 0;
	off_t off = (off_t)(r->page * DZ_SRC_PAGE_SIZE);

	while (got < want) {
		ssize_t n = pread(f->fd, (char *)r->buf + got, want - got, off + (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r->status = -errno;
			dz_src__set_error(src, "%s: read at offset %llu: %s", src->uri,
					  (unsigned long long)(off + (off_t)got), strerror(errno));
			break;
		}
		if (n == 0) {
			r->status = -ENODATA;
			dz_src__set_error(src, "%s: page %llu is past the end of the file (%llu bytes)",
					  src->uri, (unsigned long long)((off + (off_t)got) / DZ_SRC_PAGE_SIZE),
					  (unsigned long long)src->size);
			break;
		}
		got += (size_t)n;
	}
	r->nvalid = (uint32_t)(got / DZ_SRC_PAGE_SIZE);
	if (r->nvalid < r->npages && !r->status)
		r->status = -EIO;
}

static void *file_thread(void *arg)
{
	struct dz_source *src = arg;
	struct file_src *f = src->priv;
	struct dz_src_req *batch[1];	/* one at a time: a new demand request goes next */

	for (;;) {
		struct pollfd p = { .fd = dz_src__wake_fd(src), .events = POLLIN };
		int n;

		if (dz_src__stopping(src))
			break;
		n = dz_src__take(src, batch, 1);
		if (n == 0) {
			poll(&p, 1, -1);
			dz_src__drain_wake(src);
			continue;
		}
		for (int i = 0; i < n; i++) {
			file_read(src, f, batch[i]);
			dz_src__complete(src, batch[i]);
		}
	}
	return NULL;
}

static void file_close(struct dz_source *src)
{
	struct file_src *f = src->priv;

	if (!f)
		return;
	close(f->fd);
	free(f->path);
	free(f);
	src->priv = NULL;
}

const struct dz_source_ops dz_source_file_ops = {
	.scheme = "file",
	.open = file_open,
	.thread = file_thread,
	.close = file_close,
};
