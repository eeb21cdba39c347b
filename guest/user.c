// SPDX-License-Identifier: GPL-2.0
/*
 * Ring-3 task code of the reference guest. The linker script puts this file's
 * text and data on user pages (0x400000..); it must not call kernel code.
 * Everything heavy happens here, where the CPU runs natively: the fill, the
 * scans, and both checksums (observed and expected).
 */
#include "kernel.h"
#include "workload.h"

/* System call: int $4, RAX = nr. Clobbers what the entry code does not save. */
static inline long u_syscall(u64 nr, u64 a0, u64 a1, u64 a2)
{
	register u64 rax __asm__("rax") = nr;
	register u64 rdi __asm__("rdi") = a0;
	register u64 rsi __asm__("rsi") = a1;
	register u64 rdx __asm__("rdx") = a2;

	__asm__ volatile("int $4"
			 : "+r"(rax), "+r"(rdi), "+r"(rsi), "+r"(rdx)
			 :
			 : "rcx", "r8", "r9", "r10", "r11", "memory", "cc");
	return rax;
}

/* Ring 3 cannot use ports here (the backend runs tasks with IOPL 0 whatever
 * RFLAGS says), so reports to the VMM go through the kernel. */
static inline void u_out(u16 port, u32 v)
{
	u_syscall(SYS_PORT, port, v, 0);
}

static void progress(u64 *pending, u64 n)
{
	*pending += n;
	if (*pending >= PROGRESS_PAGES) {
		u_out(DZ_PORT_PROGRESS, (u32)*pending);
		*pending = 0;
	}
}

static void fill(u64 *p, u64 words, u64 seed, u64 region, u64 first_idx)
{
	for (u64 i = 0; i < words; i++)
		p[i] = wl_gen(seed, region, first_idx + i);
}

static void run_scan(struct uarg *a, u64 *h, u64 *e)
{
	u64 *arr = a->array, region = REGION_SCAN + a->id, pend = 0, added = 0;

	for (u64 pass = 0; pass < a->passes; pass++) {
		u64 d = wl_delta(pass);

		for (u64 i = 0; i < a->array_words; i++) {
			u64 v = arr[i];

			*h = wl_mix(*h, v);
			*e = wl_mix(*e, wl_gen(a->seed, region, i) + added);
			arr[i] = v + d;
			if ((i & 511) == 511)
				progress(&pend, 1);
		}
		added += d;
	}
	if (pend)
		u_out(DZ_PORT_PROGRESS, (u32)pend);
}

static void run_syscall(struct uarg *a, u64 *h, u64 *e, u64 *flags)
{
	u64 pend = 0;

	for (u64 pass = 0; pass < a->passes; pass++) {
		for (u64 done = 0; done < a->nr_pages; done += CHUNK_PAGES) {
			u64 first = a->first_page + done;
			u64 n = a->nr_pages - done < CHUNK_PAGES ? a->nr_pages - done : CHUNK_PAGES;
			long got = u_syscall(SYS_RECORDS, (u64)a->recbuf, first, n | (pass << 32));

			if (got == -14) { /* -EFAULT: a page of kbuf was lost */
				*flags |= EXIT_F_EFAULT;
				return;
			}
			if (got != (long)n) {
				*h ^= 0xbad; /* the kernel refused: the checksum must fail */
				return;
			}
			for (u64 j = 0; j < n; j++) {
				u64 page = first + j, off = wl_record_off(page, pass);

				for (u64 k = 0; k < RECORD_WORDS; k++) {
					*h = wl_mix(*h, a->recbuf[j * RECORD_WORDS + k]);
					*e = wl_mix(*e, wl_gen(a->seed, REGION_KBUF, page * 512 + off + k));
				}
			}
			progress(&pend, n);
		}
	}
	if (pend)
		u_out(DZ_PORT_PROGRESS, (u32)pend);
}

static void run_atomic(struct uarg *a, u64 *h, u64 *e)
{
	u64 pend = 0;

	for (u64 pass = 0; pass < a->passes; pass++) {
		for (u64 done = 0; done < a->nr_pages; done += CHUNK_PAGES) {
			u64 first = a->first_page + done;
			u64 n = a->nr_pages - done < CHUNK_PAGES ? a->nr_pages - done : CHUNK_PAGES;
			u64 mode = ((done / CHUNK_PAGES) & 1) ? ATOMIC_IRQ_OFF : ATOMIC_PREEMPT_OFF;
			u64 want = 0;

			*h = wl_mix(*h, (u64)u_syscall(SYS_ATOMIC, first, n, mode | (pass << 8)));
			for (u64 j = 0; j < n; j++) {
				u64 page = first + j;

				want = (want ^ wl_gen(a->seed, REGION_ABUF,
						      page * 512 + wl_atomic_off(page, pass))) + page;
			}
			*e = wl_mix(*e, want);
			progress(&pend, n);
		}
	}
	if (pend)
		u_out(DZ_PORT_PROGRESS, (u32)pend);
}

void user_task_main(struct uarg *a)
{
	u64 h = a->id, e = a->id, flags = 0;

	/* fill phase: populate what the workload will touch */
	if (a->kind == WL_SCAN)
		fill(a->array, a->array_words, a->seed, REGION_SCAN + a->id, 0);
	else if (a->kind == WL_SYSCALL)
		fill(a->kbuf + a->first_page * 512, a->nr_pages * 512, a->seed, REGION_KBUF,
		     a->first_page * 512);
	else
		fill(a->abuf + a->first_page * 512, a->nr_pages * 512, a->seed, REGION_ABUF,
		     a->first_page * 512);
	u_syscall(SYS_BARRIER, 0, 0, 0);
	if (a->is_leader) {
		u_out(DZ_PORT_PHASE, DZ_PHASE_FILL_DONE);
		if (a->snapshot)
			u_out(DZ_PORT_SNAPSHOT, DZ_SNAPSHOT_REQUEST);
		u_out(DZ_PORT_PHASE, DZ_PHASE_WORK_START);
	}
	u_syscall(SYS_BARRIER, 1, 0, 0);

	if (a->kind == WL_SCAN)
		run_scan(a, &h, &e);
	else if (a->kind == WL_SYSCALL)
		run_syscall(a, &h, &e, &flags);
	else
		run_atomic(a, &h, &e);
	u_syscall(SYS_EXIT, h, e, flags);
	for (;;)
		;
}
