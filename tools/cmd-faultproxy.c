// SPDX-License-Identifier: GPL-2.0
/*
 * doze faultproxy --listen ADDR:PORT --to HOST:PORT --fault SPEC [--seed N]
 *
 * A fault-injecting TCP proxy for testing page sources: put it in front of
 * `doze pageserver` (tcp://) or nginx (http://) and it forwards both directions
 * while it breaks the server's answers on purpose: drop the connection (RST),
 * close it mid-response (FIN, a short read), stall, trickle, corrupt a byte of
 * page data, lie about a response's length, or "restart" (every connection
 * dropped and new ones refused for a while).
 *
 * It understands just enough of both protocols (doze's page protocol,
 * vmm/pageproto.h, and HTTP/1.1 range responses) to know which bytes are page
 * payload and which page they belong to, so a fault can target "page 3000" or
 * "the payload byte at offset N" instead of random header bytes. Every random
 * choice (which byte, how much jitter) comes from --seed: the same seed and the
 * same byte stream give the same faults. The whole run is bounded by
 * --max-time; stalls are bounded by it too.
 *
 * Single-threaded: one poll() loop over the listener and every connection pair.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../vmm/pageproto.h"
#include "cmds.h"

#define MAX_CONNS    64
#define BUF_SIZE     (256u << 10) /* per direction and connection */
#define HTTP_HDR_MAX 16384
#define PAGE	     4096u
#define REQ_RING     4096 /* doze protocol: request id -> page */
#define HEAD_RING    256  /* HTTP: which pipelined requests were HEADs */

enum mode { M_PASS, M_DROP, M_CLOSE, M_STALL, M_TRICKLE, M_CORRUPT, M_LENGTH, M_RESTART };
static const char *const mode_names[] = {"pass",    "drop",    "close",	 "stall",
					 "trickle", "corrupt", "length", "restart"};

enum proto { P_UNKNOWN, P_DOZE, P_HTTP, P_RAW };

struct spec {
	enum mode mode;
	bool by_page; /* page=P: every response carrying page P */
	uint64_t page;
	int64_t offset;	  /* byte in the page (page=), -1 = random */
	bool by_req;	  /* req=N: count client requests instead of payload bytes */
	uint64_t after;	  /* first trigger: payload byte (or request) number */
	uint64_t every;	  /* then again every N (0 = once) */
	uint64_t jitter;  /* +- random on every `every` */
	uint64_t times;	  /* at most this many (0 = unlimited) */
	uint64_t for_ns;  /* stall: how long (0 = until the client gives up) */
	uint64_t down_ns; /* restart: refuse connections this long */
	uint64_t rate;	  /* trickle: bytes per second */
};

struct dir { /* one direction's buffered, already processed bytes */
	uint8_t *buf;
	size_t len, off;
};

struct conn {
	int cfd, sfd;
	unsigned int idx;
	struct dir c2s, s2c;
	bool closing; /* flush s2c, then close (FIN) */
	bool rst;     /* ... with an RST */
	bool dead;
	uint64_t stall_until; /* UINT64_MAX = stalled for good */
	uint64_t trickle_next;

	/* client -> server parser */
	enum proto cp;
	uint8_t creq[24];
	size_t creq_got;
	uint32_t crlf; /* last 4 bytes seen (HTTP request end) */
	char cline[256];
	size_t cline_len;
	bool head_ring[HEAD_RING];
	uint64_t head_w, head_r;
	uint64_t req_id[REQ_RING], req_page[REQ_RING];

	/* server -> client parser */
	enum proto sp;
	uint8_t hdr[HTTP_HDR_MAX];
	size_t hdr_got;
	bool in_body;
	uint64_t body_left; /* payload bytes left in this response */
	bool body_is_pages;
	uint64_t body_page; /* page of the next payload byte */
	uint32_t body_page_off;
	bool hello_done;
	bool arm_next; /* req= trigger for corrupt/length: the next response */
};

