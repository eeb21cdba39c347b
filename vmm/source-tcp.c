// SPDX-License-Identifier: GPL-2.0
/*
 * tcp://HOST:PORT — pages from `doze pageserver` (protocol in pageproto.h).
 *
 * One connection, many requests in flight (pipelined). When the connection
 * drops or stalls, the client reconnects with exponential backoff and sends
 * again every request that had no answer yet; a request that could not be
 * served for `timeout` completes with -EIO and its pages are lost. The whole
 * state machine runs on the source's I/O thread with non-blocking sockets,
 * so closing the source never waits for the network.
 *
 * One bad request (a page whose answer always kills the connection) must not
 * take the requests pipelined behind it down with it. A request that was on
 * the wire when the connection failed is a suspect: suspects go out again one
 * at a time on an otherwise empty connection, those that failed least often
 * first, while new requests pipeline as usual. A failure with a single request
 * on the wire is that request's own: it backs off (per request), not the
 * connection. And when a request is given up on while the server kept
 * accepting connections, the server is not dead: the others keep their time.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pageproto.h"
#include "source-impl.h"
#include "stats.h"

#define BACKOFF_MIN_NS	(10ull * 1000000)
#define BACKOFF_MAX_NS	(1000ull * 1000000)
#define OUTBUF_REQS	256

enum conn_state { DISCONNECTED, CONNECTING, HELLO, UP };

struct tcp_src {
	char *hostport;
	struct sockaddr_storage ss;
	unsigned int sslen;
	int fd;
	enum conn_state state;
	uint64_t t_state;		/* when the current state began */
	uint64_t t_next_connect;
	uint64_t backoff_ns;
	uint64_t t_last_rx;
	uint64_t t_down;		/* when the server became unreachable (0 = it is up) */
	uint64_t t_last_up;		/* when a connection last came up (hello) */
	unsigned int lone_failures;	/* failures with one request on the wire since an answer */
	struct dz_src_req *probe;	/* a suspect on the wire, alone: nothing joins it */
	uint64_t next_id;
	char why[160];			/* why the connection was lost */

	struct dz_src_req *send_head, *send_tail;	/* not sent yet */
	struct dz_src_req *inflight_head, *inflight_tail;	/* sent, awaiting the answer */

	struct dz_pp_req out[OUTBUF_REQS];
	size_t out_len, out_off;	/* bytes */

	union {
		struct dz_pp_resp resp;
		struct dz_pp_hello hello;
		char raw[24];
	} hdr;
	size_t hdr_got;
	struct dz_src_req *rx_req;	/* receiving this request's data */
	size_t rx_want, rx_got;
};

static void push(struct dz_src_req **h, struct dz_src_req **t, struct dz_src_req *r)
{
	r->bnext = NULL;
	if (*t)
		(*t)->bnext = r;
	else
		*h = r;
	*t = r;
}

static int read_hello_sync(int fd, uint64_t timeout_ns, struct dz_pp_hello *h)
{
	size_t got = 0;
	uint64_t end = dz_now_ns() + timeout_ns;

	while (got < sizeof(*h)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = dz_now_ns();
		ssize_t n;

		if (now >= end)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)((end - now) / 1000000) + 1) <= 0)
			continue;
		n = recv(fd, (char *)h + got, sizeof(*h) - got, 0);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (n > 0)
			got += (size_t)n;
	}
	return 0;
}

static int check_hello(struct dz_source *src, const struct dz_pp_hello *h, char *err, size_t errlen)
{
	if (h->magic != DZ_PP_HELLO_MAGIC || h->version != DZ_PP_VERSION) {
		snprintf(err, errlen, "%s: not a doze page server (bad hello)", src->uri);
		return -EPROTO;
	}
	if (h->page_size != DZ_SRC_PAGE_SIZE || h->max_pages == 0) {
		snprintf(err, errlen, "%s: page server uses %u-byte pages, doze needs %u", src->uri,
			 h->page_size, DZ_SRC_PAGE_SIZE);
		return -EPROTO;
	}
	src->size = h->file_size;
	return 0;
}

