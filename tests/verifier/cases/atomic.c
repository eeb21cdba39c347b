/* SPDX-License-Identifier: GPL-2.0 */
/* Atomics: stack (and DZ_PROG_MEM buffer) only, 4/8 bytes, aligned (kernel: verifier/atomic_*.c). */
{
	/* kernel: atomic_fetch_add.c / xadd.c */
	"atomic: add on a stack u64",
	.insns = {
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 1),
		BPF_MOV64_IMM(BPF_REG_1, 2),
		BPF_ATOMIC_OP(BPF_DW, BPF_ADD, BPF_REG_10, BPF_REG_1, -8),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -8),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 3,
},
{
	"atomic: fetch_add on a stack u32",
	.insns = {
		BPF_ST_MEM(BPF_W, BPF_REG_10, -4, 5),
		BPF_MOV64_IMM(BPF_REG_1, 3),
		BPF_ATOMIC_OP(BPF_W, BPF_ADD | BPF_FETCH, BPF_REG_10, BPF_REG_1, -4),
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_10, -4),
		BPF_ALU64_IMM(BPF_LSH, BPF_REG_0, 8),
		BPF_ALU64_REG(BPF_OR, BPF_REG_0, BPF_REG_1),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x805,
},
{
	"atomic: and, or, xor with fetch",
	.insns = {
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 0xff),
		BPF_MOV64_IMM(BPF_REG_1, 0x0f),
		BPF_ATOMIC_OP(BPF_DW, BPF_AND | BPF_FETCH, BPF_REG_10, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_1, 0x100),
		BPF_ATOMIC_OP(BPF_DW, BPF_OR | BPF_FETCH, BPF_REG_10, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_1, 0x3),
		BPF_ATOMIC_OP(BPF_DW, BPF_XOR, BPF_REG_10, BPF_REG_1, -8),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -8),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x10c,
},
{
	/* kernel: atomic_xchg.c */
	"atomic: xchg returns the old value",
	.insns = {
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 7),
		BPF_MOV64_IMM(BPF_REG_1, 9),
		BPF_ATOMIC_OP(BPF_DW, BPF_XCHG, BPF_REG_10, BPF_REG_1, -8),
		BPF_MOV64_REG(BPF_REG_0, BPF_REG_1),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 7,
},
{
	/* kernel: atomic_cmpxchg.c "atomic compare-and-exchange smoketest - 64bit" */
	"atomic: cmpxchg",
	.insns = {
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 3),
		BPF_MOV64_IMM(BPF_REG_0, 3),
		BPF_MOV64_IMM(BPF_REG_1, 4),
		BPF_ATOMIC_OP(BPF_DW, BPF_CMPXCHG, BPF_REG_10, BPF_REG_1, -8),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -8),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 4,
},
{
	"atomic: result of a non-fetch op is readable but unknown",
	.insns = {
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 3),
		BPF_MOV64_IMM(BPF_REG_1, 4),
		BPF_ATOMIC_OP(BPF_DW, BPF_ADD, BPF_REG_10, BPF_REG_1, -8),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -8),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_0, 3, 1),
		BPF_EXIT_INSN(),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = BAD_ERR,
},
{
	/* kernel: atomic_fetch.c "... uninitialized stack" */
	"atomic: on uninitialised stack",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_1, 1),
		BPF_ATOMIC_OP(BPF_DW, BPF_ADD, BPF_REG_10, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid read from stack off -8+0 size 8",
},
{
	"atomic: on a spilled pointer",
	.insns = {
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_1, 1),
		BPF_ATOMIC_OP(BPF_DW, BPF_ADD, BPF_REG_10, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "attempt to corrupt spilled pointer on stack",
},
{
	"atomic: on a spilled scalar",
	.insns = {
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 40),
		BPF_MOV64_IMM(BPF_REG_1, 2),
		BPF_ATOMIC_OP(BPF_DW, BPF_ADD, BPF_REG_10, BPF_REG_1, -8),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -8),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 42,
},
{
	"atomic: misaligned on the stack",
	.insns = {
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 0),
		BPF_MOV64_IMM(BPF_REG_1, 1),
		BPF_ATOMIC_OP(BPF_W, BPF_ADD, BPF_REG_10, BPF_REG_1, -6),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "misaligned stack access off -6 size 4",
},
{
	"atomic: above the frame",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_1, 1),
		BPF_ATOMIC_OP(BPF_DW, BPF_ADD, BPF_REG_10, BPF_REG_1, 0),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid write to stack R10 off=0 size=8",
},
{
	/* kernel: atomic_*.c "... leaks addr into mem" */
	"atomic: a pointer operand leaks",
	.insns = {
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 0),
		BPF_ATOMIC_OP(BPF_DW, BPF_ADD, BPF_REG_10, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 leaks addr into mem",
},
{
	"atomic: xchg of a pointer leaks",
	.insns = {
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 0),
		BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),
		BPF_ATOMIC_OP(BPF_DW, BPF_XCHG, BPF_REG_10, BPF_REG_2, -8),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R2 leaks addr into mem",
},
{
	"atomic: cmpxchg with uninitialised r0",
	.insns = {
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 0),
		BPF_MOV64_IMM(BPF_REG_1, 1),
		BPF_ATOMIC_OP(BPF_DW, BPF_CMPXCHG, BPF_REG_10, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R0 !read_ok",
},
{
	"atomic: cmpxchg with a pointer in r0",
	.insns = {
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 0),
		BPF_MOV64_IMM(BPF_REG_1, 1),
		BPF_MOV64_REG(BPF_REG_0, BPF_REG_10),
		BPF_ATOMIC_OP(BPF_DW, BPF_CMPXCHG, BPF_REG_10, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R0 leaks addr into mem",
},
{
	"atomic: through a scalar",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_1, 1),
		BPF_MOV64_IMM(BPF_REG_2, 0),
		BPF_ATOMIC_OP(BPF_DW, BPF_ADD, BPF_REG_2, BPF_REG_1, 0),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R2 invalid mem access 'scalar'",
},
{
	"atomic: uninitialised operand",
	.insns = {
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 0),
		BPF_ATOMIC_OP(BPF_DW, BPF_ADD, BPF_REG_10, BPF_REG_4, -8),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R4 !read_ok",
},
{
	"atomic: 32-bit fetch is zero-extended",
	.insns = {
		BPF_ST_MEM(BPF_W, BPF_REG_10, -4, -1),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_ATOMIC_OP(BPF_W, BPF_OR | BPF_FETCH, BPF_REG_10, BPF_REG_0, -4),
		BPF_MOV32_IMM(BPF_REG_1, -1),
		BPF_JMP_REG(BPF_JLE, BPF_REG_0, BPF_REG_1, 1),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0xffffffffull,
},