static struct spec sp;
static struct conn *conns[MAX_CONNS];
static int lfd = -1;
static struct sockaddr_storage up_ss, listen_ss;
static socklen_t up_len, listen_len;
static uint64_t rng;
static uint64_t payload_pos, requests_seen, next_at, fired, nconn, bytes_s2c;
static uint64_t restart_until;
static bool quiet, trickling;
static FILE *logf;
static volatile sig_atomic_t stop_flag;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd(void)
{
	/* splitmix64: deterministic from --seed */
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void logit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logit(const char *fmt, ...)
{
	va_list ap;

	if (!logf)
		return;
	va_start(ap, fmt);
	fprintf(logf, "faultproxy: ");
	vfprintf(logf, fmt, ap);
	fputc('\n', logf);
	fflush(logf);
	va_end(ap);
}

static bool may_fire(void)
{
	return sp.mode != M_PASS && (!sp.times || fired < sp.times);
}

static void schedule_next(void)
{
	uint64_t step = sp.every;

	if (!step) {
		next_at = UINT64_MAX;
		return;
	}
	if (sp.jitter) {
		uint64_t j = rnd() % (2 * sp.jitter + 1);

		step = step + j > sp.jitter ? step + j - sp.jitter : 1;
	}
	next_at += step;
}

/* ---- sockets ---------------------------------------------------------- */

static int parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256];
	const char *colon = strrchr(s, ':');
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	size_t hl;

	if (!colon || colon == s || !colon[1])
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (*s == '[' && colon[-1] == ']')
		s++, hl -= 2;
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = 0;
	if (getaddrinfo(host, colon + 1, &hints, &res))
		return -EINVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int open_listener(void)
{
	int one = 1,
	    fd = socket(listen_ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&listen_ss, listen_len) || listen(fd, 64)) {
		int e = errno;

		close(fd);
		return -e;
	}
	/* PORT 0: remember the port we got, so a restart comes back on the same one */
	listen_len = sizeof(listen_ss);
	getsockname(fd, (struct sockaddr *)&listen_ss, &listen_len);
	return fd;
}

static void addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[128], port[16];

	if (getnameinfo((const struct sockaddr *)ss, sizeof(*ss), host, sizeof(host), port,
			sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV))
		snprintf(buf, len, "?");
	else if (ss->ss_family == AF_INET6)
		snprintf(buf, len, "[%s]:%s", host, port);
	else
		snprintf(buf, len, "%s:%s", host, port);
}

static void conn_free(struct conn *c)
{
	if (c->cfd >= 0) {
		if (c->rst) {
			struct linger l = {.l_onoff = 1, .l_linger = 0};

			setsockopt(c->cfd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		}
		close(c->cfd);
	}
	if (c->sfd >= 0)
		close(c->sfd);
	free(c->c2s.buf);
	free(c->s2c.buf);
	free(c);
}

static void accept_one(void)
{
	struct conn *c;
	int cfd, sfd, slot, one = 1;

	cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	for (slot = 0; slot < MAX_CONNS && conns[slot]; slot++)
		;
	sfd = socket(up_ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (slot == MAX_CONNS || sfd < 0 || connect(sfd, (struct sockaddr *)&up_ss, up_len)) {
		/* upstream down (or too many): the client sees its connection closed at once */
		logit("conn %llu: cannot reach the upstream: %s", (unsigned long long)nconn,
		      slot == MAX_CONNS ? "too many connections" : strerror(errno));
		if (sfd >= 0)
			close(sfd);
		close(cfd);
		return;
	}
	fcntl(sfd, F_SETFL, fcntl(sfd, F_GETFL) | O_NONBLOCK);
	setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = calloc(1, sizeof(*c));
	if (!c || !(c->c2s.buf = malloc(BUF_SIZE)) || !(c->s2c.buf = malloc(BUF_SIZE))) {
		if (c) {
			free(c->c2s.buf);
			free(c);
		}
		close(sfd);
		close(cfd);
		return;
	}
	c->cfd = cfd;
	c->sfd = sfd;
	c->idx = (unsigned int)nconn++;
	conns[slot] = c;
}

/* ---- faults ---------------------------------------------------------- */

static void do_restart(const char *why)
{
	uint64_t t = now_ns();

	logit("restart (%s): dropping %s connections, refusing new ones for %.3f s", why, "all",
	      sp.down_ns / 1e9);
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i]) {
			conns[i]->rst = true;
			conns[i]->dead = true;
		}
	if (lfd >= 0)
		close(lfd);
	lfd = -1;
	restart_until = t + sp.down_ns;
}

