// SPDX-License-Identifier: GPL-2.0
/*
 * doze snapshot info STATEFILE
 * doze snapshot verify STATEFILE [--mem MEMFILE]
 *
 * info prints the layout of a PREFIX.state file; verify checks every page of
 * the memory file (default: the state file's PREFIX.mem) against its XXH64
 * checksum and names the first bad page.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kvm.h>

#include "../vmm/snapshot.h"
#include "cmds.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: doze snapshot info STATEFILE\n"
		   "       doze snapshot verify STATEFILE [--mem MEMFILE]\n"
		   "\n"
		   "  info     print the snapshot's layout: RAM, vCPUs, workload, guest layout, records\n"
		   "  verify   check every page of MEMFILE (default: PREFIX.mem next to PREFIX.state)\n"
		   "           against its checksum; exit 1 naming the first bad page\n");
}

static const char *rec_name(uint32_t t)
{
	static const char *const names[] = {
		[DZ_SNAP_REC_REGS] = "regs",	     [DZ_SNAP_REC_SREGS] = "sregs",
		[DZ_SNAP_REC_XSAVE] = "xsave",	     [DZ_SNAP_REC_FPU] = "fpu",
		[DZ_SNAP_REC_XCRS] = "xcrs",	     [DZ_SNAP_REC_MSRS] = "msrs",
		[DZ_SNAP_REC_EVENTS] = "events",     [DZ_SNAP_REC_DEBUGREGS] = "debugregs",
		[DZ_SNAP_REC_VCPU_DEV] = "vcpu-dev", [DZ_SNAP_REC_VM_DEV] = "vm-dev",
		[DZ_SNAP_REC_LAPIC] = "lapic",	     [DZ_SNAP_REC_MP_STATE] = "mp-state",
	};

	return t < DZ_SNAP_REC_MAX && names[t] ? names[t] : "?";
}

static int open_or_complain(const char *path, struct dz_snapshot **s)
{
	int err = dz_snapshot__open(path, s);

	if (err)
		fprintf(stderr, "doze snapshot: %s: %s\n", path,
			err == -EBADMSG ? "not a valid doze state file (bad magic, sizes or hash)"
			: err == -EPROTONOSUPPORT ? "unsupported state file version"
						  : strerror(-err));
	return err;
}

static int do_info(const char *path)
{
	struct dz_snapshot *s;
	uint64_t zero_hash;
	uint64_t zero_pages = 0;
	static const uint8_t zero[DZ_SNAP_PAGE_SIZE];

	if (open_or_complain(path, &s))
		return 1;
	zero_hash = dz_snapshot__page_hash(zero, sizeof(zero));
	for (uint64_t i = 0; i < s->nr_pages; i++)
		zero_pages += dz_snapshot__checksums(s)[i] == zero_hash;
	printf("state file:   %s\n", path);
	printf("ram:          %" PRIu64 " bytes (%" PRIu64 " MiB), %" PRIu64 " pages of %u, %" PRIu64
	       " all-zero\n",
	       s->ram_size, s->ram_size >> 20, s->nr_pages, s->page_size, zero_pages);
	printf("vcpus:        %u\n", s->nr_cpus);
	printf("workload:     %s\n", s->workload);
	printf("tick:         %u Hz\n", s->tick_hz);
	printf("boot info:    %#" PRIx64 "\n", s->layout.boot_info_gpa);
	printf("page tables:  %#" PRIx64 "-%#" PRIx64 "\n", s->layout.pt_root, s->layout.pt_end);
	printf("image:        %#" PRIx64 "-%#" PRIx64 ", entry %#" PRIx64 "\n", s->layout.image_start,
	       s->layout.image_end, s->layout.entry);
	printf("checksums:    XXH64 seed 0, one per page\n");
	for (uint32_t c = 0; c < s->nr_cpus; c++) {
		const void *d;
		size_t len;

		printf("vcpu %u:", c);
		for (uint32_t t = DZ_SNAP_REC_REGS; t < DZ_SNAP_REC_MAX; t++)
			if (!dz_snapshot__record(s, t, c, &d, &len))
				printf(" %s(%zu)", rec_name(t), len);
		if (!dz_snapshot__record(s, DZ_SNAP_REC_REGS, c, &d, &len) &&
		    len == sizeof(struct kvm_regs)) {
			const struct kvm_regs *r = d;

			printf("\n        rip %#llx rsp %#llx rflags %#llx", r->rip, r->rsp, r->rflags);
		}
		printf("\n");
	}
	dz_snapshot__close(s);
	return 0;
}

static int do_verify(const char *path, const char *mem)
{
	struct dz_snapshot *s;
	char buf[4096];
	uint64_t bad = 0;
	int err;

	if (!mem) {
		size_t n = strlen(path);

		if (n > 6 && !strcmp(path + n - 6, ".state") && n < sizeof(buf)) {
			snprintf(buf, sizeof(buf), "%.*s.mem", (int)(n - 6), path);
			mem = buf;
		} else {
			fprintf(stderr, "doze snapshot verify: give --mem MEMFILE for %s\n", path);
			return 2;
		}
	}
	if (open_or_complain(path, &s))
		return 1;
	err = dz_snapshot__verify_mem(s, mem, &bad);
	if (!err)
		printf("%s: all %" PRIu64 " pages match their checksums\n", mem, s->nr_pages);
	else if (err == -EBADMSG)
		fprintf(stderr, "%s: page %" PRIu64 " (offset %#" PRIx64 ") does not match its checksum\n",
			mem, bad, bad * s->page_size);
	else if (err == -EIO)
		fprintf(stderr, "%s: truncated: page %" PRIu64 " (offset %#" PRIx64 ") is missing\n", mem,
			bad, bad * s->page_size);
	else
		fprintf(stderr, "%s: %s\n", mem, strerror(-err));
	dz_snapshot__close(s);
	return err ? 1 : 0;
}

int cmd_snapshot(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *mem = NULL, *sub;
	int c;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	sub = argv[1];
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			mem = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 2) {
		fprintf(stderr, "doze snapshot %s: expected one STATEFILE\n", sub);
		return 2;
	}
	if (!strcmp(sub, "info") && !mem)
		return do_info(argv[optind + 1]);
	if (!strcmp(sub, "verify"))
		return do_verify(argv[optind + 1], mem);
	fprintf(stderr, "doze snapshot: unknown subcommand '%s'\n", sub);
	usage(stderr);
	return 2;
}
