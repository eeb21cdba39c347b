/* SPDX-License-Identifier: GPL-2.0 */
/* The whole verifier corpus as one array, for the runner and the fuzzer's seed writer. */
#ifndef DZ_TESTS_VERIFIER_ALL_CASES_H
#define DZ_TESTS_VERIFIER_ALL_CASES_H

#include "verifier/corpus.h"

#include "verifier/cases/fill.c"

static struct vcase tests[] = {
#include "verifier/cases/basic.c"
#include "verifier/cases/encoding.c"
#include "verifier/cases/cfg.c"
#include "verifier/cases/regs.c"
#include "verifier/cases/alu.c"
#include "verifier/cases/ptr.c"
#include "verifier/cases/ctx.c"
#include "verifier/cases/stack.c"
#include "verifier/cases/spill.c"
#include "verifier/cases/mem.c"
#include "verifier/cases/helpers.c"
#include "verifier/cases/bounds.c"
#include "verifier/cases/jmp32.c"
#include "verifier/cases/atomic.c"
#include "verifier/cases/varoff.c"
#include "verifier/cases/calls.c"
#include "verifier/cases/limits.c"
};

#endif
