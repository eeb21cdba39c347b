// SPDX-License-Identifier: GPL-2.0
/*
 * doze bpf asm|dis|verify|run: the eBPF engine from the command line.
 *
 * PROG is chosen by suffix: .o (clang -target bpf ELF), .s/.asm (text in
 * verifier-log syntax) or .bin (raw little-endian instructions).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <doze/bpf.h>

#include "cmds.h"

#define LOG_SIZE (1 << 20)

static void usage_main(FILE *f)
{
	fprintf(f,
		"usage: doze bpf <command> [<args>]\n\n"
		"   asm     assemble a program into raw instructions (.bin)\n"
		"   dis     print a program as a bpftool-style listing\n"
		"   verify  run the verifier, print 'accepted' or the verifier log\n"
		"   run     run a program on a memory buffer or a predicate context\n\n"
		"PROG is an ELF object (.o), text assembly (.s, .asm) or raw instructions (.bin).\n"
		"'doze bpf <command> --help' shows a command's options.\n");
}

static int load(const char *path, const char *sec, enum dz_prog_type type, struct dz_prog **prog)
{
	char err[512];
	int ret = dz_prog__load_file(path, sec, type, prog, err, sizeof(err));

	if (ret)
		fprintf(stderr, "doze bpf: %s\n", err);
	return ret;
}

/* ---- asm ---- */

static void usage_asm(FILE *f)
{
	fprintf(f, "usage: doze bpf asm [-o OUT.bin] [--sec SEC] PROG\n\n"
		   "Assembles PROG (.s/.asm; .o and .bin are converted too) into raw\n"
		   "little-endian instructions. OUT defaults to PROG with its suffix replaced\n"
		   "by .bin.\n\n"
		   "  -o, --output FILE   where to write the instructions\n"
		   "      --sec SEC       ELF section of the program (default: the first)\n");
}

static int bpf_asm(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"sec", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *out = NULL, *sec = NULL;
	struct dz_prog *prog;
	char *def = NULL;
	FILE *f;
	int c, ret = 1;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 's':
			sec = optarg;
			break;
		case 'h':
			usage_asm(stdout);
			return 0;
		default:
			usage_asm(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage_asm(stderr);
		return 2;
	}
	if (load(argv[optind], sec, DZ_PROG_MEM, &prog))
		return 1;
	if (!out) {
		const char *in = argv[optind], *dot = strrchr(in, '.'), *slash = strrchr(in, '/');
		size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - in) : strlen(in);

		if (asprintf(&def, "%.*s.bin", (int)stem, in) < 0)
			goto out;
		if (!strcmp(def, in)) {
			fprintf(stderr, "doze bpf asm: %s is already .bin; give -o\n", in);
			goto out;
		}
		out = def;
	}
	f = fopen(out, "wb");
	if (!f) {
		fprintf(stderr, "doze bpf asm: %s: %s\n", out, strerror(errno));
		goto out;
	}
	if (fwrite(prog->insns, sizeof(struct bpf_insn), prog->insn_cnt, f) != prog->insn_cnt ||
	    fclose(f)) {
		fprintf(stderr, "doze bpf asm: %s: write error\n", out);
		goto out;
	}
	printf("wrote %u instructions to %s\n", prog->insn_cnt, out);
	ret = 0;
out:
	free(def);
	dz_prog__free(prog);
	return ret;
}

/* ---- dis ---- */

static void usage_dis(FILE *f)
{
	fprintf(f, "usage: doze bpf dis [--sec SEC] PROG\n\n"
		   "Prints PROG one instruction per line as 'IDX: (OPCODE) text', the format of\n"
		   "the kernel verifier log and `bpftool prog dump xlated`. The listing can be\n"
		   "assembled back with `doze bpf asm`.\n\n"
		   "      --sec SEC       ELF section of the program (default: the first)\n");
}

static int bpf_dis(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"sec", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *sec = NULL;
	struct dz_prog *prog;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sec = optarg;
			break;
		case 'h':
			usage_dis(stdout);
			return 0;
		default:
			usage_dis(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage_dis(stderr);
		return 2;
	}
	if (load(argv[optind], sec, DZ_PROG_MEM, &prog))
		return 1;
	ret = dz_prog__disasm(prog, stdout);
	dz_prog__free(prog);
	return ret ? 1 : 0;
}

/* ---- verify ---- */

static void usage_verify(FILE *f)
{
	fprintf(f, "usage: doze bpf verify [--mem-size N] [--log-level N] [--sec SEC] PROG\n\n"
		   "Runs the verifier. Prints 'accepted' and exits 0, or prints the verifier log\n"
		   "(kernel format: 'IDX: (OPCODE) text' lines, then the reason) and exits 1.\n"
		   "By default PROG is checked as a fault predicate (DZ_PROG_PREDICATE).\n\n"
		   "      --mem-size N    check as a memory program on an N-byte buffer instead\n"
		   "  -l, --log-level N   0 reason only, 1 walked path (default), 2 with states\n"
		   "  -v, --verbose       print the log also when the program is accepted\n"
		   "      --sec SEC       ELF section of the program (default: the first)\n");
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end || s[0] == '-' ? -1 : 0;
}

