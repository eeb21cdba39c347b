// SPDX-License-Identifier: GPL-2.0
/*
 * Per-vCPU asynchronous page-fault tokens (see tokens.h for the life cycle).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "tokens.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void dz_tokens__init(struct dz_tokens *t, uint32_t vcpu, uint32_t limit)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->vcpu = vcpu;
	t->limit = (!limit || limit > DZ_TOKENS_MAX) ? DZ_TOKENS_MAX : limit;
	t->in_flight = -1;
}

void dz_tokens__destroy(struct dz_tokens *t)
{
	pthread_mutex_destroy(&t->lock);
}

static void slot_free(struct dz_tokens *t, unsigned int i)
{
	t->slot[i].state = DZ_TOK_FREE;
	t->slot[i].early = false;
	t->used &= ~(1ull << i);
	t->outstanding--;
}

/* The slot token names, if token is current (its slot holds exactly this token). */
static int find(struct dz_tokens *t, uint32_t token)
{
	unsigned int i = DZ_TOKEN_SLOT(token);

	if (!(t->used & (1ull << i)) || t->slot[i].token != token)
		return -1;
	return i;
}

int dz_tokens__alloc(struct dz_tokens *t, uint64_t pfn, uint32_t *token)
{
	unsigned int i;

	pthread_mutex_lock(&t->lock);
	if (t->outstanding >= t->limit) {
		t->stats.limit_hits++;
		pthread_mutex_unlock(&t->lock);
		return -ENOSPC;
	}
	i = __builtin_ctzll(~t->used);
	if (++t->seq > DZ_TOKEN_SEQ_MAX)
		t->seq = 1;
	t->slot[i] = (struct dz_token_slot){
	    .token = (t->seq << 14) | ((t->vcpu & 0xff) << 6) | i,
	    .state = DZ_TOK_PENDING,
	    .pfn = pfn,
	    .t_alloc_ns = mono_ns(),
	};
	t->used |= 1ull << i;
	t->outstanding++;
	if (t->outstanding > t->stats.outstanding_max)
		t->stats.outstanding_max = t->outstanding;
	t->stats.allocated++;
	*token = t->slot[i].token;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

int dz_tokens__delivered(struct dz_tokens *t, uint32_t token)
{
	int i, ret;

	pthread_mutex_lock(&t->lock);
	i = find(t, token);
	if (i < 0 || t->slot[i].state != DZ_TOK_PENDING) {
		ret = -ENOENT;
	} else if (t->slot[i].early) {
		/* The page beat its own page-not-present: nobody needs to sleep. */
		t->stats.early++;
		slot_free(t, i);
		ret = 1;
	} else {
		t->slot[i].state = DZ_TOK_WAITING;
		ret = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

int dz_tokens__cancel(struct dz_tokens *t, uint32_t token)
{
	int i, ret = -ENOENT;

	pthread_mutex_lock(&t->lock);
	i = find(t, token);
	if (i >= 0 && t->slot[i].state == DZ_TOK_PENDING) {
		slot_free(t, i);
		ret = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

int dz_tokens__page_arrived(struct dz_tokens *t, uint64_t pfn, uint64_t now_ns)
{
	int n = 0;

	pthread_mutex_lock(&t->lock);
	for (uint64_t m = t->used; m; m &= m - 1) {
		unsigned int i = __builtin_ctzll(m);
		struct dz_token_slot *s = &t->slot[i];

		if (s->pfn != pfn)
			continue;
		if (s->state == DZ_TOK_PENDING) {
			s->early = true;
		} else if (s->state == DZ_TOK_WAITING) {
			s->state = DZ_TOK_READY;
			s->t_ready_ns = now_ns;
			t->queue[(t->q_head + t->q_len) % DZ_TOKENS_MAX] = i;
			t->q_len++;
			n++;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return n;
}

bool dz_tokens__ready_pending(struct dz_tokens *t)
{
	bool r;

	pthread_mutex_lock(&t->lock);
	r = t->q_len && t->in_flight < 0;
	pthread_mutex_unlock(&t->lock);
	return r;
}

int dz_tokens__take_ready(struct dz_tokens *t, uint32_t *token, uint64_t now_ns)
{
	struct dz_token_slot *s;
	int ret = 0;

	pthread_mutex_lock(&t->lock);
	if (t->in_flight >= 0) {
		ret = -EBUSY;
	} else if (!t->q_len) {
		ret = -ENOENT;
	} else {
		t->in_flight = t->queue[t->q_head];
		t->q_head = (t->q_head + 1) % DZ_TOKENS_MAX;
		t->q_len--;
		s = &t->slot[t->in_flight];
		s->state = DZ_TOK_DELIVERED;
		*token = s->token;
		s->t_taken_ns = now_ns;
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

int dz_tokens__untake(struct dz_tokens *t, uint32_t token)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&t->lock);
	if (t->in_flight >= 0 && t->slot[t->in_flight].token == token) {
		t->slot[t->in_flight].state = DZ_TOK_READY;
		t->q_head = (t->q_head + DZ_TOKENS_MAX - 1) % DZ_TOKENS_MAX;
		t->queue[t->q_head] = t->in_flight;
		t->q_len++;
		t->in_flight = -1;
		ret = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

int dz_tokens__ack(struct dz_tokens *t)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&t->lock);
	if (t->in_flight >= 0) {
		struct dz_token_slot *s = &t->slot[t->in_flight];

		/* Accounted at ACK so a page-ready taken back and retried counts once. */
		t->stats.ready_delivered++;
		if (s->t_taken_ns > s->t_ready_ns) {
			uint64_t lat = s->t_taken_ns - s->t_ready_ns;

			t->stats.ready_latency_ns_sum += lat;
			if (lat > t->stats.ready_latency_ns_max)
				t->stats.ready_latency_ns_max = lat;
		}
		if (s->t_taken_ns > s->t_alloc_ns)
			t->stats.roundtrip_ns_sum += s->t_taken_ns - s->t_alloc_ns;
		slot_free(t, t->in_flight);
		t->in_flight = -1;
		t->stats.acks++;
		ret = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

uint32_t dz_tokens__outstanding(struct dz_tokens *t)
{
	uint32_t n;

	pthread_mutex_lock(&t->lock);
	n = t->outstanding;
	pthread_mutex_unlock(&t->lock);
	return n;
}

void dz_tokens__get_stats(struct dz_tokens *t, struct dz_tokens_stats *out)
{
	pthread_mutex_lock(&t->lock);
	*out = t->stats;
	pthread_mutex_unlock(&t->lock);
}

enum dz_token_state dz_tokens__lookup(struct dz_tokens *t, uint32_t token, uint64_t *pfn)
{
	enum dz_token_state st = DZ_TOK_FREE;
	int i;

	pthread_mutex_lock(&t->lock);
	i = find(t, token);
	if (i >= 0) {
		st = t->slot[i].state;
		if (pfn)
			*pfn = t->slot[i].pfn;
	}
	pthread_mutex_unlock(&t->lock);
	return st;
}
