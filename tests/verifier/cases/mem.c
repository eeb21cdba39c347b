/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DZ_PROG_MEM: r1 = a read-write buffer of mem_size bytes, r2 = mem_size, no
 * helpers (kernel: verifier/direct_packet_access.c, memory region tests).
 * The runner fills the buffer with byte i = i.
 */
{
	"mem: r2 is the buffer size",
	.insns = {
		BPF_MOV64_REG(BPF_REG_0, BPF_REG_2),
		PROVE_R0_EQ(64),
	},
	.type = DZ_PROG_MEM, .mem_size = 64,
	.result = ACCEPT, .check_retval = 1, .retval = 64,
},
{
	"mem: read the first byte",
	.insns = {
		BPF_LDX_MEM(BPF_B, BPF_REG_0, BPF_REG_1, 0),
		BPF_EXIT_INSN(),
	},
	.type = DZ_PROG_MEM, .mem_size = 64,
	.result = ACCEPT, .check_retval = 1, .retval = 0,
},
{
	"mem: read the last u64",
	.insns = {
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_1, 56),
		BPF_EXIT_INSN(),
	},
	.type = DZ_PROG_MEM, .mem_size = 64,
	.result = ACCEPT, .check_retval = 1, .retval = 0x3f3e3d3c3b3a3938ull,
},
{
	"mem: read one byte past the end",
	.insns = {
		BPF_LDX_MEM(BPF_B, BPF_REG_0, BPF_REG_1, 64),
		BPF_EXIT_INSN(),
	},
	.type = DZ_PROG_MEM, .mem_size = 64,
	.result = REJECT, .err = -EACCES,
	.errstr = "invalid access to memory, mem_size=64 off=64 size=1",
},
{
	"mem: u64 read straddling the end",
	.insns = {
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_1, 60),
		BPF_EXIT_INSN(),
	},
	.type = DZ_PROG_MEM, .mem_size = 64,
	.result = REJECT, .err = -EACCES,
	.errstr = "invalid access to memory, mem_size=64 off=60 size=8",
},
{
	"mem: negative offset",
	.insns = {
		BPF_LDX_MEM(BPF_B, BPF_REG_0, BPF_REG_1, -1),
		BPF_EXIT_INSN(),
	},
	.type = DZ_PROG_MEM, .mem_size = 64,
	.result = REJECT, .err = -EACCES, .errstr = "off=-1 size=1",
},
{
	"mem: write then read back",
	.insns = {
		BPF_ST_MEM(BPF_W, BPF_REG_1, 4, 0x5eadbeef),
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_1, 4),
		BPF_EXIT_INSN(),
	},
	.type = DZ_PROG_MEM, .mem_size = 64,
	.result = ACCEPT, .check_retval = 1, .retval = 0x5eadbeef,
},
{
	"mem: store a register past the end",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_STX_MEM(BPF_H, BPF_REG_1, BPF_REG_0, 63),
		BPF_EXIT_INSN(),
	},
	.type = DZ_PROG_MEM, .mem_size = 64,
	.result = REJECT, .err = -EACCES, .errstr = "off=63 size=2",
},
{
	"mem: unaligned access is allowed",
	.insns = {
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_1, 1),
		BPF_EXIT_INSN(),
	},
	.type = DZ_PROG_MEM, .mem_size = 64,
	.result = ACCEPT, .check_retval = 1, .retval = 0x04030201,
},
{
	"mem: end pointer via r2, read the last byte",
	.insns = {
		BPF_ALU64_REG(BPF_ADD, BPF_REG_1, BPF_REG_2),
		BPF_LDX_MEM(BPF_B, BPF_REG_0, BPF_REG_1, -1),
		BPF_EXIT_INSN(),
	},
	.type = DZ_PROG_MEM, .mem_size = 64,
	.result = ACCEPT, .check_retval = 1, .retval = 63,
},
{
	"mem: end pointer via r2, read at the end",
	.insns = {
		BPF_ALU64_REG(BPF_ADD, BPF_REG_1, BPF_REG_2),
		BPF_LDX_MEM(BPF_B, BPF_REG_0, BPF_REG_1, 0),
		BPF_EXIT_INSN(),
	},
	.type = DZ_PROG_MEM, .mem_size = 64,
	.result = REJECT, .err = -EACCES, .errstr = "off=64 size=1",
},
{
	"mem: empty buffer",
	.insns = {
		BPF_LDX_MEM(BPF_B, BPF_REG_0, BPF_REG_1, 0),
		BPF_EXIT_INSN(),
	},
	.type = DZ_PROG_MEM, .mem_size = 0,
	.result = REJECT, .err = -EACCES, .errstr = "mem_size=0 off=0 size=1",
},
{
	"mem: no helpers",
	.insns = {
		CALL_READ(DZ_HELPER_READ_GPA, -8, 8, 0),
		BPF_EXIT_INSN(),
	},
	.type = DZ_PROG_MEM, .mem_size = 64,
	.result = REJECT, .err = -EINVAL, .errstr = "program of this type cannot use helper dz_read_gpa#2",
},
{
	/* kernel: unpriv.c "unpriv: spill/fill of ... leaks addr into mem" style */
	"mem: storing a pointer leaks it",
	.insns = {
		BPF_STX_MEM(BPF_DW, BPF_REG_1, BPF_REG_1, 0),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.type = DZ_PROG_MEM, .mem_size = 64,
	.result = REJECT, .err = -EACCES, .errstr = "R1 leaks addr into mem",
},
{
	"mem: storing the frame pointer leaks it",
	.insns = {
		BPF_STX_MEM(BPF_DW, BPF_REG_1, BPF_REG_10, 8),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.type = DZ_PROG_MEM, .mem_size = 64,
	.result = REJECT, .err = -EACCES, .errstr = "R10 leaks addr into mem",
},
{
	"mem: returning the buffer pointer leaks it",
	.insns = {
		BPF_MOV64_REG(BPF_REG_0, BPF_REG_1),
		BPF_EXIT_INSN(),
	},
	.type = DZ_PROG_MEM, .mem_size = 64,
	.result = REJECT, .err = -EACCES, .errstr = "R0 leaks addr as return value",
},
{
	"mem: atomic add",
	.insns = {
		BPF_ATOMIC_OP(BPF_DW, BPF_ADD, BPF_REG_1, BPF_REG_2, 8),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_1, 8),
		BPF_EXIT_INSN(),
	},
	.type = DZ_PROG_MEM, .mem_size = 64,
	.result = ACCEPT, .check_retval = 1, .retval = 0x0f0e0d0c0b0a0908ull + 64,
},
{
	"mem: misaligned atomic",
	.insns = {
		BPF_ATOMIC_OP(BPF_DW, BPF_ADD, BPF_REG_1, BPF_REG_2, 4),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.type = DZ_PROG_MEM, .mem_size = 64,
	.result = REJECT, .err = -EACCES, .errstr = "misaligned access off 4 size 8",
},
{
	"mem: atomic past the end",
	.insns = {
		BPF_ATOMIC_OP(BPF_W, BPF_XCHG, BPF_REG_1, BPF_REG_2, 64),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.type = DZ_PROG_MEM, .mem_size = 64,
	.result = REJECT, .err = -EACCES, .errstr = "off=64 size=4",
},
{
	"mem: stack works alongside the buffer",
	.insns = {
		BPF_LDX_MEM(BPF_DW, BPF_REG_3, BPF_REG_1, 0),
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_3, -8),
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_10, -4),
		BPF_EXIT_INSN(),
	},
	.type = DZ_PROG_MEM, .mem_size = 64,
	.result = ACCEPT, .check_retval = 1, .retval = 0x07060504,
},
