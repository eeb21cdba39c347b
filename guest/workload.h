/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Workload definitions shared by the kernel (workload.c, ring 0) and the task
 * code (user.c, ring 3): system call numbers, the per-task argument block and
 * the deterministic content formulas. Every word of every region is a pure
 * function of (seed, region, index), so a task computes the checksum it must
 * get without reading memory: a page that came back wrong changes the
 * checksum, never the expected value.
 */
#ifndef DZ_GUEST_WORKLOAD_H
#define DZ_GUEST_WORKLOAD_H

#define SYS_YIELD	0	/* () */
#define SYS_EXIT	1	/* (checksum, expected, flags): task done */
#define EXIT_F_EFAULT	1	/* a system call returned -EFAULT (lost page) */
#define SYS_RECORDS	2	/* (dst, first_page, n | pass << 32): copy one 64-byte record per kbuf page */
#define SYS_ATOMIC	3	/* (first_page, n, mode | pass << 8): sum one word per abuf page, atomically */
#define SYS_BARRIER	4	/* (phase): sleep until every task arrived */
#define SYS_PORT	5	/* (port, value): outl to a doze port (progress, phase, snapshot) */

#define ATOMIC_PREEMPT_OFF	0	/* preempt_count > 0, IF = 1 */
#define ATOMIC_IRQ_OFF		1	/* IF = 0 */

enum wl_kind { WL_SCAN, WL_SYSCALL, WL_ATOMIC, WL_NR_KINDS };

#define REGION_KBUF	1
#define REGION_ABUF	2
#define REGION_SCAN	0x100	/* + task id */

#define RECORD_WORDS	8	/* 64-byte record */
#define CHUNK_PAGES	64	/* pages per system call */
#define PROGRESS_PAGES	64	/* pages per progress report (a system call each: ~20 ring-0 insns) */

struct uarg {
	u32 id, cpu, kind, is_leader;
	u64 seed, passes;
	u64 *array;		/* scan: own array */
	u64 array_words;
	u64 first_page;		/* syscall/atomic: own slice of kbuf/abuf, in pages */
	u64 nr_pages;
	u64 *kbuf, *abuf;	/* for the ring-3 fill */
	u64 *recbuf;		/* syscall: CHUNK_PAGES records */
	u64 snapshot;		/* leader: ask for a snapshot after the fill */
};

static inline u64 wl_gen(u64 seed, u64 region, u64 idx)
{
	u64 z = (seed * 0x100000001b3UL) ^ (region << 40) ^ idx;

	z += 0x9e3779b97f4a7c15UL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
	return z ^ (z >> 31);
}

static inline u64 wl_mix(u64 h, u64 v)
{
	h ^= v;
	h = (h << 23) | (h >> 41);
	return h * 0x9e3779b97f4a7c15UL + 1;
}

static inline u64 wl_delta(u64 pass)
{
	return (pass + 1) * 0x5851f42d4c957f2dUL;
}

/* word offset of the record a pass reads from a kbuf page */
static inline u64 wl_record_off(u64 page, u64 pass)
{
	return ((page + pass) * RECORD_WORDS) & (512 - RECORD_WORDS);
}

/* word offset a pass reads from an abuf page */
static inline u64 wl_atomic_off(u64 page, u64 pass)
{
	return (page * 7 + pass) & 511;
}

#endif
