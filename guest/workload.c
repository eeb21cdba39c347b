// SPDX-License-Identifier: GPL-2.0
/*
 * Workloads (kernel side): parse "name[:k=v,...]", lay out memory, create the
 * ring-3 tasks, and serve their system calls:
 *	SYS_RECORDS	preemptible ring 0 (IF=1, preempt_count 0) walks kbuf and
 *			copies one 64-byte record per page into the task
 *	SYS_ATOMIC	reads one word per abuf page with preemption disabled
 *			(IF=1) or with interrupts disabled: faults there must
 *			never become asynchronous
 *	SYS_BARRIER	sleeps until every task arrived (cross-CPU wake by IPI)
 *	SYS_EXIT	records the task's checksums; the last task powers off
 */
#include "kernel.h"
#include "workload.h"

void user_task_main(struct uarg *a);
u64 uheap_free(void);

struct params {
	int kind;		/* WL_* or -1 for mixed */
	u64 tasks;		/* per vCPU */
	u64 size;		/* scan: bytes per task */
	u64 kbuf;		/* syscall: bytes of the kernel buffer */
	u64 abuf;		/* atomic: bytes of the atomic buffer */
	u64 passes;
	u64 seed;
	u64 snapshot;
	u64 kthreads;		/* per vCPU, atomic walkers in ring 0 (atomic, mixed) */
};

struct result {
	u64 checksum, expected;
	u32 done;
	u32 how;	/* RES_* */
};

enum { RES_OK, RES_EFAULT, RES_KILLED };

static u64 *kbuf, *abuf;
static u64 kbuf_pages, abuf_pages;
static struct result results[MAX_TASKS];
static u32 nr_tasks;
static u32 live_tasks;

/*
 * barrier: one at a time; waiters sleep on their own CPU's list. It waits for
 * the tasks still alive, not for nr_tasks: a task killed by a lost page never
 * arrives, and the others must go on (guest/apf). barrier_lock orders arrivals
 * against deaths on other CPUs.
 */
static u32 barrier_lock, barrier_count, barrier_gen;
static struct task *barrier_waiters[GUEST_MAX_CPUS];
static u32 barrier_wait_gen[GUEST_MAX_CPUS]; /* generation this CPU's waiters wait to end */

static bool parse_u64(const char *s, size_t n, u64 *out)
{
	u64 v = 0;
	size_t i = 0;

	if (!n)
		return false;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		v = v * 10 + (s[i] - '0');
	if (i == 0)
		return false;
	if (i + 1 == n) {
		switch (s[i]) {
		case 'k': case 'K': v <<= 10; break;
		case 'm': case 'M': v <<= 20; break;
		case 'g': case 'G': v <<= 30; break;
		default: return false;
		}
	} else if (i != n) {
		return false;
	}
	*out = v;
	return true;
}

static void bad_params(const char *why, const char *spec)
{
	printk("workload '%s': %s\n", spec, why);
	printk("usage: scan|syscall|atomic|mixed|crash|fault|hang|spin|hostile[:tasks=N,size=BYTES,kbuf=BYTES,abuf=BYTES,"
	       "passes=N,seed=N,kthreads=N]\n");
	power_off(DZ_STATUS_BAD_PARAMS, 0, 0);
}

