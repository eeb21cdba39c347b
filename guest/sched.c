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

#define PC_OFF(f, v) _Static_assert(__builtin_offsetof(struct percpu, f) == (v), "percpu " #f)
PC_OFF(current, PC_CURRENT);
PC_OFF(preempt_count, PC_PREEMPT);
PC_OFF(irq_depth, PC_IRQ_DEPTH);
PC_OFF(cpu, PC_CPU);
PC_OFF(nr_tasks, PC_NR_TASKS);
PC_OFF(need_resched, PC_NEED_RESCHED);
PC_OFF(ticks, PC_TICKS);
PC_OFF(rq_head, PC_RQ_HEAD);
PC_OFF(rq_tail, PC_RQ_TAIL);
PC_OFF(idle, PC_IDLE);
PC_OFF(idle_sp, PC_IDLE_SP);
PC_OFF(ready_early, PC_READY_EARLY);
PC_OFF(ve, PC_VE);
PC_OFF(ve.reason, PC_VE_REASON);
PC_OFF(ve.busy, PC_VE_BUSY);
PC_OFF(ve.token, PC_VE_TOKEN);
PC_OFF(apf, PC_APF);
PC_OFF(apf.token, PC_APF_TOKEN);
PC_OFF(waiters, PC_WAITERS);
PC_OFF(tss, PC_TSS);
PC_OFF(tss.rsp0, PC_TSS_RSP0);
_Static_assert(__builtin_offsetof(struct task, ksp) == T_KSP, "task");
_Static_assert(__builtin_offsetof(struct task, kstack_top) == T_KSTACK_TOP, "task");
_Static_assert(__builtin_offsetof(struct task, next) == T_NEXT, "task");
_Static_assert(__builtin_offsetof(struct task, state) == T_STATE, "task");
_Static_assert(__builtin_offsetof(struct task, token) == T_TOKEN, "task");
_Static_assert(sizeof(struct regs) == 16 * 8, "regs");
_Static_assert(DZ_PERCPU_IRQ_DEPTH == DZ_PERCPU_PREEMPT_COUNT + 4, "one 8-byte load tests both");

static u32 next_task_id;

/* The run queue is empty when rq_head is NULL; rq_tail is only meaningful
 * otherwise (the entry code pops without touching it). */
static inline void rq_push(struct percpu *pc, struct task *t)
{
	t->next = NULL;
	if (pc->rq_head)
		pc->rq_tail->next = t;
	else
		pc->rq_head = t;
	pc->rq_tail = t;
}

static inline struct task *rq_pop(struct percpu *pc)
{
	struct task *t = pc->rq_head;

	if (t)
		pc->rq_head = t->next;
	return t;
}

void schedule(void)
{
	struct percpu *pc = this_cpu();
	struct task *prev = pc->current, *next = rq_pop(pc);

	pc->need_resched = 0;
	if (!next) {
		if (prev != pc->idle)
			switch_to_idle(prev);
		return;
	}
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
	this_cpu()->nr_tasks--;
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
	percpus[cpu]->nr_tasks++;
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
	percpus[cpu]->nr_tasks++;
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
	pc->idle_sp = idle->kstack_top;
}
