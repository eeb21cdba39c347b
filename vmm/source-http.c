// SPDX-License-Identifier: GPL-2.0
/*
 * http://HOST:PORT/PATH — pages by HTTP range requests (the object-storage
 * case), through libcurl's multi interface: several transfers in flight on
 * reused keep-alive connections, all driven from the source's I/O thread.
 *
 * Outcomes per request:
 *   206 (or 200 for a range starting at 0): data; a short body means the
 *       object ends there: the remaining pages are lost (-ENODATA);
 *   416: the range lies past the end: lost (-ENODATA);
 *   other 4xx: the object is not there: lost (-EIO), no retry;
 *   5xx, connection errors, stalls: retried with exponential backoff until
 *       `timeout` has passed since the first failure, then lost (-EIO).
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source-impl.h"
#include "stats.h"

#define MAX_ACTIVE	8	/* transfers (and connections) at once */
#define BACKOFF_MIN_NS	(10ull * 1000000)
#define BACKOFF_MAX_NS	(1000ull * 1000000)

struct http_src {
	char *url;
	CURLM *multi;
	CURL *idle[MAX_ACTIVE];		/* easy handles kept for reuse */
	int nidle;
	int active;
	struct dz_src_req *queue_head, *queue_tail;	/* waiting for a transfer slot */
	struct dz_src_req *retry;			/* waiting for their backoff */
	struct xfer *xfers;				/* active transfers */
	uint64_t t_failing;	/* first failure since the last success (0 = healthy) */
};

struct xfer {
	struct xfer *next, **pprev;	/* on http_src.xfers while active */
	struct dz_source *src;
	struct dz_src_req *req;
	char range[64];
	char errbuf[CURL_ERROR_SIZE];
	bool accept;	/* the response is a body we may store */
	bool decided;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void common_opts(struct dz_source *src, CURL *e, const char *url)
{
	long ct = (long)(src->connect_timeout_ns / 1000000);
	long stall = (long)(src->timeout_ns / 1000000000ull);

	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ct > 0 ? ct : 1L);
	/* A transfer that moves nothing for `timeout` is a stall: fail it and retry. */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, stall > 0 ? stall : 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");	/* never route page fetches through a proxy */
}

static int http_open(struct dz_source *src, const char *url, char *err, size_t errlen)
{
	struct http_src *h;
	CURL *e;
	CURLcode c;
	curl_off_t len = -1;
	long code = 0;
	uint64_t t0;
	char eb[CURL_ERROR_SIZE] = "";

	pthread_once(&curl_once, curl_init);
	if (curl_init_result != CURLE_OK) {
		snprintf(err, errlen, "%s: libcurl init failed", src->uri);
		return -EIO;
	}
	h = calloc(1, sizeof(*h));
	if (!h || !(h->url = strdup(url))) {
		free(h);
		return -ENOMEM;
	}
	/* Reachability and size up front: a HEAD bounded by the connect timeout. */
	e = curl_easy_init();
	if (!e)
		goto nomem;
	common_opts(src, e, url);
	curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(2 * src->connect_timeout_ns / 1000000));
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, eb);
	t0 = dz_now_ns();
	c = curl_easy_perform(e);
	if (c != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", src->uri, eb[0] ? eb : curl_easy_strerror(c));
		curl_easy_cleanup(e);
		free(h->url);
		free(h);
		return c == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(e, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
	if (code != 200) {
		snprintf(err, errlen, "%s: HTTP %ld", src->uri, code);
		curl_easy_cleanup(e);
		free(h->url);
		free(h);
		return code == 404 ? -ENOENT : -EIO;
	}
	src->seed_latency_ns = dz_now_ns() - t0;
	src->size = len > 0 ? (uint64_t)len : 0;
	/* The HEAD's handle keeps its connection: reuse it for the first transfer. */
	curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
	curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 0L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
	h->idle[h->nidle++] = e;
	h->multi = curl_multi_init();
	if (!h->multi)
		goto nomem;
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)MAX_ACTIVE);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)MAX_ACTIVE);
	src->priv = h;
	return 0;
nomem:
	for (int i = 0; i < h->nidle; i++)
		curl_easy_cleanup(h->idle[i]);
	free(h->url);
	free(h);
	return -ENOMEM;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	struct dz_src_req *r = x->req;
	size_t len = size * nmemb, cap = (size_t)r->npages * DZ_SRC_PAGE_SIZE - r->received;

	if (!x->decided) {
		CURL *e = r->bpriv;
		long code = 0;

		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
		/* Only a range answer (or a whole body that starts where we asked) is page data;
		 * the body of a 416 or 5xx is an error page and must never land in guest RAM. */
		x->accept = code == 206 || (code == 200 && r->page == 0);
		x->decided = true;
	}
	if (!x->accept) {
		long code = 0;

		/* A server that ignores Range would send the whole object: stop now. */
		curl_easy_getinfo(r->bpriv, CURLINFO_RESPONSE_CODE, &code);
		return code == 200 ? 0 : len;
	}
	if (len > cap) {
		memcpy((char *)r->buf + r->received, ptr, cap);
		r->received += cap;
		return 0;	/* we have all we asked for: stop (a 200 with the whole file) */
	}
	memcpy((char *)r->buf + r->received, ptr, len);
	r->received += len;
	return len;
}

