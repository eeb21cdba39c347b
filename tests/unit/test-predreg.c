// SPDX-License-Identifier: GPL-2.0
/*
 * Guest predicate registration (DZ_MSR_PRED): the host copies the program out of
 * guest RAM, verifies it and writes verdict + log back. Every bad argument ends
 * in its documented error code, never a crash, and never touches a page that is
 * not present.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <doze/abi.h>
#include <doze/filter.h>

#include "tap.h"
#include "../../vmm/predreg.h"

#define NPAGES 64
static uint8_t *ram;
static bool present[NPAGES];

static bool page_present(void *opaque, uint64_t pfn)
{
	return pfn < NPAGES && present[pfn];
}

static struct dz_guestmem gm = {.size = NPAGES * 4096, .page_present = page_present};

#define REG  0x1000
#define PROG 0x2000
#define LOG  0x30000

static const struct bpf_insn good[] = {
    BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_1, offsetof(struct dz_pred_ctx, cpl)),
    BPF_EXIT_INSN(),
};

static const struct bpf_insn bad[] = {
    BPF_MOV64_REG(BPF_REG_0, BPF_REG_5), /* r5 is not initialised */
    BPF_EXIT_INSN(),
};

static struct dz_pred_reg *reg(void)
{
	return (struct dz_pred_reg *)(ram + REG);
}

static void setup(const void *prog, uint32_t len, uint32_t log_size)
{
	memset(ram, 0, gm.size);
	for (int i = 0; i < NPAGES; i++)
		present[i] = true;
	memcpy(ram + PROG, prog, len);
	*reg() = (struct dz_pred_reg){.prog_gpa = PROG,
				      .prog_len = len,
				      .log_gpa = LOG,
				      .log_size = log_size,
				      .verdict = 12345};
}

static int run(struct dz_policy *p, uint64_t gpa, struct dz_predreg_result *res)
{
	return dz_predreg__register(p, &gm, gpa, res);
}

static void test_accept_raw(struct dz_policy *p)
{
	struct dz_predreg_result res;

	setup(good, sizeof(good), 4096);
	is_int(run(p, REG, &res), 0, "a good raw program is accepted");
	is_int(reg()->verdict, 0, "verdict 0 written into the guest's block");
	ok(res.verdict_written && !res.elf && res.insn_cnt == 2, "result: raw, 2 insns");
	ok(dz_policy__has_predicate(p), "installed in the policy");
	ok(res.log_written && ram[LOG] != 0, "a log was written");
}

static void test_reject(struct dz_policy *p)
{
	struct dz_predreg_result res;
	const struct dz_prog *before = p->pred;

	setup(bad, sizeof(bad), 4096);
	ok(run(p, REG, &res) < 0, "an unsafe program is rejected (%d)", res.verdict);
	is_int(reg()->verdict, res.verdict, "the rejection's errno is the guest's verdict");
	ok(ram[LOG] != 0 && memchr(ram + LOG, 0, 4096),
	   "verifier log in the guest buffer, NUL-terminated");
	ok(strstr((char *)ram + LOG, "R5") || strstr((char *)ram + LOG, "r5"),
	   "the log names the uninitialised register");
	ok(p->pred == before, "the previous predicate stays installed");

	setup(bad, sizeof(bad), 16);
	run(p, REG, &res);
	ok(ram[LOG + 15] == 0 && ram[LOG + 16] == 0 && strlen((char *)ram + LOG) == 15,
	   "a short log buffer is truncated and NUL-terminated inside it");

	setup(bad, sizeof(bad), 0);
	run(p, REG, &res);
	ok(!res.log_written && ram[LOG] == 0, "log_size 0: nothing written");
	ok(res.verdict_written && reg()->verdict < 0, "but the verdict is");
}

