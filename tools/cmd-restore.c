// SPDX-License-Identifier: GPL-2.0
/*
 * doze restore STATEFILE --source URI [--policy sync|user|always|bpf]
 *                        [--async-min-wait DURATION] [--prefetch on|off]
 *                        [--stats-json FILE] ...
 *
 * Resumes a snapshot with its RAM empty; pages arrive from the source on
 * demand (and from the prefetcher), each checked against its checksum.
 * Exit status: 0 guest checksum OK and every page restored, 1 failure, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <doze/abi.h>

#include "../vmm/kvmapf.h"
#include "../vmm/restore.h"
#include "../vmm/source.h"
#include "../vmm/stats.h"
#include "cmds.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: doze restore STATEFILE --source URI [options]\n"
		"\n"
		"Restore a snapshot lazily: the VM resumes with empty RAM and each page is\n"
		"fetched from the source on first touch, while a prefetcher streams the rest.\n"
		"Every page is checked against the snapshot's XXH64 checksum.\n"
		"\n"
		"  --source URI          file:PATH[?latency=1ms&bandwidth=1gbit]\n"
		"                        tcp://HOST:PORT  (doze pageserver MEMFILE --listen HOST:PORT)\n"
		"                        http://HOST:PORT/PATH  (HTTP range requests)\n"
		"                        options for every scheme: latency=, bandwidth=, timeout=\n"
		"                        (give up on a page after, default 10s), connect_timeout=\n"
		"  --policy NAME         what a vCPU does on a missing page (docs/async.md):\n"
		"                        sync    wait (default; what today's VMMs do)\n"
		"                        user    async only in guest ring 3 with IF=1 (Linux KVM)\n"
		"                        always  async in any ring with IF=1 (unsafe: shows the\n"
		"                                guest's hard error where it cannot sleep)\n"
		"                        bpf     the guest's verified eBPF predicate decides\n"
		"                        kvm     the peer baseline: KVM's own in-kernel async page\n"
		"                                faults (in-kernel LAPIC; doze's #VE and predicate\n"
		"                                off; docs/kvm-peer.md)\n"
		"  --kvm-guest MODE      with --policy kvm (testing aid): apf (default) the guest\n"
		"                        enables its LAPIC and arms KVM's APF; lapic: LAPIC only\n"
		"                        (KVM halts the vCPU artificially); none: neither;\n"
		"                        no-lapic: APF armed, LAPIC left disabled (the known\n"
		"                        stall, reported as an error)\n"
		"  --async-min-wait DUR  wait synchronously when the source expects the page\n"
		"                        sooner than DUR (e.g. 500us, 2ms; default 0)\n"
		"  --async-trace         one stderr line per page-not-present / page-ready\n"
		"  --async-delivery ve|pf  page-not-present as doze's #VE (default) or only as\n"
		"                        Linux's #PF with CR2 = token (the Linux-compatible ABI)\n"
		"  --prefetch on|off     stream the pages nobody asked for yet (default on)\n"
		"  --prefetch-window N   pages in flight for prefetch (default 64)\n"
		"  --stats-json FILE     write restore statistics as JSON\n"
		"  --timeout SECONDS     end the run with an error if the guest has not finished\n"
		"  --verify-ram MEMFILE  compare every page installed with MEMFILE (testing aid)\n"
		"  --no-run              with --verify-ram: do not run the guest; fetch every page\n"
		"                        and compare all of RAM with MEMFILE byte for byte\n"
		"  --busy-poll           the fault service spins instead of sleeping (lower latency)\n"
		"  --pin                 vCPU i on the i-th allowed CPU, every other thread on the\n"
		"                        CPUs left over (measurements: the same layout for every policy)\n"
		"  --no-progress         no progress line (it is shown on a terminal only)\n"
		"  --quiet               do not copy the guest console to stdout\n"
		"  -h, --help            this help\n"
		"\n"
		"Exit status: 0 checksum OK and every page restored, 1 failure, 2 usage error.\n");
}

static void print_summary(const struct dz_restore_opts *o, const struct dz_restore_result *r)
{
	const struct dz_faultsvc_stats *s = &r->svc;

	if (o->no_run) {
		printf("doze restore: fetched %llu pages (%llu lost), %llu compared with %s, %llu differ\n",
		       (unsigned long long)s->pages_present, (unsigned long long)s->pages_lost,
		       (unsigned long long)r->ram_compared, o->verify_ram,
		       (unsigned long long)r->ram_mismatches);
		return;
	}
	char what[96], pages[64];

	if (r->vm.powered_off)
		snprintf(what, sizeof(what), "checksum %#llx %s", (unsigned long long)r->vm.checksum,
			 r->vm.checksum_ok			     ? "OK"
			 : r->vm.guest_status == DZ_STATUS_TASK_KILLED ? "(task killed)"
			 : r->vm.guest_status == DZ_STATUS_EFAULT      ? "(-EFAULT seen)"
								       : "BAD");
	else
		snprintf(what, sizeof(what), "guest stopped");
	if (s->pages_lost)
		snprintf(pages, sizeof(pages), "%llu page(s) LOST", (unsigned long long)s->pages_lost);
	else
		snprintf(pages, sizeof(pages), "%s",
			 r->all_verified ? "every page verified" : "not every page was fetched");
	printf("doze restore: %s in %.3f s; %llu faults (wait p50 %.0f us, p99 %.0f us, max %.0f us), "
	       "pages %llu demand + %llu prefetch of %llu, %s\n",
	       what, r->vm.elapsed_s,
	       (unsigned long long)s->faults_total, dz_hist__quantile(&s->wait_ns, 0.5) / 1e3,
	       dz_hist__quantile(&s->wait_ns, 0.99) / 1e3, s->wait_ns.max / 1e3,
	       (unsigned long long)s->pages_demand, (unsigned long long)s->pages_prefetch,
	       (unsigned long long)s->pages_total, pages);
	if (o->verify_ram)
		printf("doze restore: RAM %s %s (%llu mismatching pages)\n",
		       r->ram_mismatches ? "DIFFERS from" : "matches", o->verify_ram,
		       (unsigned long long)r->ram_mismatches);
}

int cmd_restore(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "policy", required_argument, NULL, 'P' },
		{ "kvm-guest", required_argument, NULL, 'K' },
		{ "pin", no_argument, NULL, 'I' },
		{ "async-min-wait", required_argument, NULL, 'A' },
		{ "async-trace", no_argument, NULL, 'a' },
		{ "async-delivery", required_argument, NULL, 'D' },
		{ "prefetch", required_argument, NULL, 'p' },
		{ "prefetch-window", required_argument, NULL, 'W' },
		{ "stats-json", required_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "verify-ram", required_argument, NULL, 'V' },
		{ "no-run", no_argument, NULL, 'N' },
		{ "busy-poll", no_argument, NULL, 'B' },
		{ "no-progress", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct dz_restore_opts o = { .policy = "sync", .prefetch = true };
	struct dz_restore_result *res;
	bool no_progress = false;
	char *end;
	int c, e;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.source_uri = optarg;
			break;
		case 'P':
			o.policy = optarg;
			if (strcmp(optarg, "sync") && strcmp(optarg, "user") &&
			    strcmp(optarg, "always") && strcmp(optarg, "bpf") && strcmp(optarg, "kvm")) {
				fprintf(stderr,
					"doze restore: unknown --policy '%s' (sync, user, always, bpf or kvm)\n",
					optarg);
				return 2;
			}
			break;
		case 'A':
			if (dz_parse_duration_ns(optarg, &o.async_min_wait_ns)) {
				fprintf(stderr,
					"doze restore: --async-min-wait wants a duration (500us, 2ms), got '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'a':
			o.async_trace = true;
			break;
		case 'I':
			o.pin = true;
			break;
		case 'K':
			if (!strcmp(optarg, "apf"))
				o.kvm_guest = DZ_KVM_GUEST_APF;
			else if (!strcmp(optarg, "lapic"))
				o.kvm_guest = DZ_KVM_GUEST_LAPIC;
			else if (!strcmp(optarg, "none"))
				o.kvm_guest = DZ_KVM_GUEST_NONE;
			else if (!strcmp(optarg, "no-lapic"))
				o.kvm_guest = DZ_KVM_GUEST_NO_LAPIC;
			else {
				fprintf(stderr,
					"doze restore: --kvm-guest wants apf, lapic, none or no-lapic, got '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'D':
			if (strcmp(optarg, "ve") && strcmp(optarg, "pf")) {
				fprintf(stderr, "doze restore: --async-delivery wants ve or pf, got '%s'\n",
					optarg);
				return 2;
			}
			o.async_pf = !strcmp(optarg, "pf");
			break;
		case 'p':
			if (!strcmp(optarg, "on"))
				o.prefetch = true;
			else if (!strcmp(optarg, "off"))
				o.prefetch = false;
			else {
				fprintf(stderr, "doze restore: --prefetch wants on or off, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 'W': {
			long n = strtol(optarg, &end, 10);

			if (*end || n < 1 || n > 65536) {
				fprintf(stderr, "doze restore: --prefetch-window wants 1..65536 pages\n");
				return 2;
			}
			o.prefetch_window = (unsigned int)n;
			break;
		}
		case 'j':
			o.stats_json = optarg;
			break;
		case 'T':
			o.timeout_s = strtod(optarg, &end);
			if (*end || !(o.timeout_s > 0) || o.timeout_s > 1e6) {
				fprintf(stderr, "doze restore: --timeout wants seconds > 0, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 'V':
			o.verify_ram = optarg;
			break;
		case 'N':
			o.no_run = true;
			break;
		case 'B':
			o.busy_poll = true;
			break;
		case 'n':
			no_progress = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "doze restore: expected exactly one STATEFILE\n");
		usage(stderr);
		return 2;
	}
	if (!o.source_uri) {
		fprintf(stderr, "doze restore: --source URI is required (file:, tcp:// or http://)\n");
		return 2;
	}
	if (o.no_run && !o.verify_ram) {
		fprintf(stderr, "doze restore: --no-run needs --verify-ram MEMFILE\n");
		return 2;
	}
	o.state_path = argv[optind];
	o.progress = !no_progress && isatty(STDERR_FILENO);
	setvbuf(stdout, NULL, _IOLBF, 0);
	res = calloc(1, sizeof(*res));
	if (!res) {
		fprintf(stderr, "doze restore: out of memory\n");
		return 1;
	}
	e = dz_restore__run(&o, res);
	if (res->ran || o.no_run)
		print_summary(&o, res);
	if (e)
		fprintf(stderr, "doze restore: %s\n", res->error[0] ? res->error : strerror(-e));
	free(res);
	return e ? 1 : 0;
}