static void parse(const char *spec, struct params *p)
{
	const char *s = spec, *end;
	size_t n;

	p->tasks = 2;
	p->size = 4UL << 20;
	p->kbuf = 8UL << 20;
	p->abuf = 4UL << 20;
	p->passes = 2;
	p->seed = 1;
	p->kthreads = 1;
	for (n = 0; s[n] && s[n] != ':'; n++)
		;
	if (n == 4 && !strncmp(s, "scan", 4))
		p->kind = WL_SCAN;
	else if (n == 7 && !strncmp(s, "syscall", 7))
		p->kind = WL_SYSCALL;
	else if (n == 6 && !strncmp(s, "atomic", 6))
		p->kind = WL_ATOMIC;
	else if (n == 5 && !strncmp(s, "mixed", 5)) {
		p->kind = -1;
		p->tasks = 3;
	} else if (n == 5 && !strncmp(s, "crash", 5)) {
		/* test mode: a triple fault (no usable IDT, then #UD) */
		struct {
			u16 limit;
			u64 base;
		} __attribute__((packed)) none = { 0, 0 };

		printk("crash: triple fault on purpose\n");
		__asm__ volatile("lidt %0; ud2" : : "m"(none));
	} else if (n == 5 && !strncmp(s, "fault", 5)) {
		/* test mode: a genuine page fault in the kernel (nothing mapped at 512 GiB) */
		printk("fault: reading an unmapped address on purpose\n");
		(void)*(volatile u64 *)0x8000000000UL;
	} else if (n == 4 && !strncmp(s, "hang", 4)) {
		/* test mode: halt with interrupts off, which nothing can wake */
		printk("hang: cli; hlt on purpose\n");
		__asm__ volatile("cli; hlt");
	} else if (n == 7 && !strncmp(s, "hostile", 7)) {
		/* test mode: probe the VMM's async ABI with garbage (guest/hostile/) */
		void hostile_main(void) __attribute__((noreturn));

		hostile_main();
	} else if (n == 4 && !strncmp(s, "spin", 4)) {
		/* test mode: spin in ring 0 with interrupts off (the VMM's --timeout ends it) */
		printk("spin: endless ring-0 loop on purpose\n");
		for (;;)
			__asm__ volatile("cli; pause");
	} else
		bad_params("unknown workload", spec);
	s += n;
	while (*s == ':' || *s == ',') {
		const char *k = ++s, *eq;
		u64 v;

		for (end = s; *end && *end != ','; end++)
			;
		for (eq = k; eq < end && *eq != '='; eq++)
			;
		if (eq == end || !parse_u64(eq + 1, end - eq - 1, &v))
			bad_params("bad parameter (want key=value)", spec);
#define KEY(name) (eq - k == sizeof(name) - 1 && !strncmp(k, name, sizeof(name) - 1))
		if (KEY("tasks"))
			p->tasks = v;
		else if (KEY("size"))
			p->size = v;
		else if (KEY("kbuf"))
			p->kbuf = v;
		else if (KEY("abuf"))
			p->abuf = v;
		else if (KEY("passes"))
			p->passes = v;
		else if (KEY("seed"))
			p->seed = v;
		else if (KEY("kthreads"))
			p->kthreads = v;
		else
			bad_params("unknown parameter", spec);
#undef KEY
		s = end;
	}
	if (p->tasks < 1 || p->kthreads > 4 ||
	    (p->tasks + p->kthreads) * nr_cpus > MAX_TASKS - GUEST_MAX_CPUS)
		bad_params("tasks + kthreads must be 1..(224 / vCPUs), kthreads 0..4", spec);
	if (p->passes < 1 || p->passes > 1000)
		bad_params("passes must be 1..1000", spec);
	if (p->size < PAGE_SIZE || p->kbuf < PAGE_SIZE || p->abuf < PAGE_SIZE)
		bad_params("sizes must be at least 4K", spec);
}

