// SPDX-License-Identifier: GPL-2.0
/*
 * Histograms and the JSON writer behind --stats-json (see stats.h).
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "stats.h"

#define LIN (1u << DZ_HIST_LINEAR_BITS)
#define SUB (1u << DZ_HIST_SUB_BITS)

uint64_t dz_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void dz_hist__init(struct dz_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

static unsigned int bucket_of(uint64_t v)
{
	unsigned int e;

	if (v < LIN)
		return (unsigned int)v;
	e = 63 - (unsigned int)__builtin_clzll(v);	/* >= DZ_HIST_LINEAR_BITS */
	return LIN + (e - DZ_HIST_LINEAR_BITS) * SUB +
	       (unsigned int)((v >> (e - DZ_HIST_SUB_BITS)) & (SUB - 1));
}

/* Smallest value of bucket @b, and its width. */
static uint64_t bucket_low(unsigned int b, uint64_t *width)
{
	unsigned int e, sub;

	if (b < LIN) {
		*width = 1;
		return b;
	}
	e = (b - LIN) / SUB + DZ_HIST_LINEAR_BITS;
	sub = (b - LIN) % SUB;
	*width = 1ull << (e - DZ_HIST_SUB_BITS);
	return (uint64_t)(SUB + sub) << (e - DZ_HIST_SUB_BITS);
}

void dz_hist__add(struct dz_hist *h, uint64_t v)
{
	h->buckets[bucket_of(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void dz_hist__merge(struct dz_hist *dst, const struct dz_hist *src)
{
	for (unsigned int i = 0; i < DZ_HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->count && src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t dz_hist__quantile(const struct dz_hist *h, double q)
{
	uint64_t rank, seen = 0, width, v;

	if (!h->count)
		return 0;
	if (q <= 0)
		return h->min;
	if (q >= 1)
		return h->max;
	/* The sample of rank ceil(q * count) (1-based), as the nearest-rank method does. */
	rank = (uint64_t)ceil(q * (double)h->count);
	if (rank < 1)
		rank = 1;
	for (unsigned int b = 0; b < DZ_HIST_BUCKETS; b++) {
		seen += h->buckets[b];
		if (seen < rank)
			continue;
		v = bucket_low(b, &width) + width / 2;
		if (v > h->max)
			v = h->max;
		if (v < h->min)
			v = h->min;
		return v;
	}
	return h->max;
}

double dz_hist__mean(const struct dz_hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}

/* ---- JSON ---- */

void dz_json__init(struct dz_json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->first[0] = true;
}

static void indent(struct dz_json *j)
{
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (c < 0x20)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

/* Separator, indentation and "key": before a value. */
static void member(struct dz_json *j, const char *key)
{
	if (j->depth > 0) {
		if (!j->first[j->depth])
			fputc(',', j->f);
		indent(j);
	}
	j->first[j->depth] = false;
	if (key && j->depth > 0 && !j->in_array[j->depth]) {
		put_string(j->f, key);
		fputs(": ", j->f);
	}
}

static void open_(struct dz_json *j, const char *key, char c, bool array)
{
	member(j, key);
	fputc(c, j->f);
	if (j->depth + 1 < DZ_JSON_DEPTH) {
		j->depth++;
		j->first[j->depth] = true;
		j->in_array[j->depth] = array;
	}
}

static void close_(struct dz_json *j, char c)
{
	bool empty = j->first[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (!empty)
		indent(j);
	fputc(c, j->f);
}

void dz_json__obj_begin(struct dz_json *j, const char *key)
{
	open_(j, key, '{', false);
}

void dz_json__obj_end(struct dz_json *j)
{
	close_(j, '}');
}

void dz_json__arr_begin(struct dz_json *j, const char *key)
{
	open_(j, key, '[', true);
}

void dz_json__arr_end(struct dz_json *j)
{
	close_(j, ']');
}

void dz_json__u64(struct dz_json *j, const char *key, uint64_t v)
{
	member(j, key);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void dz_json__i64(struct dz_json *j, const char *key, int64_t v)
{
	member(j, key);
	fprintf(j->f, "%lld", (long long)v);
}

void dz_json__double(struct dz_json *j, const char *key, double v)
{
	member(j, key);
	if (isfinite(v))
		fprintf(j->f, "%.6g", v);
	else
		fputs("null", j->f);	/* JSON has no inf/nan */
}

void dz_json__bool(struct dz_json *j, const char *key, bool v)
{
	member(j, key);
	fputs(v ? "true" : "false", j->f);
}

void dz_json__str(struct dz_json *j, const char *key, const char *s)
{
	member(j, key);
	if (s)
		put_string(j->f, s);
	else
		fputs("null", j->f);
}

void dz_json__null(struct dz_json *j, const char *key)
{
	member(j, key);
	fputs("null", j->f);
}

int dz_json__finish(struct dz_json *j)
{
	fputc('\n', j->f);
	if (fflush(j->f) || ferror(j->f))
		return -EIO;
	return 0;
}

void dz_json__hist(struct dz_json *j, const char *key, const struct dz_hist *h)
{
	dz_json__obj_begin(j, key);
	dz_json__u64(j, "count", h->count);
	dz_json__double(j, "mean", dz_hist__mean(h));
	dz_json__u64(j, "min", h->count ? h->min : 0);
	dz_json__u64(j, "p50", dz_hist__quantile(h, 0.50));
	dz_json__u64(j, "p99", dz_hist__quantile(h, 0.99));
	dz_json__u64(j, "max", h->max);
	/* Enough quantiles to draw a CDF (bench/plot), one member per line. */
	dz_json__obj_begin(j, "cdf");
	static const struct {
		const char *key;
		double q;
	} qs[] = { { "q01", 0.01 }, { "q05", 0.05 }, { "q10", 0.10 }, { "q20", 0.20 },
		   { "q30", 0.30 }, { "q40", 0.40 }, { "q50", 0.50 }, { "q60", 0.60 },
		   { "q70", 0.70 }, { "q80", 0.80 }, { "q90", 0.90 }, { "q95", 0.95 },
		   { "q99", 0.99 }, { "q999", 0.999 } };
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		dz_json__u64(j, qs[i].key, dz_hist__quantile(h, qs[i].q));
	dz_json__obj_end(j);
	dz_json__obj_end(j);
}