/* A connection-level fault (drop, close, stall, trickle, restart) fires now. */
static void conn_fault(struct conn *c, const char *where)
{
	fired++;
	switch (sp.mode) {
	case M_DROP:
		logit("conn %u: drop (RST) at %s", c->idx, where);
		c->closing = true;
		c->rst = true;
		break;
	case M_CLOSE:
		logit("conn %u: close (FIN) mid-response at %s", c->idx, where);
		c->closing = true;
		break;
	case M_STALL:
		if (sp.for_ns)
			logit("conn %u: stall for %.3f s at %s", c->idx, sp.for_ns / 1e9, where);
		else
			logit("conn %u: stall for good (until the client gives up) at %s", c->idx,
			      where);
		c->stall_until = sp.for_ns ? now_ns() + sp.for_ns : UINT64_MAX;
		break;
	case M_TRICKLE:
		/* a slow network: every connection, now and later */
		logit("conn %u: trickle at %llu bytes/s from %s on, every connection", c->idx,
		      (unsigned long long)sp.rate, where);
		trickling = true;
		break;
	case M_RESTART:
		do_restart(where);
		break;
	default:
		break;
	}
}

/* ---- output queues --------------------------------------------------- */

static size_t room(const struct dir *d)
{
	return BUF_SIZE - d->len;
}

static void emit(struct dir *d, const void *p, size_t n)
{
	if (d->off && d->len + n > BUF_SIZE) {
		memmove(d->buf, d->buf + d->off, d->len - d->off);
		d->len -= d->off;
		d->off = 0;
	}
	if (n > BUF_SIZE - d->len)
		n = BUF_SIZE - d->len; /* cannot happen: reads are bounded by room() */
	memcpy(d->buf + d->len, p, n);
	d->len += n;
}

/* ---- client -> server: count requests, learn which page each asks for ---- */

static void client_request_seen(struct conn *c)
{
	requests_seen++;
	if (sp.by_req && may_fire() && requests_seen >= next_at) {
		char where[64];

		snprintf(where, sizeof(where), "request %llu", (unsigned long long)requests_seen);
		schedule_next();
		if (sp.mode == M_CORRUPT || sp.mode == M_LENGTH)
			c->arm_next = true;
		else
			conn_fault(c, where);
	}
}

static void parse_c2s(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->cp == P_UNKNOWN && n) {
		if (n >= 4 && !memcmp(p, "DZRQ", 4))
			c->cp = P_DOZE;
		else if (n >= 4 && (!memcmp(p, "GET ", 4) || !memcmp(p, "HEAD", 4)))
			c->cp = P_HTTP;
		else
			c->cp = P_RAW;
	}
	for (size_t i = 0; i < n; i++) {
		if (c->cp == P_DOZE) {
			c->creq[c->creq_got++] = p[i];
			if (c->creq_got == sizeof(struct dz_pp_req)) {
				struct dz_pp_req r;

				memcpy(&r, c->creq, sizeof(r));
				c->req_id[r.id % REQ_RING] = r.id;
				c->req_page[r.id % REQ_RING] = r.page;
				c->creq_got = 0;
				client_request_seen(c);
			}
		} else if (c->cp == P_HTTP) {
			if (c->cline_len < sizeof(c->cline) - 1)
				c->cline[c->cline_len++] = (char)p[i];
			c->crlf = c->crlf << 8 | p[i];
			if (c->crlf == 0x0d0a0d0a) {
				c->head_ring[c->head_w++ % HEAD_RING] =
				    !strncmp(c->cline, "HEAD", 4);
				c->cline_len = 0;
				c->crlf = 0;
				client_request_seen(c);
			}
		}
	}
}

/* ---- server -> client: find the page payload, fault it ---------------- */

/* Payload bytes p[0..n) of the current response: returns how many may be
 * forwarded (fewer if a connection fault fires in the middle). */
static size_t payload(struct conn *c, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool hit = false;
		char where[96];

		if (c->arm_next && sp.mode == M_CORRUPT) {
			c->arm_next = false;
			hit = true;
		} else if (sp.by_page) {
			if (c->body_is_pages && c->body_page == sp.page &&
			    c->body_page_off == (uint32_t)sp.offset && may_fire())
				hit = sp.mode != M_LENGTH;
		} else if (!sp.by_req && payload_pos >= next_at && may_fire() &&
			   sp.mode != M_LENGTH) {
			hit = true;
			schedule_next();
		}
		if (hit) {
			snprintf(where, sizeof(where), "payload byte %llu (page %lld + %u)",
				 (unsigned long long)payload_pos,
				 c->body_is_pages ? (long long)c->body_page : -1LL,
				 c->body_page_off);
			if (sp.mode == M_CORRUPT) {
				uint8_t x = (uint8_t)(1 + rnd() % 255);

				fired++;
				logit("conn %u: corrupt %s: 0x%02x ^ 0x%02x", c->idx, where, p[i],
				      x);
				p[i] ^= x;
			} else {
				conn_fault(c, where);
				if (c->closing || c->dead)
					return i; /* the rest never reaches the client */
			}
		}
		payload_pos++;
		if (c->body_is_pages && ++c->body_page_off == PAGE) {
			c->body_page_off = 0;
			c->body_page++;
		}
	}
	return n;
}

