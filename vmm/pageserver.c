// SPDX-License-Identifier: GPL-2.0
/*
 * `doze pageserver`: serves a memory file to tcp:// page sources.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "pageproto.h"
#include "pageserver.h"
#include "source-impl.h"

#define PAGE		4096u
#define MAX_QUEUED	(8u << 20)	/* bytes of answers queued per client before pausing it */

struct answer {
	struct answer *next;
	struct dz_pp_resp hdr;
	char *data;
	size_t len;		/* header + data */
	size_t off;
};

struct client {
	int fd;
	struct client *next, **pprev;
	union {
		struct dz_pp_req req;
		char raw[sizeof(struct dz_pp_req)];
	} in;
	size_t in_got;
	struct answer *head, *tail;
	size_t queued;
	bool paused;
};

struct dz_pageserver {
	struct dz_pageserver_opts opts;
	int mem_fd;
	uint64_t file_size;
	int listen_fd;
	int ep;
	int stop_fd;
	char addr[96];
	struct client *clients;
	struct dz_pageserver_stats st;
};

int dz_pageserver__create(const struct dz_pageserver_opts *opts, struct dz_pageserver **out,
			  char *err, size_t errlen)
{
	struct dz_pageserver *ps;
	struct sockaddr_storage ss;
	socklen_t sl;
	unsigned int sslen;
	struct epoll_event ev;
	struct stat st;
	char host[64];
	int one = 1, r;

	*out = NULL;
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	ps->opts = *opts;
	ps->mem_fd = ps->listen_fd = ps->ep = ps->stop_fd = -1;
	ps->mem_fd = open(opts->mem_path, O_RDONLY | O_CLOEXEC);
	if (ps->mem_fd < 0 || fstat(ps->mem_fd, &st) || !S_ISREG(st.st_mode)) {
		r = ps->mem_fd < 0 ? -errno : -EINVAL;
		snprintf(err, errlen, "cannot open memory file %s: %s", opts->mem_path,
			 r == -EINVAL ? "not a regular file" : strerror(-r));
		goto fail;
	}
	ps->file_size = (uint64_t)st.st_size;
	r = dz_src__resolve(opts->listen ? opts->listen : "", &ss, &sslen);
	if (r) {
		snprintf(err, errlen, "cannot use listen address '%s' (want ADDR:PORT)",
			 opts->listen ? opts->listen : "");
		goto fail;
	}
	ps->listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ps->listen_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto fail;
	}
	setsockopt(ps->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ps->listen_fd, (struct sockaddr *)&ss, sslen) || listen(ps->listen_fd, 64)) {
		r = -errno;
		snprintf(err, errlen, "cannot listen on %s: %s", opts->listen, strerror(errno));
		goto fail;
	}
	sl = sizeof(ss);
	getsockname(ps->listen_fd, (struct sockaddr *)&ss, &sl);
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(ps->addr, sizeof(ps->addr), "[%s]:%u", host, ntohs(s6->sin6_port));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(ps->addr, sizeof(ps->addr), "%s:%u", host, ntohs(s4->sin_port));
	}
	ps->ep = epoll_create1(EPOLL_CLOEXEC);
	ps->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ps->ep < 0 || ps->stop_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "epoll/eventfd: %s", strerror(errno));
		goto fail;
	}
	ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(ps->ep, EPOLL_CTL_ADD, ps->listen_fd, &ev);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = ps };
	epoll_ctl(ps->ep, EPOLL_CTL_ADD, ps->stop_fd, &ev);
	*out = ps;
	return 0;
fail:
	dz_pageserver__destroy(ps);
	return r;
}

const char *dz_pageserver__addr(struct dz_pageserver *ps)
{
	return ps->addr;
}

