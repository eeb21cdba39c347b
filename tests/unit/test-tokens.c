// SPDX-License-Identifier: GPL-2.0
/*
 * The per-vCPU async page-fault token table: limits, value encoding, the
 * page-ready queue (FIFO, one at a time, ACKed) and the early ("dummy") wake.
 */
#include <errno.h>
#include <pthread.h>

#include "tap.h"
#include "../../vmm/tokens.h"

static void test_encoding(void)
{
	struct dz_tokens t;
	uint32_t tok, seen[DZ_TOKENS_MAX];
	int err = 0;

	dz_tokens__init(&t, 5, 0);
	is_int(t.limit, DZ_TOKENS_MAX, "limit 0 means the maximum of %d", DZ_TOKENS_MAX);
	for (int i = 0; i < DZ_TOKENS_MAX; i++) {
		if (dz_tokens__alloc(&t, 100 + i, &seen[i]))
			err++;
		else if (seen[i] == 0 || seen[i] == 0xffffffffu || DZ_TOKEN_VCPU(seen[i]) != 5)
			err++;
		else if (DZ_TOKEN_SLOT(seen[i]) != (uint32_t)i)
			err++;
	}
	is_int(err, 0, "64 tokens: never 0 or ~0, carry the vCPU, slot = index");
	is_int(dz_tokens__alloc(&t, 1, &tok), -ENOSPC, "the 65th token is refused with -ENOSPC");
	is_int(dz_tokens__outstanding(&t), 64, "64 outstanding");
	struct dz_tokens_stats st;
	dz_tokens__get_stats(&t, &st);
	is_int(st.limit_hits, 1, "the refusal is counted");
	is_int(st.outstanding_max, 64, "outstanding max recorded");
	is_int(dz_tokens__cancel(&t, seen[7]), 0, "cancel a pending token");
	is_int(dz_tokens__cancel(&t, seen[7]), -ENOENT, "cancel twice fails");
	ok(dz_tokens__alloc(&t, 9, &tok) == 0 && DZ_TOKEN_SLOT(tok) == 7 && tok != seen[7],
	   "the freed slot is reused with a new token value");
	is_int(dz_tokens__lookup(&t, seen[7], NULL), DZ_TOK_FREE, "the stale token is unknown");
	dz_tokens__destroy(&t);

	dz_tokens__init(&t, 0, 3);
	for (int i = 0; i < 3; i++)
		dz_tokens__alloc(&t, i, &tok);
	is_int(dz_tokens__alloc(&t, 9, &tok), -ENOSPC, "a configured limit of 3 holds");
	dz_tokens__destroy(&t);
}

static void test_ready_queue(void)
{
	struct dz_tokens t;
	uint32_t a, b, c, got;
	uint64_t pfn;

	dz_tokens__init(&t, 1, 0);
	dz_tokens__alloc(&t, 10, &a);
	dz_tokens__alloc(&t, 20, &b);
	dz_tokens__alloc(&t, 30, &c);
	is_int(dz_tokens__delivered(&t, a), 0, "a delivered: waiting");
	is_int(dz_tokens__delivered(&t, b), 0, "b delivered: waiting");
	is_int(dz_tokens__delivered(&t, c), 0, "c delivered: waiting");
	is_int(dz_tokens__delivered(&t, c), -ENOENT, "delivering twice is refused");
	ok(!dz_tokens__ready_pending(&t), "nothing ready yet");
	is_int(dz_tokens__take_ready(&t, &got, 0), -ENOENT, "take with nothing ready: -ENOENT");
	is_int(dz_tokens__page_arrived(&t, 99, 0), 0, "an unrelated page wakes nobody");
	is_int(dz_tokens__page_arrived(&t, 30, 100), 1, "page 30 makes c ready");
	is_int(dz_tokens__page_arrived(&t, 10, 200), 1, "page 10 makes a ready");
	ok(dz_tokens__ready_pending(&t), "ready pending");
	ok(dz_tokens__take_ready(&t, &got, 300) == 0 && got == c, "c first (arrival order)");
	is_int(dz_tokens__lookup(&t, c, &pfn), DZ_TOK_DELIVERED, "c is delivered");
	is_u64(pfn, 30, "c waits for page 30");
	ok(!dz_tokens__ready_pending(&t), "one at a time: nothing pending while c is unACKed");
	is_int(dz_tokens__take_ready(&t, &got, 300), -EBUSY, "take while unACKed: -EBUSY");
	is_int(dz_tokens__ack(&t), 0, "ACK c");
	is_int(dz_tokens__ack(&t), -ENOENT, "a second ACK has nothing to ACK");
	ok(dz_tokens__take_ready(&t, &got, 400) == 0 && got == a, "then a");
	is_int(dz_tokens__untake(&t, a), 0, "a put back (injection failed)");
	ok(dz_tokens__take_ready(&t, &got, 500) == 0 && got == a, "a again");
	dz_tokens__ack(&t);
	is_int(dz_tokens__outstanding(&t), 1, "only b outstanding");
	is_int(dz_tokens__page_arrived(&t, 10, 600), 0, "page 10 again: a is gone");

	struct dz_tokens_stats st;
	dz_tokens__get_stats(&t, &st);
	is_int(st.acks, 2, "2 ACKs counted");
	is_int(st.ready_delivered, 2, "2 page-ready delivered (untake not counted)");
	is_u64(st.ready_latency_ns_sum, (300 - 100) + (500 - 200), "ready latency summed");
	dz_tokens__destroy(&t);
}