/* Is a length fault due on the response that starts now (covering pages [first, first + n))? */
static bool length_due(struct conn *c, uint64_t first, uint64_t npages)
{
	if (sp.mode != M_LENGTH || !may_fire())
		return false;
	if (c->arm_next) {
		c->arm_next = false;
		return true;
	}
	if (sp.by_page)
		return npages && sp.page >= first && sp.page < first + npages;
	if (!sp.by_req && payload_pos >= next_at) {
		schedule_next();
		return true;
	}
	return false;
}

static void doze_header_done(struct conn *c)
{
	struct dz_pp_resp r;

	if (!c->hello_done) { /* the server's hello: passed on as it is */
		c->hello_done = true;
		emit(&c->s2c, c->hdr, c->hdr_got);
		c->hdr_got = 0;
		return;
	}
	memcpy(&r, c->hdr, sizeof(r));
	c->body_is_pages = false;
	if (c->req_id[r.id % REQ_RING] == r.id) {
		c->body_is_pages = true;
		c->body_page = c->req_page[r.id % REQ_RING];
		c->body_page_off = 0;
	}
	c->body_left = (uint64_t)r.nvalid * PAGE;
	if (length_due(c, c->body_page, r.nvalid)) {
		uint32_t lie = r.nvalid ? r.nvalid - 1 : r.count + 1;

		fired++;
		logit("conn %u: length: response for page %llu says %u pages instead of %u", c->idx,
		      (unsigned long long)c->body_page, lie, r.nvalid);
		r.nvalid = lie;
		memcpy(c->hdr, &r, sizeof(r));
	}
	emit(&c->s2c, c->hdr, sizeof(r));
	c->hdr_got = 0;
	c->in_body = c->body_left > 0;
}

static const char *hdr_find(const char *h, const char *name)
{
	size_t nl = strlen(name);

	for (const char *l = h; l && *l; l = strstr(l, "\r\n") ? strstr(l, "\r\n") + 2 : NULL)
		if (!strncasecmp(l, name, nl))
			return l + nl;
	return NULL;
}

static void http_header_done(struct conn *c)
{
	char *h = (char *)c->hdr, out[HTTP_HDR_MAX + 32];
	const char *cl, *cr;
	uint64_t len = 0, first = 0, last = 0;
	int status = 0;
	bool head = false;
	size_t n = c->hdr_got;

	h[n] = 0;
	sscanf(h, "HTTP/%*s %d", &status);
	if (status >= 200 && c->head_r < c->head_w)
		head = c->head_ring[c->head_r++ % HEAD_RING];
	cl = hdr_find(h, "Content-Length:");
	if (cl)
		len = strtoull(cl, NULL, 10);
	if (head || status < 200 || status == 204 || status == 304)
		len = 0;
	c->body_is_pages = false;
	cr = hdr_find(h, "Content-Range:");
	if (status == 206 && cr &&
	    sscanf(cr, " bytes %llu-%llu", (unsigned long long *)&first,
		   (unsigned long long *)&last) == 2) {
		c->body_is_pages = true;
		c->body_page = first / PAGE;
		c->body_page_off = (uint32_t)(first % PAGE);
	} else if (status == 200 && !head) {
		c->body_is_pages = true;
		c->body_page = 0;
		c->body_page_off = 0;
	}
	c->body_left = len;
	if (cl && len && c->body_is_pages && length_due(c, c->body_page, (len + PAGE - 1) / PAGE)) {
		/* say half a page less than we send: the client reads a short body and the
		 * rest of it as the start of its next response */
		uint64_t lie = len > PAGE / 2 ? len - PAGE / 2 : len + PAGE / 2;
		size_t pre = (size_t)(cl - h);
		const char *rest = cl + strspn(cl, " \t0123456789");
		int m = snprintf(out, sizeof(out), "%.*s %llu%s", (int)pre, h,
				 (unsigned long long)lie, rest);

		fired++;
		logit("conn %u: length: Content-Length %llu instead of %llu (page %llu)", c->idx,
		      (unsigned long long)lie, (unsigned long long)len,
		      (unsigned long long)c->body_page);
		emit(&c->s2c, out, (size_t)m);
	} else {
		emit(&c->s2c, h, n);
	}
	c->hdr_got = 0;
	c->in_body = c->body_left > 0;
}

