/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-vCPU table of asynchronous page-fault tokens.
 *
 * A token names one "page not present" the guest was (or is about to be) told
 * about; the matching "page ready" carries the same token. A vCPU has at most
 * DZ_TOKENS_MAX outstanding. Page-ready events are queued in arrival order and
 * handed out one at a time: the next one only after the guest ACKed the last.
 *
 * Life of a token:
 *   alloc -> PENDING (about to inject page-not-present)
 *   delivered -> WAITING (the guest sleeps on it)     | page arrived while PENDING
 *   page arrived -> READY (queued)                    |   -> EARLY: the injection is
 *   take_ready -> DELIVERED (page-ready injected)     |   dropped (dummy wake on the
 *   ack -> FREE                                       |   host side), token freed
 *
 * Token values: bits 0-5 slot index (the guest may index its waiter table with
 * token & 63), bits 6-13 vCPU index, bits 14-31 a sequence number >= 1. A token
 * is never 0 (Linux: "no token") nor 0xffffffff (Linux: wake all).
 *
 * Thread-safe: the vCPU thread allocates, delivers, takes and ACKs; the fault
 * service thread reports page arrivals.
 */
#ifndef DZ_VMM_TOKENS_H
#define DZ_VMM_TOKENS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define DZ_TOKENS_MAX	   64
#define DZ_TOKEN_SLOT(tok) ((tok)&63u)
#define DZ_TOKEN_VCPU(tok) (((tok) >> 6) & 0xffu)
#define DZ_TOKEN_SEQ_MAX   ((1u << 18) - 1)

enum dz_token_state {
	DZ_TOK_FREE = 0,
	DZ_TOK_PENDING,
	DZ_TOK_WAITING,
	DZ_TOK_READY,
	DZ_TOK_DELIVERED,
};

struct dz_token_slot {
	uint32_t token;
	uint8_t state;	     /* enum dz_token_state */
	bool early;	     /* page arrived while PENDING */
	uint64_t pfn;	     /* guest page the token waits for */
	uint64_t t_alloc_ns; /* CLOCK_MONOTONIC times, for latency stats */
	uint64_t t_ready_ns;
	uint64_t t_taken_ns;
};

struct dz_tokens_stats {
	uint64_t allocated;
	uint64_t early;		  /* page arrived before page-not-present was delivered */
	uint64_t limit_hits;	  /* alloc refused: table full */
	uint64_t ready_delivered; /* page-ready handed out and ACKed */
	uint64_t acks;
	uint32_t outstanding_max;
	uint64_t ready_latency_ns_sum; /* page arrived -> page-ready handed out */
	uint64_t ready_latency_ns_max;
	uint64_t roundtrip_ns_sum; /* token allocated -> page-ready handed out */
};

struct dz_tokens {
	pthread_mutex_t lock;
	uint32_t vcpu;
	uint32_t limit; /* <= DZ_TOKENS_MAX */
	uint32_t seq;
	uint32_t outstanding;	      /* slots not FREE */
	uint64_t used;		      /* bitmap of slots not FREE */
	uint8_t queue[DZ_TOKENS_MAX]; /* READY slots, FIFO */
	uint32_t q_head, q_len;
	int in_flight; /* DELIVERED slot awaiting ACK, or -1 */
	struct dz_token_slot slot[DZ_TOKENS_MAX];
	struct dz_tokens_stats stats;
};

/* limit 0 means DZ_TOKENS_MAX; a larger limit is clamped to it. */
void dz_tokens__init(struct dz_tokens *t, uint32_t vcpu, uint32_t limit);
void dz_tokens__destroy(struct dz_tokens *t);

/* Allocates a PENDING token for the page at pfn. -ENOSPC when limit tokens are outstanding. */
int dz_tokens__alloc(struct dz_tokens *t, uint64_t pfn, uint32_t *token);
/*
 * The page-not-present for token is about to be injected. Returns 0 (now
 * WAITING), 1 if the page already arrived (token freed: do not inject, just let
 * the access retry), -ENOENT for a token that is not PENDING.
 */
int dz_tokens__delivered(struct dz_tokens *t, uint32_t token);
/* Gives back a PENDING token whose injection did not happen. */
int dz_tokens__cancel(struct dz_tokens *t, uint32_t token);

/*
 * The page pfn is present now. Every WAITING token for it becomes READY
 * (queued), every PENDING one EARLY. Returns how many tokens became READY.
 */
int dz_tokens__page_arrived(struct dz_tokens *t, uint64_t pfn, uint64_t now_ns);
/* A READY token is queued and none is awaiting its ACK. */
bool dz_tokens__ready_pending(struct dz_tokens *t);
/*
 * Hands out the oldest READY token (DELIVERED until ACKed). -EBUSY while one
 * is awaiting its ACK, -ENOENT if none is ready.
 */
int dz_tokens__take_ready(struct dz_tokens *t, uint32_t *token, uint64_t now_ns);
/* Puts a taken token back at the head of the queue (injection failed). */
int dz_tokens__untake(struct dz_tokens *t, uint32_t token);
/* The guest ACKed the page-ready in flight: its token is freed. -ENOENT if none. */
int dz_tokens__ack(struct dz_tokens *t);

uint32_t dz_tokens__outstanding(struct dz_tokens *t);
void dz_tokens__get_stats(struct dz_tokens *t, struct dz_tokens_stats *out);
/* Looks a token up: its state (DZ_TOK_FREE if unknown) and page. */
enum dz_token_state dz_tokens__lookup(struct dz_tokens *t, uint32_t token, uint64_t *pfn);

#endif
