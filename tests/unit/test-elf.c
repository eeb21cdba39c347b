// SPDX-License-Identifier: GPL-2.0
/*
 * Program loading: ELF objects from clang (bpf-to-bpf calls into .text
 * relocated and run, section selection, global data refused), raw .bin and
 * text files, and bad input of every kind (truncated and corrupted ELF, odd
 * .bin sizes, garbage opcodes, jumps out of range, unknown suffixes), which
 * must give an error message and never crash.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <doze/bpf.h>
#include <doze/filter.h>

#include "tap.h"

static char dir[] = "/tmp/dz-test-elf-XXXXXX";

static const char *fixture(const char *name)
{
	static char path[512];
	const char *build = getenv("DZ_BUILD");

	snprintf(path, sizeof(path), "%s/tests/bpf/%s", build ? build : "build", name);
	return path;
}

static const char *write_tmp(const char *name, const void *buf, size_t len)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f) {
		fwrite(buf, 1, len, f);
		fclose(f);
	}
	return path;
}

static void *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	void *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n);
	*len = fread(buf, 1, n, f);
	fclose(f);
	return buf;
}

static int run_pred(struct dz_prog *prog, struct dz_pred_ctx *ctx, uint64_t *r0)
{
	struct dz_run_opts opts = {.checked = true};

	return dz_prog__run(prog, ctx, sizeof(*ctx), &opts, r0, NULL);
}

static void load_err(const char *path, const char *sec, int want, const char *substr,
		     const char *name)
{
	struct dz_prog *prog = (struct dz_prog *)1;
	char err[512] = "";
	int ret = dz_prog__load_file(path, sec, DZ_PROG_PREDICATE, &prog, err, sizeof(err));

	ok(ret == want && !prog && strstr(err, substr), "%s: %d '%s'", name, ret, err);
}

static void elf_objects(void)
{
	struct dz_pred_ctx ctx = {.rax = 5, .rbx = 3, .rcx = 4, .cpl = 2};
	struct dz_prog *prog;
	char err[512];
	uint64_t r0 = 0;
	int ret;

	ret = dz_prog__load_file(fixture("calls.bpf.o"), NULL, DZ_PROG_PREDICATE, &prog, err,
				 sizeof(err));
	if (!ok(ret == 0, "calls.bpf.o loads")) {
		diag("%s", err);
		return;
	}
	is_str(prog->name, "calls", "program name");
	ok(prog->insn_cnt > 20, "subprograms from .text appended (%u insns)", prog->insn_cnt);
	ret = run_pred(prog, &ctx, &r0);
	/* (5 + 2*3) ^ (4*4 + 7 - 7) + 7 = 11 ^ 16 + 7 = 34 */
	/* The C function returns int: only the low 32 bits of r0 are defined. */
	ok(ret == 0 && (uint32_t)r0 == 34,
	   "relocated calls compute (rax + 2 rbx) ^ rcx^2 + 7 = 34 (%d, %#llx)", ret,
	   (unsigned long long)r0);
	dz_prog__free(prog);

	ret = dz_prog__load_file(fixture("calls.bpf.o"), "doze/second", DZ_PROG_PREDICATE, &prog,
				 err, sizeof(err));
	ok(ret == 0, "select a program by section (%s)", ret ? err : "ok");
	if (!ret) {
		ret = run_pred(prog, &ctx, &r0);
		ok(ret == 0 && r0 == 42, "second program returns cpl + 40");
		dz_prog__free(prog);
	}
	load_err(fixture("calls.bpf.o"), "nope", -ENOENT, "no program in section 'nope'",
		 "missing section");
	load_err(fixture("globals.bpf.o"), NULL, -ENOTSUP, "maps and global data are not supported",
		 "global data refused");
}

