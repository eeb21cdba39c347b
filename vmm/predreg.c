// SPDX-License-Identifier: GPL-2.0
/*
 * Guest predicate registration (see predreg.h and docs/abi.md).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <doze/abi.h>

#include "predreg.h"

#define VERIFIER_LOG_SIZE (64u << 10)

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* Copies the log (NUL-terminated, truncated to fit) into the guest's buffer. */
static bool write_log(const struct dz_guestmem *gm, const struct dz_pred_reg *reg, const char *log)
{
	size_t n;

	if (!reg->log_size || !log)
		return false;
	n = strnlen(log, reg->log_size - 1);
	if (dz_guestmem__write(gm, reg->log_gpa, log, n))
		return false;
	return dz_guestmem__write(gm, reg->log_gpa + n, "", 1) == 0;
}

static int load(const struct dz_pred_reg *reg, const uint8_t *img, struct dz_prog **prog,
		struct dz_predreg_result *res, char *log, size_t log_size)
{
	int err;

	if (reg->prog_len >= 4 && !memcmp(img, "\177ELF", 4)) {
		res->elf = true;
		err = dz_prog__load_elf_mem(img, reg->prog_len, NULL, DZ_PROG_PREDICATE, prog, log,
					    log_size);
		if (err) {
			snprintf(res->reason, sizeof(res->reason), "ELF object not loadable: %s",
				 log);
			return -ENOEXEC;
		}
		return 0;
	}
	if (reg->prog_len % sizeof(struct bpf_insn)) {
		snprintf(res->reason, sizeof(res->reason),
			 "raw program length %u is not a multiple of 8", reg->prog_len);
		return -EINVAL;
	}
	if (reg->prog_len / sizeof(struct bpf_insn) > DZ_MAX_INSNS) {
		snprintf(res->reason, sizeof(res->reason), "program has %u instructions, limit %u",
			 reg->prog_len / 8, DZ_MAX_INSNS);
		return -E2BIG;
	}
	err = dz_prog__new((const struct bpf_insn *)img, reg->prog_len / sizeof(struct bpf_insn),
			   DZ_PROG_PREDICATE, prog);
	if (err)
		snprintf(res->reason, sizeof(res->reason), "cannot create program: %s",
			 strerror(-err));
	return err;
}

/* Checks the block's arguments; *log_ok says whether the log buffer may be written. */
static int check_block(const struct dz_guestmem *gm, uint64_t reg_gpa,
		       const struct dz_pred_reg *reg, struct dz_predreg_result *res, bool *log_ok)
{
	int err;

	*log_ok = false;
	if (reg->log_size <= DZ_PRED_MAX_LOG &&
	    !dz_guestmem__check(gm, reg->log_gpa, reg->log_size) &&
	    !overlap(reg->prog_gpa, reg->prog_len, reg->log_gpa, reg->log_size) &&
	    !overlap(reg_gpa, sizeof(*reg), reg->log_gpa, reg->log_size))
		*log_ok = true;

	if (!reg->prog_len) {
		snprintf(res->reason, sizeof(res->reason), "empty program");
		return -EINVAL;
	}
	if (reg->prog_len > DZ_PRED_MAX_IMAGE) {
		snprintf(res->reason, sizeof(res->reason), "program image of %u bytes, limit %u",
			 reg->prog_len, DZ_PRED_MAX_IMAGE);
		return -E2BIG;
	}
	if (reg->log_size > DZ_PRED_MAX_LOG) {
		snprintf(res->reason, sizeof(res->reason), "log buffer of %u bytes, limit %u",
			 reg->log_size, DZ_PRED_MAX_LOG);
		return -E2BIG;
	}
	err = dz_guestmem__check_range(gm, reg->prog_gpa, reg->prog_len);
	if (!err)
		err = dz_guestmem__check_range(gm, reg->log_gpa, reg->log_size);
	if (err) {
		snprintf(res->reason, sizeof(res->reason),
			 "program or log buffer outside guest RAM");
		return err;
	}
	if (overlap(reg->prog_gpa, reg->prog_len, reg->log_gpa, reg->log_size) ||
	    overlap(reg_gpa, sizeof(*reg), reg->log_gpa, reg->log_size)) {
		snprintf(res->reason, sizeof(res->reason),
			 "log buffer overlaps the program or the registration block");
		return -EINVAL;
	}
	err = dz_guestmem__check(gm, reg->prog_gpa, reg->prog_len);
	if (!err)
		err = dz_guestmem__check(gm, reg->log_gpa, reg->log_size);
	if (err)
		snprintf(res->reason, sizeof(res->reason),
			 "program or log buffer not present in guest RAM yet");
	return err;
}

