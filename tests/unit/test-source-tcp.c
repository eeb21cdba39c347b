// SPDX-License-Identifier: GPL-2.0
/* tcp:// page source: pipelining, truncation, reconnect with resend after a server restart,
 * a stalled server, a server that is gone for good, unreachable at open. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include "tap.h"
#include "srctest.h"
#include "../../vmm/pageproto.h"
#include "../../vmm/pageserver.h"

#define NPAGES 64

static char memfile[64];

static void *serve(void *arg)
{
	dz_pageserver__run(arg);
	return NULL;
}

static struct dz_pageserver *start_server(const char *listen, pthread_t *th)
{
	struct dz_pageserver_opts o = { .mem_path = memfile, .listen = listen };
	struct dz_pageserver *ps;
	char err[256];

	if (dz_pageserver__create(&o, &ps, err, sizeof(err))) {
		diag("pageserver: %s", err);
		return NULL;
	}
	pthread_create(th, NULL, serve, ps);
	return ps;
}

static void stop_server(struct dz_pageserver *ps, pthread_t th)
{
	dz_pageserver__stop(ps);
	pthread_join(th, NULL);
	dz_pageserver__destroy(ps);
}

/* A server that says hello, reads requests and never answers. */
static int stall_fd;
static volatile int stall_accepts;

static void *stall_server(void *arg)
{
	struct dz_pp_hello h = { .magic = DZ_PP_HELLO_MAGIC, .version = DZ_PP_VERSION,
				 .page_size = 4096, .max_pages = 256, .file_size = NPAGES * 4096ull };
	int conns[16], n = 0;

	while (n < 16) {
		int c = accept(stall_fd, NULL, NULL);

		if (c < 0)
			break;
		stall_accepts++;
		if (send(c, &h, sizeof(h), MSG_NOSIGNAL) < 0)
			diag("hello not sent");
		conns[n++] = c;	/* kept open, never answered */
	}
	for (int i = 0; i < n; i++)
		close(conns[i]);
	return NULL;
}

int main(void)
{
	static char bufs[NPAGES][4096];
	struct dz_src_done done[NPAGES];
	struct dz_source_counters ctr;
	struct dz_source *src;
	struct dz_pageserver *ps;
	pthread_t th;
	char uri[160], err[256], addr[64];
	int n, good;

	signal(SIGPIPE, SIG_IGN);
	alarm(120);
	if (!make_memfile(NPAGES, memfile, sizeof(memfile)))
		skip_all("cannot create a temp file");

	/* Unreachable at open: a clear error, quickly. */
	ok(dz_source__open("tcp://127.0.0.1:1", NULL, &src, err, sizeof(err)) == -ECONNREFUSED &&
		   strstr(err, "tcp://127.0.0.1:1") && strstr(err, "refused"),
	   "connection refused at open: %s", err);
	ok(dz_source__open("tcp://127.0.0.1", NULL, &src, err, sizeof(err)) == -EINVAL, "no port: %s", err);
	ok(dz_source__open("tcp://127.0.0.1:99999", NULL, &src, err, sizeof(err)) == -EINVAL, "bad port: %s", err);

	ps = start_server("127.0.0.1:0", &th);
	ok(ps != NULL, "page server up");
	snprintf(addr, sizeof(addr), "%s", dz_pageserver__addr(ps));
	snprintf(uri, sizeof(uri), "tcp://%s?timeout=3s&connect_timeout=500ms", addr);
	ok(!dz_source__open(uri, NULL, &src, err, sizeof(err)), "open %s", uri);
	is_u64(dz_source__size(src), NPAGES * 4096ull, "size from the hello");

	/* Many requests in flight on the one connection. */
	for (int i = 0; i < NPAGES; i++)
		dz_source__submit(src, (uint64_t)i, (uint64_t)i, 1, bufs[i],
				  i % 3 ? DZ_PRIO_PREFETCH : DZ_PRIO_DEMAND);
	n = collect(src, done, NPAGES, 10000);
	good = 0;
	for (int i = 0; i < n; i++)
		good += !done[i].status && done[i].nvalid == 1 && pages_match(done[i].page, 1, done[i].buf);
	is_int(good, NPAGES, "64 pipelined requests, every page right");
	dz_source__submit(src, 1, NPAGES - 1, 4, bufs[0], DZ_PRIO_DEMAND);
	ok(collect(src, done, 1, 5000) == 1 && done[0].nvalid == 1 && done[0].status == -ENODATA,
	   "across the end: 1 valid page, the rest -ENODATA");
	dz_source__last_error(src, err, sizeof(err));
	ok(strstr(err, "past the end"), "error says why: %s", err);

	/* The server restarts on the same port: the client reconnects and resends. */
	stop_server(ps, th);
	for (int i = 0; i < 8; i++)
		dz_source__submit(src, 100 + (uint64_t)i, (uint64_t)i + 10, 1, bufs[i], DZ_PRIO_DEMAND);
	usleep(300000);	/* a few refused reconnects meanwhile */
	ps = start_server(addr, &th);
	ok(ps != NULL, "server restarted on %s", addr);
	n = collect(src, done, 8, 10000);
	good = 0;
	for (int i = 0; i < n; i++)
		good += !done[i].status && pages_match(done[i].page, 1, done[i].buf);
	is_int(good, 8, "requests made while it was down complete after the restart");
	dz_source__counters(src, &ctr);
	ok(ctr.reconnects >= 1, "reconnected (%llu attempts)", (unsigned long long)ctr.reconnects);

	/* Gone for good: outstanding requests fail after the timeout, with a reason. */
	stop_server(ps, th);
	for (int i = 0; i < 4; i++)
		dz_source__submit(src, 200 + (uint64_t)i, (uint64_t)i, 1, bufs[i], DZ_PRIO_DEMAND);
	n = collect(src, done, 4, 15000);
	is_int(n, 4, "every request completes although the server is gone");
	good = 0;
	for (int i = 0; i < n; i++)
		good += done[i].status == -EIO && done[i].nvalid == 0;
	is_int(good, 4, "... as -EIO (lost), never zeros");
	dz_source__last_error(src, err, sizeof(err));
	ok(strstr(err, "gave up after 3.0 s"), "reason: %s", err);
	dz_source__close(src);

	/* A server that accepts but never answers: the stall is detected, the request fails. */
	{
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t sl = sizeof(sa);
		pthread_t st;

		stall_fd = socket(AF_INET, SOCK_STREAM, 0);
		bind(stall_fd, (struct sockaddr *)&sa, sizeof(sa));
		listen(stall_fd, 16);
		getsockname(stall_fd, (struct sockaddr *)&sa, &sl);
		pthread_create(&st, NULL, stall_server, NULL);
		snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%u?timeout=500ms&connect_timeout=300ms",
			 ntohs(sa.sin_port));
		ok(!dz_source__open(uri, NULL, &src, err, sizeof(err)), "open the stalling server");
		dz_source__submit(src, 1, 0, 1, bufs[0], DZ_PRIO_DEMAND);
		n = collect(src, done, 1, 20000);
		ok(n == 1 && done[0].status == -EIO, "stalled request fails (status %d)", n ? done[0].status : 0);
		dz_source__last_error(src, err, sizeof(err));
		ok(stall_accepts >= 2, "after reconnecting (%d connections): %s", stall_accepts, err);
		dz_source__close(src);
		shutdown(stall_fd, SHUT_RDWR);
		close(stall_fd);
		pthread_join(st, NULL);
	}
	unlink(memfile);
	return done_testing();
}
