// SPDX-License-Identifier: GPL-2.0
/*
 * doze stats A.json [B.json ...] — --stats-json files side by side.
 *
 * A small JSON reader flattens each file into "a.b.c" = value pairs (arrays
 * are skipped: they hold time series); a table then shows the chosen keys,
 * one column per file.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"

struct kv {
	char *key;
	char *val;
};

struct flat {
	struct kv *kv;
	size_t n, cap;
};

struct parser {
	const char *s;
	const char *err;
	int depth;
};

static void ws(struct parser *p)
{
	while (isspace((unsigned char)*p->s))
		p->s++;
}

static int add(struct flat *f, const char *key, const char *v, size_t vlen)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct kv *kv = realloc(f->kv, cap * sizeof(*kv));

		if (!kv)
			return -ENOMEM;
		f->kv = kv;
		f->cap = cap;
	}
	f->kv[f->n].key = strdup(key);
	f->kv[f->n].val = strndup(v, vlen);
	if (!f->kv[f->n].key || !f->kv[f->n].val)
		return -ENOMEM;
	f->n++;
	return 0;
}

/* A string at p->s (after the quote); copies its unescaped text into out (bounded). */
static int string(struct parser *p, char *out, size_t len)
{
	size_t n = 0;

	p->s++;
	while (*p->s && *p->s != '"') {
		char c = *p->s++;

		if (c == '\\') {
			c = *p->s++;
			if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
			else if (c == 'u') {
				for (int i = 0; i < 4 && *p->s; i++)
					p->s++;
				c = '?';
			} else if (!c) {
				break;
			}
		}
		if (n + 1 < len)
			out[n++] = c;
	}
	if (*p->s != '"') {
		p->err = "unterminated string";
		return -1;
	}
	p->s++;
	out[n] = 0;
	return 0;
}

static int value(struct parser *p, struct flat *f, const char *key, bool keep);

static int object(struct parser *p, struct flat *f, const char *prefix, bool keep)
{
	char name[256], key[512];

	p->s++;
	ws(p);
	if (*p->s == '}') {
		p->s++;
		return 0;
	}
	for (;;) {
		ws(p);
		if (*p->s != '"') {
			p->err = "expected a member name";
			return -1;
		}
		if (string(p, name, sizeof(name)))
			return -1;
		ws(p);
		if (*p->s != ':') {
			p->err = "expected ':'";
			return -1;
		}
		p->s++;
		snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "", name);
		if (value(p, f, key, keep))
			return -1;
		ws(p);
		if (*p->s == ',') {
			p->s++;
			continue;
		}
		if (*p->s == '}') {
			p->s++;
			return 0;
		}
		p->err = "expected ',' or '}'";
		return -1;
	}
}

static int value(struct parser *p, struct flat *f, const char *key, bool keep)
{
	const char *start;

	if (++p->depth > 64) {
		p->err = "nested too deeply";
		return -1;
	}
	ws(p);
	switch (*p->s) {
	case '{':
		if (object(p, f, key, keep))
			return -1;
		break;
	case '[':
		p->s++;
		ws(p);
		if (*p->s == ']') {
			p->s++;
			break;
		}
		for (;;) {
			if (value(p, f, key, false))	/* arrays: series, not shown */
				return -1;
			ws(p);
			if (*p->s == ',') {
				p->s++;
				continue;
			}
			if (*p->s == ']') {
				p->s++;
				break;
			}
			p->err = "expected ',' or ']'";
			return -1;
		}
		break;
	case '"': {
		char buf[1024];

		if (string(p, buf, sizeof(buf)))
			return -1;
		if (keep && add(f, key, buf, strlen(buf)))
			return -1;
		break;
	}
	default:
		start = p->s;
		while (*p->s && (isalnum((unsigned char)*p->s) || strchr("+-.", *p->s)))
			p->s++;
		if (p->s == start) {
			p->err = "unexpected character";
			return -1;
		}
		if (keep && add(f, key, start, (size_t)(p->s - start)))
			return -1;
	}
	p->depth--;
	return 0;
}

static int load(const char *path, struct flat *f)
{
	FILE *fp = fopen(path, "r");
	struct parser p = { 0 };
	char *buf;
	long len;
	int r = 0;

	if (!fp) {
		fprintf(stderr, "doze stats: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	if (len < 0 || len > (64l << 20) || !(buf = calloc(1, (size_t)len + 1))) {
		fprintf(stderr, "doze stats: %s: cannot read\n", path);
		fclose(fp);
		return -1;
	}
	if (fread(buf, 1, (size_t)len, fp) != (size_t)len)
		r = -1;
	fclose(fp);
	p.s = buf;
	ws(&p);
	if (!r && *p.s != '{') {
		p.err = "not a JSON object";
		r = -1;
	}
	if (!r && (value(&p, f, "", true) || (ws(&p), *p.s))) {
		if (!p.err)
			p.err = "trailing data";
		r = -1;
	}
	if (r)
		fprintf(stderr, "doze stats: %s: not a stats file (%s at byte %ld)\n", path,
			p.err ? p.err : "read error", (long)(p.s - buf));
	free(buf);
	return r;
}

static const char *get(const struct flat *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->kv[i].key, key))
			return f->kv[i].val;
	return NULL;
}

