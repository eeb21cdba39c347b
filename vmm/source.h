/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Page sources: where a lazily restored guest's memory comes from.
 *
 *   file:PATH[?latency=1ms&bandwidth=1gbit]    the snapshot's memory file
 *   tcp://HOST:PORT[?timeout=10s]              `doze pageserver MEMFILE --listen ...`
 *   http://HOST:PORT/PATH[?timeout=10s]        HTTP range requests (libcurl multi)
 *
 * Every source has the same asynchronous interface: submit reads of page
 * ranges (many in flight, demand before prefetch), and reap completions when
 * dz_source__fd() polls readable. Each source runs its own I/O thread; the
 * caller never blocks except in dz_source__open() (bounded by the connect
 * timeout) and dz_source__close().
 *
 * Query parameters common to every scheme:
 *   latency=DUR      the latency model: every request pays DUR (concurrent
 *                    requests overlap), on top of what the backend really takes;
 *   bandwidth=RATE   ... and its bytes are serialised at RATE (e.g. 1gbit, 100MB);
 *   timeout=DUR      give up on a request (report its pages lost) after DUR of
 *                    failed attempts / no progress (default 10s);
 *   connect_timeout=DUR  (default 3s).
 *
 * A page the source cannot provide is reported, never invented: pages past
 * the end of the memory file complete with -ENODATA, pages that could not be
 * fetched before the timeout with -EIO or -ETIMEDOUT.
 */
#ifndef DZ_VMM_SOURCE_H
#define DZ_VMM_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#define DZ_SRC_PAGE_SIZE	4096u
#define DZ_SRC_MAX_PAGES	256u	/* pages per request */

enum dz_src_prio {
	DZ_PRIO_DEMAND = 0,	/* a vCPU (or the VMM) waits for it */
	DZ_PRIO_PREFETCH = 1,	/* background streaming */
	DZ_PRIO_NR,
};

struct dz_src_done {
	uint64_t cookie;	/* as given to submit */
	uint64_t page;		/* first page index */
	uint32_t npages;	/* pages requested */
	uint32_t nvalid;	/* pages [page, page + nvalid) hold the data */
	int status;		/* 0 if nvalid == npages, else why the rest is missing (-errno) */
	void *buf;		/* as given to submit; the caller owns it again */
	uint64_t latency_ns;	/* submit to completion */
};

struct dz_source_opts {
	uint64_t expect_size;	/* bytes the caller will read (guest RAM size); 0 = unknown */
};

struct dz_source_counters {
	uint64_t requests;	/* submitted */
	uint64_t completed;
	uint64_t pages_ok;
	uint64_t pages_failed;
	uint64_t bytes;		/* payload bytes delivered */
	uint64_t retries;	/* requests re-sent by the backend (reconnects, HTTP retries) */
	uint64_t reconnects;
};

struct dz_source;

/*
 * Opens @uri. On failure returns -errno and writes a one-line reason into
 * @err (which always names the source). Never hangs: connecting is bounded by
 * connect_timeout.
 */
int dz_source__open(const char *uri, const struct dz_source_opts *opts, struct dz_source **out,
		    char *err, size_t errlen);

/*
 * Queues a read of @npages (1..DZ_SRC_MAX_PAGES) pages starting at page index
 * @page into @buf (npages * 4096 bytes, owned by the source until the
 * completion for @cookie is reaped). Returns 0 or -EINVAL/-ENOMEM/-ESHUTDOWN.
 */
int dz_source__submit(struct dz_source *src, uint64_t cookie, uint64_t page, uint32_t npages,
		      void *buf, enum dz_src_prio prio);

/* An fd that polls readable (POLLIN) while completions are ready to reap. */
int dz_source__fd(struct dz_source *src);

/* Moves up to @max ready completions into @done; returns how many (0 if none). Never blocks. */
int dz_source__reap(struct dz_source *src, struct dz_src_done *done, int max);

/*
 * Cancels a request that the backend has not started yet: it completes with
 * -ECANCELED (reap it as usual). Returns 0, or -EBUSY if it is already under
 * way (it will complete normally), or -ENOENT.
 */
int dz_source__cancel(struct dz_source *src, uint64_t cookie);

/*
 * What one page is expected to cost now: the latency model's figure when one
 * is configured, else a moving average of measured request latencies (seeded
 * by the backend's estimate at open). The async policy's adaptive mode uses it.
 */
uint64_t dz_source__expected_latency_ns(struct dz_source *src);

/* Size of the memory behind the source in bytes, as far as it knows (0 = unknown). */
uint64_t dz_source__size(struct dz_source *src);

const char *dz_source__uri(struct dz_source *src);
/* The most recent error the backend hit (connection refused, HTTP 416, ...), "" if none. */
void dz_source__last_error(struct dz_source *src, char *buf, size_t len);
void dz_source__counters(struct dz_source *src, struct dz_source_counters *c);

/* Stops the I/O thread; requests still queued or in flight are dropped (their buffers
 * are no longer touched once this returns). */
void dz_source__close(struct dz_source *src);

/* Parsers shared by the URI options and the command line: 0 or -EINVAL. */
int dz_parse_duration_ns(const char *s, uint64_t *ns);	/* "250us", "1ms", "2s", "10" (= ms) */
int dz_parse_rate_bps(const char *s, uint64_t *bytes_per_s);	/* "1gbit", "100mbit", "50MB" */
int dz_parse_size(const char *s, uint64_t *bytes);		/* "64M", "1G", "4096", "2MiB" */

#endif
