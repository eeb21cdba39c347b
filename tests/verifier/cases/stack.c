/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stack: bounds [-512, 0), alignment, no read of uninitialised bytes,
 * pointer spills (kernel: verifier/basic_stack.c, spill_fill.c, uninit.c).
 */
{
	"stack: store and load a u64",
	.insns = {
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 42),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -8),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 42,
},
{
	"stack: the lowest slot (fp - 512)",
	.insns = {
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -512, 1),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -512),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 1,
},
{
	/* kernel: basic_stack.c "stack out of bounds" */
	"stack: write below fp - 512",
	.insns = {
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -520, 1),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid write to stack R10 off=-520 size=8",
},
{
	"stack: write at fp + 0",
	.insns = {
		BPF_ST_MEM(BPF_W, BPF_REG_10, 0, 1),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid write to stack R10 off=0 size=4",
},
{
	"stack: u64 write crossing fp",
	.insns = {
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -4, 1),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid write to stack R10 off=-4 size=8",
},
{
	"stack: read above fp through a moved pointer",
	.insns = {
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, 8),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_1, -8),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid read from stack R1 off=0 size=8",
},
{
	"stack: write below the frame through a moved pointer",
	.insns = {
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -512),
		BPF_ST_MEM(BPF_DW, BPF_REG_1, -8, 0),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid write to stack R1 off=-520 size=8",
},
{
	/* kernel: uninit.c "read uninitialized stack" / basic_stack.c "uninitialized stack1" */
	"stack: read uninitialised slot",
	.insns = {
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -8),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid read from stack off -8+0 size 8",
},
{
	"stack: read a half-initialised slot",
	.insns = {
		BPF_ST_MEM(BPF_W, BPF_REG_10, -8, 1),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -8),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid read from stack off -8+4 size 8",
},
{
	"stack: initialised on one path only",
	.insns = {
		LD_CTX_U32(BPF_REG_2, BPF_REG_1, cpl),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_2, 0, 1),
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 1),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -8),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid read from stack off -8+0 size 8",
},
{
	"stack: two u32 halves make a u64",
	.insns = {
		BPF_ST_MEM(BPF_W, BPF_REG_10, -8, 1),
		BPF_ST_MEM(BPF_W, BPF_REG_10, -4, 2),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -8),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x200000001ull,
},
{
	"stack: misaligned u32 store",
	.insns = {
		BPF_ST_MEM(BPF_W, BPF_REG_10, -6, 0),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "misaligned stack access off -6 size 4",
},
{
	"stack: misaligned u64 load",
	.insns = {
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -16, 0),
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 0),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -12),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "misaligned stack access off -12 size 8",
},
{
	"stack: byte store and load",
	.insns = {
		BPF_ST_MEM(BPF_B, BPF_REG_10, -1, 0x7f),
		BPF_LDX_MEM(BPF_B, BPF_REG_0, BPF_REG_10, -1),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x7f,
},
{
	"stack: stored zeros are known zeros",
	.insns = {
		BPF_ST_MEM(BPF_W, BPF_REG_10, -4, 0),
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_10, -4),
		PROVE_R0_EQ(0),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0,
},
{
	/* kernel: spill_fill.c "check valid spill/fill" */
	"stack: spill and fill the context pointer",
	.insns = {
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_1, -8),
		BPF_LDX_MEM(BPF_DW, BPF_REG_6, BPF_REG_10, -8),
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_6, CTX_OFF(cpl)),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 3,
},
{
	"stack: spill and fill the frame pointer",
	.insns = {
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_10, -8),
		BPF_LDX_MEM(BPF_DW, BPF_REG_6, BPF_REG_10, -8),
		BPF_ST_MEM(BPF_DW, BPF_REG_6, -16, 9),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -16),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 9,
},
{
	/* kernel: spill_fill.c "check corrupted spill/fill" */
	"stack: partial fill of a spilled pointer",
	.insns = {
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_1, -8),
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_10, -8),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid size of register fill",
},
{
	"stack: partial spill of a pointer",
	.insns = {
		BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid size of register spill",
},
{
	/* kernel: spill_fill.c "check corrupted spill/fill, LSB" (leaks the MSB half) */
	"stack: half-overwritten spilled pointer, read the other half",
	.insns = {
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_1, -8),
		BPF_ST_MEM(BPF_W, BPF_REG_10, -8, 0),
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_10, -4),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid read from stack off -4+0 size 4",
},
{
	/* kernel: spill_fill.c "check corrupted spill/fill, MSB" */
	"stack: half-overwritten spilled pointer, read 8 bytes",
	.insns = {
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_1, -8),
		BPF_ST_MEM(BPF_W, BPF_REG_10, -4, 0),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -8),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid read from stack off -8+0 size 8",
},
{
	"stack: one byte of a spilled pointer overwritten, load the pointer",
	.insns = {
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_1, -8),
		BPF_ST_MEM(BPF_B, BPF_REG_10, -8, 0x10),
		BPF_LDX_MEM(BPF_DW, BPF_REG_2, BPF_REG_10, -8),
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_2, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid read from stack off -8+1 size 8",
},
{
	"stack: spilled pointer fully overwritten by a scalar",
	.insns = {
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_1, -8),
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 7),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -8),
		PROVE_R0_EQ(7),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 7,
},
{
	"stack: spilled scalar overwritten by a pointer cannot be used as a number",
	.insns = {
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 7),
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_10, -8),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -8),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R0 leaks addr as return value",
},
{
	/* kernel: spill_fill.c "Spill and refill a u32 const scalar" style */
	"stack: a spilled scalar keeps its bounds",
	.insns = {
		LD_CTX_U32(BPF_REG_2, BPF_REG_1, cpl),
		BPF_ALU64_IMM(BPF_AND, BPF_REG_2, 7),
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_2, -16),
		BPF_MOV64_IMM(BPF_REG_2, 0),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -16),
		BPF_JMP_IMM(BPF_JLE, BPF_REG_0, 7, 1),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 3,
},
{
	"stack: narrow read of a spilled constant",
	.insns = {
		BPF_LD_IMM64(BPF_REG_2, 0x1122334455667788ull),
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_2, -8),
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_10, -4),
		PROVE_R0_EQ(0x11223344),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x11223344,
},
{
	"stack: sign-extending narrow read of a spilled constant",
	.insns = {
		BPF_LD_IMM64(BPF_REG_2, 0x1122334455667788ull),
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_2, -8),
		BPF_LDX_MEMSX(BPF_B, BPF_REG_0, BPF_REG_10, -8),
		PROVE_R0_EQ(-120),
	},
	.result = ACCEPT, .check_retval = 1, .retval = (uint64_t)-120,
},
{
	"stack: narrow read of a spilled unknown is bounded by its size",
	.insns = {
		LD_CTX_U64(BPF_REG_2, BPF_REG_1, rax),
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_2, -8),
		BPF_LDX_MEM(BPF_H, BPF_REG_0, BPF_REG_10, -8),
		BPF_JMP_IMM(BPF_JLE, BPF_REG_0, 0xffff, 1),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x7788,
},
{
	"stack: pointer spill at a misaligned slot",
	.insns = {
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_1, -12),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "misaligned stack access off -12 size 8",
},
{
	"stack: initialisation survives a join",
	.insns = {
		LD_CTX_U32(BPF_REG_2, BPF_REG_1, cpl),
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 1),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_2, 0, 1),
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 2),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -8),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 2,
},
{
	/* pruning: data bytes in the explored state cover a spilled scalar */
	"stack: a spilled scalar is pruned against explored data bytes",
	.insns = {
		LD_CTX_U32(BPF_REG_2, BPF_REG_1, vcpu),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_2, 0, 3),
		BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_2, -8),
		BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_2, -4),
		BPF_JMP_A(1),
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_2, -8),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -8),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x100000001ull,
},
{
	"stack: known zeros on both paths stay known",
	.insns = {
		LD_CTX_U32(BPF_REG_2, BPF_REG_1, vcpu),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_2, 0, 2),
		BPF_ST_MEM(BPF_W, BPF_REG_10, -4, 0),
		BPF_JMP_A(1),
		BPF_ST_MEM(BPF_W, BPF_REG_10, -4, 0),
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_10, -4),
		PROVE_R0_EQ(0),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0,
},
{
	/* soundness of pruning: explored zeros do not cover unknown data */
	"stack: data is not pruned against explored zeros",
	.insns = {
		LD_CTX_U32(BPF_REG_2, BPF_REG_1, vcpu),
		LD_CTX_U32(BPF_REG_3, BPF_REG_1, cpl),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_2, 0, 2),
		BPF_ST_MEM(BPF_W, BPF_REG_10, -4, 0),
		BPF_JMP_A(1),
		BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_3, -4),
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_10, -4),
		PROVE_R0_EQ(0),
	},
	.result = REJECT, .err = -EACCES, .errstr = BAD_ERR,
},