static void test_early_and_shared_page(void)
{
	struct dz_tokens t;
	uint32_t a, b, c, got;

	dz_tokens__init(&t, 2, 0);
	dz_tokens__alloc(&t, 7, &a);
	is_int(dz_tokens__page_arrived(&t, 7, 0), 0, "page arrives while a is pending");
	is_int(dz_tokens__delivered(&t, a), 1,
	       "delivering a says: page already there, do not inject");
	is_int(dz_tokens__outstanding(&t), 0, "a was freed");
	struct dz_tokens_stats st;
	dz_tokens__get_stats(&t, &st);
	is_int(st.early, 1, "early wake counted");

	dz_tokens__alloc(&t, 8, &b);
	dz_tokens__alloc(&t, 8, &c);
	dz_tokens__delivered(&t, b);
	dz_tokens__delivered(&t, c);
	is_int(dz_tokens__page_arrived(&t, 8, 0), 2,
	       "two tasks waiting on one page both become ready");
	int n = 0;
	while (dz_tokens__take_ready(&t, &got, 1) == 0) {
		n++;
		dz_tokens__ack(&t);
	}
	is_int(n, 2, "both page-ready delivered one after the other");
	is_int(dz_tokens__outstanding(&t), 0, "table empty");
	dz_tokens__destroy(&t);
}

/* Arrivals from another thread while the vCPU side allocates and ACKs. */
struct race {
	struct dz_tokens *t;
	volatile int stop;
};

static void *arriver(void *arg)
{
	struct race *r = arg;

	while (!r->stop)
		for (uint64_t p = 0; p < 16; p++)
			dz_tokens__page_arrived(r->t, p, 1);
	return NULL;
}

static void test_threads(void)
{
	struct dz_tokens t;
	struct race r = {.t = &t};
	pthread_t th;
	uint32_t tok, got;
	int lost = 0, done = 0;

	dz_tokens__init(&t, 3, 0);
	pthread_create(&th, NULL, arriver, &r);
	for (int i = 0; i < 20000; i++) {
		if (dz_tokens__alloc(&t, i % 16, &tok) == 0 && dz_tokens__delivered(&t, tok) == 1)
			done++;
		while (dz_tokens__take_ready(&t, &got, 2) == 0) {
			dz_tokens__ack(&t);
			done++;
		}
	}
	r.stop = 1;
	pthread_join(th, NULL);
	for (uint64_t p = 0; p < 16; p++)
		dz_tokens__page_arrived(&t, p, 1);
	while (dz_tokens__take_ready(&t, &got, 2) == 0) {
		dz_tokens__ack(&t);
		done++;
	}
	if (dz_tokens__outstanding(&t))
		lost = dz_tokens__outstanding(&t);
	is_int(lost, 0, "no token lost under concurrent arrivals (%d completed)", done);
	dz_tokens__destroy(&t);
}

int main(void)
{
	test_encoding();
	test_ready_queue();
	test_early_and_shared_page();
	test_threads();
	return done_testing();
}