static void bad_elf(void)
{
	size_t len = 0, n, i;
	uint8_t *orig = slurp(fixture("calls.bpf.o"), &len), *buf;
	unsigned int crashes_avoided = 0, loaded = 0;
	struct dz_prog *prog;
	char err[512];
	int ret;

	if (!ok(orig != NULL, "read calls.bpf.o"))
		return;
	buf = malloc(len);
	ret = dz_prog__load_elf_mem(orig, 10, NULL, DZ_PROG_PREDICATE, &prog, err, sizeof(err));
	ok(ret < 0 && strstr(err, "too short"), "10-byte ELF: %s", err);
	ret = dz_prog__load_elf_mem(
	    "hello world, this is not an ELF object at all, just some text to fill..", 72, NULL,
	    DZ_PROG_PREDICATE, &prog, err, sizeof(err));
	ok(ret < 0 && strstr(err, "bad magic"), "not ELF: %s", err);
	memcpy(buf, orig, len);
	buf[5] = 2; /* EI_DATA: big-endian */
	ret = dz_prog__load_elf_mem(buf, len, NULL, DZ_PROG_PREDICATE, &prog, err, sizeof(err));
	ok(ret == -EINVAL && strstr(err, "little-endian"), "big-endian ELF: %s", err);
	/* Every truncation length: an error, never a crash. */
	for (n = 16, ret = 0; n < len; n += 7) {
		memcpy(buf, orig, n);
		err[0] = '\0';
		if (!dz_prog__load_elf_mem(buf, n, NULL, DZ_PROG_PREDICATE, &prog, err,
					   sizeof(err))) {
			dz_prog__free(prog);
			loaded++;
		} else if (!err[0]) {
			ret = -1;
		}
		crashes_avoided++;
	}
	ok(ret == 0, "%u truncated objects: each refused with a message (%u loaded)",
	   crashes_avoided, loaded);
	/* Random byte corruption (fixed seed): an error or a program, never a crash. */
	srand(42);
	for (i = 0, ret = 0, loaded = 0; i < 300; i++) {
		memcpy(buf, orig, len);
		for (int k = 0; k < 4; k++)
			buf[rand() % len] = rand();
		err[0] = '\0';
		if (!dz_prog__load_elf_mem(buf, len, NULL, DZ_PROG_PREDICATE, &prog, err,
					   sizeof(err))) {
			dz_prog__free(prog);
			loaded++;
		} else if (!err[0]) {
			ret = -1;
		}
	}
	ok(ret == 0, "300 corrupted objects: no crash, every refusal explained (%u loaded)",
	   loaded);
	free(buf);
	free(orig);
}

static void other_formats(void)
{
	const struct bpf_insn good[] = {BPF_MOV64_IMM(0, 7), BPF_EXIT_INSN()};
	const struct bpf_insn garbage[] = {BPF_RAW_INSN(0xff, 0, 0, 0, 0), BPF_EXIT_INSN()};
	const struct bpf_insn reserved[] = {BPF_RAW_INSN(BPF_ALU64 | BPF_ADD | BPF_K, 1, 2, 0, 1),
					    BPF_EXIT_INSN()};
	const struct bpf_insn far[] = {BPF_JMP_A(5), BPF_EXIT_INSN()};
	const struct bpf_insn lddw[] = {BPF_EXIT_INSN(), BPF_LD_IMM64(0, 1)};
	struct dz_prog *prog;
	char err[512];
	int ret;

	ret = dz_prog__load_file(write_tmp("good.bin", good, sizeof(good)), NULL, DZ_PROG_MEM,
				 &prog, err, sizeof(err));
	ok(ret == 0 && prog->insn_cnt == 2 && !memcmp(prog->insns, good, 16), ".bin loads");
	if (!ret)
		dz_prog__free(prog);
	load_err(write_tmp("odd.bin", good, 12), NULL, -EINVAL, "not a multiple of 8",
		 ".bin of 12 bytes");
	load_err(write_tmp("empty.bin", good, 0), NULL, -EINVAL, "no instructions", "empty .bin");
	load_err(write_tmp("garbage.bin", garbage, 16), NULL, -EINVAL, "insn 0: invalid",
		 "garbage opcode");
	load_err(write_tmp("reserved.bin", reserved, 16), NULL, -EINVAL, "reserved fields",
		 "reserved field set");
	load_err(write_tmp("far.bin", far, 16), NULL, -EINVAL, "insn 0: jump out of range",
		 "jump out of range");
	load_err(write_tmp("lddw.bin", lddw, 16), NULL, -EINVAL, "truncated",
		 "lddw cut in half at the end");
	load_err(write_tmp("bad.s", "r0 = 1\nr0 +=\nexit\n", 18), NULL, -EINVAL,
		 "bad.s: line 2:", "assembly error names file and line");
	load_err(write_tmp("nul.asm", "exit\0\n", 6), NULL, -EINVAL, "binary data",
		 "NUL byte in a text file");
	load_err(write_tmp("prog.txt", "exit\n", 5), NULL, -EINVAL, "unknown program format",
		 "unknown suffix");
	load_err(write_tmp("junk.o", "junk", 4), NULL, -EINVAL, "not an ELF object", "junk .o");
	load_err("/nonexistent/x.bin", NULL, -ENOENT, "No such file", "missing file");
	load_err(dir, NULL, -EINVAL, "unknown program format", "a directory");
	ret = dz_prog__load_file(write_tmp("ok.s", "r0 = 3 ; three\nexit\n", 20), NULL, DZ_PROG_MEM,
				 &prog, err, sizeof(err));
	ok(ret == 0 && prog->insn_cnt == 2 && !strcmp(prog->name, "ok.s"), ".s loads, named");
	if (!ret)
		dz_prog__free(prog);
}

int main(void)
{
	char cmd[300];

	if (!mkdtemp(dir))
		skip_all("cannot create a temporary directory");
	elf_objects();
	bad_elf();
	other_formats();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		diag("could not remove %s", dir);
	return done_testing();
}
