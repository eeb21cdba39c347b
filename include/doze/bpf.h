/* SPDX-License-Identifier: GPL-2.0 */
/*
 * doze eBPF engine: a pure library (never touches KVM) that loads, verifies and
 * runs eBPF programs, in particular guest-supplied fault predicates
 * (program type DZ_PROG_PREDICATE, context struct dz_pred_ctx in <doze/pred.h>).
 *
 * Instructions are the kernel's struct bpf_insn with the BPF_* opcode macros of
 * <linux/bpf.h> (RFC 9669). All functions return 0 (or a count) on success and a
 * negative errno on failure; none of them exits or prints to stdout/stderr
 * except through the log buffers and FILE pointers they are given.
 */
#ifndef DZ_BPF_H
#define DZ_BPF_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <doze/pred.h>

#define DZ_MAX_INSNS		4096		/* verifier limit on program size */
#define DZ_STACK_SIZE		512		/* per frame, zeroed before each run */
#define DZ_MAX_CALL_FRAMES	8		/* bpf-to-bpf call depth, as the kernel's */
#define DZ_DEFAULT_BUDGET	(1u << 20)	/* executed-instruction budget per run */

/*
 * DZ_PROG_PREDICATE: r1 = const struct dz_pred_ctx *, helpers DZ_HELPER_*.
 * DZ_PROG_MEM: r1 = pointer to a byte buffer of prog->mem_size bytes (readable and
 *   writable), r2 = its length; no helpers. Used by `doze bpf run --mem` and ISA tests.
 */
enum dz_prog_type {
	DZ_PROG_PREDICATE = 0,
	DZ_PROG_MEM = 1,
};

struct dz_prog {
	enum dz_prog_type type;
	struct bpf_insn *insns;		/* owned */
	uint32_t insn_cnt;		/* in 8-byte slots (lddw counts 2) */
	uint32_t mem_size;		/* DZ_PROG_MEM: buffer size the verifier assumes */
	bool verified;			/* set by dz_prog__verify() on acceptance */
	/* What a verified program may touch, recorded by dz_prog__verify() over
	 * every path it explored (so a host can skip filling what is never read):
	 * bit i of ctx_read = context bytes [8i, 8i + 8) may be loaded (bit 63
	 * covers everything from byte 504 on); bit n of helpers_called = helper
	 * id n (< 32) may be called. */
	uint64_t ctx_read;
	uint32_t helpers_called;
	char name[64];
};

/* ---- construction and loading (lib/bpf/prog.c, lib/bpf/elf.c) ---- */

/* Copies insns. Rejects cnt == 0 or cnt > DZ_MAX_INSNS * 16 with -EINVAL. */
int dz_prog__new(const struct bpf_insn *insns, uint32_t cnt, enum dz_prog_type type,
		 struct dz_prog **out);
void dz_prog__free(struct dz_prog *prog);

/*
 * Loads PATH by its suffix: ".o" ELF object from clang -target bpf (first
 * executable section, or SEC if given, relocations of local calls applied),
 * ".s"/".asm" text assembly, ".bin" raw little-endian instructions.
 * On failure writes a one-line reason to err.
 */
int dz_prog__load_file(const char *path, const char *sec, enum dz_prog_type type,
		       struct dz_prog **out, char *err, size_t err_size);
/* The same for an ELF object already in memory (e.g. embedded in a guest image). */
int dz_prog__load_elf_mem(const void *buf, size_t len, const char *sec, enum dz_prog_type type,
			  struct dz_prog **out, char *err, size_t err_size);

/* ---- text form (lib/bpf/asm.c, lib/bpf/disasm.c) ---- */

/*
 * Assembles kernel/LLVM verifier-log syntax, one instruction per line
 * ("r0 = *(u32 *)(r1 + 4)", "if r1 > 0x10 goto +2", "call 1", "exit";
 * ';' and '#' start comments; "label:" lines and "goto label" are accepted).
 * *insns is malloc'ed. On error: -EINVAL and "line N: reason" in err.
 */
