/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The predicate context: read-only, reads at field offsets, aligned, within
 * one field; narrow reads of part of a field are allowed (kernel: verifier/ctx.c,
 * ctx_skb.c "invalid bpf_context access", narrow load tests).
 */
{
	"ctx: read vcpu (u32)",
	.insns = {
		LD_CTX_U32(BPF_REG_0, BPF_REG_1, vcpu),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 1,
},
{
	"ctx: read rflags (u64)",
	.insns = {
		LD_CTX_U64(BPF_REG_0, BPF_REG_1, rflags),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x202,
},
{
	"ctx: read fault_gva (u64)",
	.insns = {
		LD_CTX_U64(BPF_REG_0, BPF_REG_1, fault_gva),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x7f0000001000ull,
},
{
	"ctx: read the last field (flags)",
	.insns = {
		LD_CTX_U32(BPF_REG_0, BPF_REG_1, flags),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 1,
},
{
	/* kernel: ctx_skb.c "check skb->hash half load permitted" style */
	"ctx: narrow read, low half of rax",
	.insns = {
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_1, CTX_OFF(rax)),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x55667788,
},
{
	"ctx: narrow read, high half of rax",
	.insns = {
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_1, CTX_OFF(rax) + 4),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x11223344,
},
{
	"ctx: narrow read, top u16 of rax",
	.insns = {
		BPF_LDX_MEM(BPF_H, BPF_REG_0, BPF_REG_1, CTX_OFF(rax) + 6),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0x1122,
},
{
	"ctx: narrow read, one byte of cpl",
	.insns = {
		BPF_LDX_MEM(BPF_B, BPF_REG_0, BPF_REG_1, CTX_OFF(cpl)),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 3,
},
{
	"ctx: sign-extending read of rip's low half",
	.insns = {
		BPF_LDX_MEMSX(BPF_W, BPF_REG_0, BPF_REG_1, CTX_OFF(rip)),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 0xffffffff81000000ull,
},
{
	"ctx: a u32 read is bounded by 2^32 - 1",
	.insns = {
		LD_CTX_U32(BPF_REG_0, BPF_REG_1, access),
		BPF_MOV32_IMM(BPF_REG_2, -1),
		BPF_JMP_REG(BPF_JLE, BPF_REG_0, BPF_REG_2, 1),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 1,
},
{
	"ctx: context values are not assumed (cpl may exceed 3)",
	.insns = {
		LD_CTX_U32(BPF_REG_0, BPF_REG_1, cpl),
		BPF_JMP_IMM(BPF_JLE, BPF_REG_0, 3, 1),
		BAD_PATH(),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = BAD_ERR,
},
{
	/* kernel: ctx.c "context stores via BPF_ATOMIC" neighbours: straddling fields */
	"ctx: u64 read spanning vcpu and cpl",
	.insns = {
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_1, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid bpf_context access off=0 size=8",
},
{
	"ctx: u64 read spanning access and flags",
	.insns = {
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_1, CTX_OFF(access)),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid bpf_context access off=224 size=8",
},
{
	"ctx: read past the end",
	.insns = {
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_1, sizeof(struct dz_pred_ctx)),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid bpf_context access off=232 size=4",
},
{
	"ctx: byte read just past the end",
	.insns = {
		BPF_LDX_MEM(BPF_B, BPF_REG_0, BPF_REG_1, sizeof(struct dz_pred_ctx)),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid bpf_context access off=232 size=1",
},
{
	"ctx: negative offset",
	.insns = {
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_1, -4),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid bpf_context access off=-4 size=4",
},
{
	"ctx: misaligned u32 read",
	.insns = {
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_1, 2),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid bpf_context access off=2 size=4",
},
{
	"ctx: misaligned u64 read",
	.insns = {
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_1, CTX_OFF(rip) + 4),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid bpf_context access off=20 size=8",
},
{
	"ctx: read through a moved pointer past the end",
	.insns = {
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, 228),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_1, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "invalid bpf_context access off=228 size=8",
},
{
	/* kernel: ctx.c "context stores via ST" */
	"ctx: store an immediate",
	.insns = {
		BPF_ST_MEM(BPF_W, BPF_REG_1, CTX_OFF(cpl), 0),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 cannot write into ctx",
},
{
	"ctx: store a register",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_STX_MEM(BPF_DW, BPF_REG_1, BPF_REG_0, CTX_OFF(rip)),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 cannot write into ctx",
},
{
	"ctx: store the context pointer into itself",
	.insns = {
		BPF_STX_MEM(BPF_DW, BPF_REG_1, BPF_REG_1, CTX_OFF(rax)),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 cannot write into ctx",
},
{
	/* kernel: ctx.c "context stores via BPF_ATOMIC" */
	"ctx: atomic add",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 1),
		BPF_ATOMIC_OP(BPF_W, BPF_ADD, BPF_REG_1, BPF_REG_0, CTX_OFF(cpl)),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "BPF_ATOMIC stores into R1 ctx is not allowed",
},
{
	"ctx: spilled and filled context pointer still reads",
	.insns = {
		BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_1, 0),
		BPF_LDX_MEM(BPF_DW, BPF_REG_2, BPF_REG_10, -8),
		BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_2, CTX_OFF(cpl)),
		BPF_EXIT_INSN(),
	},
	.result = ACCEPT, .check_retval = 1, .retval = 3,
},
{
	"ctx: as a helper buffer",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_2, 8),
		BPF_MOV64_IMM(BPF_REG_3, 0x1000),
		BPF_CALL_HELPER(DZ_HELPER_READ_GPA),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "R1 type=ctx expected=fp",
},