static u64 align_up_pages(u64 bytes)
{
	return (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
}

static void *ualloc_or_die(u64 size, u64 align, const char *what)
{
	void *p = ualloc(size, align);

	if (!p) {
		printk("not enough RAM for %s (%lu KiB; %lu KiB left)\n", what, size >> 10,
		       uheap_free() >> 10);
		power_off(DZ_STATUS_NO_MEMORY, 0, 0);
	}
	return p;
}

static void __attribute__((noinline)) sys_barrier(void);
static void __attribute__((noreturn, noinline)) task_done(u64 checksum, u64 expected, u32 how);

/*
 * A kernel thread that reads one word per page of its slice of abuf with
 * preemption disabled (IF = 1), like a kernel walking a big table under a
 * spinlock: faults there must never become asynchronous. It computes what it
 * must find (in ring 0, ~30 instructions a page) and takes part in the
 * barriers and the result like a task.
 */
static void katomic_main(void *arg)
{
	struct uarg *a = arg;
	u64 h = a->id, e = a->id;

	cli();
	sys_barrier(); /* the ring-3 tasks filled abuf */
	sys_barrier(); /* the snapshot point */
	sti();
	for (u64 pass = 0; pass < a->passes; pass++) {
		for (u64 done = 0; done < a->nr_pages; done += CHUNK_PAGES) {
			u64 first = a->first_page + done, sum = 0, want = 0;
			u64 n = a->nr_pages - done < CHUNK_PAGES ? a->nr_pages - done : CHUNK_PAGES;

			preempt_disable();
			for (u64 i = 0; i < n; i++) {
				u64 page = first + i, off = page * 512 + wl_atomic_off(page, pass + 1);

				sum = (sum ^ abuf[off]) + page;
			}
			preempt_enable();
			for (u64 i = 0; i < n; i++) {
				u64 page = first + i, off = page * 512 + wl_atomic_off(page, pass + 1);

				want = (want ^ wl_gen(a->seed, REGION_ABUF, off)) + page;
			}
			h = wl_mix(h, sum);
			e = wl_mix(e, want);
			if (this_cpu()->need_resched) {
				cli();
				yield();
				sti();
			}
		}
	}
	cli();
	task_done(h, e, 0);
}

void workload_setup(const char *spec)
{
	struct params p = { 0 };
	u32 count[WL_NR_KINDS] = { 0 }, seen[WL_NR_KINDS] = { 0 };
	struct dz_boot_info *bi = (void *)DZ_BOOT_INFO_GPA;

	parse(spec, &p);
	p.snapshot = !!(bi->flags & DZ_BOOT_F_SNAPSHOT);
	nr_tasks = p.tasks * nr_cpus;
	for (u32 i = 0; i < nr_tasks; i++)
		count[p.kind >= 0 ? (u64)p.kind : (i % p.tasks) % WL_NR_KINDS]++;
	if (count[WL_SYSCALL]) {
		kbuf_pages = align_up_pages(p.kbuf);
		kbuf = ualloc_or_die(kbuf_pages * PAGE_SIZE, HUGE_SIZE, "kbuf");
	}
	if (count[WL_ATOMIC]) {
		abuf_pages = align_up_pages(p.abuf);
		abuf = ualloc_or_die(abuf_pages * PAGE_SIZE, HUGE_SIZE, "abuf");
	}
	for (u32 i = 0; i < nr_tasks; i++) {
		u32 cpu = i / p.tasks;
		int kind = p.kind >= 0 ? p.kind : (int)((i % p.tasks) % WL_NR_KINDS);
		struct uarg *a = ualloc_or_die(sizeof(*a), 64, "task arguments");
		u8 *ustack = ualloc_or_die(USTACK_SIZE, PAGE_SIZE, "user stacks");
		u64 slices = count[kind], k = seen[kind]++;

		a->id = i;
		a->cpu = cpu;
		a->kind = kind;
		a->is_leader = i == 0;
		a->seed = p.seed;
		a->passes = p.passes;
		a->kbuf = kbuf;
		a->abuf = abuf;
		a->snapshot = p.snapshot;
		if (kind == WL_SCAN) {
			a->array_words = p.size / 8;
			a->array = ualloc_or_die(p.size, PAGE_SIZE, "scan arrays");
		} else {
			u64 pages = kind == WL_SYSCALL ? kbuf_pages : abuf_pages;

			a->first_page = pages * k / slices;
			a->nr_pages = pages * (k + 1) / slices - a->first_page;
			if (kind == WL_SYSCALL)
				a->recbuf = ualloc_or_die(CHUNK_PAGES * RECORD_WORDS * 8, 64, "records");
		}
		task_create_user(cpu, (void (*)(void *))user_task_main, a,
				 (u64)ustack + USTACK_SIZE);
	}
	/* kernel threads walking abuf, one slice per CPU each */
	if (!count[WL_ATOMIC])
		p.kthreads = 0;
	for (u32 c = 0; c < nr_cpus; c++) {
		for (u32 k = 0; k < p.kthreads; k++) {
			struct uarg *a = kalloc(sizeof(*a), 64);
			u64 slices = nr_cpus * p.kthreads, j = c * p.kthreads + k;

			if (!a)
				panic("out of kernel memory for kernel threads");
			a->id = nr_tasks + j;
			a->cpu = c;
			a->kind = WL_ATOMIC;
			a->seed = p.seed;
			a->passes = p.passes;
			a->first_page = abuf_pages * j / slices;
			a->nr_pages = abuf_pages * (j + 1) / slices - a->first_page;
			task_create_kthread(c, katomic_main, a);
		}
	}
	printk("%u tasks (scan %u, syscall %u, atomic %u) + %lu kernel threads, %lu passes, "
	       "kbuf %lu KiB, abuf %lu KiB\n",
	       nr_tasks, count[WL_SCAN], count[WL_SYSCALL], count[WL_ATOMIC], p.kthreads * nr_cpus,
	       p.passes, kbuf_pages * 4, abuf_pages * 4);
	nr_tasks += p.kthreads * nr_cpus;
	live_tasks = nr_tasks;
}

/* Preemptible ring 0: IF=1, preempt_count 0. One 64-byte record per page,
 * eight word moves; yields when the tick asked for it. */
static long __attribute__((noinline)) sys_records(u64 *dst, u64 first, u64 arg)
{
	u64 n = arg & 0xffffffff, pass = arg >> 32;
	struct percpu *pc = this_cpu();

	if (n > CHUNK_PAGES || first > kbuf_pages || n > kbuf_pages - first)
		return -22;
	sti();
	for (u64 i = 0; i < n; i++) {
		u64 page = first + i;
		const u64 *src = kbuf + page * 512 + wl_record_off(page, pass);

		if (apf_copy_record(dst + i * RECORD_WORDS, src)) {
			cli();
			return -14; /* -EFAULT: the page is lost */
		}
		if (pc->need_resched) {
			cli();
			yield();
			sti();
		}
	}
	cli();
	return n;
}

/* Faults here must never be asynchronous: preemption or interrupts are off. */
static long __attribute__((noinline)) sys_atomic(u64 first, u64 n, u64 mode)
{
	u64 pass = mode >> 8, sum = 0;

	if (first > abuf_pages || n > abuf_pages - first)
		return -22;
	if ((mode & 0xff) == ATOMIC_PREEMPT_OFF) {
		preempt_disable();
		sti();
	}
	for (u64 i = 0; i < n; i++) {
		u64 page = first + i;

		sum = (sum ^ abuf[page * 512 + wl_atomic_off(page, pass)]) + page;
	}
	if ((mode & 0xff) == ATOMIC_PREEMPT_OFF) {
		cli();
		preempt_enable();
	}
	return sum;
}

static void barrier_lock_take(void)
{
	while (__atomic_exchange_n(&barrier_lock, 1, __ATOMIC_ACQUIRE))
		__asm__ volatile("pause");
}

static void barrier_lock_drop(void)
{
	__atomic_store_n(&barrier_lock, 0, __ATOMIC_RELEASE);
}

/* Under barrier_lock, with every live task arrived: end this barrier. */
static void barrier_release(struct percpu *pc)
{
	barrier_count = 0;
	__atomic_store_n(&barrier_gen, barrier_gen + 1, __ATOMIC_RELEASE);
	barrier_lock_drop();
	for (u32 c = 0; c < nr_cpus; c++)
		if (c != pc->cpu)
			outl(DZ_PORT_IPI, c << 8 | DZ_VEC_IPI);
	irq_dispatch(NULL); /* wake this CPU's waiters */
}

static void __attribute__((noinline)) sys_barrier(void)
{
	struct percpu *pc = this_cpu();
	struct task *cur = pc->current;

	barrier_lock_take();
	if (++barrier_count >= __atomic_load_n(&live_tasks, __ATOMIC_ACQUIRE)) {
		barrier_release(pc);
		return;
	}
	cur->state = TASK_BLOCKED;
	cur->next = barrier_waiters[pc->cpu];
	barrier_waiters[pc->cpu] = cur;
	barrier_wait_gen[pc->cpu] = barrier_gen;
	barrier_lock_drop();
	schedule();
}

/* A task is done (how = RES_*); the last one combines every result and powers off. */
static void __attribute__((noreturn, noinline)) task_done(u64 checksum, u64 expected, u32 how)
{
	struct task *cur = current();
	struct result *r = &results[cur->id];
	u32 live;

	r->checksum = checksum;
	r->expected = expected;
	r->how = how;
	r->done = 1;
	barrier_lock_take();
	live = __atomic_sub_fetch(&live_tasks, 1, __ATOMIC_ACQ_REL);
	if (live && barrier_count >= live)
		barrier_release(this_cpu()); /* the others waited only for this one */
	else
		barrier_lock_drop();
	if (live == 0) {
		u64 h = 0, e = 0;
		u32 bad = 0, killed = 0, efault = 0, status = DZ_STATUS_OK;

		for (u32 i = 0; i < nr_tasks; i++) {
			if (results[i].how == RES_KILLED) {
				killed++;
				continue;
			}
			if (results[i].how == RES_EFAULT)
				efault++;
			h = wl_mix(h, results[i].checksum);
			e = wl_mix(e, results[i].expected);
			if (results[i].how == RES_OK && results[i].checksum != results[i].expected) {
				bad++;
				printk("task %u: checksum %lx, expected %lx\n", i, results[i].checksum,
				       results[i].expected);
			}
		}
		if (bad)
			status = DZ_STATUS_MISMATCH;
		else if (killed)
			status = DZ_STATUS_TASK_KILLED;
		else if (efault)
			status = DZ_STATUS_EFAULT;
		outl(DZ_PORT_PHASE, DZ_PHASE_WORK_DONE);
		printk("all %u tasks done (%u killed, %u saw -EFAULT): checksum %lx %s\n", nr_tasks,
		       killed, efault, h, bad ? "MISMATCH" : "ok");
		power_off(status, h, e);
	}
	task_exit();
}

static void __attribute__((noreturn, noinline)) sys_exit(u64 checksum, u64 expected, u64 flags)
{
	task_done(checksum, expected, (flags & EXIT_F_EFAULT) ? RES_EFAULT : RES_OK);
}

/* The current ring-3 task was killed by a lost page (guest/apf): the others go on. */
void apf_task_killed(void)
{
	cli();
	task_done(0, 0, RES_KILLED);
}

long do_syscall(u64 a0, u64 a1, u64 a2, u64 nr)
{
	switch (nr) {
	case SYS_YIELD:
		yield();
		return 0;
	case SYS_EXIT:
		sys_exit(a0, a1, a2);
	case SYS_RECORDS:
		return sys_records((u64 *)a0, a1, a2);
	case SYS_ATOMIC:
		return sys_atomic(a0, a1, a2);
	case SYS_BARRIER:
		sys_barrier();
		return 0;
	case SYS_PORT:
		if (a0 != DZ_PORT_PROGRESS && a0 != DZ_PORT_PHASE && a0 != DZ_PORT_SNAPSHOT)
			return -1;
		outl(a0, a1);
		if (a0 == DZ_PORT_SNAPSHOT)
			apf_rearm_all(); /* a restored guest continues here: arm its new VMM */
		return 0;
	default:
		return -38;
	}
}

void exception_dispatch(struct regs *r)
{
	die(r->vector, r);
}

/* #PF and #MC, entered without interrupt depth (entry.S pf_common): the async
 * handler may sleep, a lost page may end the task */
void pf_dispatch(struct regs *r);
void pf_dispatch(struct regs *r)
{
	if (r->vector == 18) {
		mce_dispatch(r);
		return;
	}
	if (!apf_page_fault(r))
		die(14, r);
}

/* #VE: the asynchronous page-fault path fills this in. */
void ve_dispatch(struct regs *r);
void __attribute__((weak)) ve_dispatch(struct regs *r)
{
	die(DZ_VEC_VE, r);
}

void irq_dispatch(struct regs *r)
{
	struct percpu *pc = this_cpu();
	struct task *t;

	if (r && r->vector == DZ_VEC_PAGE_READY) {
		apf_page_ready();
		return;
	}
	if (r)
		apf_ipi();
	/* barrier release: wake this CPU's waiters once their barrier ended (other
	 * IPIs, e.g. guest/apf's re-arm, must not release them) */
	if (barrier_wait_gen[pc->cpu] == __atomic_load_n(&barrier_gen, __ATOMIC_ACQUIRE))
		return;
	t = barrier_waiters[pc->cpu];
	barrier_waiters[pc->cpu] = NULL;
	while (t) {
		struct task *next = t->next;

		wake(t);
		t = next;
	}
}
