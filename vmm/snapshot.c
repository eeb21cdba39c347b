// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshot files: writer and validating reader (format in snapshot.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "snapshot.h"

uint64_t dz_snapshot__page_hash(const void *page, size_t len)
{
	return XXH64(page, len, 0);
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len, size_t *got)
{
	uint8_t *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, p + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += n;
	}
	*got = done;
	return 0;
}

/* ---- writer ---- */

struct dz_snap_writer {
	int fd;
	XXH64_state_t *hash;
	char tmp_path[PATH_MAX];
	char state_path[PATH_MAX];
	char mem_path[PATH_MAX];
};

static int writer_put(struct dz_snap_writer *w, const void *data, size_t len)
{
	XXH64_update(w->hash, data, len);
	return write_all(w->fd, data, len);
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;

	for (size_t i = 0; i < DZ_SNAP_PAGE_SIZE / 8; i++)
		if (w[i])
			return false;
	return true;
}

static int pwrite_all(int fd, const uint8_t *p, size_t len, off_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* The memory file is sparse: runs of non-zero pages are written, all-zero
 * pages stay holes (they read back as zeros; the checksums cover them too). */
static int write_mem(const char *path, const void *ram, uint64_t ram_size, uint64_t *sums)
{
	const uint64_t npages = ram_size / DZ_SNAP_PAGE_SIZE;
	const uint8_t *p = ram;
	char tmp[PATH_MAX];
	uint64_t run = 0, run_len = 0;
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, ram_size))
		err = -errno;
	for (uint64_t i = 0; i <= npages && !err; i++) {
		bool zero = i == npages || page_is_zero(p + i * DZ_SNAP_PAGE_SIZE);

		if (i < npages)
			sums[i] = dz_snapshot__page_hash(p + i * DZ_SNAP_PAGE_SIZE, DZ_SNAP_PAGE_SIZE);
		if (!zero && !run_len)
			run = i;
		if (!zero)
			run_len++;
		/* flush a run at a zero page, at the end, or every 8 MiB */
		if (run_len && (zero || run_len == 2048)) {
			err = pwrite_all(fd, p + run * DZ_SNAP_PAGE_SIZE, run_len * DZ_SNAP_PAGE_SIZE,
					 run * DZ_SNAP_PAGE_SIZE);
			run_len = 0;
		}
	}
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int dz_snap_writer__begin(const char *prefix, const struct dz_snap_header *hdr, const void *ram,
			  struct dz_snap_writer **out)
{
	struct dz_snap_writer *w;
	struct dz_snap_header h = *hdr;
	uint64_t *sums = NULL;
	int err;

	if (!h.ram_size || h.ram_size % DZ_SNAP_PAGE_SIZE)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = -1;
	if (snprintf(w->state_path, sizeof(w->state_path), "%s.state", prefix) >=
		    (int)sizeof(w->state_path) ||
	    snprintf(w->mem_path, sizeof(w->mem_path), "%s.mem", prefix) >=
		    (int)sizeof(w->mem_path) ||
	    snprintf(w->tmp_path, sizeof(w->tmp_path), "%s.state.tmp", prefix) >=
		    (int)sizeof(w->tmp_path)) {
		err = -ENAMETOOLONG;
		goto fail;
	}
	memcpy(h.magic, DZ_SNAP_MAGIC, 8);
	h.version = DZ_SNAP_VERSION;
	h.header_size = sizeof(h);
	h.page_size = DZ_SNAP_PAGE_SIZE;
	h.nr_pages = h.ram_size / DZ_SNAP_PAGE_SIZE;
	h.checksums_off = sizeof(h);
	h.records_off = sizeof(h) + h.nr_pages * 8;
	if (!h.created_ns) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		h.created_ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	}
	sums = malloc(h.nr_pages * 8);
	w->hash = XXH64_createState();
	if (!sums || !w->hash) {
		err = -ENOMEM;
		goto fail;
	}
	XXH64_reset(w->hash, 0);
	err = write_mem(w->mem_path, ram, h.ram_size, sums);
	if (err)
		goto fail;
	w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		err = -errno;
		goto fail;
	}
	err = writer_put(w, &h, sizeof(h));
	if (!err)
		err = writer_put(w, sums, h.nr_pages * 8);
	if (err)
		goto fail;
	free(sums);
	*out = w;
	return 0;
fail:
	free(sums);
	dz_snap_writer__abort(w);
	return err;
}

int dz_snap_writer__add(struct dz_snap_writer *w, uint32_t type, uint32_t cpu, const void *data,
			size_t len)
{
	struct dz_snap_rec_hdr rh = { .type = type, .cpu = cpu, .len = len };
	static const uint8_t zero[8];
	int err;

	err = writer_put(w, &rh, sizeof(rh));
	if (!err && len)
		err = writer_put(w, data, len);
	if (!err && (len & 7))
		err = writer_put(w, zero, 8 - (len & 7));
	return err;
}

int dz_snap_writer__finish(struct dz_snap_writer *w, char *mem_path, char *state_path)
{
	struct dz_snap_rec_hdr rh = { .type = DZ_SNAP_REC_END, .cpu = UINT32_MAX, .len = 8 };
	uint64_t digest;
	int err;

	err = writer_put(w, &rh, sizeof(rh));
	if (!err) {
		digest = XXH64_digest(w->hash);
		err = write_all(w->fd, &digest, 8);
	}
	if (!err && fsync(w->fd))
		err = -errno;
	if (close(w->fd) && !err)
		err = -errno;
	w->fd = -1;
	if (!err && rename(w->tmp_path, w->state_path))
		err = -errno;
	if (!err) {
		if (mem_path)
			snprintf(mem_path, 4096, "%s", w->mem_path);
		if (state_path)
			snprintf(state_path, 4096, "%s", w->state_path);
	}
	if (err)
		unlink(w->tmp_path);
	XXH64_freeState(w->hash);
	free(w);
	return err;
}