/* Processes bytes read from the server into the connection's output queue. */
static void parse_s2c(struct conn *c, uint8_t *p, size_t n)
{
	if (c->sp == P_UNKNOWN) {
		if (n >= 4 && !memcmp(p, "DZP1", 4)) {
			c->sp = P_DOZE;
		} else if (n >= 5 && !memcmp(p, "HTTP/", 5)) {
			c->sp = P_HTTP;
		} else {
			c->sp = P_RAW;
		}
	}
	while (n && !c->closing && !c->dead) {
		if (c->sp == P_RAW || c->in_body) {
			size_t take = n, fwd;

			if (c->sp != P_RAW && take > c->body_left)
				take = (size_t)c->body_left;
			fwd = payload(c, p, take);
			emit(&c->s2c, p, fwd);
			if (fwd < take)
				return;
			if (c->sp != P_RAW) {
				c->body_left -= take;
				c->in_body = c->body_left > 0;
			}
			p += take;
			n -= take;
			continue;
		}
		if (c->sp == P_DOZE) {
			/* hello and response header are both 24 bytes */
			size_t want = sizeof(struct dz_pp_resp) - c->hdr_got;
			size_t take = n < want ? n : want;

			memcpy(c->hdr + c->hdr_got, p, take);
			c->hdr_got += take;
			p += take;
			n -= take;
			if (take == want)
				doze_header_done(c);
			continue;
		}
		/* HTTP header: up to the blank line */
		c->hdr[c->hdr_got++] = *p++;
		n--;
		if (c->hdr_got >= 4 && !memcmp(c->hdr + c->hdr_got - 4, "\r\n\r\n", 4)) {
			http_header_done(c);
		} else if (c->hdr_got >= HTTP_HDR_MAX - 1) {
			c->sp = P_RAW; /* not HTTP as we know it: pass the rest through */
			emit(&c->s2c, c->hdr, c->hdr_got);
			c->hdr_got = 0;
		}
	}
}

/* ---- the loop --------------------------------------------------------- */

static bool flush(int fd, struct dir *d, size_t max)
{
	while (d->off < d->len && max) {
		size_t want = d->len - d->off < max ? d->len - d->off : max;
		ssize_t w = send(fd, d->buf + d->off, want, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0)
			return errno == EAGAIN || errno == EINTR;
		d->off += (size_t)w;
		max -= (size_t)w;
	}
	if (d->off == d->len)
		d->off = d->len = 0;
	return true;
}

