/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The doze binary's subcommands, git style: `doze CMD [args]`.
 * Each lives in a file of its own (tools/cmd-*.c) and returns the process
 * exit status; only this level prints fatal errors and exits.
 */
#ifndef DZ_TOOLS_CMDS_H
#define DZ_TOOLS_CMDS_H

/* Declared weak so a tree in which a component is not built yet still links. */
#define DZ_CMD(name) int name(int argc, char **argv) __attribute__((weak))

DZ_CMD(cmd_bpf);
DZ_CMD(cmd_run);
DZ_CMD(cmd_snapshot);
DZ_CMD(cmd_restore);
DZ_CMD(cmd_pageserver);
DZ_CMD(cmd_faultproxy);
DZ_CMD(cmd_stats);

#endif