static int tcp_open(struct dz_source *src, const char *target, char *err, size_t errlen)
{
	struct tcp_src *t;
	struct dz_pp_hello h;
	uint64_t t0;
	int r, one = 1;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fd = -1;
	t->hostport = strdup(target);
	if (!t->hostport) {
		r = -ENOMEM;
		goto fail;
	}
	r = dz_src__resolve(target, &t->ss, &t->sslen);
	if (r) {
		snprintf(err, errlen, "%s: cannot resolve '%s' (want HOST:PORT)", src->uri, target);
		goto fail;
	}
	t0 = dz_now_ns();
	r = dz_src__connect(&t->ss, t->sslen, src->connect_timeout_ns);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot connect: %s", src->uri, strerror(-r));
		goto fail;
	}
	t->fd = r;
	r = read_hello_sync(t->fd, src->connect_timeout_ns, &h);
	if (r) {
		snprintf(err, errlen, "%s: no hello from the page server: %s", src->uri, strerror(-r));
		goto fail;
	}
	r = check_hello(src, &h, err, errlen);
	if (r)
		goto fail;
	setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	src->seed_latency_ns = dz_now_ns() - t0;	/* a connect + hello round trip */
	t->state = UP;
	t->t_last_rx = dz_now_ns();
	t->backoff_ns = BACKOFF_MIN_NS;
	src->priv = t;
	return 0;
fail:
	if (t->fd >= 0)
		close(t->fd);
	free(t->hostport);
	free(t);
	return r;
}

/* Insertion sort of the send queue by attempts (short after a failure). */
static void sort_by_attempts(struct tcp_src *t)
{
	struct dz_src_req *sorted = NULL, *tail = NULL, *r, *next;

	for (r = t->send_head; r; r = next) {
		struct dz_src_req **pp = &sorted;

		next = r->bnext;
		while (*pp && (*pp)->attempts <= r->attempts)
			pp = &(*pp)->bnext;
		r->bnext = *pp;
		*pp = r;
	}
	for (r = sorted; r; r = r->bnext)
		tail = r;
	t->send_head = sorted;
	t->send_tail = tail;
}

/* Drops the connection: every request without an answer will be sent again. */
static void disconnect(struct dz_source *src, struct tcp_src *t, const char *why, int err)
{
	uint64_t now = dz_now_ns();
	struct dz_src_req *r;

	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	snprintf(t->why, sizeof(t->why), "%s%s%s", why, err ? ": " : "", err ? strerror(err) : "");
	dz_src__set_error(src, "%s: connection lost (%s)", src->uri, t->why);
	t->state = DISCONNECTED;
	t->probe = NULL;
	if (!t->t_down)
		t->t_down = now;
	/* The request whose answer was half received is in flight too. */
	if (t->rx_req) {
		t->rx_req->bnext = t->inflight_head;
		t->inflight_head = t->rx_req;
		if (!t->inflight_tail)
			t->inflight_tail = t->rx_req;
		t->rx_req = NULL;
	}
	if (t->inflight_head && t->inflight_head == t->inflight_tail && t->t_last_up) {
		/* one request alone on a connection that came up: it backs off itself;
		 * twice in a row without an answer between, the connection does too */
		struct dz_src_req *r = t->inflight_head;
		unsigned int sh = r->attempts > 7 ? 7 : r->attempts;

		r->t_retry = now + (BACKOFF_MIN_NS << sh > BACKOFF_MAX_NS ? BACKOFF_MAX_NS
									 : BACKOFF_MIN_NS << sh);
		if (!t->lone_failures++) {
			t->t_next_connect = now;
		} else {
			t->t_next_connect = now + t->backoff_ns;
			t->backoff_ns = t->backoff_ns * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS
									  : t->backoff_ns * 2;
		}
	} else {
		/* The backoff is reset by an answer (finish_rx), not by a connect: a
		 * server that accepts and then drops every time is retried ever more
		 * slowly. */
		t->t_next_connect = now + t->backoff_ns;
		t->backoff_ns = t->backoff_ns * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : t->backoff_ns * 2;
	}
	/* In-flight requests go back to the front of the send queue, those sent
	 * fewest times first (stable): a request that keeps killing the connection
	 * sinks behind the ones that only travelled with it. */
	if (t->inflight_head) {
		t->inflight_tail->bnext = t->send_head;
		if (!t->send_head)
			t->send_tail = t->inflight_tail;
		t->send_head = t->inflight_head;
		t->inflight_head = t->inflight_tail = NULL;
		sort_by_attempts(t);
	}
	for (r = t->send_head; r; r = r->bnext)
		if (!r->t_deadline)
			r->t_deadline = t->t_down + src->timeout_ns;
	t->out_len = t->out_off = 0;
	t->hdr_got = 0;
	t->rx_req = NULL;
}

static void start_connect(struct dz_source *src, struct tcp_src *t)
{
	int fd, r;

	fd = socket(t->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		disconnect(src, t, "socket", errno);
		return;
	}
	r = connect(fd, (struct sockaddr *)&t->ss, t->sslen);
	t->fd = fd;
	t->t_state = dz_now_ns();
	dz_src__count_retry(src, true);
	if (r && errno != EINPROGRESS) {
		disconnect(src, t, "connect", errno);
		return;
	}
	t->state = CONNECTING;
}

