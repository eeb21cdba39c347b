// SPDX-License-Identifier: GPL-2.0
/*
 * doze pageserver MEMFILE --listen ADDR:PORT — serve a snapshot's memory file
 * to `doze restore --source tcp://ADDR:PORT` (post-copy style).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "../vmm/pageserver.h"

static struct dz_pageserver *the_server;

static void on_signal(int sig)
{
	(void)sig;
	if (the_server)
		dz_pageserver__stop(the_server);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: doze pageserver MEMFILE --listen ADDR:PORT [--port-file FILE]\n"
		"\n"
		"Serves MEMFILE (a snapshot's .mem) to tcp:// page sources: any number of\n"
		"clients, pipelined requests. Pages past the end of the file are refused\n"
		"(the client reports them lost), never sent as zeros.\n"
		"\n"
		"  --listen ADDR:PORT   where to listen (PORT 0 picks a free port)\n"
		"  --port-file FILE     write the bound ADDR:PORT to FILE once listening\n"
		"  --quiet              do not print the listening address and summary\n"
		"\n"
		"The bound address is printed as 'listening on ADDR:PORT'. SIGINT/SIGTERM stop it.\n");
}

int cmd_pageserver(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "die-after-pages", required_argument, NULL, 'D' },	/* testing aid */
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct dz_pageserver_opts o = { 0 };
	struct dz_pageserver_stats st;
	struct sigaction sa = { .sa_handler = on_signal };
	const char *port_file = NULL;
	bool quiet = false;
	char err[256];
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "l:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o.listen = optarg;
			break;
		case 'p':
			port_file = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'D': {
			char *end;

			o.die_after_pages = strtoull(optarg, &end, 0);
			if (*end || !*optarg) {
				fprintf(stderr, "doze pageserver: bad --die-after-pages '%s'\n", optarg);
				return 2;
			}
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || !o.listen) {
		fprintf(stderr, "doze pageserver: need MEMFILE and --listen ADDR:PORT\n");
		usage(stderr);
		return 2;
	}
	o.mem_path = argv[optind];
	r = dz_pageserver__create(&o, &the_server, err, sizeof(err));
	if (r) {
		fprintf(stderr, "doze pageserver: %s\n", err);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (port_file) {
		FILE *f = fopen(port_file, "w");

		if (!f || fprintf(f, "%s\n", dz_pageserver__addr(the_server)) < 0 || fclose(f)) {
			fprintf(stderr, "doze pageserver: cannot write %s: %s\n", port_file,
				strerror(errno));
			dz_pageserver__destroy(the_server);
			return 1;
		}
	}
	if (!quiet) {
		printf("listening on %s\n", dz_pageserver__addr(the_server));
		fflush(stdout);
	}
	r = dz_pageserver__run(the_server);
	dz_pageserver__stats(the_server, &st);
	if (!quiet)
		printf("served %llu pages in %llu requests to %llu clients (%llu refused past the end)\n",
		       (unsigned long long)st.pages, (unsigned long long)st.requests,
		       (unsigned long long)st.clients, (unsigned long long)st.pages_refused);
	dz_pageserver__destroy(the_server);
	the_server = NULL;
	if (r == -ECONNABORTED) {
		fprintf(stderr, "doze pageserver: stopping after %llu pages (--die-after-pages)\n",
			(unsigned long long)st.pages);
		return 3;
	}
	if (r) {
		fprintf(stderr, "doze pageserver: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}
