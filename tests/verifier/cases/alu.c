/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Scalar ALU tracking: each case computes a value the verifier must know
 * exactly (PROVE_R0_EQ: otherwise it reaches a read of uninitialised r9), and
 * the run must return it (so the verifier's constant is also the right one).
 * Kernel: verifier/basic_instr.c, div_overflow.c, div0.c, bounds.c.
 */
{
	"alu: add",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_0, 20),
		PROVE_R0_EQ(30),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 30,
},
{
	"alu: sub wraps to all ones",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_ALU64_IMM(BPF_SUB, BPF_REG_0, 1),
		PROVE_R0_EQ(-1),
	},
	.result = ACCEPT, .check_retval = 1, .retval = ~0ull,
},
{
	"alu: mul",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 7),
		BPF_MOV64_IMM(BPF_REG_1, 6),
		BPF_ALU64_REG(BPF_MUL, BPF_REG_0, BPF_REG_1),
		PROVE_R0_EQ(42),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 42,
},
{
	"alu: mul overflowing 64 bits",
	.insns = {
		BPF_LD_IMM64(BPF_REG_0, 0x100000001ull),
		BPF_LD_IMM64(BPF_REG_1, 0x100000001ull),
		BPF_ALU64_REG(BPF_MUL, BPF_REG_0, BPF_REG_1),
		PROVE_R0_EQ64(0x200000001ull),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x200000001ull,
},
{
	"alu: unsigned div",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 100),
		BPF_ALU64_IMM(BPF_DIV, BPF_REG_0, 7),
		PROVE_R0_EQ(14),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 14,
},
{
	/* kernel: div0.c "DIV64 by 0, zero check" (division by a zero register is defined) */
	"alu: div by a zero register gives 0",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 100),
		BPF_MOV64_IMM(BPF_REG_1, 0),
		BPF_ALU64_REG(BPF_DIV, BPF_REG_0, BPF_REG_1),
		PROVE_R0_EQ(0),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0,
},
{
	/* kernel: div0.c "MOD64 by 0, zero check" */
	"alu: mod by a zero register keeps the dividend",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 100),
		BPF_MOV64_IMM(BPF_REG_1, 0),
		BPF_ALU64_REG(BPF_MOD, BPF_REG_0, BPF_REG_1),
		PROVE_R0_EQ(100),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 100,
},
{
	"alu: div by an unknown register (may be zero) is accepted",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 100),
		LD_CTX_U32(BPF_REG_2, BPF_REG_1, access),
		BPF_ALU64_REG(BPF_DIV, BPF_REG_0, BPF_REG_2),
		BPF_JMP_IMM(BPF_JLE, BPF_REG_0, 100, 1),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 100,
},
{
	"alu: signed div",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, -100),
		BPF_ALU64_IMM_OFF(BPF_DIV, BPF_REG_0, 7, 1),
		PROVE_R0_EQ(-14),
	},
	.result = ACCEPT, .check_retval = 1, .retval = (uint64_t)-14,
},
{
	"alu: signed mod",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, -100),
		BPF_ALU64_IMM_OFF(BPF_MOD, BPF_REG_0, 7, 1),
		PROVE_R0_EQ(-2),
	},
	.result = ACCEPT, .check_retval = 1, .retval = (uint64_t)-2,
},
{
	/* kernel: div_overflow.c "SDIV64 overflow, INT64_MIN / -1" */
	"alu: INT64_MIN s/ -1 is INT64_MIN",
	.insns = {
		BPF_LD_IMM64(BPF_REG_0, 0x8000000000000000ull),
		BPF_MOV64_IMM(BPF_REG_1, -1),
		BPF_ALU64_REG_OFF(BPF_DIV, BPF_REG_0, BPF_REG_1, 1),
		PROVE_R0_EQ64(0x8000000000000000ull),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x8000000000000000ull,
},
{
	"alu: INT32_MIN s/ -1 in 32 bits",
	.insns = {
		BPF_MOV32_IMM(BPF_REG_0, 0x80000000),
		BPF_ALU32_IMM_OFF(BPF_DIV, BPF_REG_0, -1, 1),
		PROVE_R0_EQ64(0x80000000ull),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x80000000ull,
},
{
	"alu: INT64_MIN s% -1 is 0",
	.insns = {
		BPF_LD_IMM64(BPF_REG_0, 0x8000000000000000ull),
		BPF_ALU64_IMM_OFF(BPF_MOD, BPF_REG_0, -1, 1),
		PROVE_R0_EQ(0),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0,
},
{
	"alu: or, and, xor",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0xf0),
		BPF_ALU64_IMM(BPF_OR, BPF_REG_0, 0x0f),
		BPF_ALU64_IMM(BPF_AND, BPF_REG_0, 0x3c),
		BPF_ALU64_IMM(BPF_XOR, BPF_REG_0, 0x1),
		PROVE_R0_EQ(0x3d),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x3d,
},
{
	"alu: shift left by 63",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 1),
		BPF_ALU64_IMM(BPF_LSH, BPF_REG_0, 63),
		PROVE_R0_EQ64(0x8000000000000000ull),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x8000000000000000ull,
},
{
	"alu: shift by a register of 65 is masked to 1",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 4),
		BPF_MOV64_IMM(BPF_REG_1, 65),
		BPF_ALU64_REG(BPF_RSH, BPF_REG_0, BPF_REG_1),
		PROVE_R0_EQ(2),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 2,
},
{
	"alu: 32-bit shift by a register of 33 is masked to 1",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 4),
		BPF_MOV64_IMM(BPF_REG_1, 33),
		BPF_ALU32_REG(BPF_LSH, BPF_REG_0, BPF_REG_1),
		PROVE_R0_EQ(8),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 8,
},
{
	"alu: arithmetic shift right of a negative number",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, -16),
		BPF_ALU64_IMM(BPF_ARSH, BPF_REG_0, 2),
		PROVE_R0_EQ(-4),
	},
	.result = ACCEPT, .check_retval = 1, .retval = (uint64_t)-4,
},
{
	"alu: 32-bit arithmetic shift uses bit 31",
	.insns = {
		BPF_MOV32_IMM(BPF_REG_0, 0x80000000),
		BPF_ALU32_IMM(BPF_ARSH, BPF_REG_0, 4),
		PROVE_R0_EQ64(0xf8000000ull),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0xf8000000ull,
},
{
	"alu: 32-bit add wraps and zero-extends",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, -1),
		BPF_ALU32_IMM(BPF_ADD, BPF_REG_0, 1),
		PROVE_R0_EQ(0),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0,
},
{
	"alu: 32-bit mov zero-extends",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, -1),
		BPF_MOV32_REG(BPF_REG_0, BPF_REG_0),
		PROVE_R0_EQ64(0xffffffffull),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0xffffffffull,
},
{
	"alu: neg",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 5),
		BPF_ALU64_IMM(BPF_NEG, BPF_REG_0, 0),
		PROVE_R0_EQ(-5),
	},
	.result = ACCEPT, .check_retval = 1, .retval = (uint64_t)-5,
},
{
	"alu: 32-bit neg",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 5),
		BPF_ALU32_IMM(BPF_NEG, BPF_REG_0, 0),
		PROVE_R0_EQ64(0xfffffffbull),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0xfffffffbull,
},
{
	"alu: movsx from 8 bits",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_1, 0x80),
		BPF_MOVSX64_REG(BPF_REG_0, BPF_REG_1, 8),
		PROVE_R0_EQ(-128),
	},
	.result = ACCEPT, .check_retval = 1, .retval = (uint64_t)-128,
},
{
	"alu: 32-bit movsx from 16 bits",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_1, 0x8000),
		BPF_MOVSX32_REG(BPF_REG_0, BPF_REG_1, 16),
		PROVE_R0_EQ64(0xffff8000ull),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0xffff8000ull,
},
{
	"alu: movsx from 32 bits",
	.insns = {
		BPF_MOV32_IMM(BPF_REG_1, -1),
		BPF_MOVSX64_REG(BPF_REG_0, BPF_REG_1, 32),
		PROVE_R0_EQ(-1),
	},
	.result = ACCEPT, .check_retval = 1, .retval = ~0ull,
},
{
	"alu: be16",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0x1234),
		BPF_ENDIAN(BPF_TO_BE, BPF_REG_0, 16),
		PROVE_R0_EQ(0x3412),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x3412,
},
{
	"alu: le32 truncates",
	.insns = {
		BPF_LD_IMM64(BPF_REG_0, 0x1122334455667788ull),
		BPF_ENDIAN(BPF_TO_LE, BPF_REG_0, 32),
		PROVE_R0_EQ64(0x55667788ull),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x55667788ull,
},
{
	"alu: bswap64",
	.insns = {
		BPF_LD_IMM64(BPF_REG_0, 0x0102030405060708ull),
		BPF_BSWAP(BPF_REG_0, 64),
		PROVE_R0_EQ64(0x0807060504030201ull),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x0807060504030201ull,
},
{
	"alu: and-mask bounds an unknown value",
	.insns = {
		LD_CTX_U64(BPF_REG_0, BPF_REG_1, rax),
		BPF_ALU64_IMM(BPF_AND, BPF_REG_0, 0xff),
		BPF_JMP_IMM(BPF_JLE, BPF_REG_0, 255, 1),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x88,
},
{
	"alu: mod by a constant bounds an unknown value",
	.insns = {
		LD_CTX_U64(BPF_REG_0, BPF_REG_1, rax),
		BPF_ALU64_IMM(BPF_MOD, BPF_REG_0, 10),
		BPF_JMP_IMM(BPF_JLE, BPF_REG_0, 9, 1),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x1122334455667788ull % 10,
},
{
	"alu: shift right bounds an unknown value",
	.insns = {
		LD_CTX_U64(BPF_REG_0, BPF_REG_1, rax),
		BPF_ALU64_IMM(BPF_RSH, BPF_REG_0, 60),
		BPF_JMP_IMM(BPF_JLE, BPF_REG_0, 15, 1),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 1,
},
{
	"alu: mul of bounded values stays bounded",
	.insns = {
		LD_CTX_U32(BPF_REG_0, BPF_REG_1, cpl),
		BPF_ALU64_IMM(BPF_AND, BPF_REG_0, 7),
		BPF_ALU64_IMM(BPF_MUL, BPF_REG_0, 3),
		BPF_JMP_IMM(BPF_JLE, BPF_REG_0, 21, 1),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 9,
},
{
	"alu: div of an unknown u32 by a constant",
	.insns = {
		LD_CTX_U32(BPF_REG_0, BPF_REG_1, vcpu),
		BPF_ALU64_IMM(BPF_DIV, BPF_REG_0, 0x10000),
		BPF_JMP_IMM(BPF_JLE, BPF_REG_0, 0xffff, 1),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0,
},
{
	"alu: arsh by 63 gives -1 or 0",
	.insns = {
		LD_CTX_U64(BPF_REG_0, BPF_REG_1, rip),
		BPF_ALU64_IMM(BPF_ARSH, BPF_REG_0, 63),
		BPF_JMP_IMM(BPF_JSGT, BPF_REG_0, 0, 2),
		BPF_JMP_IMM(BPF_JSLT, BPF_REG_0, -1, 1),
		BPF_EXIT_INSN(),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = ~0ull,
},
{
	"alu: lsh 32 then rsh 32 keeps a u32",
	.insns = {
		LD_CTX_U32(BPF_REG_0, BPF_REG_1, vcpu),
		BPF_ALU64_IMM(BPF_LSH, BPF_REG_0, 32),
		BPF_ALU64_IMM(BPF_RSH, BPF_REG_0, 32),
		BPF_MOV32_IMM(BPF_REG_2, -1),
		BPF_JMP_REG(BPF_JLE, BPF_REG_0, BPF_REG_2, 1),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 1,
},
{
	"alu: shift right by an unknown amount never grows",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 100),
		LD_CTX_U32(BPF_REG_2, BPF_REG_1, vcpu),
		BPF_ALU64_REG(BPF_RSH, BPF_REG_0, BPF_REG_2),
		BPF_JMP_IMM(BPF_JLE, BPF_REG_0, 100, 1),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 50,
},
{
	/* soundness: 1 << unknown can be anything up to 2^63 */
	"alu: shift left by an unknown amount is unbounded",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 1),
		LD_CTX_U32(BPF_REG_2, BPF_REG_1, vcpu),
		BPF_ALU64_REG(BPF_LSH, BPF_REG_0, BPF_REG_2),
		BPF_JMP_IMM(BPF_JLE, BPF_REG_0, 100, 1),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = BAD_ERR,
},
{
	/* soundness: (x & 0xff) - 1 may wrap to 2^64 - 1 */
	"alu: sub below zero wraps (no false bound)",
	.insns = {
		LD_CTX_U64(BPF_REG_0, BPF_REG_1, rax),
		BPF_ALU64_IMM(BPF_AND, BPF_REG_0, 0xff),
		BPF_ALU64_IMM(BPF_SUB, BPF_REG_0, 1),
		BPF_JMP_IMM(BPF_JLE, BPF_REG_0, 254, 1),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = BAD_ERR,
},
{
	/* soundness: unknown + 1 may overflow to 0 */
	"alu: add may overflow (no false bound)",
	.insns = {
		LD_CTX_U64(BPF_REG_0, BPF_REG_1, rax),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_0, 1),
		BPF_JMP_IMM(BPF_JNE, BPF_REG_0, 0, 1),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = BAD_ERR,
},
{
	/* soundness: a u32 plus one wraps in 32 bits */
	"alu: 32-bit add may wrap (no false bound)",
	.insns = {
		LD_CTX_U32(BPF_REG_0, BPF_REG_1, vcpu),
		BPF_ALU32_IMM(BPF_ADD, BPF_REG_0, 1),
		BPF_JMP_IMM(BPF_JNE, BPF_REG_0, 0, 1),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = BAD_ERR,
},
{
	"alu: u32 plus one computed in 64 bits cannot be zero",
	.insns = {
		LD_CTX_U32(BPF_REG_0, BPF_REG_1, vcpu),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_0, 1),
		BPF_JMP_IMM(BPF_JNE, BPF_REG_0, 0, 1),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 2,
},
{
	/* soundness: signed multiplication of negative bounds */
	"alu: signed mul of ranges with negative ends",
	.insns = {
		LD_CTX_U32(BPF_REG_0, BPF_REG_1, cpl),
		BPF_ALU64_IMM(BPF_AND, BPF_REG_0, 7),
		BPF_ALU64_IMM(BPF_SUB, BPF_REG_0, 4),
		BPF_ALU64_IMM(BPF_MUL, BPF_REG_0, -3),
		BPF_JMP_IMM(BPF_JSGT, BPF_REG_0, 12, 2),
		BPF_JMP_IMM(BPF_JSLT, BPF_REG_0, -9, 1),
		BPF_EXIT_INSN(),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 3,
},