/* Completes every queued request whose deadline passed while the server was away. */
static void expire(struct dz_source *src, struct tcp_src *t, uint64_t now)
{
	struct dz_src_req **pp = &t->send_head, *prev = NULL;
	bool own_fault = false;

	while (*pp) {
		struct dz_src_req *r = *pp;

		if (!r->t_deadline || r->t_deadline > now) {
			prev = r;
			pp = &r->bnext;
			continue;
		}
		*pp = r->bnext;
		if (t->send_tail == r)
			t->send_tail = prev;
		/* the server came up again after this request first failed */
		if (t->t_last_up > r->t_deadline - src->timeout_ns)
			own_fault = true;
		r->nvalid = 0;
		r->status = -EIO;
		dz_src__set_error(src, "%s: gave up after %.1f s: %s", src->uri,
				  (double)src->timeout_ns / 1e9, t->why[0] ? t->why : "no answer");
		dz_src__complete(src, r);
	}
	if (own_fault && t->state != UP) {
		/* not a dead server: whoever waits now gets its own timeout, soon */
		t->t_down = now;
		for (struct dz_src_req *r = t->send_head; r; r = r->bnext)
			if (r->t_deadline)
				r->t_deadline = now + src->timeout_ns;
		t->backoff_ns = BACKOFF_MIN_NS;
		if (t->t_next_connect > now)
			t->t_next_connect = now;
	}
}

static void take_new(struct dz_source *src, struct tcp_src *t)
{
	struct dz_src_req *batch[64];
	uint64_t now = dz_now_ns();
	int n;

	while ((n = dz_src__take(src, batch, 64)) > 0) {
		for (int i = 0; i < n; i++) {
			struct dz_src_req *r = batch[i];

			r->id = ++t->next_id;
			/* While the server is away, a request gets what is left of the timeout
			 * that started when it went away: a dead server fails every request
			 * after `timeout`, not each one `timeout` after it was made. */
			if (t->state != UP)
				r->t_deadline = (t->t_down ? t->t_down : now) + src->timeout_ns;
			/* Demand jumps the local queue too; prefetch keeps its order. */
			if (r->prio == DZ_PRIO_DEMAND && t->send_head) {
				struct dz_src_req **pp = &t->send_head;

				while (*pp && (*pp)->prio == DZ_PRIO_DEMAND)
					pp = &(*pp)->bnext;
				r->bnext = *pp;
				*pp = r;
				if (!r->bnext)
					t->send_tail = r;
			} else {
				push(&t->send_head, &t->send_tail, r);
			}
		}
	}
}

static void do_send(struct dz_source *src, struct tcp_src *t)
{
	/* Refill the output buffer from the send queue (not while a probe is out). */
	if (t->out_off == t->out_len && !t->probe) {
		bool was_idle = !t->inflight_head;
		size_t n = 0;

		struct dz_src_req **pp = &t->send_head, *prev = NULL;
		uint64_t now = dz_now_ns();

		t->out_len = t->out_off = 0;
		while (*pp && n < OUTBUF_REQS) {
			struct dz_src_req *r = *pp;

			if (r->attempts) {
				/* a suspect (see the top): later, or alone on an empty wire */
				if (r->t_retry > now) {
					prev = r;
					pp = &r->bnext;
					continue;
				}
				if (n || t->inflight_head)
					break;
			}
			*pp = r->bnext;
			if (t->send_tail == r)
				t->send_tail = prev;
			t->out[n++] = (struct dz_pp_req){ .magic = DZ_PP_REQ_MAGIC,
							  .count = r->npages,
							  .id = r->id,
							  .page = r->page };
			if (r->attempts++) {
				dz_src__count_retry(src, false);
				push(&t->inflight_head, &t->inflight_tail, r);
				t->probe = r; /* a suspect goes alone */
				break;
			}
			push(&t->inflight_head, &t->inflight_tail, r);
		}
		t->out_len = n * sizeof(t->out[0]);
		if (n && was_idle)
			t->t_last_rx = dz_now_ns();	/* the stall clock starts with the first request */
	}
	while (t->out_off < t->out_len) {
		ssize_t n = send(t->fd, (char *)t->out + t->out_off, t->out_len - t->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				disconnect(src, t, "send", errno);
			return;
		}
		t->out_off += (size_t)n;
	}
}

static struct dz_src_req *find_inflight(struct tcp_src *t, uint64_t id)
{
	struct dz_src_req **pp = &t->inflight_head, *prev = NULL;

