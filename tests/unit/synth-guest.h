/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A synthetic guest for the engine's tests: a flat guest-physical memory
 * buffer, x86-64 page tables built in it (4- or 5-level, 4K/2M/1G pages), and
 * pages that can be marked "not present yet" so read_gpa returns -EAGAIN for
 * them, as the VMM's does for a page still in flight.
 */
#ifndef DZ_TESTS_SYNTH_GUEST_H
#define DZ_TESTS_SYNTH_GUEST_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <doze/bpf.h>

#define SG_SIZE	 (8u << 20) /* 8 MiB of guest RAM */
#define SG_PAGES (SG_SIZE / 4096)
#define SG_P	 0x1ULL
#define SG_RW	 0x2ULL
#define SG_PS	 0x80ULL

struct synth_guest {
	uint8_t *mem;
	uint64_t next_free;	   /* page-table allocator */
	uint8_t missing[SG_PAGES]; /* 1: read_gpa says -EAGAIN */
	unsigned int reads;
	unsigned int traces;
	char last_trace[300];
	uint64_t last_trace_arg;
};

static inline int sg_read_gpa(void *opaque, uint64_t gpa, void *dst, uint32_t len)
{
	struct synth_guest *g = opaque;

	g->reads++;
	if (gpa >= SG_SIZE || len > SG_SIZE - gpa)
		return -EFAULT;
	for (uint64_t p = gpa / 4096; len && p <= (gpa + len - 1) / 4096; p++)
		if (g->missing[p])
			return -EAGAIN;
	memcpy(dst, g->mem + gpa, len);
	return 0;
}

static inline void sg_trace(void *opaque, const char *msg, uint64_t arg)
{
	struct synth_guest *g = opaque;

	g->traces++;
	snprintf(g->last_trace, sizeof(g->last_trace), "%s", msg);
	g->last_trace_arg = arg;
}

static inline struct synth_guest *sg_new(void)
{
	struct synth_guest *g = calloc(1, sizeof(*g));

	g->mem = calloc(1, SG_SIZE);
	g->next_free = 0x1000; /* tables from 4K up; data pages chosen by the test */
	return g;
}

static inline void sg_free(struct synth_guest *g)
{
	free(g->mem);
	free(g);
}

static inline uint64_t sg_alloc(struct synth_guest *g)
{
	uint64_t p = g->next_free;

	g->next_free += 4096;
	memset(g->mem + p, 0, 4096);
	return p;
}

static inline uint64_t *sg_pte(struct synth_guest *g, uint64_t table, unsigned int idx)
{
	return (uint64_t *)(g->mem + table + idx * 8);
}

/*
 * Maps gva -> gpa with a page of page_size (4K, 2M or 1G) under root (the
 * CR3 value), with levels 4 or 5. Returns the gpa of the last table written
 * (the one holding the leaf entry), so a test can knock out entries.
 */
static inline uint64_t sg_map(struct synth_guest *g, uint64_t root, int levels, uint64_t gva,
			      uint64_t gpa, uint64_t page_size)
{
	int leaf = page_size == (1ULL << 30) ? 3 : page_size == (2ULL << 20) ? 2 : 1;
	uint64_t table = root;

	for (int level = levels; level > leaf; level--) {
		unsigned int idx = (gva >> (12 + 9 * (level - 1))) & 511;
		uint64_t *e = sg_pte(g, table, idx);

		if (!(*e & SG_P))
			*e = sg_alloc(g) | SG_P | SG_RW;
		table = *e & 0x000ffffffffff000ULL;
	}
	*sg_pte(g, table, (gva >> (12 + 9 * (leaf - 1))) & 511) =
	    gpa | SG_P | SG_RW | (leaf > 1 ? SG_PS : 0);
	return table;
}

static inline struct dz_guest_ops sg_ops(struct synth_guest *g)
{
	return (struct dz_guest_ops){.opaque = g, .read_gpa = sg_read_gpa, .trace = sg_trace};
}

#endif
