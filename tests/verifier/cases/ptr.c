/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pointer arithmetic, comparisons and leaks (kernel: verifier/unpriv.c,
 * value_ptr_arith.c, basic_instr.c). doze allows only ptr +/- constant.
 */
{
	"ptr: ctx + 8 then load",
	.insns = {
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, 8),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_1, 0),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x202,
},
{
	"ptr: ctx - 8 then load at +12",
	.insns = {
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8),
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_1, 12),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 3,
},
{
	"ptr: fp - 8 through sub",
	.insns = {
		BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),
		BPF_ALU64_IMM(BPF_SUB, BPF_REG_2, 8),
		BPF_ST_MEM(BPF_DW, BPF_REG_2, 0, 5),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -8),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 5,
},
{
	"ptr: constant + fp (scalar destination)",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_2, -16),
		BPF_ALU64_REG(BPF_ADD, BPF_REG_2, BPF_REG_10),
		BPF_ST_MEM(BPF_DW, BPF_REG_2, 0, 6),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -16),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 6,
},
{
	"ptr: add a register holding a known constant",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_2, 4),
		BPF_ALU64_REG(BPF_ADD, BPF_REG_1, BPF_REG_2),
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_1, 0),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 3,
},
{
	"ptr: pointer + pointer",
	.insns = {
		BPF_ALU64_REG(BPF_ADD, BPF_REG_1, BPF_REG_10),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 pointer += pointer prohibited",
},
{
	/* kernel: unpriv.c "unpriv: sub pointer from pointer" style */
	"ptr: pointer - pointer",
	.insns = {
		BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),
		BPF_ALU64_REG(BPF_SUB, BPF_REG_2, BPF_REG_10),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R2 pointer -= pointer prohibited",
},
{
	"ptr: scalar - pointer",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_ALU64_REG(BPF_SUB, BPF_REG_0, BPF_REG_10),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R0 tried to subtract pointer from scalar",
},
{
	"ptr: scalar * pointer",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 2),
		BPF_ALU64_REG(BPF_MUL, BPF_REG_0, BPF_REG_1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R0 pointer arithmetic with *= operator prohibited",
},
{
	/* kernel: unpriv.c "unpriv: mul pointer" style */
	"ptr: pointer * 2",
	.insns = {
		BPF_ALU64_IMM(BPF_MUL, BPF_REG_1, 2),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 pointer arithmetic with *= operator prohibited",
},
{
	"ptr: pointer / 2",
	.insns = {
		BPF_ALU64_IMM(BPF_DIV, BPF_REG_1, 2),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 pointer arithmetic with /= operator prohibited",
},
{
	"ptr: pointer % 2",
	.insns = {
		BPF_ALU64_IMM(BPF_MOD, BPF_REG_1, 2),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 pointer arithmetic with %= operator prohibited",
},
{
	/* kernel: value_ptr_arith.c "... bitwise" / unpriv.c "unpriv: and pointer" */
	"ptr: pointer & mask",
	.insns = {
		BPF_ALU64_IMM(BPF_AND, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 bitwise operator &= on pointer prohibited",
},
{
	"ptr: pointer | 1",
	.insns = {
		BPF_ALU64_IMM(BPF_OR, BPF_REG_1, 1),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 bitwise operator |= on pointer prohibited",
},
{
	"ptr: pointer ^ pointer",
	.insns = {
		BPF_MOV64_REG(BPF_REG_0, BPF_REG_10),
		BPF_ALU64_REG(BPF_XOR, BPF_REG_0, BPF_REG_10),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R0 pointer ^= pointer prohibited",
},
{
	"ptr: pointer << 1",
	.insns = {
		BPF_ALU64_IMM(BPF_LSH, BPF_REG_1, 1),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 pointer arithmetic with <<= operator prohibited",
},
{
	"ptr: pointer >> 1",
	.insns = {
		BPF_ALU64_IMM(BPF_RSH, BPF_REG_1, 1),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 pointer arithmetic with >>= operator prohibited",
},
{
	"ptr: pointer s>> 1",
	.insns = {
		BPF_ALU64_IMM(BPF_ARSH, BPF_REG_1, 1),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 pointer arithmetic with s>>= operator prohibited",
},
{
	/* kernel: unpriv.c "unpriv: neg pointer" */
	"ptr: neg pointer",
	.insns = {
		BPF_ALU64_IMM(BPF_NEG, BPF_REG_1, 0),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 pointer arithmetic with neg operator prohibited",
},
{
	"ptr: byte swap of a pointer",
	.insns = {
		BPF_BSWAP(BPF_REG_1, 64),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 pointer arithmetic with endian operator prohibited",
},
{
	/* kernel: value_ptr_arith.c "32-bit pointer arithmetic prohibited" */
	"ptr: 32-bit add to a pointer",
	.insns = {
		BPF_ALU32_IMM(BPF_ADD, BPF_REG_1, 8),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 32-bit pointer arithmetic prohibited",
},
{
	/* kernel: unpriv.c "unpriv: partial copy of pointer" */
	"ptr: 32-bit mov of a pointer",
	.insns = {
		BPF_MOV32_REG(BPF_REG_0, BPF_REG_10),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R10 partial copy of pointer",
},
{
	"ptr: movsx of a pointer",
	.insns = {
		BPF_MOVSX64_REG(BPF_REG_0, BPF_REG_1, 32),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 partial copy of pointer",
},
{
	"ptr: add an unknown scalar",
	.insns = {
		LD_CTX_U32(BPF_REG_2, BPF_REG_1, cpl),
		BPF_ALU64_REG(BPF_ADD, BPF_REG_1, BPF_REG_2),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "non-constant offset prohibited",
},
{
	/* kernel: value_ptr_arith.c "... unbounded min value is not allowed" */
	"ptr: add an unbounded scalar to fp",
	.insns = {
		LD_CTX_U64(BPF_REG_2, BPF_REG_1, rax),
		BPF_MOV64_REG(BPF_REG_3, BPF_REG_10),
		BPF_ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_2),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES,
	.errstr = "R3 math between fp pointer and register with unbounded min/max value is not allowed",
},
{
	"ptr: huge constant offset",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_2, 1 << 29),
		BPF_ALU64_REG(BPF_ADD, BPF_REG_1, BPF_REG_2),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "makes ctx pointer be out of bounds",
},
{
	"ptr: offsets accumulate past the bound",
	.insns = {
		BPF_LD_IMM64(BPF_REG_2, 0x1fffffff),
		BPF_ALU64_REG(BPF_ADD, BPF_REG_1, BPF_REG_2),
		BPF_ALU64_REG(BPF_ADD, BPF_REG_1, BPF_REG_2),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "makes ctx pointer be out of bounds",
},
{
	/* kernel: unpriv.c "unpriv: cmp pointer with const" */
	"ptr: compare a pointer with a constant",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_1, 0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 pointer comparison prohibited",
},
{
	/* kernel: unpriv.c "unpriv: cmp pointer with pointer" */
	"ptr: compare two pointers",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_JMP_REG(BPF_JGT, BPF_REG_1, BPF_REG_10, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 pointer comparison prohibited",
},
{
	"ptr: compare a scalar with a pointer (JMP32)",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_JMP32_REG(BPF_JGT, BPF_REG_0, BPF_REG_10, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R10 pointer comparison prohibited",
},
{
	/* kernel: unpriv.c "unpriv: return pointer" */
	"ptr: return the frame pointer",
	.insns = {
		BPF_MOV64_REG(BPF_REG_0, BPF_REG_10),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R0 leaks addr as return value",
},
{
	"ptr: return the context pointer",
	.insns = {
		BPF_MOV64_REG(BPF_REG_0, BPF_REG_1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R0 leaks addr as return value",
},
{
	/* kernel: basic_instr.c / unpriv.c "unpriv: ... invalid mem access 'scalar'" */
	"ptr: load through a scalar",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R0 invalid mem access 'scalar'",
},
{
	"ptr: load through a lddw address",
	.insns = {
		BPF_LD_IMM64(BPF_REG_2, 0x7ffc0000),
		BPF_LDX_MEM(BPF_B, BPF_REG_0, BPF_REG_2, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R2 invalid mem access 'scalar'",
},
{
	"ptr: store through a scalar",
	.insns = {
		LD_CTX_U64(BPF_REG_2, BPF_REG_1, rsp),
		BPF_ST_MEM(BPF_W, BPF_REG_2, 0, 1),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R2 invalid mem access 'scalar'",
},
{
	"ptr: pointer copies keep their type",
	.insns = {
		BPF_MOV64_REG(BPF_REG_7, BPF_REG_1),
		BPF_MOV64_REG(BPF_REG_8, BPF_REG_7),
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_8, CTX_OFF(vcpu)),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 1,
},