static int start(struct dz_source *src, struct http_src *h, struct dz_src_req *r)
{
	struct xfer *x;
	CURL *e;
	uint64_t first = r->page * DZ_SRC_PAGE_SIZE;
	uint64_t last = first + (uint64_t)r->npages * DZ_SRC_PAGE_SIZE - 1;

	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	e = h->nidle ? h->idle[--h->nidle] : curl_easy_init();
	if (!e) {
		free(x);
		return -ENOMEM;
	}
	/* Options are sticky on a reused handle; set every one we rely on. */
	common_opts(src, e, h->url);
	x->src = src;
	x->req = r;
	r->received = 0;
	r->bpriv = e;
	snprintf(x->range, sizeof(x->range), "%llu-%llu", (unsigned long long)first,
		 (unsigned long long)last);
	curl_easy_setopt(e, CURLOPT_RANGE, x->range);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	if (r->attempts++)
		dz_src__count_retry(src, false);
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		free(x);
		return -EIO;
	}
	h->active++;
	x->next = h->xfers;
	if (x->next)
		x->next->pprev = &x->next;
	x->pprev = &h->xfers;
	h->xfers = x;
	return 0;
}

static void push_queue(struct http_src *h, struct dz_src_req *r, bool front)
{
	r->bnext = NULL;
	if (front) {
		r->bnext = h->queue_head;
		h->queue_head = r;
		if (!h->queue_tail)
			h->queue_tail = r;
		return;
	}
	if (h->queue_tail)
		h->queue_tail->bnext = r;
	else
		h->queue_head = r;
	h->queue_tail = r;
}

static void fail(struct dz_source *src, struct dz_src_req *r, int status)
{
	r->nvalid = 0;
	r->status = status;
	dz_src__complete(src, r);
}

/* A transfer failed in a way that may pass: retry later, or give up at the deadline. */
static void retry_later(struct dz_source *src, struct http_src *h, struct dz_src_req *r,
			const char *why)
{
	uint64_t now = dz_now_ns(), backoff = BACKOFF_MIN_NS;

	/* The timeout runs from the first failure of the server, not of this request: a dead
	 * server fails every request after `timeout`, not each one `timeout` later. */
	if (!h->t_failing)
		h->t_failing = now;
	if (!r->t_deadline)
		r->t_deadline = h->t_failing + src->timeout_ns;
	if (now >= r->t_deadline) {
		dz_src__set_error(src, "%s: gave up on page %llu after %.1f s: %s", src->uri,
				  (unsigned long long)r->page, (double)src->timeout_ns / 1e9, why);
		fail(src, r, -EIO);
		return;
	}
	dz_src__set_error(src, "%s: %s (retrying)", src->uri, why);
	for (unsigned int i = 1; i < r->attempts && backoff < BACKOFF_MAX_NS; i++)
		backoff *= 2;
	if (backoff > BACKOFF_MAX_NS)
		backoff = BACKOFF_MAX_NS;
	r->t_retry = now + backoff;
	if (r->t_retry > r->t_deadline)
		r->t_retry = r->t_deadline;
	r->bnext = h->retry;
	h->retry = r;
}

