/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What page-source backends (source-file.c, source-tcp.c, source-http.c)
 * share with the common code in source.c. Not part of the public API.
 *
 * A backend runs one I/O thread. It takes queued requests with
 * dz_src__take() (demand first), performs them, and hands each back with
 * dz_src__complete() after setting req->nvalid and req->status. The common
 * code applies the latency model, orders completions and signals the
 * caller's fd. The backend polls dz_src__wake_fd() to learn about new
 * requests and about close; it must hand back every request it took before
 * its thread returns (with -ESHUTDOWN when stopping).
 */
#ifndef DZ_VMM_SOURCE_IMPL_H
#define DZ_VMM_SOURCE_IMPL_H

#include <pthread.h>
#include <stdbool.h>

#include "source.h"

struct dz_src_req {
	struct dz_src_req *next;	/* on one list at a time */
	uint64_t cookie;
	uint64_t page;
	uint32_t npages;
	uint32_t nvalid;		/* set by the backend */
	int status;			/* set by the backend */
	int prio;
	void *buf;
	uint64_t t_submit;
	uint64_t t_due;			/* latency model: not delivered before this */

	/* Backend scratch space. */
	uint64_t id;
	uint64_t t_deadline;		/* give up after this (0 = no failure yet) */
	uint64_t t_retry;		/* not before this */
	unsigned int attempts;
	size_t received;
	void *bpriv;
	struct dz_src_req *bnext;
};

struct dz_source;

struct dz_source_ops {
	const char *scheme;
	/* @target is the URI without its query ("/path", "host:port", or the whole http URL). */
	int (*open)(struct dz_source *src, const char *target, char *err, size_t errlen);
	void *(*thread)(void *src);
	void (*close)(struct dz_source *src);	/* after the thread returned */
};

struct dz_source {
	const struct dz_source_ops *ops;
	char *uri;
	struct dz_source_opts opts;
	uint64_t size;			/* bytes behind the source, 0 = unknown */

	/* Options from the query string. */
	uint64_t latency_ns;
	uint64_t rate_bps;		/* 0 = unlimited */
	uint64_t timeout_ns;
	uint64_t connect_timeout_ns;

	pthread_mutex_t lock;
	struct dz_src_req *pend_head[DZ_PRIO_NR], *pend_tail[DZ_PRIO_NR];
	struct dz_src_req *held;	/* completed, waiting for t_due (sorted) */
	struct dz_src_req *ready_head, *ready_tail;
	uint64_t link_free_ns;		/* latency model: when the modelled link is idle */
	int done_fd;			/* timerfd: fires when a completion is due */
	int wake_fd;			/* eventfd: new requests / stop, for the backend */
	bool stopping;
	bool started;
	pthread_t thread;
	uint64_t ewma_ns;		/* measured latency of single-page requests */
	uint64_t seed_latency_ns;	/* backend's estimate before any measurement */
	char err[256];
	struct dz_source_counters ctr;
	void *priv;
};

extern const struct dz_source_ops dz_source_file_ops;
extern const struct dz_source_ops dz_source_tcp_ops;
extern const struct dz_source_ops dz_source_http_ops;

/* Takes up to @max queued requests, demand first; returns how many. */
int dz_src__take(struct dz_source *src, struct dz_src_req **out, int max);
/* Hands a request back (nvalid/status set). */
void dz_src__complete(struct dz_source *src, struct dz_src_req *req);
bool dz_src__stopping(struct dz_source *src);
int dz_src__wake_fd(struct dz_source *src);
void dz_src__drain_wake(struct dz_source *src);
void dz_src__set_error(struct dz_source *src, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void dz_src__count_retry(struct dz_source *src, bool reconnect);

/* "host:port" -> sockaddr for a connect (IPv4/IPv6/names via getaddrinfo). */
struct sockaddr_storage;
int dz_src__resolve(const char *hostport, struct sockaddr_storage *ss, unsigned int *sslen);
/* Non-blocking connect bounded by @timeout_ns; returns the fd (O_NONBLOCK) or -errno. */
int dz_src__connect(const struct sockaddr_storage *ss, unsigned int sslen, uint64_t timeout_ns);

#endif