int dz_asm(const char *text, struct bpf_insn **insns, uint32_t *cnt, char *err, size_t err_size);

/*
 * Prints one instruction in verifier-log syntax into buf (no index, no newline).
 * avail is the number of slots from insn to the end of the program (lddw needs 2).
 * Returns the number of slots consumed (1 or 2), or -EINVAL for an instruction that
 * does not decode (buf then says why, e.g. "invalid opcode 0xff").
 */
int dz_insn__snprint(char *buf, size_t size, const struct bpf_insn *insn, uint32_t avail);

/* Writes the whole program, one "IDX: (OP) text" line per instruction, as bpftool does. */
int dz_prog__disasm(const struct dz_prog *prog, FILE *f);

/* ---- verifier (lib/bpf/verifier.c) ---- */

/*
 * Proves the program safe for its type: CFG (targets in range, no unreachable
 * insn, no back-edge, falls off nowhere), register and stack state, context and
 * memory access bounds, helper arguments, scalar R0 at exit. On rejection returns
 * a negative errno (-EINVAL malformed, -EACCES unsafe access, -E2BIG too large,
 * -ENOTSUP unsupported) and leaves a kernel-verifier-shaped log in log
 * ("IDX: (OP) text" lines, then the reason). log may be NULL.
 * log_level 0: only the reason and its instruction; 1: the walked path; 2: + states.
 */
int dz_prog__verify(struct dz_prog *prog, char *log, size_t log_size, uint32_t log_level);

/* ---- interpreter (lib/bpf/interp.c) and guest-memory helpers (lib/bpf/gmem.c) ---- */

/*
 * Access to guest memory the caller (the VMM, or a test) provides. The engine
 * never touches KVM itself. read_gpa must never wait for a page that is not
 * present: it returns -EAGAIN for it, -EFAULT outside guest RAM.
 */
struct dz_guest_ops {
	void *opaque;
	int (*read_gpa)(void *opaque, uint64_t gpa, void *dst, uint32_t len);
	void (*trace)(void *opaque, const char *msg, uint64_t arg);	/* may be NULL */
};

/*
 * Walks the guest page tables rooted at cr3 (4-level, or 5-level when CR4.LA57
 * is set; 2 MiB and 1 GiB pages) and translates gva. -EFAULT if not mapped,
 * -EAGAIN if a page-table page itself is not present yet.
 */
int dz_gva_to_gpa(const struct dz_guest_ops *ops, uint64_t cr3, uint64_t cr4, uint64_t gva,
		  uint64_t *gpa);
/* Reads len bytes at gva, crossing pages as needed. */
int dz_read_gva(const struct dz_guest_ops *ops, uint64_t cr3, uint64_t cr4, uint64_t gva,
		void *dst, uint32_t len);

struct dz_run_opts {
	const struct dz_guest_ops *ops;	/* DZ_PROG_PREDICATE helpers; may be NULL (helpers fail) */
	uint64_t budget;		/* executed-instruction limit; 0 = DZ_DEFAULT_BUDGET */
	bool checked;			/* bounds-check every access at run time (unverified programs) */
};

struct dz_run_stats {
	uint64_t insns;			/* instructions executed */
	uint64_t helper_calls;
};

/*
 * Runs the program with r1 = ctx, r2 = ctx_len. A program that has not been
 * verified runs only with opts->checked. Returns 0 and r0 in *ret, or
 * -E2BIG (budget exhausted), -EFAULT (checked access outside ctx/stack),
 * -EINVAL (bad instruction met at run time), -EPERM (unverified and not checked).
 */
int dz_prog__run(const struct dz_prog *prog, void *ctx, uint64_t ctx_len,
		 const struct dz_run_opts *opts, uint64_t *ret, struct dz_run_stats *stats);

#endif /* DZ_BPF_H */
