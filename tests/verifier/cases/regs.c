/* SPDX-License-Identifier: GPL-2.0 */
/* Register initialisation (kernel: verifier/basic.c, uninit.c, calls.c "caller-saved"). */
{
	/* kernel: uninit.c "read uninitialized register" */
	"regs: mov from uninitialised r2 (predicate has only r1)",
	.insns = {
		BPF_MOV64_REG(BPF_REG_0, BPF_REG_2),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R2 !read_ok",
},
{
	"regs: add to uninitialised r0",
	.insns = {
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_0, 1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R0 !read_ok",
},
{
	"regs: 32-bit add of uninitialised source",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_ALU32_REG(BPF_ADD, BPF_REG_0, BPF_REG_7),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R7 !read_ok",
},
{
	"regs: neg of uninitialised r0",
	.insns = {
		BPF_ALU64_IMM(BPF_NEG, BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R0 !read_ok",
},
{
	"regs: byte swap of uninitialised r0",
	.insns = {
		BPF_ENDIAN(BPF_TO_BE, BPF_REG_0, 32),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R0 !read_ok",
},
{
	"regs: compare uninitialised r3",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_JMP_IMM(BPF_JGT, BPF_REG_3, 0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R3 !read_ok",
},
{
	"regs: compare with uninitialised source r4",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_JMP_REG(BPF_JGT, BPF_REG_0, BPF_REG_4, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R4 !read_ok",
},
{
	"regs: store of uninitialised r4",
	.insns = {
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_4, -8),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R4 !read_ok",
},
{
	"regs: load through uninitialised r5",
	.insns = {
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_5, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R5 !read_ok",
},
{
	"regs: store through uninitialised r6",
	.insns = {
		BPF_ST_MEM(BPF_DW, BPF_REG_6, 0, 1),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R6 !read_ok",
},
{
	/* kernel: basic.c "exit without r0" */
	"regs: exit with uninitialised r0",
	.insns = {
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R0 !read_ok",
},
{
	"regs: r0 set on one branch only",
	.insns = {
		LD_CTX_U32(BPF_REG_2, BPF_REG_1, cpl),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_2, 3, 1),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R0 !read_ok",
},
{
	"regs: r0 set on both branches",
	.insns = {
		LD_CTX_U32(BPF_REG_2, BPF_REG_1, cpl),
		BPF_MOV64_IMM(BPF_REG_0, 1),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_2, 3, 1),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 1,
},
{
	/* kernel: calls.c / helper tests: caller-saved registers after a call */
	"regs: r1 unreadable after a helper call",
	.insns = {
		CALL_READ(DZ_HELPER_READ_GPA, -8, 8, 0x1000),
		BPF_MOV64_REG(BPF_REG_0, BPF_REG_1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 !read_ok",
},
{
	"regs: r5 unreadable after a helper call",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_5, 1),
		CALL_READ(DZ_HELPER_READ_GPA, -8, 8, 0x1000),
		BPF_MOV64_REG(BPF_REG_0, BPF_REG_5),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R5 !read_ok",
},
{
	"regs: r6-r9 survive a helper call",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_6, 1),
		BPF_MOV64_IMM(BPF_REG_7, 2),
		BPF_MOV64_IMM(BPF_REG_8, 3),
		BPF_MOV64_IMM(BPF_REG_9, 4),
		CALL_READ(DZ_HELPER_READ_GPA, -8, 8, 0x1000),
		BPF_MOV64_REG(BPF_REG_0, BPF_REG_6),
		BPF_ALU64_REG(BPF_ADD, BPF_REG_0, BPF_REG_7),
		BPF_ALU64_REG(BPF_ADD, BPF_REG_0, BPF_REG_8),
		BPF_ALU64_REG(BPF_ADD, BPF_REG_0, BPF_REG_9),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 10,
},
{
	"regs: r0 after a helper is a scalar",
	.insns = {
		CALL_READ(DZ_HELPER_READ_GPA, -8, 8, 0x1000),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0,
},
{
	"regs: mov overwrites an uninitialised register",
	.insns = {
		BPF_MOV32_IMM(BPF_REG_0, -1),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0xffffffffull,
},