int dz_predreg__register(struct dz_policy *p, const struct dz_guestmem *gm, uint64_t reg_gpa,
			 struct dz_predreg_result *res)
{
	struct dz_pred_reg reg;
	bool log_ok = false;
	struct dz_prog *prog = NULL;
	uint8_t *img = NULL;
	char *log = NULL;
	int err;

	memset(res, 0, sizeof(*res));
	if (reg_gpa & 7) {
		snprintf(res->reason, sizeof(res->reason),
			 "registration block %#llx not 8-byte aligned",
			 (unsigned long long)reg_gpa);
		err = -EINVAL;
		goto out;
	}
	err = dz_guestmem__read(gm, reg_gpa, &reg, sizeof(reg));
	if (err) {
		snprintf(res->reason, sizeof(res->reason), "registration block %#llx %s",
			 (unsigned long long)reg_gpa,
			 err == -EAGAIN ? "not present yet" : "outside guest RAM");
		goto out;
	}
	err = check_block(gm, reg_gpa, &reg, res, &log_ok);
	if (err)
		goto done;

	img = malloc(reg.prog_len);
	log = calloc(1, VERIFIER_LOG_SIZE);
	if (!img || !log) {
		err = -ENOMEM;
		snprintf(res->reason, sizeof(res->reason), "out of memory");
		goto done;
	}
	/* One copy: the guest may rewrite its buffer meanwhile (TOCTOU), we verify what we run. */
	err = dz_guestmem__read(gm, reg.prog_gpa, img, reg.prog_len);
	if (err) {
		snprintf(res->reason, sizeof(res->reason), "program not readable");
		goto done;
	}
	err = load(&reg, img, &prog, res, log, VERIFIER_LOG_SIZE);
	if (err)
		goto done;
	res->insn_cnt = prog->insn_cnt;
	/*
	 * As libbpf does: verify without the instruction log first, and only a
	 * rejected program again with it. Formatting every instruction walked is
	 * most of the verifier's time, and an accepted program does not need it
	 * (a program at the complexity limit: ~0.5 s instead of ~1.8 s here).
	 */
	err = dz_prog__verify(prog, log, VERIFIER_LOG_SIZE, 0);
	if (err && err != -ENOMEM)
		err = dz_prog__verify(prog, log, VERIFIER_LOG_SIZE, 1);
	if (err) {
		const char *last = log, *nl;

		/* The verifier's reason is its last non-empty line. */
		for (const char *s = log; (nl = strchr(s, '\n')); s = nl + 1)
			if (nl[1] && nl[1] != '\n')
				last = nl + 1;
		snprintf(res->reason, sizeof(res->reason), "verifier rejected the program: %.*s",
			 (int)strcspn(last, "\n"), last);
		goto done;
	}
	err = dz_policy__set_predicate(p, prog);
	if (err) {
		snprintf(res->reason, sizeof(res->reason), "cannot install: %s", strerror(-err));
		goto done;
	}
	prog = NULL;
	snprintf(res->reason, sizeof(res->reason), "accepted %u instructions (%s)", res->insn_cnt,
		 res->elf ? "ELF" : "raw");
done:
	if (log_ok)
		res->log_written = write_log(gm, &reg, log && *log ? log : res->reason);
	{
		int32_t v = err;

		res->verdict_written = !dz_guestmem__write(
		    gm, reg_gpa + offsetof(struct dz_pred_reg, verdict), &v, sizeof(v));
	}
out:
	dz_prog__free(prog);
	free(img);
	free(log);
	res->verdict = err;
	return err;
}
