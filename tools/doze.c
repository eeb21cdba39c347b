// SPDX-License-Identifier: GPL-2.0
/*
 * doze — run KVM guests whose memory is still arriving.
 *
 * Subcommand dispatcher in the style of git/perf: `doze CMD --help` reaches the
 * subcommand's own help.
 */
#include <stdio.h>
#include <string.h>

#include "cmds.h"

struct doze_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct doze_cmd cmds[] = {
	{ "run", cmd_run, "boot the reference guest (or any doze guest ELF) on KVM" },
	{ "snapshot", cmd_snapshot, "inspect or verify a snapshot (memory file, state, checksums)" },
	{ "restore", cmd_restore, "restore a snapshot lazily from a page source under a policy" },
	{ "pageserver", cmd_pageserver, "serve a snapshot's memory file over TCP (post-copy style)" },
	{ "faultproxy", cmd_faultproxy, "TCP proxy that injects faults in front of a page server (testing)" },
	{ "bpf", cmd_bpf, "eBPF engine: asm, dis, verify, run predicates" },
	{ "stats", cmd_stats, "summarise --stats-json files side by side" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: doze [--version] [--help] <command> [<args>]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].fn)
			fprintf(f, "   %-11s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\n'doze <command> --help' shows a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("doze 0.1\n");
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		if (!cmds[i].fn) {
			fprintf(stderr, "doze: '%s' is not built into this binary\n", argv[1]);
			return 2;
		}
		return cmds[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "doze: '%s' is not a doze command. See 'doze --help'.\n", argv[1]);
	return 2;
}
