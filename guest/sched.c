// SPDX-License-Identifier: GPL-2.0
/*
 * Scheduler: one FIFO run queue per CPU (O(1) push/pop), tasks never migrate,
 * everything runs with IF=0 so no locks are needed. The idle task is the boot
 * context of each CPU and is never queued.
 *
 * Sleep/wake for asynchronous page faults: a direct-index wait table per CPU,
 * token & (DZ_MAX_TOKENS - 1) -> sleeping task; a page-ready that arrives
 * before its sleeper (Linux's "dummy" wake) is remembered in a bitmap.
 */
#include "kernel.h"

_Static_assert(__builtin_offsetof(struct percpu, need_resched) == PC_NEED_RESCHED, "percpu");
_Static_assert(__builtin_offsetof(struct percpu, ticks) == PC_TICKS, "percpu");
_Static_assert(__builtin_offsetof(struct percpu, nr_ready) == PC_NR_READY, "percpu");
_Static_assert(__builtin_offsetof(struct percpu, tss_rsp0) == PC_TSS_RSP0, "percpu");
_Static_assert(__builtin_offsetof(struct percpu, preempt_count) == DZ_PERCPU_PREEMPT_COUNT, "pc");
_Static_assert(__builtin_offsetof(struct percpu, irq_depth) == DZ_PERCPU_IRQ_DEPTH, "pc");
_Static_assert(__builtin_offsetof(struct percpu, cpu) == DZ_PERCPU_CPU, "pc");
_Static_assert(__builtin_offsetof(struct percpu, current) == DZ_PERCPU_CURRENT, "pc");
_Static_assert(__builtin_offsetof(struct task, kstack_top) == T_KSTACK_TOP, "task");
_Static_assert(sizeof(struct regs) == 16 * 8, "regs");

static u32 next_task_id;

static inline void rq_push(struct percpu *pc, struct task *t)
{
	t->next = NULL;
	if (pc->rq_tail)
		pc->rq_tail->next = t;
	else
		pc->rq_head = t;
	pc->rq_tail = t;
	pc->nr_ready++;
}

static inline struct task *rq_pop(struct percpu *pc)
{
	struct task *t = pc->rq_head;

	if (t) {
		pc->rq_head = t->next;
		if (!pc->rq_head)
			pc->rq_tail = NULL;
		pc->nr_ready--;
	}
	return t;
}

void schedule(void)
{
	struct percpu *pc = this_cpu();
	struct task *prev = pc->current, *next = rq_pop(pc);

	if (!next)
		next = pc->idle;
	pc->need_resched = 0;
	if (next == prev)
		return;
	next->state = TASK_RUNNING;
	switch_to(prev, next);
}

void yield(void)
{
	struct percpu *pc = this_cpu();
	struct task *cur = pc->current;

	if (!pc->rq_head) {
		pc->need_resched = 0;
		return;
	}
	if (cur != pc->idle) {
		cur->state = TASK_READY;
		rq_push(pc, cur);
	}
	schedule();
}

/* Timer tick from ring 3 with another task ready (entry.S). */
void preempt_tick(void);
void preempt_tick(void)
{
	yield();
}

void wake(struct task *t)
{
	struct percpu *pc = percpus[t->cpu];

	if (t->state != TASK_BLOCKED)
		return;
	t->state = TASK_READY;
	rq_push(pc, t);
	pc->need_resched = 1; /* irq_common switches to it on the way back to ring 3 */
}

void sleep_on_token(u64 token)
{
	struct percpu *pc = this_cpu();
	u64 slot = token & (DZ_MAX_TOKENS - 1), bit = 1UL << slot;
	struct task *cur = pc->current;

	if (pc->ready_early & bit) { /* page-ready already came */
		pc->ready_early &= ~bit;
		return;
	}
	cur->token = token;
	cur->state = TASK_BLOCKED;
	pc->waiters[slot] = cur;
	schedule();
}

void wake_token(u64 token)
{
	struct percpu *pc = this_cpu();
	u64 slot = token & (DZ_MAX_TOKENS - 1);
	struct task *t;

	if (token == DZ_TOKEN_WAKE_ALL) {
		for (slot = 0; slot < DZ_MAX_TOKENS; slot++)
			if ((t = pc->waiters[slot])) {
				pc->waiters[slot] = NULL;
				wake(t);
			}
		return;
	}
	t = pc->waiters[slot];
	if (t && t->token == token) {
		pc->waiters[slot] = NULL;
		wake(t);
	} else {
		pc->ready_early |= 1UL << slot;
	}
}

void task_exit(void)
{
	struct task *cur = current();

	cli();
	cur->state = TASK_DEAD;
	schedule();
	panic("dead task %u scheduled again", cur->id);
}

static struct task *task_alloc(int cpu, const char *name)
{
	u8 *block = kalloc(KSTACK_SIZE, KSTACK_SIZE);
	struct task *t = (struct task *)block;

	if (!block)
		panic("out of kernel memory for task %s", name);
	t->kstack_top = (u64)(block + KSTACK_SIZE);
	t->cpu = cpu;
	t->id = next_task_id++;
	t->name = name;
	return t;
}

struct task *task_create_user(int cpu, void (*entry)(void *), void *arg, u64 ustack_top)
{
	struct task *t = task_alloc(cpu, "user");
	u64 *sp = (u64 *)t->kstack_top;

	*--sp = USER_DS;	/* ss */
	*--sp = ustack_top - 8; /* rsp: as after a call */
	*--sp = USER_RFLAGS;
	*--sp = USER_CS;
	*--sp = (u64)entry;	/* rip */
	*--sp = (u64)start_user;
	*--sp = 0;		/* rbp */
	*--sp = 0;		/* rbx */
	*--sp = (u64)arg;	/* r12 */
	*--sp = 0;		/* r13 */
	*--sp = 0;		/* r14 */
	*--sp = 0;		/* r15 */
	t->ksp = (u64)sp;
	t->state = TASK_READY;
	rq_push(percpus[cpu], t);
	return t;
}

struct task *task_create_kthread(int cpu, void (*fn)(void *), void *arg)
{
	struct task *t = task_alloc(cpu, "kthread");
	u64 *sp = (u64 *)t->kstack_top;

	*--sp = 0; /* keeps start_kthread's call 16-byte aligned */
	*--sp = 0;
	*--sp = (u64)start_kthread;
	*--sp = 0;	    /* rbp */
	*--sp = 0;	    /* rbx */
	*--sp = (u64)arg; /* r12 */
	*--sp = (u64)fn;  /* r13 */
	*--sp = 0;	    /* r14 */
	*--sp = 0;	    /* r15 */
	t->ksp = (u64)sp;
	t->state = TASK_READY;
	rq_push(percpus[cpu], t);
	return t;
}

void sched_init_cpu(struct percpu *pc, struct task *idle)
{
	idle->cpu = pc->cpu;
	idle->state = TASK_RUNNING;
	idle->name = "idle";
	pc->idle = idle;
	pc->current = idle;
}
