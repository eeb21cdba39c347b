/* SPDX-License-Identifier: GPL-2.0 */
/* Size and complexity limits (kernel: verifier/scale tests, "BPF program is too large"). */
{
	"limits: 4096 instructions are accepted",
	.fill = fill_max,
	.result = ACCEPT, .check_retval = 1, .retval = (DZ_MAX_INSNS - 2) & 0xff,
},
{
	"limits: 4096 instructions with 1364 branches are accepted (pruning)",
	.fill = fill_max_branchy,
	.result = ACCEPT, .check_retval = 1, .retval = 1,
},
{
	"limits: 2^400 paths collapse by state pruning",
	.fill = fill_diamonds_pruned,
	.result = ACCEPT, .check_retval = 1, .retval = 1,
},
{
	"limits: 2^30 distinct states hit the complexity limit",
	.fill = fill_diamonds_exploding, .slow = 1,
	.result = REJECT, .err = -E2BIG, .errstr = "BPF program is too large. Processed 1000001 insn",
},
{
	"limits: exploding states 8 frames deep stop at the copy limit",
	.fill = fill_deep_exploding, .slow = 1,
	.result = REJECT, .err = -E2BIG, .errstr = "BPF program is too complex: 3072 MiB of branch states copied",
},
{
	/* kernel: "The sequence of 8193 jumps is too complex." */
	"limits: pending branch states are bounded in memory",
	.fill = fill_deep_pending, .slow = 1,
	.result = REJECT, .err = -E2BIG, .errstr = "jumps is too complex",
},
