// SPDX-License-Identifier: GPL-2.0
/* The page server's wire protocol, spoken by hand: hello, pipelined requests answered
 * in order, refusals past the end, malformed requests, several clients, dying on purpose. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include "tap.h"
#include "srctest.h"
#include "../../vmm/pageproto.h"
#include "../../vmm/pageserver.h"

#define NPAGES 40

static void *serve(void *arg)
{
	intptr_t r = dz_pageserver__run(arg);

	return (void *)r;
}

static int dial(const char *addr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char host[64];
	const char *colon = strrchr(addr, ':');
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = { .tv_sec = 5 };

	snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	inet_pton(AF_INET, host, &sa.sin_addr);
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, (char *)buf + got, len - got, 0);

		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static void send_req(int fd, uint64_t id, uint64_t page, uint32_t count)
{
	struct dz_pp_req q = { .magic = DZ_PP_REQ_MAGIC, .count = count, .id = id, .page = page };

	if (send(fd, &q, sizeof(q), MSG_NOSIGNAL) != (ssize_t)sizeof(q))
		diag("short send");
}

int main(void)
{
	struct dz_pageserver_opts o = { .listen = "127.0.0.1:0" };
	struct dz_pageserver *ps;
	struct dz_pageserver_stats st;
	struct dz_pp_hello h;
	struct dz_pp_resp r;
	char path[64], err[256], *buf = malloc(DZ_PP_MAX_PAGES * 4096ull);
	pthread_t th;
	void *ret;
	int fd, fd2, good;

	signal(SIGPIPE, SIG_IGN);
	alarm(120);
	if (!make_memfile(NPAGES, path, sizeof(path)))
		skip_all("cannot create a temp file");
	o.mem_path = "/nonexistent";
	ok(dz_pageserver__create(&o, &ps, err, sizeof(err)) < 0 && strstr(err, "/nonexistent"),
	   "missing memory file: %s", err);
	o.mem_path = path;
	o.listen = "localhost";
	ok(dz_pageserver__create(&o, &ps, err, sizeof(err)) < 0, "listen address without port: %s", err);
	o.listen = "127.0.0.1:0";
	ok(!dz_pageserver__create(&o, &ps, err, sizeof(err)), "server created");
	ok(strncmp(dz_pageserver__addr(ps), "127.0.0.1:", 10) == 0 && atoi(dz_pageserver__addr(ps) + 10) > 0,
	   "bound to a real port: %s", dz_pageserver__addr(ps));
	pthread_create(&th, NULL, serve, ps);

	fd = dial(dz_pageserver__addr(ps));
	ok(fd >= 0, "connect");
	ok(!read_full(fd, &h, sizeof(h)), "hello");
	ok(h.magic == DZ_PP_HELLO_MAGIC && h.version == DZ_PP_VERSION && h.page_size == 4096 &&
		   h.file_size == NPAGES * 4096ull && h.max_pages == DZ_PP_MAX_PAGES,
	   "hello: magic, version, page size, file size");

	/* Pipelined: 30 requests before reading any answer. */
	for (int i = 0; i < 30; i++)
		send_req(fd, 1000 + (uint64_t)i, (uint64_t)i, 1 + (uint32_t)(i % 3));
	good = 0;
	for (int i = 0; i < 30; i++) {
		uint32_t want = 1 + (uint32_t)(i % 3);

		if (read_full(fd, &r, sizeof(r)) || r.magic != DZ_PP_RESP_MAGIC)
			break;
		if (read_full(fd, buf, (size_t)r.nvalid * 4096))
			break;
		good += r.id == 1000 + (uint64_t)i && r.status == 0 && r.count == want &&
			r.nvalid == want && pages_match((uint64_t)i, want, buf);
	}
	is_int(good, 30, "30 pipelined requests answered in order with the right pages");

	send_req(fd, 1, NPAGES - 2, 5);
	ok(!read_full(fd, &r, sizeof(r)) && !read_full(fd, buf, (size_t)r.nvalid * 4096),
	   "request across the end answered");
	ok(r.status == -ENODATA && r.nvalid == 2 && r.count == 5 && pages_match(NPAGES - 2, 2, buf),
	   "the 2 pages before the end, -ENODATA for the rest (never zeros)");
	send_req(fd, 2, NPAGES + 10, 1);
	ok(!read_full(fd, &r, sizeof(r)) && r.status == -ENODATA && r.nvalid == 0, "wholly past the end");
	send_req(fd, 3, 0, 0);
	ok(!read_full(fd, &r, sizeof(r)) && r.status == -EINVAL && r.nvalid == 0, "count 0: -EINVAL");
	send_req(fd, 4, 0, DZ_PP_MAX_PAGES + 1);
	ok(!read_full(fd, &r, sizeof(r)) && r.status == -EINVAL, "count too large: -EINVAL");
	send_req(fd, 5, UINT64_MAX, 1);
	ok(!read_full(fd, &r, sizeof(r)) && r.status == -ENODATA && r.nvalid == 0, "page index overflow: refused");

	/* A second client at the same time. */
	fd2 = dial(dz_pageserver__addr(ps));
	ok(fd2 >= 0 && !read_full(fd2, &h, sizeof(h)), "second client connected");
	send_req(fd2, 77, 7, 1);
	send_req(fd, 78, 8, 1);
	ok(!read_full(fd2, &r, sizeof(r)) && r.id == 77 && !read_full(fd2, buf, 4096) && pages_match(7, 1, buf),
	   "second client served");
	ok(!read_full(fd, &r, sizeof(r)) && r.id == 78 && !read_full(fd, buf, 4096) && pages_match(8, 1, buf),
	   "first client still served");

	/* Garbage: the server hangs up on that client only. */
	{
		char junk[24] = "GET / HTTP/1.0\r\n\r\n";

		if (send(fd2, junk, sizeof(junk), MSG_NOSIGNAL) != (ssize_t)sizeof(junk))
			diag("short send");
	}
	ok(recv(fd2, buf, 16, 0) == 0, "bad magic: connection closed");
	close(fd2);
	send_req(fd, 79, 9, 1);
	ok(!read_full(fd, &r, sizeof(r)) && r.id == 79, "other client unaffected");
	read_full(fd, buf, 4096);
	close(fd);

	dz_pageserver__stop(ps);
	pthread_join(th, &ret);
	is_int((intptr_t)ret, 0, "stop() ends run() with 0");
	dz_pageserver__stats(ps, &st);
	is_u64(st.clients, 2, "2 clients");
	ok(st.pages_refused >= 4 && st.bad_requests >= 2, "refusals (%llu) and bad requests (%llu) counted",
	   (unsigned long long)st.pages_refused, (unsigned long long)st.bad_requests);
	dz_pageserver__destroy(ps);

	/* Dying on purpose (test aid): after N pages the connections drop. */
	o.die_after_pages = 5;
	ok(!dz_pageserver__create(&o, &ps, err, sizeof(err)), "server with die_after_pages 5");
	pthread_create(&th, NULL, serve, ps);
	fd = dial(dz_pageserver__addr(ps));
	read_full(fd, &h, sizeof(h));
	for (int i = 0; i < 10; i++)
		send_req(fd, (uint64_t)i, (uint64_t)i, 1);
	pthread_join(th, &ret);
	is_int((intptr_t)ret, -ECONNABORTED, "run() returns -ECONNABORTED");
	{
		int got = 0;

		while (!read_full(fd, &r, sizeof(r)) && !read_full(fd, buf, (size_t)r.nvalid * 4096))
			got++;
		ok(got < 10, "the client saw the connection drop after %d answers", got);
	}
	close(fd);
	dz_pageserver__destroy(ps);
	free(buf);
	unlink(path);
	return done_testing();
}