/* The keys worth comparing across runs, and how to show them. */
static const struct {
	const char *key, *label;
	double scale;	/* numbers are multiplied by this (0 = show as is) */
	int prec;
} rows[] = {
	{ "command", "command", 0, 0 },
	{ "source", "source", 0, 0 },
	{ "policy", "policy", 0, 0 },
	{ "workload", "workload", 0, 0 },
	{ "cpus", "vCPUs", 0, 0 },
	{ "prefetch", "prefetch", 0, 0 },
	{ "guest.checksum_ok", "checksum OK", 0, 0 },
	{ "every_page_verified", "every page verified", 0, 0 },
	{ "elapsed_s", "guest run (ms)", 1e3, 1 },
	{ "all_present_s", "all pages in (ms)", 1e3, 1 },
	{ "faults.total", "faults", 0, 0 },
	/*
	 * The fault service's own split: "blocked" faults waited in the kernel,
	 * "poisoned" ones were made visible to the vCPU loop, which then either
	 * delivered page-not-present (async.async_faults) or waited on the host.
	 */
	{ "faults.sync", "  blocked in uffd", 0, 0 },
	{ "faults.poisoned", "  poisoned (visible)", 0, 0 },
	{ "async.async_faults.ring0", "async delivered ring 0", 0, 0 },
	{ "async.async_faults.ring3", "async delivered ring 3", 0, 0 },
	{ "async.hard_errors", "hard errors", 0, 0 },
	{ "fault_wait_ns.p50", "wait p50 (us)", 1e-3, 1 },
	{ "fault_wait_ns.p99", "wait p99 (us)", 1e-3, 1 },
	{ "fault_wait_ns.max", "wait max (us)", 1e-3, 1 },
	{ "vcpu_stall_ns", "vCPU stall (ms)", 1e-6, 1 },
	{ "pages.demand", "pages by demand", 0, 0 },
	{ "pages.prefetch", "pages by prefetch", 0, 0 },
	{ "pages.lost", "pages lost", 0, 0 },
	{ "bytes", "bytes installed", 0, 0 },
	{ "retries", "retries", 0, 0 },
	{ "checksum_failures", "checksum failures", 0, 0 },
	{ "error", "error", 0, 0 },
};

static void cell(char *out, size_t len, const char *v, double scale, int prec)
{
	char *end;
	double d;

	if (!v) {
		snprintf(out, len, "-");
		return;
	}
	d = strtod(v, &end);
	if (scale != 0 && *v && !*end)
		snprintf(out, len, "%.*f", prec, d * scale);
	else
		snprintf(out, len, "%s", !strcmp(v, "null") ? "-" : v);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: doze stats [--all] [--key K]... FILE.json [FILE.json ...]\n"
		"\n"
		"Shows --stats-json files of doze run / doze restore side by side, one column per file.\n"
		"\n"
		"  --key K   show the member K (dotted path, e.g. fault_wait_ns.p99); repeatable\n"
		"  --all     show every member that any file has (arrays are left out)\n");
}

int cmd_stats(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *keys[64];
	int nkeys = 0, c, nf, r = 0;
	bool all = false;
	struct flat *f;
	struct flat uni = { 0 };
	char buf[128];

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'k':
			if (nkeys < 64)
				keys[nkeys++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	nf = argc - optind;
	if (nf < 1) {
		usage(stderr);
		return 2;
	}
	f = calloc((size_t)nf, sizeof(*f));
	if (!f)
		return 1;
	for (int i = 0; i < nf; i++)
		if (load(argv[optind + i], &f[i]))
			r = 1;
	if (r)
		goto out;
	printf("%-24s", "");
	for (int i = 0; i < nf; i++) {
		const char *name = strrchr(argv[optind + i], '/');

		printf(" %20.20s", name ? name + 1 : argv[optind + i]);
	}
	printf("\n");
	if (all) {	/* the union of keys, in first-seen order */
		for (int i = 0; i < nf; i++)
			for (size_t k = 0; k < f[i].n; k++)
				if (!get(&uni, f[i].kv[k].key))
					add(&uni, f[i].kv[k].key, "", 0);
		for (size_t k = 0; k < uni.n; k++) {
			printf("%-24.24s", uni.kv[k].key);
			for (int i = 0; i < nf; i++) {
				cell(buf, sizeof(buf), get(&f[i], uni.kv[k].key), 0, 0);
				printf(" %20.20s", buf);
			}
			printf("\n");
		}
	} else if (nkeys) {
		for (int k = 0; k < nkeys; k++) {
			printf("%-24.24s", keys[k]);
			for (int i = 0; i < nf; i++) {
				cell(buf, sizeof(buf), get(&f[i], keys[k]), 0, 0);
				printf(" %20.20s", buf);
			}
			printf("\n");
		}
	} else {
		for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
			bool any = false;

			for (int i = 0; i < nf; i++)
				any |= get(&f[i], rows[k].key) != NULL;
			if (!any)
				continue;
			printf("%-24s", rows[k].label);
			for (int i = 0; i < nf; i++) {
				cell(buf, sizeof(buf), get(&f[i], rows[k].key), rows[k].scale, rows[k].prec);
				printf(" %20.20s", buf);
			}
			printf("\n");
		}
	}
out:
	for (int i = 0; i < nf; i++) {
		for (size_t k = 0; k < f[i].n; k++) {
			free(f[i].kv[k].key);
			free(f[i].kv[k].val);
		}
		free(f[i].kv);
	}
	for (size_t k = 0; k < uni.n; k++) {
		free(uni.kv[k].key);
		free(uni.kv[k].val);
	}
	free(uni.kv);
	free(f);
	return r;
}
