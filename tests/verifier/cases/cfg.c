/* SPDX-License-Identifier: GPL-2.0 */
/* Control flow: size, targets, loops, unreachable code, subprograms (kernel: verifier/cfg.c, calls.c). */
{
	"cfg: 4097 instructions is too large",
	.fill = fill_max_plus_one,
	.result = REJECT, .err = -E2BIG, .errstr = "BPF program is too large",
},
{
	/* kernel: cfg.c "loop (back-edge)" */
	"cfg: loop (back-edge)",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_0, 1),
		BPF_JMP_IMM(BPF_JLT, BPF_REG_0, 10, -2),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "back-edge from insn 2 to 1",
},
{
	/* kernel: cfg.c "loop2 (back-edge)" */
	"cfg: ja to itself",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_JMP_A(-1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "back-edge from insn 1 to 1",
},
{
	"cfg: conditional jump to itself",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_0, 0, -1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "back-edge from insn 1 to 1",
},
{
	"cfg: backward jump that is not a loop is fine",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 1),
		BPF_JMP_A(1),
		BPF_EXIT_INSN(),
		BPF_JMP_A(-2),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 1,
},
{
	/* kernel: cfg.c "unreachable" */
	"cfg: unreachable insn after exit",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
		BPF_MOV64_IMM(BPF_REG_0, 1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "unreachable insn 2",
},
{
	/* kernel: cfg.c "unreachable2" */
	"cfg: unreachable insn jumped over",
	.insns = {
		BPF_JMP_A(1),
		BPF_MOV64_IMM(BPF_REG_0, 1),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "unreachable insn 1",
},
{
	/* kernel: cfg.c "out of range jump" */
	"cfg: jump out of range forward",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 10),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "jump out of range from insn 1 to 12",
},
{
	/* kernel: cfg.c "out of range jump2" */
	"cfg: jump out of range backward",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_JMP_A(-3),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "jump out of range from insn 1 to -1",
},
{
	"cfg: gotol out of range",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_JMP32_A(100000),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "jump out of range",
},
{
	/* kernel: ld_imm64.c "test2 ld_imm64" */
	"cfg: jump into the middle of lddw",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 1),
		BPF_LD_IMM64(BPF_REG_0, 1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "jump into the middle of ldimm64 insn 2",
},
{
	/* kernel: cfg.c "no bpf_exit" */
	"cfg: falls off the end",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "last insn is not an exit or jmp",
},
{
	"cfg: last insn a conditional jump",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_0, 0, -2),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "last insn is not an exit or jmp",
},
{
	"cfg: last insn a helper call",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 1),
		BPF_EXIT_INSN(),
		BPF_CALL_HELPER(DZ_HELPER_TRACE),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "last insn is not an exit or jmp",
},
{
	/* kernel: calls.c "calls: invalid call target" */
	"cfg: local call out of range",
	.insns = {
		BPF_CALL_REL(10),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "call to invalid destination",
},
{
	"cfg: local call into the middle of lddw",
	.insns = {
		BPF_CALL_REL(2),
		BPF_EXIT_INSN(),
		BPF_LD_IMM64(BPF_REG_0, 1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "call to invalid destination",
},
{
	/* kernel: calls.c "calls: recursive call. test1" */
	"cfg: recursive call",
	.insns = {
		BPF_CALL_REL(1),
		BPF_EXIT_INSN(),
		BPF_CALL_REL(-1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "recursive call from insn 2 to 2",
},
{
	/* kernel: calls.c "calls: recursive call. test2" */
	"cfg: mutual recursion",
	.insns = {
		BPF_CALL_REL(1),
		BPF_EXIT_INSN(),
		BPF_CALL_REL(1),
		BPF_EXIT_INSN(),
		BPF_CALL_REL(-3),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "recursive call from insn 4 to 2",
},
{
	"cfg: call back into the main program",
	.insns = {
		BPF_CALL_REL(1),
		BPF_EXIT_INSN(),
		BPF_CALL_REL(-3),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "recursive call from insn 2 to 0",
},
{
	/* kernel: calls.c "calls: stack depth check using three frames" (depth) */
	"cfg: 8 call frames are allowed",
	.insns = {
		BPF_CALL_REL(1), BPF_EXIT_INSN(),
		BPF_CALL_REL(1), BPF_EXIT_INSN(),
		BPF_CALL_REL(1), BPF_EXIT_INSN(),
		BPF_CALL_REL(1), BPF_EXIT_INSN(),
		BPF_CALL_REL(1), BPF_EXIT_INSN(),
		BPF_CALL_REL(1), BPF_EXIT_INSN(),
		BPF_CALL_REL(1), BPF_EXIT_INSN(),
		BPF_MOV64_IMM(BPF_REG_0, 8), BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 8,
},
{
	"cfg: 9 call frames are too deep",
	.insns = {
		BPF_CALL_REL(1), BPF_EXIT_INSN(),
		BPF_CALL_REL(1), BPF_EXIT_INSN(),
		BPF_CALL_REL(1), BPF_EXIT_INSN(),
		BPF_CALL_REL(1), BPF_EXIT_INSN(),
		BPF_CALL_REL(1), BPF_EXIT_INSN(),
		BPF_CALL_REL(1), BPF_EXIT_INSN(),
		BPF_CALL_REL(1), BPF_EXIT_INSN(),
		BPF_CALL_REL(1), BPF_EXIT_INSN(),
		BPF_MOV64_IMM(BPF_REG_0, 9), BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -E2BIG, .errstr = "the call stack of 9 frames is too deep",
},
{
	/* kernel: calls.c "calls: jumping across function bodies. test1" */
	"cfg: jump from a subprogram into the main program",
	.insns = {
		BPF_CALL_REL(1),
		BPF_EXIT_INSN(),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_JMP_A(-3),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "jump out of range from insn 3 to 1",
},
{
	/* kernel: calls.c "calls: jumping across function bodies. test2" */
	"cfg: jump from the main program into a subprogram",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 2),
		BPF_CALL_REL(1),
		BPF_EXIT_INSN(),
		BPF_MOV64_IMM(BPF_REG_0, 1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "jump out of range from insn 1 to 4",
},
{
	/* kernel: calls.c "calls: subprog falls through" */
	"cfg: subprogram falls off its end",
	.insns = {
		BPF_CALL_REL(1),
		BPF_EXIT_INSN(),
		BPF_MOV64_IMM(BPF_REG_0, 1),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "last insn is not an exit or jmp",
},
{
	"cfg: main program falls into a subprogram",
	.insns = {
		BPF_CALL_REL(2),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_MOV64_IMM(BPF_REG_0, 1),
		BPF_MOV64_IMM(BPF_REG_0, 2),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "last insn is not an exit or jmp",
},
{
	"cfg: diamond (two jumps to one target)",
	.insns = {
		LD_CTX_U32(BPF_REG_2, BPF_REG_1, vcpu),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_2, 0, 2),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_2, 1, 1),
		BPF_MOV64_IMM(BPF_REG_0, 2),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0,
},
