/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Malformed encodings: unknown opcodes, reserved fields set, bad registers,
 * unsupported forms (kernel: verifier/basic_instr.c, verifier/ld_imm64.c,
 * verifier/junk_insn.c, verifier/div0.c).
 */
{
	"encoding: opcode 0xff",
	.insns = { BPF_RAW_INSN(0xff, 0, 0, 0, 0), BPF_EXIT_INSN() },
	.result = REJECT, .err = -EINVAL, .errstr = "invalid BPF_ALU opcode 0xff",
},
{
	/* kernel: junk_insn.c "junk insn" */
	"encoding: unknown jump op 0xf5",
	.insns = { BPF_MOV64_IMM(BPF_REG_0, 0), BPF_RAW_INSN(0xf5, 0, 0, 0, 0), BPF_EXIT_INSN() },
	.result = REJECT, .err = -EINVAL, .errstr = "invalid BPF_JMP opcode 0xf5",
},
{
	"encoding: ALU BPF_K with src_reg set",
	.insns = { BPF_RAW_INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 1, 0, 0), BPF_EXIT_INSN() },
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_ALU uses reserved fields",
},
{
	"encoding: ALU BPF_X with imm set",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_RAW_INSN(BPF_ALU64 | BPF_ADD | BPF_X, 0, 1, 0, 5),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_ALU uses reserved fields",
},
{
	"encoding: ALU add with off set",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_RAW_INSN(BPF_ALU64 | BPF_ADD | BPF_K, 0, 0, 3, 1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_ALU uses reserved fields",
},
{
	"encoding: mov with off 7 (not a movsx width)",
	.insns = { BPF_RAW_INSN(BPF_ALU64 | BPF_MOV | BPF_X, 0, 1, 7, 0), BPF_EXIT_INSN() },
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_MOV uses reserved fields",
},
{
	"encoding: 32-bit movsx of 32 bits",
	.insns = { BPF_RAW_INSN(BPF_ALU | BPF_MOV | BPF_X, 0, 1, 32, 0), BPF_EXIT_INSN() },
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_MOV uses reserved fields",
},
{
	"encoding: mov imm with off set",
	.insns = { BPF_RAW_INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 8, 0), BPF_EXIT_INSN() },
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_ALU uses reserved fields",
},
{
	"encoding: div with off 2",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_RAW_INSN(BPF_ALU64 | BPF_DIV | BPF_K, 0, 0, 2, 1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "off 2 on div/mod",
},
{
	"encoding: neg with imm",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_RAW_INSN(BPF_ALU64 | BPF_NEG, 0, 0, 0, 1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_NEG uses reserved fields",
},
{
	"encoding: neg with BPF_X",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_RAW_INSN(BPF_ALU64 | BPF_NEG | BPF_X, 0, 0, 0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_NEG uses reserved fields",
},
{
	"encoding: byte swap of 8 bits",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_ENDIAN(BPF_TO_BE, BPF_REG_0, 8),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_END with invalid width 8",
},
{
	"encoding: ALU64 byte swap with the to-BE bit",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_RAW_INSN(BPF_ALU64 | BPF_END | BPF_TO_BE, 0, 0, 0, 16),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "must use BPF_TO_LE",
},
{
	"encoding: byte swap with off set",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_RAW_INSN(BPF_ALU | BPF_END | BPF_TO_LE, 0, 0, 1, 16),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_END uses reserved fields",
},
{
	"encoding: ja with imm set",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_RAW_INSN(BPF_JMP | BPF_JA, 0, 0, 0, 1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_JA uses reserved fields",
},
{
	"encoding: ja with dst_reg set",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_RAW_INSN(BPF_JMP | BPF_JA, 1, 0, 0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_JA uses reserved fields",
},
{
	"encoding: gotol with off set",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_RAW_INSN(BPF_JMP32 | BPF_JA, 0, 0, 1, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_JA uses reserved fields",
},
{
	/* kernel: basic_call.c "invalid call insn1" */
	"encoding: call with dst_reg set",
	.insns = {
		BPF_RAW_INSN(BPF_JMP | BPF_CALL, 1, 0, 0, DZ_HELPER_TRACE),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_CALL uses reserved fields",
},
{
	"encoding: call with off set",
	.insns = {
		BPF_RAW_INSN(BPF_JMP | BPF_CALL, 0, 0, 1, DZ_HELPER_TRACE),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_CALL uses reserved fields",
},
{
	"encoding: call in the JMP32 class",
	.insns = {
		BPF_RAW_INSN(BPF_JMP32 | BPF_CALL, 0, 0, 0, DZ_HELPER_TRACE),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_CALL uses reserved fields",
},
{
	"encoding: kfunc call (src_reg 2) unsupported",
	.insns = {
		BPF_RAW_INSN(BPF_JMP | BPF_CALL, 0, 2, 0, 1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -ENOTSUP, .errstr = "kfunc calls are not supported",
},
{
	"encoding: call with src_reg 3",
	.insns = {
		BPF_RAW_INSN(BPF_JMP | BPF_CALL, 0, 3, 0, 1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_CALL uses reserved fields",
},
{
	"encoding: exit with imm set",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_RAW_INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 1),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_EXIT uses reserved fields",
},
{
	"encoding: exit with dst_reg set",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_RAW_INSN(BPF_JMP | BPF_EXIT, 2, 0, 0, 0),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_EXIT uses reserved fields",
},
{
	"encoding: exit in the JMP32 class",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_RAW_INSN(BPF_JMP32 | BPF_EXIT, 0, 0, 0, 0),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_EXIT uses reserved fields",
},
{
	"encoding: jeq imm with src_reg set",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_RAW_INSN(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_JMP/JMP32 uses reserved fields",
},
{
	"encoding: jeq reg with imm set",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_RAW_INSN(BPF_JMP32 | BPF_JEQ | BPF_X, 0, 1, 0, 9),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_JMP/JMP32 uses reserved fields",
},
{
	"encoding: may_goto unsupported",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_RAW_INSN(BPF_JMP | BPF_JCOND, 0, 0, 0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -ENOTSUP, .errstr = "may_goto",
},
{
	/* kernel: ld_abs.c tests, which other program types reject the same way */
	"encoding: legacy BPF_LD | BPF_ABS unsupported",
	.insns = {
		BPF_RAW_INSN(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 0),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -ENOTSUP, .errstr = "BPF_ABS/BPF_IND",
},
{
	"encoding: legacy BPF_LD | BPF_IND unsupported",
	.insns = {
		BPF_RAW_INSN(BPF_LD | BPF_IND | BPF_B, 0, 1, 0, 0),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -ENOTSUP, .errstr = "BPF_ABS/BPF_IND",
},
{
	"encoding: BPF_LD | BPF_IMM | BPF_W (opcode 0x00)",
	.insns = {
		BPF_RAW_INSN(0, 0, 0, 0, 0),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "invalid BPF_LD opcode 0x00",
},
{
	/* kernel: ld_imm64.c "test5 ld_imm64" (pseudo map fd needs maps) */
	"encoding: lddw with a pseudo src_reg (map fd) unsupported",
	.insns = {
		BPF_LD_IMM64_RAW(BPF_REG_0, 1, 3),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -ENOTSUP, .errstr = "lddw with src_reg 1",
},
{
	/* kernel: ld_imm64.c "test3 ld_imm64" */
	"encoding: lddw second slot with a nonzero opcode",
	.insns = {
		BPF_RAW_INSN(BPF_LD | BPF_DW | BPF_IMM, 0, 0, 0, 1),
		BPF_RAW_INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "invalid bpf_ld_imm64 insn",
},
{
	"encoding: lddw second slot with a register",
	.insns = {
		BPF_RAW_INSN(BPF_LD | BPF_DW | BPF_IMM, 0, 0, 0, 1),
		BPF_RAW_INSN(0, 1, 0, 0, 1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "invalid bpf_ld_imm64 insn",
},
{
	/* kernel: ld_imm64.c "test4 ld_imm64" */
	"encoding: lddw in the last slot",
	.fill = fill_lddw_truncated,
	.result = REJECT, .err = -EINVAL, .errstr = "invalid bpf_ld_imm64 insn (truncated)",
},
{
	"encoding: lddw with off set",
	.insns = {
		BPF_RAW_INSN(BPF_LD | BPF_DW | BPF_IMM, 0, 0, 1, 1),
		BPF_RAW_INSN(0, 0, 0, 0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_LD_IMM64 uses reserved fields",
},
{
	"encoding: ldx with imm set",
	.insns = {
		BPF_RAW_INSN(BPF_LDX | BPF_MEM | BPF_W, 0, 1, 0, 1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_LDX uses reserved fields",
},
{
	"encoding: ldx in BPF_ABS mode",
	.insns = {
		BPF_RAW_INSN(BPF_LDX | BPF_ABS | BPF_W, 0, 1, 0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "invalid BPF_LDX opcode",
},
{
	"encoding: sign-extending load of 8 bytes",
	.insns = {
		BPF_RAW_INSN(BPF_LDX | BPF_MEMSX | BPF_DW, 0, 1, 0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "invalid BPF_LDX opcode",
},
{
	"encoding: st with src_reg set",
	.insns = {
		BPF_RAW_INSN(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 1, -8, 0),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_ST uses reserved fields",
},
{
	"encoding: st in atomic mode",
	.insns = {
		BPF_RAW_INSN(BPF_ST | BPF_ATOMIC | BPF_DW, BPF_REG_10, 0, -8, 0),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "invalid BPF_ST opcode",
},
{
	"encoding: stx with imm set",
	.insns = {
		BPF_RAW_INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, 1, -8, 1),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "BPF_STX uses reserved fields",
},
{
	/* kernel: atomic_invalid.c */
	"encoding: 1-byte atomic",
	.insns = {
		BPF_ATOMIC_OP(BPF_B, BPF_ADD, BPF_REG_10, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "invalid atomic operand size",
},
{
	"encoding: atomic sub is not an atomic op",
	.insns = {
		BPF_ATOMIC_OP(BPF_DW, BPF_SUB, BPF_REG_10, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "invalid atomic opcode",
},
{
	"encoding: dst register r11",
	.insns = { BPF_RAW_INSN(BPF_ALU64 | BPF_MOV | BPF_K, 11, 0, 0, 0), BPF_EXIT_INSN() },
	.result = REJECT, .err = -EINVAL, .errstr = "invalid dst register r11",
},
{
	"encoding: src register r12",
	.insns = { BPF_RAW_INSN(BPF_ALU64 | BPF_MOV | BPF_X, 0, 12, 0, 0), BPF_EXIT_INSN() },
	.result = REJECT, .err = -EINVAL, .errstr = "invalid src register r12",
},
{
	/* kernel: div0.c (constant divisor 0 is refused, a register divisor is not) */
	"encoding: division by constant zero",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 1),
		BPF_ALU64_IMM(BPF_DIV, BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "div by zero",
},
{
	"encoding: 32-bit modulo by constant zero",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 1),
		BPF_ALU32_IMM(BPF_MOD, BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "div by zero",
},
{
	"encoding: shift left by 64",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 1),
		BPF_ALU64_IMM(BPF_LSH, BPF_REG_0, 64),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "invalid shift 64",
},
{
	"encoding: 32-bit shift right by 32",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 1),
		BPF_ALU32_IMM(BPF_RSH, BPF_REG_0, 32),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "invalid shift 32",
},
{
	"encoding: arithmetic shift by -1",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_0, 1),
		BPF_ALU64_IMM(BPF_ARSH, BPF_REG_0, -1),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EINVAL, .errstr = "invalid shift -1",
},
{
	/* kernel: basic_stack.c / unpriv.c "unpriv: write to frame pointer" */
	"encoding: mov into r10",
	.insns = {
		BPF_MOV64_IMM(BPF_REG_10, 0),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "frame pointer is read only",
},
{
	"encoding: load into r10",
	.insns = {
		BPF_LDX_MEM(BPF_DW, BPF_REG_10, BPF_REG_1, 8),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "frame pointer is read only",
},
{
	"encoding: lddw into r10",
	.insns = {
		BPF_LD_IMM64(BPF_REG_10, 1),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "frame pointer is read only",
},
{
	"encoding: atomic fetch into r10",
	.insns = {
		BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 0),
		BPF_ATOMIC_OP(BPF_DW, BPF_ADD | BPF_FETCH, BPF_REG_10, BPF_REG_10, -8),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	},
	.result = REJECT, .err = -EACCES, .errstr = "frame pointer is read only",
},
