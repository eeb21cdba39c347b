/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helper calls: known ids, (stack pointer, size) proven in bounds, scalar
 * address, initialised message for dz_trace (kernel: verifier/helper_access_var_len.c,
 * basic_call.c, unpriv.c). The runner's guest RAM holds each u64's own address.
 */
{
	"helpers: dz_read_gpa into a stack buffer",
	.insns = {
		CALL_READ(DZ_HELPER_READ_GPA, -8, 8, 0x1000),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -8),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x1000,
},
{
	"helpers: dz_read_gpa result is 0 or negative",
	.insns = {
		CALL_READ(DZ_HELPER_READ_GPA, -8, 8, 0x1000),
		BPF_JMP_IMM(BPF_JSLE, BPF_REG_0, 0, 1),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0,
},
{
	"helpers: dz_read_gpa outside guest RAM returns -EFAULT",
	.insns = {
		CALL_READ(DZ_HELPER_READ_GPA, -16, 16, 0x100000),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = (uint64_t)-EFAULT,
},
{
	"helpers: dz_read_gva",
	.insns = {
		BPF_MOV64_REG(BPF_REG_6, BPF_REG_1),
		LD_CTX_U64(BPF_REG_3, BPF_REG_6, fault_gva),
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -32),
		BPF_MOV64_IMM(BPF_REG_2, 32),
		BPF_CALL_HELPER(DZ_HELPER_READ_GVA),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -32),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT,
},
{
	"helpers: dz_read_percpu",
	.insns = {
		CALL_READ(DZ_HELPER_READ_PERCPU, -4, 4, 0x10),
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_10, -4),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT,
},
{
	"helpers: 256 bytes at fp - 256",
	.insns = {
		CALL_READ(DZ_HELPER_READ_GPA, -256, 256, 0x2000),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -8),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x20f8,
},
{
	"helpers: dz_trace with an initialised message",
	.insns = {
		BPF_LD_IMM64(BPF_REG_1, 0x6f6c6c6568ull),
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_1, -8),
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_2, 5),
		BPF_MOV64_IMM(BPF_REG_3, 42),
		BPF_CALL_HELPER(DZ_HELPER_TRACE),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0,
},
{
	/* kernel: helper_access_var_len.c "... uninitialized stack" */
	"helpers: dz_trace with an uninitialised message",
	.insns = {
		CALL_READ(DZ_HELPER_TRACE, -8, 8, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid indirect read from stack R1 off -8+0 size 8",
},
{
	"helpers: dz_trace with a half-initialised message",
	.insns = {
		BPF_ST_MEM(BPF_W, BPF_REG_10, -8, 0x41414141),
		CALL_READ(DZ_HELPER_TRACE, -8, 8, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid indirect read from stack R1 off -8+4 size 8",
},
{
	"helpers: dz_trace of a spilled pointer leaks it",
	.insns = {
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_1, -8),
		CALL_READ(DZ_HELPER_TRACE, -8, 8, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "leaking pointer from stack off -8",
},
{
	/* kernel: basic_call.c "invalid call insn" / "unknown func" */
	"helpers: helper id 0",
	.insns = {
		BPF_CALL_HELPER(0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "invalid func unknown#0",
},
{
	"helpers: helper id 5",
	.insns = {
		BPF_CALL_HELPER(5),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "invalid func unknown#5",
},
{
	"helpers: helper id -1",
	.insns = {
		BPF_CALL_HELPER(-1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "invalid func unknown#-1",
},
{
	/* kernel: helper_access_var_len.c "... zero-sized" */
	"helpers: size 0",
	.insns = {
		CALL_READ(DZ_HELPER_READ_GPA, -8, 0, 0x1000),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R2 invalid zero-sized write",
},
{
	"helpers: size 257",
	.insns = {
		CALL_READ(DZ_HELPER_READ_GPA, -512, 257, 0x1000),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R2 unbounded memory access",
},
{
	/* kernel: helper_access_var_len.c "... stack, JMP, no min check" */
	"helpers: size from an unknown u64 (may be negative)",
	.insns = {
		BPF_MOV64_REG(BPF_REG_6, BPF_REG_1),
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8),
		LD_CTX_U64(BPF_REG_2, BPF_REG_6, rax),
		BPF_MOV64_IMM(BPF_REG_3, 0),
		BPF_CALL_HELPER(DZ_HELPER_READ_GPA),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R2 min value is negative",
},
{
	"helpers: size from an unknown u32 | 1 (unbounded)",
	.insns = {
		BPF_MOV64_REG(BPF_REG_6, BPF_REG_1),
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8),
		LD_CTX_U32(BPF_REG_2, BPF_REG_6, vcpu),
		BPF_ALU64_IMM(BPF_OR, BPF_REG_2, 1),
		BPF_MOV64_IMM(BPF_REG_3, 0),
		BPF_CALL_HELPER(DZ_HELPER_READ_GPA),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R2 unbounded memory access",
},
{
	/* kernel: helper_access_var_len.c "... stack, JMP, correct bounds" */
	"helpers: size bounded by two jumps",
	.insns = {
		BPF_MOV64_REG(BPF_REG_6, BPF_REG_1),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		LD_CTX_U32(BPF_REG_2, BPF_REG_6, vcpu),
		BPF_JMP_IMM(BPF_JGT, BPF_REG_2, 8, 5),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_2, 0, 4),
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_3, 0x1000),
		BPF_CALL_HELPER(DZ_HELPER_READ_GPA),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0,
},
{
	"helpers: size bounded above only (may be zero)",
	.insns = {
		BPF_MOV64_REG(BPF_REG_6, BPF_REG_1),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		LD_CTX_U32(BPF_REG_2, BPF_REG_6, vcpu),
		BPF_JMP_IMM(BPF_JGT, BPF_REG_2, 8, 4),
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_3, 0x1000),
		BPF_CALL_HELPER(DZ_HELPER_READ_GPA),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R2 invalid zero-sized write",
},
{
	/* kernel: helper_access_var_len.c "... stack, bitwise AND + JMP, correct bounds" */
	"helpers: size from and 7 plus 1",
	.insns = {
		BPF_MOV64_REG(BPF_REG_6, BPF_REG_1),
		LD_CTX_U32(BPF_REG_2, BPF_REG_6, vcpu),
		BPF_ALU64_IMM(BPF_AND, BPF_REG_2, 7),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, 1),
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_3, 0x1000),
		BPF_CALL_HELPER(DZ_HELPER_READ_GPA),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0,
},
{
	/* kernel: helper_access_var_len.c "... stack, bitwise AND, wrong max" */
	"helpers: size up to 16 into an 8-byte buffer",
	.insns = {
		BPF_MOV64_REG(BPF_REG_6, BPF_REG_1),
		LD_CTX_U32(BPF_REG_2, BPF_REG_6, vcpu),
		BPF_ALU64_IMM(BPF_AND, BPF_REG_2, 15),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, 1),
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_3, 0x1000),
		BPF_CALL_HELPER(DZ_HELPER_READ_GPA),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid indirect access to stack R1 off=-8 size=16",
},
{
	"helpers: size bounded by signed jumps",
	.insns = {
		BPF_MOV64_REG(BPF_REG_6, BPF_REG_1),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		LD_CTX_U64(BPF_REG_2, BPF_REG_6, rbx),
		BPF_JMP_IMM(BPF_JSGT, BPF_REG_2, 8, 5),
		BPF_JMP_IMM(BPF_JSLT, BPF_REG_2, 1, 4),
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_3, 0x1000),
		BPF_CALL_HELPER(DZ_HELPER_READ_GPA),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0,
},
{
	"helpers: size bounded by a signed upper bound only",
	.insns = {
		BPF_MOV64_REG(BPF_REG_6, BPF_REG_1),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		LD_CTX_U64(BPF_REG_2, BPF_REG_6, rbx),
		BPF_JMP_IMM(BPF_JSGT, BPF_REG_2, 8, 4),
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_3, 0x1000),
		BPF_CALL_HELPER(DZ_HELPER_READ_GPA),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R2 min value is negative",
},
{
	"helpers: buffer crossing fp",
	.insns = {
		CALL_READ(DZ_HELPER_READ_GPA, -4, 8, 0x1000),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid indirect access to stack R1 off=-4 size=8",
},
{
	"helpers: buffer below the stack",
	.insns = {
		CALL_READ(DZ_HELPER_READ_GPA, -520, 8, 0x1000),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid indirect access to stack R1 off=-520 size=8",
},
{
	"helpers: buffer is a scalar",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_1, 0),
		BPF_MOV64_IMM(BPF_REG_2, 8),
		BPF_MOV64_IMM(BPF_REG_3, 0x1000),
		BPF_CALL_HELPER(DZ_HELPER_READ_GPA),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 type=scalar expected=fp",
},
{
	"helpers: buffer uninitialised after an earlier call",
	.insns = {
		CALL_READ(DZ_HELPER_READ_GPA, -8, 8, 0x1000),
		BPF_MOV64_IMM(BPF_REG_2, 8),
		BPF_MOV64_IMM(BPF_REG_3, 0x1000),
		BPF_CALL_HELPER(DZ_HELPER_READ_GPA),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 !read_ok",
},
{
	"helpers: size is a pointer",
	.insns = {
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8),
		BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),
		BPF_MOV64_IMM(BPF_REG_3, 0x1000),
		BPF_CALL_HELPER(DZ_HELPER_READ_GPA),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R2 type=fp expected=scalar",
},
{
	/* an address argument that is a host pointer would leak it to the guest's memory */
	"helpers: address is a pointer",
	.insns = {
		BPF_MOV64_REG(BPF_REG_3, BPF_REG_1),
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_2, 8),
		BPF_CALL_HELPER(DZ_HELPER_READ_GPA),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R3 type=ctx expected=scalar",
},
{
	"helpers: address uninitialised",
	.insns = {
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_2, 8),
		BPF_CALL_HELPER(DZ_HELPER_READ_GPA),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R3 !read_ok",
},
{
	"helpers: variable size leaves bytes past the minimum uninitialised",
	.insns = {
		BPF_MOV64_REG(BPF_REG_6, BPF_REG_1),
		LD_CTX_U32(BPF_REG_2, BPF_REG_6, vcpu),
		BPF_ALU64_IMM(BPF_AND, BPF_REG_2, 7),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, 1),
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_3, 0x1000),
		BPF_CALL_HELPER(DZ_HELPER_READ_GPA),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -8),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid read from stack off -8+1 size 8",
},
{
	"helpers: variable size, the first byte is written",
	.insns = {
		BPF_MOV64_REG(BPF_REG_6, BPF_REG_1),
		LD_CTX_U32(BPF_REG_2, BPF_REG_6, vcpu),
		BPF_ALU64_IMM(BPF_AND, BPF_REG_2, 7),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, 1),
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_3, 0x1000),
		BPF_CALL_HELPER(DZ_HELPER_READ_GPA),
		BPF_LDX_MEM(BPF_B, BPF_REG_0, BPF_REG_10, -8),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0,
},
{
	/* soundness: guest bytes over a spilled pointer must not fill as a pointer */
	"helpers: a helper write destroys a spilled pointer",
	.insns = {
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_1, -8),
		CALL_READ(DZ_HELPER_READ_GPA, -8, 8, 0x1000),
		BPF_LDX_MEM(BPF_DW, BPF_REG_2, BPF_REG_10, -8),
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_2, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R2 invalid mem access 'scalar'",
},
{
	"helpers: a partial helper write over a spilled pointer hides the rest",
	.insns = {
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_1, -8),
		CALL_READ(DZ_HELPER_READ_GPA, -8, 4, 0x1000),
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_10, -4),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid read from stack off -4+0 size 4",
},
{
	"helpers: buffer in a spilled-scalar slot",
	.insns = {
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 5),
		CALL_READ(DZ_HELPER_READ_GPA, -8, 4, 0x1000),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, -8),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x1000,
},