static void test_args(struct dz_policy *p)
{
	struct dz_predreg_result res;

	setup(good, sizeof(good), 4096);
	is_int(run(p, REG + 4, &res), -EINVAL, "unaligned block: -EINVAL");
	is_int(run(p, gm.size - 8, &res), -EFAULT, "block crossing the end of RAM: -EFAULT");
	is_int(run(p, 1ull << 62, &res), -EFAULT, "block far outside RAM: -EFAULT");
	ok(!res.verdict_written, "nothing written for a block outside RAM");
	present[REG >> 12] = false;
	is_int(run(p, REG, &res), -EAGAIN, "block not present yet: -EAGAIN");
	ok(!res.verdict_written, "and it is not touched");

	setup(good, sizeof(good), 4096);
	reg()->prog_len = 0;
	is_int(run(p, REG, &res), -EINVAL, "empty program: -EINVAL");
	is_int(reg()->verdict, -EINVAL, "verdict written");
	ok(strstr((char *)ram + LOG, "empty") != NULL, "the log says why");

	setup(good, sizeof(good), 4096);
	reg()->prog_len = DZ_PRED_MAX_IMAGE + 8;
	is_int(run(p, REG, &res), -E2BIG, "oversized image: -E2BIG");

	setup(good, sizeof(good), 4096);
	reg()->prog_len = 12;
	is_int(run(p, REG, &res), -EINVAL, "raw length not a multiple of 8: -EINVAL");

	setup(good, sizeof(good), 4096);
	reg()->prog_len = (DZ_MAX_INSNS + 1) * 8;
	is_int(run(p, REG, &res), -E2BIG, "more than DZ_MAX_INSNS raw instructions: -E2BIG");

	setup(good, sizeof(good), 4096);
	reg()->prog_gpa = gm.size - 8;
	is_int(run(p, REG, &res), -EFAULT, "program running off the end of RAM: -EFAULT");
	reg()->prog_gpa = ~0ull - 4;
	is_int(run(p, REG, &res), -EFAULT, "program address wrapping around: -EFAULT");

	setup(good, sizeof(good), 4096);
	reg()->log_gpa = gm.size - 100;
	is_int(run(p, REG, &res), -EFAULT, "log buffer off the end of RAM: -EFAULT");
	ok(res.verdict_written, "the verdict still reaches the block");

	setup(good, sizeof(good), 4096);
	reg()->log_size = DZ_PRED_MAX_LOG + 1;
	is_int(run(p, REG, &res), -E2BIG, "oversized log buffer: -E2BIG");

	setup(good, sizeof(good), 4096);
	reg()->log_gpa = PROG + 8;
	is_int(run(p, REG, &res), -EINVAL, "log overlapping the program: -EINVAL");
	ok(!memcmp(ram + PROG, good, sizeof(good)), "the program was not overwritten");

	setup(good, sizeof(good), 4096);
	reg()->log_gpa = REG;
	is_int(run(p, REG, &res), -EINVAL, "log overlapping the block: -EINVAL");

	setup(good, sizeof(good), 4096);
	present[PROG >> 12] = false;
	is_int(run(p, REG, &res), -EAGAIN, "program page not present: -EAGAIN");
	is_int(reg()->verdict, -EAGAIN, "verdict written");

	setup(good, sizeof(good), 4096);
	present[LOG >> 12] = false;
	is_int(run(p, REG, &res), -EAGAIN, "log page not present: -EAGAIN");
	ok(!res.log_written, "the missing log page is not touched");

	setup("\177ELFjunkjunkjunk", 16, 4096);
	is_int(run(p, REG, &res), -ENOEXEC, "ELF magic but no valid object: -ENOEXEC");
	ok(ram[LOG] != 0 && !strchr((char *)ram + LOG, '\n'),
	   "with a one-line reason in the log: %.70s", (char *)ram + LOG);
}

static void test_elf(struct dz_policy *p)
{
	const char *build = getenv("DZ_BUILD");
	char path[4096];
	struct dz_predreg_result res;
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "%s/guest/pred/pred.bpf.o", build ? build : "build");
	if (stat(path, &st) || st.st_size > 4096 * 40 || !(f = fopen(path, "rb"))) {
		ok(1, "# SKIP no %s", path);
		return;
	}
	setup("", 0, 4096);
	if (fread(ram + PROG, 1, st.st_size, f) != (size_t)st.st_size)
		st.st_size = 0;
	fclose(f);
	reg()->prog_len = st.st_size;
	reg()->log_gpa = (NPAGES - 2) * 4096;
	is_int(run(p, REG, &res), 0, "the reference predicate (ELF, %lld bytes) is accepted: %s",
	       (long long)st.st_size, res.reason);
	ok(res.elf, "recognised as ELF");
}

int main(void)
{
	struct dz_policy *p;

	ram = calloc(1, NPAGES * 4096);
	gm.ram = ram;
	dz_policy__new(DZ_POLICY_BPF, 0, &gm, &p);
	test_accept_raw(p);
	test_reject(p);
	test_args(p);
	test_elf(p);
	dz_policy__free(p);
	free(ram);
	return done_testing();
}