static void drop_client(struct dz_pageserver *ps, struct client *c)
{
	epoll_ctl(ps->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	*c->pprev = c->next;
	if (c->next)
		c->next->pprev = c->pprev;
	while (c->head) {
		struct answer *a = c->head;

		c->head = a->next;
		free(a->data);
		free(a);
	}
	free(c);
}

static void update_events(struct dz_pageserver *ps, struct client *c)
{
	struct epoll_event ev = { .data.ptr = c };

	c->paused = c->queued > MAX_QUEUED;
	ev.events = (c->paused ? 0 : EPOLLIN) | (c->head ? EPOLLOUT : 0) | EPOLLRDHUP;
	epoll_ctl(ps->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void accept_all(struct dz_pageserver *ps)
{
	for (;;) {
		struct dz_pp_hello h = { .magic = DZ_PP_HELLO_MAGIC,
					 .version = DZ_PP_VERSION,
					 .page_size = PAGE,
					 .max_pages = DZ_PP_MAX_PAGES,
					 .file_size = ps->file_size };
		struct epoll_event ev;
		struct client *c;
		int fd = accept4(ps->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;

		if (fd < 0)
			return;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* 24 bytes into an empty socket buffer: never short. */
		if (send(fd, &h, sizeof(h), MSG_NOSIGNAL) != (ssize_t)sizeof(h)) {
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->next = ps->clients;
		if (c->next)
			c->next->pprev = &c->next;
		c->pprev = &ps->clients;
		ps->clients = c;
		ev = (struct epoll_event){ .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
		epoll_ctl(ps->ep, EPOLL_CTL_ADD, fd, &ev);
		ps->st.clients++;
	}
}

/* Builds the answer to one request and queues it. */
static int answer(struct dz_pageserver *ps, struct client *c, const struct dz_pp_req *q)
{
	struct answer *a = calloc(1, sizeof(*a));
	uint64_t total_pages = ps->file_size / PAGE;
	uint32_t nvalid = 0;

	if (!a)
		return -ENOMEM;
	a->hdr = (struct dz_pp_resp){ .magic = DZ_PP_RESP_MAGIC, .count = q->count, .id = q->id };
	ps->st.requests++;
	if (q->count == 0 || q->count > DZ_PP_MAX_PAGES) {
		a->hdr.status = -EINVAL;
		ps->st.bad_requests++;
	} else {
		if (q->page < total_pages)
			nvalid = (uint32_t)(total_pages - q->page < q->count ? total_pages - q->page
									     : q->count);
		if (nvalid) {
			size_t want = (size_t)nvalid * PAGE, got = 0;

			a->data = malloc(want);
			if (!a->data) {
				free(a);
				return -ENOMEM;
			}
			while (got < want) {
				ssize_t n = pread(ps->mem_fd, a->data + got, want - got,
						  (off_t)(q->page * PAGE + got));

				if (n <= 0) {
					if (n < 0 && errno == EINTR)
						continue;
					break;
				}
				got += (size_t)n;
			}
			if (got < want) {	/* the file shrank under us, or a read error */
				nvalid = (uint32_t)(got / PAGE);
				a->hdr.status = -EIO;
			}
		}
		if (nvalid < q->count && !a->hdr.status) {
			a->hdr.status = -ENODATA;
			ps->st.pages_refused += q->count - nvalid;
		}
	}
	a->hdr.nvalid = nvalid;
	ps->st.pages += nvalid;
	a->len = sizeof(a->hdr) + (size_t)nvalid * PAGE;
	if (c->tail)
		c->tail->next = a;
	else
		c->head = a;
	c->tail = a;
	c->queued += a->len;
	return 0;
}

/* Reads and answers requests; false if the client is gone. */
static bool client_read(struct dz_pageserver *ps, struct client *c)
{
	for (int rounds = 0; rounds < 256 && !c->paused; rounds++) {
		ssize_t n = recv(c->fd, c->in.raw + c->in_got, sizeof(c->in) - c->in_got,
				 MSG_DONTWAIT);

		if (n == 0)
			return false;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		c->in_got += (size_t)n;
		if (c->in_got < sizeof(c->in))
			continue;
		c->in_got = 0;
		if (c->in.req.magic != DZ_PP_REQ_MAGIC) {
			ps->st.bad_requests++;
			return false;	/* not our protocol: hang up */
		}
		if (answer(ps, c, &c->in.req))
			return false;
		if (ps->opts.die_after_pages && ps->st.pages >= ps->opts.die_after_pages)
			return true;	/* about to "crash": read nothing more */
		c->paused = c->queued > MAX_QUEUED;
	}
	return true;
}

static bool client_write(struct dz_pageserver *ps, struct client *c)
{
	while (c->head) {
		struct answer *a = c->head;
		struct iovec iov[2];
		int n = 0;
		ssize_t w;

		if (a->off < sizeof(a->hdr)) {
			iov[n++] = (struct iovec){ (char *)&a->hdr + a->off, sizeof(a->hdr) - a->off };
			if (a->len > sizeof(a->hdr))
				iov[n++] = (struct iovec){ a->data, a->len - sizeof(a->hdr) };
		} else {
			iov[n++] = (struct iovec){ a->data + (a->off - sizeof(a->hdr)), a->len - a->off };
		}
		w = writev(c->fd, iov, n);
		if (w < 0)
			return errno == EAGAIN || errno == EINTR;
		a->off += (size_t)w;
		c->queued -= (size_t)w;
		if (a->off < a->len)
			return true;
		c->head = a->next;
		if (!c->head)
			c->tail = NULL;
		free(a->data);
		free(a);
	}
	return true;
}

int dz_pageserver__run(struct dz_pageserver *ps)
{
	struct epoll_event evs[64];

	for (;;) {
		int n = epoll_wait(ps->ep, evs, 64, -1);

		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++) {
			void *who = evs[i].data.ptr;
			struct client *c = who;
			bool alive = true;

			if (who == NULL) {
				accept_all(ps);
				continue;
			}
			if (who == ps)
				return 0;	/* stop */
			if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				alive = client_read(ps, c);
			if (ps->opts.die_after_pages && ps->st.pages >= ps->opts.die_after_pages) {
				/* Crash: whatever is queued is never sent. */
				while (ps->clients)
					drop_client(ps, ps->clients);
				return -ECONNABORTED;
			}
			if (alive && c->head)
				alive = client_write(ps, c);
			if (alive && (evs[i].events & (EPOLLHUP | EPOLLERR)))
				alive = false;
			if (!alive) {
				drop_client(ps, c);
				continue;
			}
			update_events(ps, c);
			/* A paused client whose queue drained may have requests waiting. */
			if (!c->paused && c->queued == 0 && !client_read(ps, c)) {
				drop_client(ps, c);
				continue;
			}
			if (c->head && !client_write(ps, c)) {
				drop_client(ps, c);
				continue;
			}
			update_events(ps, c);
			if (ps->opts.die_after_pages && ps->st.pages >= ps->opts.die_after_pages) {
				while (ps->clients)
					drop_client(ps, ps->clients);
				return -ECONNABORTED;
			}
		}
	}
}

void dz_pageserver__stop(struct dz_pageserver *ps)
{
	uint64_t one = 1;

	if (write(ps->stop_fd, &one, sizeof(one)) < 0)
		return;
}

void dz_pageserver__stats(struct dz_pageserver *ps, struct dz_pageserver_stats *st)
{
	*st = ps->st;
}

void dz_pageserver__destroy(struct dz_pageserver *ps)
{
	if (!ps)
		return;
	while (ps->clients)
		drop_client(ps, ps->clients);
	if (ps->listen_fd >= 0)
		close(ps->listen_fd);
	if (ps->ep >= 0)
		close(ps->ep);
	if (ps->stop_fd >= 0)
		close(ps->stop_fd);
	if (ps->mem_fd >= 0)
		close(ps->mem_fd);
	free(ps);
}
