// SPDX-License-Identifier: GPL-2.0
/*
 * Page sources: URI parsing, the request queues shared by every backend, the
 * latency model, and completion delivery through a timerfd.
 *
 * Why a timerfd: a completion is delivered at max(backend done, modelled due
 * time). One timerfd armed at the earliest such time (or "now" when one is
 * already due) gives the caller a single pollable fd for both cases, and the
 * model never holds back the other requests.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "source-impl.h"
#include "stats.h"

#define DEFAULT_TIMEOUT_NS		(10ull * 1000000000ull)
#define DEFAULT_CONNECT_TIMEOUT_NS	(3ull * 1000000000ull)

/* ---- parsers ---- */

static int parse_number(const char *s, double *v, const char **unit)
{
	char *end;

	if (!s || !*s || isspace((unsigned char)*s) || *s == '-')
		return -EINVAL;
	errno = 0;
	*v = strtod(s, &end);
	if (errno || end == s || !isfinite(*v) || *v < 0)
		return -EINVAL;
	*unit = end;
	return 0;
}

int dz_parse_duration_ns(const char *s, uint64_t *ns)
{
	static const struct {
		const char *u;
		double mul;
	} units[] = { { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "", 1e6 } };
	const char *u;
	double v;

	if (parse_number(s, &v, &u))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(u, units[i].u))
			continue;
		if (v * units[i].mul > 1e18)
			return -EINVAL;
		*ns = (uint64_t)llround(v * units[i].mul);
		return 0;
	}
	return -EINVAL;
}

int dz_parse_rate_bps(const char *s, uint64_t *bps)
{
	static const struct {
		const char *u;
		double mul;	/* to bytes per second */
	} units[] = {
		{ "bit", 1.0 / 8 }, { "kbit", 1e3 / 8 }, { "mbit", 1e6 / 8 }, { "gbit", 1e9 / 8 },
		{ "B", 1 },	    { "KB", 1e3 },	 { "MB", 1e6 },		{ "GB", 1e9 },
		{ "KiB", 1024.0 },  { "MiB", 1048576.0 }, { "GiB", 1073741824.0 },
	};
	char unit[16];
	const char *u;
	double v;
	size_t n;

	if (parse_number(s, &v, &u))
		return -EINVAL;
	n = strlen(u);
	if (n >= 2 && !strcmp(u + n - 2, "/s"))
		n -= 2;
	if (n == 0 || n >= sizeof(unit))
		return -EINVAL;
	memcpy(unit, u, n);
	unit[n] = 0;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		/* bit units are case-insensitive (Gbit, gbit); byte units are not (MB vs Mb). */
		bool bits = strstr(units[i].u, "bit") != NULL;

		if (bits ? strcasecmp(unit, units[i].u) : strcmp(unit, units[i].u))
			continue;
		if (v * units[i].mul < 1 || v * units[i].mul > 1e15)
			return -EINVAL;
		*bps = (uint64_t)llround(v * units[i].mul);
		return 0;
	}
	return -EINVAL;
}

int dz_parse_size(const char *s, uint64_t *bytes)
{
	const char *u;
	double v, mul = 1;

	if (parse_number(s, &v, &u))
		return -EINVAL;
	switch (toupper((unsigned char)*u)) {
	case 0:
		break;
	case 'K':
		mul = 1024.0;
		break;
	case 'M':
		mul = 1048576.0;
		break;
	case 'G':
		mul = 1073741824.0;
		break;
	case 'T':
		mul = 1099511627776.0;
		break;
	default:
		return -EINVAL;
	}
	if (*u) {
		u++;
		if (!strcmp(u, "iB") || !strcmp(u, "B"))
			u += strlen(u);
		if (*u)
			return -EINVAL;
	}
	if (v * mul > 1.8e19 || v * mul != floor(v * mul))
		return -EINVAL;
	*bytes = (uint64_t)(v * mul);
	return 0;
}

/* ---- networking helpers for the backends ---- */

int dz_src__resolve(const char *hostport, struct sockaddr_storage *ss, unsigned int *sslen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	char host[256];
	const char *colon, *h = hostport;
	size_t hl;
	int r;

	colon = strrchr(hostport, ':');
	if (!colon || !colon[1])
		return -EINVAL;
	if (*h == '[') {	/* [::1]:port */
		h++;
		if (colon[-1] != ']')
			return -EINVAL;
		hl = (size_t)(colon - 1 - h);
	} else {
		hl = (size_t)(colon - h);
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = 0;
	for (const char *p = colon + 1; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
	if (atoi(colon + 1) < 0 || atoi(colon + 1) > 65535)
		return -EINVAL;
	r = getaddrinfo(host, colon + 1, &hints, &ai);
	if (r)
		return -EHOSTUNREACH;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

int dz_src__connect(const struct sockaddr_storage *ss, unsigned int sslen, uint64_t timeout_ns)
{
	struct pollfd p;
	socklen_t el = sizeof(int);
	int fd, r, e = 0;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)ss, sslen);
	if (r && errno != EINPROGRESS) {
		e = -errno;
		goto fail;
	}
	if (r) {
		p = (struct pollfd){ .fd = fd, .events = POLLOUT };
		r = poll(&p, 1, (int)(timeout_ns / 1000000) + 1);
		if (r == 0) {
			e = -ETIMEDOUT;
			goto fail;
		}
		if (r < 0) {
			e = -errno;
			goto fail;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) || e) {
			e = e ? -e : -errno;
			goto fail;
		}
	}
	return fd;
fail:
	close(fd);
	return e;
}