	for (; *pp; prev = *pp, pp = &(*pp)->bnext) {
		struct dz_src_req *r = *pp;

		if (r->id != id)
			continue;
		*pp = r->bnext;
		if (t->inflight_tail == r)
			t->inflight_tail = prev;
		r->bnext = NULL;
		return r;
	}
	return NULL;
}

static void finish_rx(struct dz_source *src, struct tcp_src *t)
{
	struct dz_src_req *r = t->rx_req;

	r->nvalid = t->hdr.resp.nvalid;
	r->status = t->hdr.resp.status;
	if (r->nvalid < r->npages && r->status == 0)
		r->status = -EIO;
	if (r->status == -ENODATA)
		dz_src__set_error(src, "%s: the page server has no page %llu (past the end of its file)",
				  src->uri, (unsigned long long)(r->page + r->nvalid));
	else if (r->status)
		dz_src__set_error(src, "%s: the page server answered %s for page %llu", src->uri,
				  strerror(-r->status), (unsigned long long)(r->page + r->nvalid));
	t->rx_req = NULL;
	t->hdr_got = 0;
	t->backoff_ns = BACKOFF_MIN_NS;
	t->lone_failures = 0;
	if (t->probe == r)
		t->probe = NULL;
	dz_src__complete(src, r);
}

static void do_recv(struct dz_source *src, struct tcp_src *t)
{
	for (int rounds = 0; rounds < 64; rounds++) {
		ssize_t n;

		if (t->rx_req) {
			n = recv(t->fd, (char *)t->rx_req->buf + t->rx_got, t->rx_want - t->rx_got,
				 MSG_DONTWAIT);
		} else {
			size_t want = t->state == HELLO ? sizeof(t->hdr.hello) : sizeof(t->hdr.resp);

			n = recv(t->fd, t->hdr.raw + t->hdr_got, want - t->hdr_got, MSG_DONTWAIT);
		}
		if (n == 0) {
			disconnect(src, t, "closed by the page server", 0);
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				disconnect(src, t, "recv", errno);
			return;
		}
		t->t_last_rx = dz_now_ns();
		if (t->rx_req) {
			t->rx_got += (size_t)n;
			if (t->rx_got == t->rx_want)
				finish_rx(src, t);
			continue;
		}
		t->hdr_got += (size_t)n;
		if (t->state == HELLO) {
			char err[256];

			if (t->hdr_got < sizeof(t->hdr.hello))
				continue;
			if (check_hello(src, &t->hdr.hello, err, sizeof(err))) {
				disconnect(src, t, "bad hello", 0);
				return;
			}
			/* Deadlines stay: a server that accepts, then stalls again, must not keep
			 * a request alive forever. */
			t->state = UP;
			t->t_down = 0;
			t->t_last_up = dz_now_ns();
			t->hdr_got = 0;
			continue;
		}
		if (t->hdr_got < sizeof(t->hdr.resp))
			continue;
		if (t->hdr.resp.magic != DZ_PP_RESP_MAGIC) {
			disconnect(src, t, "protocol error (bad response magic)", 0);
			return;
		}
		t->rx_req = find_inflight(t, t->hdr.resp.id);
		/* fewer pages than asked with status 0 says nothing about the missing ones:
		 * a broken answer to send again, not pages to declare lost */
		if (!t->rx_req || t->hdr.resp.count != t->rx_req->npages ||
		    t->hdr.resp.nvalid > t->hdr.resp.count ||
		    (t->hdr.resp.nvalid < t->hdr.resp.count && t->hdr.resp.status == 0)) {
			if (t->rx_req)	/* keep it for the resend */
				push(&t->inflight_head, &t->inflight_tail, t->rx_req);
			t->rx_req = NULL;
			disconnect(src, t, "protocol error (unexpected response)", 0);
			return;
		}
		t->rx_want = (size_t)t->hdr.resp.nvalid * DZ_SRC_PAGE_SIZE;
		t->rx_got = 0;
		if (t->rx_want == 0)
			finish_rx(src, t);
	}
}

static void fail_all(struct dz_source *src, struct tcp_src *t, int status)
{
	struct dz_src_req *lists[2] = { t->send_head, t->inflight_head };

	if (t->rx_req) {
		t->rx_req->status = status;
		t->rx_req->nvalid = 0;
		dz_src__complete(src, t->rx_req);
		t->rx_req = NULL;
	}
	for (int i = 0; i < 2; i++) {
		for (struct dz_src_req *r = lists[i], *n; r; r = n) {
			n = r->bnext;
			r->status = status;
			r->nvalid = 0;
			dz_src__complete(src, r);
		}
	}
	t->send_head = t->send_tail = t->inflight_head = t->inflight_tail = NULL;
}

