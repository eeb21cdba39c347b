/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The page server behind tcp:// sources: serves a snapshot's memory file to
 * any number of clients with pipelined requests (protocol in pageproto.h).
 * One thread, epoll, non-blocking sockets; a slow client is paused (its
 * requests are not read) once too many answers are queued for it.
 */
#ifndef DZ_VMM_PAGESERVER_H
#define DZ_VMM_PAGESERVER_H

#include <stddef.h>
#include <stdint.h>

struct dz_pageserver_opts {
	const char *mem_path;		/* the memory file */
	const char *listen;		/* "ADDR:PORT" (PORT 0 = any free port) */
	/* Testing aid: after serving this many pages, drop every connection and stop
	 * (run() returns -ECONNABORTED), as a crashed server would. 0 = never. */
	uint64_t die_after_pages;
};

struct dz_pageserver_stats {
	uint64_t clients;		/* accepted */
	uint64_t requests;
	uint64_t pages;			/* served */
	uint64_t pages_refused;		/* past the end of the file */
	uint64_t bad_requests;
};

struct dz_pageserver;

int dz_pageserver__create(const struct dz_pageserver_opts *opts, struct dz_pageserver **out,
			  char *err, size_t errlen);
/* The address actually bound, "127.0.0.1:40123". */
const char *dz_pageserver__addr(struct dz_pageserver *ps);
/* Serves until dz_pageserver__stop(): 0, or -errno. */
int dz_pageserver__run(struct dz_pageserver *ps);
/* Thread- and async-signal-safe. */
void dz_pageserver__stop(struct dz_pageserver *ps);
void dz_pageserver__stats(struct dz_pageserver *ps, struct dz_pageserver_stats *st);
void dz_pageserver__destroy(struct dz_pageserver *ps);

#endif