/* ---- request queues ---- */

static void arm_locked(struct dz_source *src)
{
	struct itimerspec its = { 0 };
	uint64_t t = 0;

	if (src->ready_head)
		t = 1;	/* absolute time 1 ns: already passed, fires at once */
	else if (src->held)
		t = src->held->t_due ? src->held->t_due : 1;
	its.it_value.tv_sec = (time_t)(t / 1000000000ull);
	its.it_value.tv_nsec = (long)(t % 1000000000ull);
	timerfd_settime(src->done_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void push_ready_locked(struct dz_source *src, struct dz_src_req *r)
{
	r->next = NULL;
	if (src->ready_tail)
		src->ready_tail->next = r;
	else
		src->ready_head = r;
	src->ready_tail = r;
}

/* Moves the held completions whose modelled time has come to the ready list. */
static void release_due_locked(struct dz_source *src, uint64_t now)
{
	while (src->held && src->held->t_due <= now) {
		struct dz_src_req *r = src->held;

		src->held = r->next;
		push_ready_locked(src, r);
	}
}

int dz_src__take(struct dz_source *src, struct dz_src_req **out, int max)
{
	int n = 0;

	pthread_mutex_lock(&src->lock);
	for (int p = 0; p < DZ_PRIO_NR && n < max; p++) {
		while (src->pend_head[p] && n < max) {
			struct dz_src_req *r = src->pend_head[p];

			src->pend_head[p] = r->next;
			if (!src->pend_head[p])
				src->pend_tail[p] = NULL;
			r->next = NULL;
			out[n++] = r;
		}
	}
	pthread_mutex_unlock(&src->lock);
	return n;
}

void dz_src__complete(struct dz_source *src, struct dz_src_req *req)
{
	uint64_t now = dz_now_ns(), lat = now - req->t_submit;

	pthread_mutex_lock(&src->lock);
	src->ctr.completed++;
	src->ctr.pages_ok += req->nvalid;
	src->ctr.pages_failed += req->npages - req->nvalid;
	src->ctr.bytes += (uint64_t)req->nvalid * DZ_SRC_PAGE_SIZE;
	if (req->npages == 1 && req->status == 0)
		src->ewma_ns = src->ewma_ns ? (src->ewma_ns * 7 + lat) / 8 : lat;
	if (req->t_due > now && req->status != -ECANCELED && req->status != -ESHUTDOWN) {
		struct dz_src_req **pp = &src->held;

		while (*pp && (*pp)->t_due <= req->t_due)
			pp = &(*pp)->next;
		req->next = *pp;
		*pp = req;
	} else {
		push_ready_locked(src, req);
	}
	arm_locked(src);
	pthread_mutex_unlock(&src->lock);
}

bool dz_src__stopping(struct dz_source *src)
{
	bool s;

	pthread_mutex_lock(&src->lock);
	s = src->stopping;
	pthread_mutex_unlock(&src->lock);
	return s;
}

int dz_src__wake_fd(struct dz_source *src)
{
	return src->wake_fd;
}

void dz_src__drain_wake(struct dz_source *src)
{
	uint64_t v;

	if (read(src->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
}

void dz_src__set_error(struct dz_source *src, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&src->lock);
	va_start(ap, fmt);
	vsnprintf(src->err, sizeof(src->err), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&src->lock);
}

void dz_src__count_retry(struct dz_source *src, bool reconnect)
{
	pthread_mutex_lock(&src->lock);
	if (reconnect)
		src->ctr.reconnects++;
	else
		src->ctr.retries++;
	pthread_mutex_unlock(&src->lock);
}

static void wake(struct dz_source *src)
{
	uint64_t one = 1;

	if (write(src->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return;
}

/* ---- public API ---- */

static int parse_query(struct dz_source *src, char *q, char *err, size_t errlen)
{
	char *save = NULL;

	for (char *kv = strtok_r(q, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		char *v = strchr(kv, '=');
		int r = -EINVAL;

		if (!v) {
			snprintf(err, errlen, "%s: option '%s' needs a value", src->uri, kv);
			return -EINVAL;
		}
		*v++ = 0;
		if (!strcmp(kv, "latency"))
			r = dz_parse_duration_ns(v, &src->latency_ns);
		else if (!strcmp(kv, "bandwidth"))
			r = dz_parse_rate_bps(v, &src->rate_bps);
		else if (!strcmp(kv, "timeout"))
			r = dz_parse_duration_ns(v, &src->timeout_ns);
		else if (!strcmp(kv, "connect_timeout"))
			r = dz_parse_duration_ns(v, &src->connect_timeout_ns);
		else {
			snprintf(err, errlen,
				 "%s: unknown option '%s' (latency, bandwidth, timeout, connect_timeout)",
				 src->uri, kv);
			return -EINVAL;
		}
		if (r) {
			snprintf(err, errlen, "%s: bad value '%s' for %s", src->uri, v, kv);
			return -EINVAL;
		}
	}
	if (src->timeout_ns == 0 || src->connect_timeout_ns == 0) {
		snprintf(err, errlen, "%s: timeouts must be > 0", src->uri);
		return -EINVAL;
	}
	return 0;
}

int dz_source__open(const char *uri, const struct dz_source_opts *opts, struct dz_source **out,
		    char *err, size_t errlen)
{
	struct dz_source *src;
	const char *target;
	char *copy = NULL, *q;
	int r;

	*out = NULL;
	if (errlen)
		err[0] = 0;
	src = calloc(1, sizeof(*src));
	if (!src)
		return -ENOMEM;
	src->uri = strdup(uri ? uri : "");
	src->done_fd = src->wake_fd = -1;
	src->timeout_ns = DEFAULT_TIMEOUT_NS;
	src->connect_timeout_ns = DEFAULT_CONNECT_TIMEOUT_NS;
	if (opts)
		src->opts = *opts;
	pthread_mutex_init(&src->lock, NULL);
	if (!src->uri) {
		r = -ENOMEM;
		goto fail;
	}
	copy = strdup(src->uri);
	if (!copy) {
		r = -ENOMEM;
		goto fail;
	}
	if (!strncmp(copy, "file:", 5)) {
		src->ops = &dz_source_file_ops;
		target = copy + 5;
		if (!strncmp(target, "//", 2))	/* file:///abs/path */
			target += 2;
	} else if (!strncmp(copy, "tcp://", 6)) {
		src->ops = &dz_source_tcp_ops;
		target = copy + 6;
	} else if (!strncmp(copy, "http://", 7) || !strncmp(copy, "https://", 8)) {
		src->ops = &dz_source_http_ops;
		target = copy;
	} else {
		snprintf(err, errlen, "'%s': unknown page source (use file:PATH, tcp://HOST:PORT or http://HOST:PORT/PATH)",
			 src->uri);
		r = -EINVAL;
		goto fail;
	}
	q = strrchr(target, '?');
	if (q) {
		*q++ = 0;
		r = parse_query(src, q, err, errlen);
		if (r)
			goto fail;
	}
	if (!*target) {
		snprintf(err, errlen, "'%s': missing %s", src->uri,
			 src->ops == &dz_source_file_ops ? "path" : "address");
		r = -EINVAL;
		goto fail;
	}
	src->done_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	src->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (src->done_fd < 0 || src->wake_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", src->uri, strerror(-r));
		goto fail;
	}
	r = src->ops->open(src, target, err, errlen);
	if (r)
		goto fail_noclose;
	r = pthread_create(&src->thread, NULL, src->ops->thread, src);
	if (r) {
		r = -r;
		snprintf(err, errlen, "%s: cannot start its I/O thread: %s", src->uri, strerror(-r));
		src->ops->close(src);
		goto fail_noclose;
	}
	src->started = true;
	free(copy);
	*out = src;
	return 0;
fail:
	/* The backend was not opened: nothing of its to close. */
fail_noclose:
	if (src->done_fd >= 0)
		close(src->done_fd);
	if (src->wake_fd >= 0)
		close(src->wake_fd);
	pthread_mutex_destroy(&src->lock);
	free(copy);
	free(src->uri);
	free(src);
	return r;
}

int dz_source__submit(struct dz_source *src, uint64_t cookie, uint64_t page, uint32_t npages,
		      void *buf, enum dz_src_prio prio)
{
	struct dz_src_req *r;
	uint64_t now, start, bytes;

	if (!npages || npages > DZ_SRC_MAX_PAGES || !buf || (unsigned int)prio >= DZ_PRIO_NR ||
	    page > UINT64_MAX / DZ_SRC_PAGE_SIZE - npages)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	now = dz_now_ns();
	r->cookie = cookie;
	r->page = page;
	r->npages = npages;
	r->buf = buf;
	r->prio = prio;
	r->t_submit = now;
	pthread_mutex_lock(&src->lock);
	if (src->stopping) {
		pthread_mutex_unlock(&src->lock);
		free(r);
		return -ESHUTDOWN;
	}
	/*
	 * The latency model of an object store: the first byte comes `latency`
	 * after the request (requests overlap), then the bytes share one link of
	 * `bandwidth`, in request order.
	 */
	if (src->latency_ns || src->rate_bps) {
		bytes = (uint64_t)npages * DZ_SRC_PAGE_SIZE;
		start = now + src->latency_ns;
		if (src->rate_bps) {
			if (src->link_free_ns > start)
				start = src->link_free_ns;
			start += (uint64_t)((double)bytes * 1e9 / (double)src->rate_bps);
			src->link_free_ns = start;
		}
		r->t_due = start;
	}
	if (src->pend_tail[prio])
		src->pend_tail[prio]->next = r;
	else
		src->pend_head[prio] = r;
	src->pend_tail[prio] = r;
	src->ctr.requests++;
	pthread_mutex_unlock(&src->lock);
	wake(src);
	return 0;
}

int dz_source__fd(struct dz_source *src)
{
	return src->done_fd;
}

int dz_source__reap(struct dz_source *src, struct dz_src_done *done, int max)
{
	uint64_t exp;
	int n = 0;

	if (read(src->done_fd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
		return -errno;
	pthread_mutex_lock(&src->lock);
	release_due_locked(src, dz_now_ns());
	while (src->ready_head && n < max) {
		struct dz_src_req *r = src->ready_head;

		src->ready_head = r->next;
		if (!src->ready_head)
			src->ready_tail = NULL;
		done[n++] = (struct dz_src_done){
			.cookie = r->cookie,
			.page = r->page,
			.npages = r->npages,
			.nvalid = r->nvalid,
			.status = r->status,
			.buf = r->buf,
			.latency_ns = dz_now_ns() - r->t_submit,
		};
		free(r);
	}
	arm_locked(src);
	pthread_mutex_unlock(&src->lock);
	return n;
}

int dz_source__cancel(struct dz_source *src, uint64_t cookie)
{
	int r = -ENOENT;

	pthread_mutex_lock(&src->lock);
	for (int p = 0; p < DZ_PRIO_NR && r == -ENOENT; p++) {
		struct dz_src_req **pp = &src->pend_head[p], *prev = NULL;

		for (; *pp; prev = *pp, pp = &(*pp)->next) {
			struct dz_src_req *q = *pp;

			if (q->cookie != cookie)
				continue;
			*pp = q->next;
			if (src->pend_tail[p] == q)
				src->pend_tail[p] = prev;
			q->status = -ECANCELED;
			q->nvalid = 0;
			push_ready_locked(src, q);
			arm_locked(src);
			r = 0;
			break;
		}
	}
	pthread_mutex_unlock(&src->lock);
	return r;
}

uint64_t dz_source__expected_latency_ns(struct dz_source *src)
{
	uint64_t e;

	pthread_mutex_lock(&src->lock);
	e = src->ewma_ns ? src->ewma_ns : src->seed_latency_ns;
	e += src->latency_ns;
	if (src->rate_bps)
		e += (uint64_t)((double)DZ_SRC_PAGE_SIZE * 1e9 / (double)src->rate_bps);
	pthread_mutex_unlock(&src->lock);
	return e;
}

uint64_t dz_source__size(struct dz_source *src)
{
	return src->size;
}

const char *dz_source__uri(struct dz_source *src)
{
	return src->uri;
}

void dz_source__last_error(struct dz_source *src, char *buf, size_t len)
{
	pthread_mutex_lock(&src->lock);
	snprintf(buf, len, "%s", src->err);
	pthread_mutex_unlock(&src->lock);
}

void dz_source__counters(struct dz_source *src, struct dz_source_counters *c)
{
	pthread_mutex_lock(&src->lock);
	*c = src->ctr;
	pthread_mutex_unlock(&src->lock);
}

static void free_list(struct dz_src_req *r)
{
	while (r) {
		struct dz_src_req *n = r->next;

		free(r);
		r = n;
	}
}

void dz_source__close(struct dz_source *src)
{
	if (!src)
		return;
	pthread_mutex_lock(&src->lock);
	src->stopping = true;
	pthread_mutex_unlock(&src->lock);
	wake(src);
	if (src->started)
		pthread_join(src->thread, NULL);
	src->ops->close(src);
	for (int p = 0; p < DZ_PRIO_NR; p++)
		free_list(src->pend_head[p]);
	free_list(src->held);
	free_list(src->ready_head);
	close(src->done_fd);
	close(src->wake_fd);
	pthread_mutex_destroy(&src->lock);
	free(src->uri);
	free(src);
}
