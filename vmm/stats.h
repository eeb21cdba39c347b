/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stats helpers shared by the VMM, the fault service and the tools:
 *
 *  - struct dz_hist: a log-linear histogram of nanosecond values (about 3%
 *    relative precision, O(1) insert, no allocation) with p50/p99/max;
 *  - struct dz_json: a tiny streaming JSON writer (objects, arrays, scalars,
 *    escaped strings) for the --stats-json files.
 *
 * Neither is thread-safe by itself: a histogram has one writer (or a lock
 * held by its owner); a JSON writer belongs to one thread.
 */
#ifndef DZ_VMM_STATS_H
#define DZ_VMM_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Values below 2^DZ_HIST_LINEAR_BITS get a bucket each; above, 32 buckets per power of two. */
#define DZ_HIST_LINEAR_BITS	6
#define DZ_HIST_SUB_BITS	5
#define DZ_HIST_BUCKETS		((1u << DZ_HIST_LINEAR_BITS) + \
				 (64 - DZ_HIST_LINEAR_BITS) * (1u << DZ_HIST_SUB_BITS))

struct dz_hist {
	uint64_t count;
	uint64_t sum;
	uint64_t min;
	uint64_t max;
	uint64_t buckets[DZ_HIST_BUCKETS];
};

void dz_hist__init(struct dz_hist *h);
void dz_hist__add(struct dz_hist *h, uint64_t v);
/* Merge @src into @dst. */
void dz_hist__merge(struct dz_hist *dst, const struct dz_hist *src);
/* The value below which a fraction @q (0..1) of the samples lie; 0 when empty. Exact for
 * the extremes (q = 0 gives min, q = 1 gives max), within ~3% elsewhere. */
uint64_t dz_hist__quantile(const struct dz_hist *h, double q);
double dz_hist__mean(const struct dz_hist *h);

/* Streaming JSON writer: nesting up to DZ_JSON_DEPTH, 2-space indentation. */
#define DZ_JSON_DEPTH 16

struct dz_json {
	FILE *f;
	int depth;
	bool first[DZ_JSON_DEPTH];
	bool in_array[DZ_JSON_DEPTH];
};

/* Every call takes the member name @key; pass NULL inside an array or for the root. */
void dz_json__init(struct dz_json *j, FILE *f);
void dz_json__obj_begin(struct dz_json *j, const char *key);
void dz_json__obj_end(struct dz_json *j);
void dz_json__arr_begin(struct dz_json *j, const char *key);
void dz_json__arr_end(struct dz_json *j);
void dz_json__u64(struct dz_json *j, const char *key, uint64_t v);
void dz_json__i64(struct dz_json *j, const char *key, int64_t v);
void dz_json__double(struct dz_json *j, const char *key, double v);
void dz_json__bool(struct dz_json *j, const char *key, bool v);
void dz_json__str(struct dz_json *j, const char *key, const char *s);
void dz_json__null(struct dz_json *j, const char *key);
/* Ends the document with a newline; returns 0 or -EIO if the stream had an error. */
int dz_json__finish(struct dz_json *j);

/* {"count":..,"mean":..,"p50":..,"p99":..,"max":..} in the histogram's unit. */
void dz_json__hist(struct dz_json *j, const char *key, const struct dz_hist *h);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t dz_now_ns(void);

#endif