static void service(struct conn *c, short crev, short srev, uint64_t t)
{
	uint8_t tmp[65536];
	ssize_t n;

	/* client -> server: forwarded unchanged */
	if ((crev & (POLLIN | POLLHUP | POLLERR)) && !c->closing) {
		size_t want = room(&c->c2s) < sizeof(tmp) ? room(&c->c2s) : sizeof(tmp);

		n = want ? recv(c->cfd, tmp, want, MSG_DONTWAIT) : -1;
		if (n == 0 || (n < 0 && want && errno != EAGAIN && errno != EINTR)) {
			c->dead = true;
			return;
		}
		if (n > 0) {
			parse_c2s(c, tmp, (size_t)n);
			emit(&c->c2s, tmp, (size_t)n);
		}
	}
	if (c->dead)
		return;
	if (!flush(c->sfd, &c->c2s, SIZE_MAX)) {
		c->dead = true;
		return;
	}
	/* server -> client: parsed, maybe faulted */
	if ((srev & (POLLIN | POLLHUP | POLLERR)) && !c->closing) {
		size_t want = room(&c->s2c) < sizeof(tmp) ? room(&c->s2c) : sizeof(tmp);

		/* leave room for a rewritten HTTP header */
		want = want > HTTP_HDR_MAX + 64 ? want - HTTP_HDR_MAX - 64 : 0;
		n = want ? recv(c->sfd, tmp, want, MSG_DONTWAIT) : -1;
		if (n == 0 || (n < 0 && want && errno != EAGAIN && errno != EINTR)) {
			/* the server closed: pass that on once its bytes are out */
			c->closing = true;
		} else if (n > 0) {
			bytes_s2c += (size_t)n;
			parse_s2c(c, tmp, (size_t)n);
		}
	}
	if (c->dead || t < c->stall_until)
		return;
	if (trickling) {
		/* a few bytes at a time, at about `rate` bytes per second */
		size_t chunk = sp.rate >= 1000 ? sp.rate / 1000 : 1;

		if (t < c->trickle_next)
			return;
		if (!flush(c->cfd, &c->s2c, chunk))
			c->dead = true;
		c->trickle_next = t + 1000000000ull * chunk / (sp.rate ? sp.rate : 1);
	} else if (!flush(c->cfd, &c->s2c, SIZE_MAX)) {
		c->dead = true;
	}
	if (c->closing && c->s2c.off == c->s2c.len)
		c->dead = true;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int parse_dur(const char *s, uint64_t *ns)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0)
		return -1;
	if (!strcmp(end, "ms"))
		v *= 1e6;
	else if (!strcmp(end, "us"))
		v *= 1e3;
	else if (!strcmp(end, "s") || !*end)
		v *= 1e9;
	else
		return -1;
	*ns = (uint64_t)v;
	return 0;
}

static int parse_spec(const char *s)
{
	char buf[512], *save, *kv;
	char *colon;
	size_t i;

	snprintf(buf, sizeof(buf), "%s", s);
	colon = strchr(buf, ':');
	if (colon)
		*colon++ = 0;
	for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (!strcmp(buf, mode_names[i]))
			break;
	if (i == sizeof(mode_names) / sizeof(mode_names[0])) {
		fprintf(stderr, "doze faultproxy: unknown fault mode '%s'\n", buf);
		return -1;
	}
	sp = (struct spec){.mode = (enum mode)i,
			   .offset = -1,
			   .down_ns = 1000000000ull,
			   .rate = 65536,
			   .after = UINT64_MAX,
			   .times = 1};
	for (kv = colon ? strtok_r(colon, ",", &save) : NULL; kv; kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '='), *end;
		uint64_t x = 0;
		int bad;

		if (!v) {
			fprintf(stderr, "doze faultproxy: '%s' is not key=value\n", kv);
			return -1;
		}
		*v++ = 0;
		if (!strcmp(kv, "for") || !strcmp(kv, "down")) {
			bad = parse_dur(v, &x);
		} else {
			x = strtoull(v, &end, 0);
			bad = end == v || *end;
		}
		if (bad) {
			fprintf(stderr, "doze faultproxy: bad value '%s' for %s\n", v, kv);
			return -1;
		}
		if (!strcmp(kv, "page"))
			sp.by_page = true, sp.page = x;
		else if (!strcmp(kv, "offset"))
			sp.offset = (int64_t)(x % PAGE);
		else if (!strcmp(kv, "after"))
			sp.after = x;
		else if (!strcmp(kv, "req"))
			sp.by_req = true, sp.after = x;
		else if (!strcmp(kv, "every"))
			sp.every = x;
		else if (!strcmp(kv, "jitter"))
			sp.jitter = x;
		else if (!strcmp(kv, "times"))
			sp.times = x;
		else if (!strcmp(kv, "for"))
			sp.for_ns = x;
		else if (!strcmp(kv, "down"))
			sp.down_ns = x;
		else if (!strcmp(kv, "rate"))
			sp.rate = x ? x : 1;
		else {
			fprintf(stderr, "doze faultproxy: unknown key '%s'\n", kv);
			return -1;
		}
	}
	if (sp.by_page && sp.by_req) {
		fprintf(stderr, "doze faultproxy: page= and req= exclude each other\n");
		return -1;
	}
	if (sp.by_page && !strstr(s, "times="))
		sp.times = 0; /* page=P: every time the page passes, unless limited */
	if (sp.after == UINT64_MAX)
		sp.after = sp.by_req ? 1 : 0;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: doze faultproxy --listen ADDR:PORT --to HOST:PORT --fault SPEC [options]\n"
		"\n"
		"A TCP proxy that breaks a page server's (doze pageserver, nginx) answers on\n"
		"purpose, for testing page sources. It knows doze's page protocol and HTTP\n"
		"range responses well enough to aim at page payload bytes.\n"
		"\n"
		"  --listen ADDR:PORT   where to listen (PORT 0 picks a free port)\n"
		"  --to HOST:PORT       the real server\n"
		"  --fault SPEC         MODE[:key=value,...] (default pass)\n"
		"  --seed N             seed of every random choice (default 1)\n"
		"  --port-file FILE     write the bound ADDR:PORT to FILE once listening\n"
		"  --max-time SECONDS   exit after this long whatever happens (default 300)\n"
		"  --log FILE           one line per fault fired (default stderr; - = none)\n"
		"  --quiet              no listening/summary lines on stdout\n"
		"\n"
		"MODE:\n"
		"  pass      forward everything unchanged\n"
		"  drop      reset the connection (RST)\n"
		"  close     close it cleanly (FIN) mid-response: a short read\n"
		"  stall     stop forwarding answers for `for` (default: for good)\n"
		"  trickle   forward answers at `rate` bytes/s (default 65536)\n"
		"  corrupt   flip one byte of page payload\n"
		"  length    lie about a response's length (doze: nvalid - 1; HTTP:\n"
		"            Content-Length half a page short)\n"
		"  restart   reset every connection and refuse new ones for `down`\n"
		"            (default 1s), then accept again on the same port\n"
		"\n"
		"Where (default: at the first payload byte, once):\n"
		"  after=N   at payload byte N (counted over all connections)\n"
		"  req=N     at the N-th client request instead (counted from 1)\n"
		"  every=M   then again every M bytes (or requests); jitter=J varies M by +-J\n"
		"  page=P    whenever page P's payload passes (offset=O: at its byte O)\n"
		"  times=K   at most K times (default 1; unlimited with page=)\n"
		"Durations take s, ms, us (plain numbers are seconds).\n"
		"\n"
		"Example: doze faultproxy --listen 127.0.0.1:0 --to 127.0.0.1:7000 \\\n"
		"             --fault corrupt:page=3000 --port-file /tmp/p\n");
}