void dz_snap_writer__abort(struct dz_snap_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0) {
		close(w->fd);
		unlink(w->tmp_path);
	}
	if (w->hash)
		XXH64_freeState(w->hash);
	free(w);
}

/* ---- reader ---- */

int dz_snapshot__open(const char *state_path, struct dz_snapshot **out)
{
	struct dz_snapshot *s;
	struct dz_snap_header h;
	struct stat st;
	size_t got, off;
	int fd, err;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	fd = open(state_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		goto fail_fd;
	}
	if (st.st_size < (off_t)sizeof(h) || st.st_size > (off_t)1 << 34) {
		err = -EBADMSG;
		goto fail_fd;
	}
	s->buf_len = st.st_size;
	s->buf = malloc(s->buf_len);
	if (!s->buf) {
		err = -ENOMEM;
		goto fail_fd;
	}
	err = read_all(fd, s->buf, s->buf_len, &got);
	if (!err && got != s->buf_len)
		err = -EIO;
	if (err)
		goto fail_fd;
	close(fd);

	memcpy(&h, s->buf, sizeof(h));
	err = -EBADMSG;
	if (memcmp(h.magic, DZ_SNAP_MAGIC, 8))
		goto fail;
	if (h.version != DZ_SNAP_VERSION || h.header_size != sizeof(h)) {
		err = -EPROTONOSUPPORT;
		goto fail;
	}
	if (h.page_size != DZ_SNAP_PAGE_SIZE || !h.ram_size || h.ram_size % h.page_size ||
	    h.nr_pages != h.ram_size / h.page_size || h.nr_cpus == 0 || h.nr_cpus > 1024 ||
	    h.checksums_off != sizeof(h) || h.nr_pages > (s->buf_len / 8) ||
	    h.records_off != h.checksums_off + h.nr_pages * 8 || h.records_off > s->buf_len)
		goto fail;
	/* walk the records to the END record, checking every length */
	off = h.records_off;
	for (;;) {
		struct dz_snap_rec_hdr rh;

		if (s->buf_len - off < sizeof(rh))
			goto fail;
		memcpy(&rh, s->buf + off, sizeof(rh));
		off += sizeof(rh);
		if (rh.len > s->buf_len - off)
			goto fail;
		if (rh.type == DZ_SNAP_REC_END) {
			uint64_t want;

			if (rh.len != 8 || off + 8 != s->buf_len)
				goto fail;
			memcpy(&want, s->buf + off, 8);
			if (XXH64(s->buf, off, 0) != want)
				goto fail;
			break;
		}
		off += (rh.len + 7) & ~7ULL;
		if (off > s->buf_len)
			goto fail;
	}
	s->ram_size = h.ram_size;
	s->page_size = h.page_size;
	s->nr_cpus = h.nr_cpus;
	s->nr_pages = h.nr_pages;
	memcpy(s->workload, h.workload, sizeof(s->workload));
	s->workload[sizeof(s->workload) - 1] = 0;
	s->layout = h.layout;
	s->tick_hz = h.tick_hz;
	s->checksums = (const uint64_t *)(s->buf + h.checksums_off);
	*out = s;
	return 0;
fail_fd:
	close(fd);
fail:
	free(s->buf);
	free(s);
	return err;
}

void dz_snapshot__close(struct dz_snapshot *s)
{
	if (!s)
		return;
	free(s->buf);
	free(s);
}

const uint64_t *dz_snapshot__checksums(const struct dz_snapshot *s)
{
	return s->checksums;
}

int dz_snapshot__record(const struct dz_snapshot *s, uint32_t type, uint32_t cpu, const void **data,
			size_t *len)
{
	struct dz_snap_header h;
	size_t off;

	memcpy(&h, s->buf, sizeof(h));
	off = h.records_off;
	/* lengths were validated by dz_snapshot__open */
	for (;;) {
		struct dz_snap_rec_hdr rh;

		memcpy(&rh, s->buf + off, sizeof(rh));
		off += sizeof(rh);
		if (rh.type == DZ_SNAP_REC_END)
			return -ENOENT;
		if (rh.type == type && rh.cpu == cpu) {
			*data = s->buf + off;
			*len = rh.len;
			return 0;
		}
		off += (rh.len + 7) & ~7ULL;
	}
}

int dz_snapshot__verify_mem(const struct dz_snapshot *s, const char *mem_path, uint64_t *bad_page)
{
	const size_t chunk = 4 << 20;
	uint8_t *buf;
	uint64_t page = 0;
	int fd, err = 0;

	fd = open(mem_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(chunk);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (page < s->nr_pages) {
		size_t got;

		err = read_all(fd, buf, chunk, &got);
		if (err)
			break;
		for (size_t o = 0; o + s->page_size <= got && page < s->nr_pages;
		     o += s->page_size, page++) {
			if (dz_snapshot__page_hash(buf + o, s->page_size) != s->checksums[page]) {
				*bad_page = page;
				err = -EBADMSG;
				goto out;
			}
		}
		if (got < chunk && page < s->nr_pages) {
			*bad_page = page;
			err = -EIO;
			goto out;
		}
	}
out:
	free(buf);
	close(fd);
	return err;
}

int dz_snapshot__load_mem(const char *mem_path, void *ram, uint64_t size)
{
	int fd = open(mem_path, O_RDONLY | O_CLOEXEC), err = 0;
	uint64_t done = 0;

	if (fd < 0)
		return -errno;
	while (done < size) {
		ssize_t n = pread(fd, (char *)ram + done, size - done, (off_t)done);

		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		done += (uint64_t)n;
	}
	close(fd);
	return err;
}