static int bpf_verify(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"mem-size", required_argument, NULL, 'm'}, {"log-level", required_argument, NULL, 'l'},
	    {"verbose", no_argument, NULL, 'v'},	{"sec", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},		{0},
	};
	enum dz_prog_type type = DZ_PROG_PREDICATE;
	uint64_t mem_size = 0, level = 1;
	const char *sec = NULL;
	struct dz_prog *prog;
	bool verbose = false;
	char *log;
	int c, ret;

	while ((c = getopt_long(argc, argv, "l:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (parse_u64(optarg, &mem_size) || mem_size > UINT32_MAX) {
				fprintf(stderr, "doze bpf verify: bad --mem-size '%s'\n", optarg);
				return 2;
			}
			type = DZ_PROG_MEM;
			break;
		case 'l':
			if (parse_u64(optarg, &level) || level > 2) {
				fprintf(stderr, "doze bpf verify: --log-level is 0, 1 or 2\n");
				return 2;
			}
			break;
		case 'v':
			verbose = true;
			break;
		case 's':
			sec = optarg;
			break;
		case 'h':
			usage_verify(stdout);
			return 0;
		default:
			usage_verify(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage_verify(stderr);
		return 2;
	}
	if (load(argv[optind], sec, type, &prog))
		return 1;
	prog->mem_size = (uint32_t)mem_size;
	log = calloc(1, LOG_SIZE);
	if (!log) {
		dz_prog__free(prog);
		return 1;
	}
	ret = dz_prog__verify(prog, log, LOG_SIZE, (uint32_t)level);
	if (ret) {
		fputs(log, stdout);
		if (log[0] && log[strlen(log) - 1] != '\n')
			putchar('\n');
		printf("rejected: %s\n", strerror(-ret));
	} else {
		if (verbose)
			fputs(log, stdout);
		printf("accepted\n");
	}
	free(log);
	dz_prog__free(prog);
	return ret ? 1 : 0;
}

/* ---- run ---- */

static void usage_run(FILE *f)
{
	fprintf(
	    f,
	    "usage: doze bpf run [--mem FILE | --ctx FILE [--guest-mem FILE]] [--no-verify]\n"
	    "                    [--budget N] [--stats] [--sec SEC] PROG\n\n"
	    "Runs PROG with r1 = pointer to the memory buffer (or context) and r2 = its\n"
	    "length, and prints the final r0 as 0x... on the last line.\n\n"
	    "      --mem FILE        r1 = a writable copy of FILE (memory program, no helpers)\n"
	    "      --ctx FILE        r1 = FILE as a raw struct dz_pred_ctx (predicate program)\n"
	    "      --guest-mem FILE  guest-physical memory for the predicate helpers\n"
	    "                        (address 0 = offset 0 of FILE; without it helpers fail)\n"
	    "      --no-verify       skip the verifier; run with run-time bounds checks only\n"
	    "      --budget N        executed-instruction limit (default %u)\n"
	    "      --stats           print instructions executed and helper calls\n"
	    "      --sec SEC         ELF section of the program (default: the first)\n"
	    "Without --mem or --ctx, r1 points to an empty buffer. Unless --no-verify, the\n"
	    "program is verified first: as a predicate with --ctx, else as a memory program\n"
	    "on a buffer of the file's size.\n",
	    DZ_DEFAULT_BUDGET);
}

struct file_gmem {
	uint8_t *buf;
	size_t len;
};

static int file_read_gpa(void *opaque, uint64_t gpa, void *dst, uint32_t len)
{
	struct file_gmem *g = opaque;

	if (gpa > g->len || len > g->len - gpa)
		return -EFAULT;
	memcpy(dst, g->buf + gpa, len);
	return 0;
}

static void print_trace(void *opaque, const char *msg, uint64_t arg)
{
	printf("trace: %s 0x%" PRIx64 "\n", msg, arg);
}

static int read_all(const char *path, uint8_t **buf, size_t *len)
{
	size_t cap = 4096, n = 0;
	uint8_t *p = malloc(cap), *q;
	FILE *f = fopen(path, "rb");

	if (!f || !p) {
		fprintf(stderr, "doze bpf run: %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		free(p);
		return -1;
	}
	for (;;) {
		size_t got = fread(p + n, 1, cap - n, f);

		n += got;
		if (n < cap)
			break;
		if (cap >= (1u << 30)) {
			fprintf(stderr, "doze bpf run: %s: larger than 1 GiB\n", path);
			goto fail;
		}
		q = realloc(p, cap * 2);
		if (!q)
			goto fail;
		p = q;
		cap *= 2;
	}
	if (ferror(f)) {
		fprintf(stderr, "doze bpf run: %s: read error\n", path);
		goto fail;
	}
	fclose(f);
	*buf = p;
	*len = n;
	return 0;
fail:
	fclose(f);
	free(p);
	return -1;
}

static int bpf_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"mem", required_argument, NULL, 'm'},
	    {"ctx", required_argument, NULL, 'c'},
	    {"guest-mem", required_argument, NULL, 'g'},
	    {"no-verify", no_argument, NULL, 'n'},
	    {"budget", required_argument, NULL, 'b'},
	    {"stats", no_argument, NULL, 'S'},
	    {"sec", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *mem_path = NULL, *ctx_path = NULL, *gmem_path = NULL, *sec = NULL;
	struct file_gmem gmem = {0};
	struct dz_guest_ops ops = {
	    .opaque = &gmem, .read_gpa = file_read_gpa, .trace = print_trace};
	struct dz_run_opts ropts = {.ops = &ops};
	struct dz_run_stats st;
	bool no_verify = false, stats = false;
	enum dz_prog_type type;
	struct dz_prog *prog = NULL;
	uint8_t *buf = NULL, empty[8];
	size_t len = 0;
	uint64_t r0, budget = 0;
	int c, ret, status = 1;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			mem_path = optarg;
			break;
		case 'c':
			ctx_path = optarg;
			break;
		case 'g':
			gmem_path = optarg;
			break;
		case 'n':
			no_verify = true;
			break;
		case 'S':
			stats = true;
			break;
		case 's':
			sec = optarg;
			break;
		case 'b':
			if (parse_u64(optarg, &budget) || !budget) {
				fprintf(stderr, "doze bpf run: bad --budget '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage_run(stdout);
			return 0;
		default:
			usage_run(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || (mem_path && ctx_path) || (gmem_path && !ctx_path)) {
		if (mem_path && ctx_path)
			fprintf(stderr, "doze bpf run: --mem and --ctx exclude each other\n");
		if (gmem_path && !ctx_path)
			fprintf(stderr, "doze bpf run: --guest-mem needs --ctx\n");
		usage_run(stderr);
		return 2;
	}
	type = ctx_path ? DZ_PROG_PREDICATE : DZ_PROG_MEM;
	if (mem_path && read_all(mem_path, &buf, &len))
		return 1;
	if (ctx_path) {
		if (read_all(ctx_path, &buf, &len))
			return 1;
		if (len != sizeof(struct dz_pred_ctx)) {
			fprintf(stderr,
				"doze bpf run: %s: %zu bytes, a struct dz_pred_ctx is %zu bytes\n",
				ctx_path, len, sizeof(struct dz_pred_ctx));
			goto out;
		}
	}
	if (gmem_path && read_all(gmem_path, &gmem.buf, &gmem.len))
		goto out;
	if (len > UINT32_MAX) {
		fprintf(stderr, "doze bpf run: buffer larger than 4 GiB\n");
		goto out;
	}
	if (load(argv[optind], sec, type, &prog))
		goto out;
	prog->mem_size = (uint32_t)len;
	if (no_verify) {
		ropts.checked = true;
	} else {
		char *log = calloc(1, LOG_SIZE);

		ret = log ? dz_prog__verify(prog, log, LOG_SIZE, 1) : -ENOMEM;
		if (ret) {
			if (log)
				fputs(log, stderr);
			fprintf(stderr,
				"doze bpf run: the verifier rejected %s: %s "
				"(--no-verify runs it with run-time checks)\n",
				argv[optind], strerror(-ret));
			free(log);
			goto out;
		}
		free(log);
	}
	ropts.budget = budget;
	ret = dz_prog__run(prog, buf ? buf : empty, buf ? len : 0, &ropts, &r0, &st);
	if (stats)
		printf("insns: %" PRIu64 "\nhelper calls: %" PRIu64 "\n", st.insns,
		       st.helper_calls);
	if (ret) {
		const char *why = ret == -EFAULT   ? "memory access outside the context and stack"
				  : ret == -E2BIG  ? "instruction budget or call depth exhausted"
				  : ret == -EINVAL ? "invalid instruction or fell off the end"
						   : strerror(-ret);

		fprintf(stderr, "doze bpf run: %s: run failed after %" PRIu64 " insns: %s\n",
			argv[optind], st.insns, why);
		goto out;
	}
	printf("0x%" PRIx64 "\n", r0);
	status = 0;
out:
	dz_prog__free(prog);
	free(buf);
	free(gmem.buf);
	return status;
}

int cmd_bpf(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} subs[] = {
	    {"asm", bpf_asm},
	    {"dis", bpf_dis},
	    {"verify", bpf_verify},
	    {"run", bpf_run},
	};

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage_main(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i].name))
			continue;
		optind = 1;
		return subs[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "doze bpf: '%s' is not a bpf command (asm, dis, verify, run)\n", argv[1]);
	return 2;
}