int cmd_faultproxy(int argc, char **argv)
{
	static const struct option lopts[] = {{"listen", required_argument, NULL, 'l'},
					      {"to", required_argument, NULL, 't'},
					      {"fault", required_argument, NULL, 'f'},
					      {"seed", required_argument, NULL, 's'},
					      {"port-file", required_argument, NULL, 'p'},
					      {"max-time", required_argument, NULL, 'm'},
					      {"log", required_argument, NULL, 'L'},
					      {"quiet", no_argument, NULL, 'q'},
					      {"help", no_argument, NULL, 'h'},
					      {0}};
	const char *listen_at = NULL, *to = NULL, *port_file = NULL, *log_path = NULL;
	const char *fault = "pass";
	double max_time = 300;
	uint64_t seed = 1, t_end;
	struct sigaction sa = {.sa_handler = on_signal};
	char addr[160], *end;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen_at = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'f':
			fault = optarg;
			break;
		case 's':
			seed = strtoull(optarg, &end, 0);
			if (*end || !*optarg) {
				fprintf(stderr, "doze faultproxy: bad --seed '%s'\n", optarg);
				return 2;
			}
			break;
		case 'p':
			port_file = optarg;
			break;
		case 'm':
			max_time = strtod(optarg, &end);
			if (*end || !(max_time > 0) || max_time > 1e6) {
				fprintf(stderr, "doze faultproxy: --max-time wants seconds > 0\n");
				return 2;
			}
			break;
		case 'L':
			log_path = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !listen_at || !to) {
		fprintf(stderr, "doze faultproxy: need --listen ADDR:PORT and --to HOST:PORT\n");
		usage(stderr);
		return 2;
	}
	if (parse_spec(fault))
		return 2;
	rng = seed;
	next_at = sp.after;
	if (sp.offset < 0)
		sp.offset = (int64_t)(rnd() % PAGE);
	if (parse_hostport(to, &up_ss, &up_len)) {
		fprintf(stderr, "doze faultproxy: cannot resolve --to '%s' (want HOST:PORT)\n", to);
		return 2;
	}
	if (parse_hostport(listen_at, &listen_ss, &listen_len)) {
		fprintf(stderr, "doze faultproxy: cannot resolve --listen '%s'\n", listen_at);
		return 2;
	}
	logf = stderr;
	if (log_path && !strcmp(log_path, "-"))
		logf = NULL;
	else if (log_path && !(logf = fopen(log_path, "w"))) {
		fprintf(stderr, "doze faultproxy: cannot write %s: %s\n", log_path,
			strerror(errno));
		return 1;
	}
	lfd = open_listener();
	if (lfd < 0) {
		fprintf(stderr, "doze faultproxy: cannot listen on %s: %s\n", listen_at,
			strerror(-lfd));
		return 1;
	}
	addr_str(&listen_ss, addr, sizeof(addr));
	if (port_file) {
		char tmp[4096];
		FILE *f;

		snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		f = fopen(tmp, "w");
		if (!f || fprintf(f, "%s\n", addr) < 0 || fclose(f) || rename(tmp, port_file)) {
			fprintf(stderr, "doze faultproxy: cannot write %s: %s\n", port_file,
				strerror(errno));
			return 1;
		}
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!quiet) {
		printf("listening on %s, forwarding to %s, fault %s\n", addr, to, fault);
		fflush(stdout);
	}
	logit("fault %s, seed %llu", fault, (unsigned long long)seed);
	t_end = now_ns() + (uint64_t)(max_time * 1e9);

	while (!stop_flag) {
		struct pollfd pfd[1 + 2 * MAX_CONNS];
		struct conn *who[1 + 2 * MAX_CONNS];
		uint64_t t = now_ns(), wake = t_end;
		int np = 0, timeout;

		if (t >= t_end) {
			logit("--max-time reached");
			break;
		}
		if (lfd < 0 && t >= restart_until) {
			lfd = open_listener();
			if (lfd >= 0)
				logit("restart: accepting connections again");
			else
				wake = t + 10000000; /* port still busy: try again soon */
		} else if (lfd < 0 && restart_until < wake) {
			wake = restart_until;
		}
		if (lfd >= 0) {
			pfd[np] = (struct pollfd){.fd = lfd, .events = POLLIN};
			who[np++] = NULL;
		}
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *k = conns[i];
			bool out_ready;

			if (!k)
				continue;
			if (k->dead) {
				conn_free(k);
				conns[i] = NULL;
				continue;
			}
			out_ready = k->s2c.off < k->s2c.len && t >= k->stall_until &&
				    (!trickling || t >= k->trickle_next);
			if (k->s2c.off < k->s2c.len && t < k->stall_until && k->stall_until < wake)
				wake = k->stall_until;
			if (trickling && k->s2c.off < k->s2c.len && k->trickle_next > t &&
			    k->trickle_next < wake)
				wake = k->trickle_next;
			pfd[np] = (struct pollfd){.fd = k->cfd,
						  .events = (short)((k->closing ? 0 : POLLIN) |
								    (out_ready ? POLLOUT : 0))};
			who[np++] = k;
			pfd[np] = (struct pollfd){
			    .fd = k->sfd,
			    .events =
				(short)((k->closing || room(&k->s2c) < BUF_SIZE / 2 ? 0 : POLLIN) |
					(k->c2s.off < k->c2s.len ? POLLOUT : 0))};
			who[np++] = k;
		}
		timeout = wake <= t ? 0 : (int)((wake - t) / 1000000) + 1;
		r = poll(pfd, (nfds_t)np, timeout);
		if (r < 0 && errno != EINTR)
			break;
		t = now_ns();
		for (int i = 0; i < np; i++) {
			if (!who[i]) {
				if (pfd[i].revents & POLLIN)
					accept_one();
				continue;
			}
			if (i + 1 < np && who[i + 1] == who[i]) {
				if (!who[i]->dead)
					service(who[i], pfd[i].revents, pfd[i + 1].revents, t);
				i++;
			}
		}
	}
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i]) {
			conn_free(conns[i]);
			conns[i] = NULL;
		}
	if (lfd >= 0)
		close(lfd);
	logit("done: %llu connections, %llu faults fired, %llu bytes from the server, %llu payload "
	      "bytes, %llu requests",
	      (unsigned long long)nconn, (unsigned long long)fired, (unsigned long long)bytes_s2c,
	      (unsigned long long)payload_pos, (unsigned long long)requests_seen);
	if (!quiet)
		printf("faultproxy: %llu connections, %llu faults fired\n",
		       (unsigned long long)nconn, (unsigned long long)fired);
	if (logf && logf != stderr)
		fclose(logf);
	return 0;
}