/*
 * While disconnected: when to connect again, UINT64_MAX if nothing waits. Not
 * before the backoff, nor before the first queued request may be sent
 * (suspects wait for their own retry).
 */
static uint64_t connect_at(const struct tcp_src *t, uint64_t now)
{
	uint64_t when = UINT64_MAX;

	for (const struct dz_src_req *r = t->send_head; r; r = r->bnext) {
		uint64_t w = r->attempts && r->t_retry > now ? r->t_retry : now;

		if (w < when)
			when = w;
		if (when == now)
			break;
	}
	if (when != UINT64_MAX && when < t->t_next_connect)
		when = t->t_next_connect;
	return when;
}

static void *tcp_thread(void *arg)
{
	struct dz_source *src = arg;
	struct tcp_src *t = src->priv;

	for (;;) {
		struct pollfd p[2] = { { .fd = dz_src__wake_fd(src), .events = POLLIN },
				       { .fd = t->fd, .events = 0 } };
		uint64_t now, next = UINT64_MAX;
		int timeout;

		if (dz_src__stopping(src))
			break;
		dz_src__drain_wake(src);
		take_new(src, t);
		now = dz_now_ns();
		switch (t->state) {
		case DISCONNECTED: {
			uint64_t when;

			expire(src, t, now);
			when = connect_at(t, now);
			if (when == UINT64_MAX)
				break;	/* reconnect only when there is work */
			if (now >= when)
				start_connect(src, t);
			else
				next = when;
			break;
		}
		case CONNECTING:
		case HELLO:
			expire(src, t, now);
			if (now - t->t_state > src->connect_timeout_ns)
				disconnect(src, t, "connect", ETIMEDOUT);
			else
				next = t->t_state + src->connect_timeout_ns;
			break;
		case UP:
			expire(src, t, now);
			if (t->send_head || t->out_off < t->out_len)
				do_send(src, t);
			/* A server that accepts requests but never answers counts as gone. */
			if (t->state == UP && t->inflight_head) {
				now = dz_now_ns();
				if (now > t->t_last_rx && now - t->t_last_rx > src->timeout_ns)
					disconnect(src, t, "no answer", ETIMEDOUT);
				else
					next = t->t_last_rx + src->timeout_ns;
			}
			break;
		}
		/* The state may have changed above: wake for its next step too. */
		if (t->state == DISCONNECTED) {
			uint64_t when = connect_at(t, now);

			if (when < next)
				next = when;
		}
		if ((t->state == CONNECTING || t->state == HELLO) &&
		    t->t_state + src->connect_timeout_ns < next)
			next = t->t_state + src->connect_timeout_ns;
		/* Deadlines of queued requests, and suspects waiting for their retry. */
		for (struct dz_src_req *r = t->send_head; r; r = r->bnext) {
			if (r->t_deadline && r->t_deadline < next)
				next = r->t_deadline;
			if (t->state == UP && r->attempts && r->t_retry > now && r->t_retry < next)
				next = r->t_retry;
		}
		p[1].fd = t->fd;
		if (t->state == CONNECTING)
			p[1].events = POLLOUT;
		else if (t->state != DISCONNECTED)
			p[1].events = POLLIN | (t->out_off < t->out_len ? POLLOUT : 0);
		now = dz_now_ns();
		timeout = next == UINT64_MAX ? -1 : next <= now ? 0 : (int)((next - now) / 1000000) + 1;
		if (poll(p, 2, timeout) < 0)
			continue;
		if (t->fd < 0 || !p[1].revents)
			continue;
		if (t->state == CONNECTING) {
			int e = 0;
			socklen_t el = sizeof(e);

			getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &e, &el);
			if (e) {
				disconnect(src, t, "connect", e);
			} else {
				int one = 1;

				setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				t->state = HELLO;
				t->t_state = dz_now_ns();
				t->hdr_got = 0;
			}
			continue;
		}
		if (p[1].revents & (POLLIN | POLLERR | POLLHUP))
			do_recv(src, t);
		if (t->state == UP && (p[1].revents & POLLOUT))
			do_send(src, t);
	}
	fail_all(src, t, -ESHUTDOWN);
	return NULL;
}

static void tcp_close(struct dz_source *src)
{
	struct tcp_src *t = src->priv;

	if (!t)
		return;
	if (t->fd >= 0)
		close(t->fd);
	free(t->hostport);
	free(t);
	src->priv = NULL;
}

const struct dz_source_ops dz_source_tcp_ops = {
	.scheme = "tcp",
	.open = tcp_open,
	.thread = tcp_thread,
	.close = tcp_close,
};