static void done(struct dz_source *src, struct http_src *h, CURLMsg *m)
{
	CURL *e = m->easy_handle;
	struct xfer *x = NULL;
	struct dz_src_req *r;
	CURLcode c = m->data.result;
	long code = 0;
	char why[CURL_ERROR_SIZE + 64];

	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	curl_multi_remove_handle(h->multi, e);
	h->active--;
	*x->pprev = x->next;
	if (x->next)
		x->next->pprev = x->pprev;
	r = x->req;
	r->bpriv = NULL;
	if (c != CURLE_OK)
		snprintf(why, sizeof(why), "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(c));
	else
		snprintf(why, sizeof(why), "HTTP %ld", code);
	free(x);
	if (h->nidle < MAX_ACTIVE)
		h->idle[h->nidle++] = e;
	else
		curl_easy_cleanup(e);

	/* A 200 with the whole object ends in a write error once we have our bytes. */
	if (c == CURLE_WRITE_ERROR && r->received == (size_t)r->npages * DZ_SRC_PAGE_SIZE)
		c = CURLE_OK;
	if (code == 200 && r->page != 0) {
		dz_src__set_error(src, "%s: the server ignores Range requests (HTTP 200 for page %llu)",
				  src->uri, (unsigned long long)r->page);
		fail(src, r, -EIO);
		return;
	}
	if (c != CURLE_OK) {
		retry_later(src, h, r, why);
		return;
	}
	if (code == 206 || code == 416 || (code == 200 && r->page == 0))
		h->t_failing = 0;	/* the server answers */
	if (code == 206 || (code == 200 && r->page == 0)) {
		r->nvalid = (uint32_t)(r->received / DZ_SRC_PAGE_SIZE);
		/* A body shorter than asked for, while the object (its size known from the
		 * HEAD) holds the next page, is a broken answer: ask again, lose nothing. */
		if (r->nvalid < r->npages && src->size &&
		    (r->page + r->nvalid + 1) * DZ_SRC_PAGE_SIZE <= src->size) {
			retry_later(src, h, r, "short body although the object is larger");
			return;
		}
		r->status = r->nvalid < r->npages ? -ENODATA : 0;
		if (r->status)
			dz_src__set_error(src, "%s: page %llu is past the end of the object (short body)",
					  src->uri, (unsigned long long)(r->page + r->nvalid));
		dz_src__complete(src, r);
	} else if (code == 416) {
		dz_src__set_error(src, "%s: page %llu is past the end of the object (HTTP 416)",
				  src->uri, (unsigned long long)r->page);
		fail(src, r, -ENODATA);
	} else if (code >= 500 || code == 429 || code == 408) {
		retry_later(src, h, r, why);
	} else {
		dz_src__set_error(src, "%s: page %llu: %s", src->uri, (unsigned long long)r->page, why);
		fail(src, r, -EIO);
	}
}

static void *http_thread(void *arg)
{
	struct dz_source *src = arg;
	struct http_src *h = src->priv;

	for (;;) {
		struct curl_waitfd wfd = { .fd = dz_src__wake_fd(src), .events = CURL_WAIT_POLLIN };
		struct dz_src_req *batch[64];
		uint64_t now, next = UINT64_MAX;
		long ct = -1;
		int n, running, msgs, timeout;
		CURLMsg *m;

		if (dz_src__stopping(src))
			break;
		dz_src__drain_wake(src);
		while ((n = dz_src__take(src, batch, 64)) > 0)
			for (int i = 0; i < n; i++) {
				/* Demand jumps ahead of queued prefetch. */
				push_queue(h, batch[i], batch[i]->prio == DZ_PRIO_DEMAND);
			}
		now = dz_now_ns();
		for (struct dz_src_req **pp = &h->retry; *pp;) {
			struct dz_src_req *r = *pp;

			if (r->t_retry <= now) {
				*pp = r->bnext;
				push_queue(h, r, r->prio == DZ_PRIO_DEMAND);
			} else {
				if (r->t_retry < next)
					next = r->t_retry;
				pp = &r->bnext;
			}
		}
		while (h->active < MAX_ACTIVE && h->queue_head) {
			struct dz_src_req *r = h->queue_head;

			h->queue_head = r->bnext;
			if (!h->queue_head)
				h->queue_tail = NULL;
			if (start(src, h, r))
				fail(src, r, -ENOMEM);
		}
		curl_multi_perform(h->multi, &running);
		while ((m = curl_multi_info_read(h->multi, &msgs)))
			if (m->msg == CURLMSG_DONE)
				done(src, h, m);
		if (h->queue_head && h->active < MAX_ACTIVE)
			continue;
		curl_multi_timeout(h->multi, &ct);
		now = dz_now_ns();
		timeout = 1000;
		if (ct >= 0 && ct < timeout)
			timeout = (int)ct;
		if (next != UINT64_MAX) {
			int t = next <= now ? 0 : (int)((next - now) / 1000000) + 1;

			if (t < timeout)
				timeout = t;
		}
		curl_multi_poll(h->multi, &wfd, 1, timeout, NULL);
	}
	/* Stopping: hand back everything, in flight or waiting. */
	while (h->xfers) {
		struct xfer *x = h->xfers;

		h->xfers = x->next;
		curl_multi_remove_handle(h->multi, x->req->bpriv);
		curl_easy_cleanup(x->req->bpriv);
		x->req->bpriv = NULL;
		fail(src, x->req, -ESHUTDOWN);
		free(x);
	}
	while (h->queue_head) {
		struct dz_src_req *r = h->queue_head;

		h->queue_head = r->bnext;
		fail(src, r, -ESHUTDOWN);
	}
	while (h->retry) {
		struct dz_src_req *r = h->retry;

		h->retry = r->bnext;
		fail(src, r, -ESHUTDOWN);
	}
	return NULL;
}

static void http_close(struct dz_source *src)
{
	struct http_src *h = src->priv;

	if (!h)
		return;
	curl_multi_cleanup(h->multi);
	for (int i = 0; i < h->nidle; i++)
		curl_easy_cleanup(h->idle[i]);
	free(h->url);
	free(h);
	src->priv = NULL;
}

const struct dz_source_ops dz_source_http_ops = {
	.scheme = "http",
	.open = http_open,
	.thread = http_thread,
	.close = http_close,
};
