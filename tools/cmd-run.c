// SPDX-License-Identifier: GPL-2.0
/*
 * doze run GUEST [--cpus N] [--mem SIZE] [--workload NAME[:k=v,...]]
 *               [--snapshot PREFIX] [--stats-json FILE] [--quiet]
 *
 * Boots a doze guest ELF on KVM and runs its workload to the end. With
 * --snapshot, the guest's "snapshot now" request (after its fill phase) writes
 * PREFIX.mem and PREFIX.state and the run ends there (exit 0).
 * Exit status: 0 guest result OK (or snapshot written), 1 run failed or the
 * checksum did not match, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmm/apf.h"
#include "../vmm/stats.h"
#include "../vmm/vm.h"
#include "cmds.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: doze run GUEST [options]\n"
		"\n"
		"Boot a doze guest ELF (e.g. build/guest/doze-guest.elf) on KVM and run its workload.\n"
		"\n"
		"  --cpus N              vCPUs (default 1, max %d)\n"
		"  --mem SIZE            guest RAM, multiple of 2M (default 128M; K/M/G suffixes)\n"
		"  --workload SPEC       NAME[:k=v,...] (default scan), NAME = scan | syscall |\n"
		"                        atomic | mixed; reference guest keys: tasks (per vCPU),\n"
		"                        size (scan bytes per task), kbuf, abuf (bytes), passes,\n"
		"                        seed, kthreads (ring-0 atomic walkers per vCPU); test\n"
		"                        modes: crash (triple fault), fault (kernel #PF),\n"
		"                        hang (cli; hlt), spin (endless ring-0 loop)\n"
		"  --snapshot PREFIX     when the guest asks (after its fill phase), write PREFIX.mem\n"
		"                        and PREFIX.state, print their paths and exit 0\n"
		"  --stats-json FILE     write run statistics as JSON\n"
		"  --tick-hz N           guest timer tick rate (default 100)\n"
		"  --timeout SECONDS     end the run with an error if the guest has not finished\n"
		"  --irqchip user|kernel interrupt controller: userspace (default; every fault reaches\n"
		"                        doze) or KVM's in-kernel LAPIC (the guest must enable it)\n"
		"  --quiet               do not copy the guest console to stdout\n"
		"  -h, --help            this help\n"
		"\n"
		"Exit status: 0 checksum OK (or snapshot written), 1 failure, 2 usage error.\n",
		DZ_MAX_VCPUS);
}


static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 0:
		break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: return -EINVAL;
	}
	if ((*end == 'i' || *end == 'B') && shift)
		end++;
	if (*end == 'B')
		end++;
	if (*end || (shift && v > (~0ULL >> shift)))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

struct watchdog {
	struct vm *vm;
	double seconds;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

static void *watchdog_thread(void *arg)
{
	struct watchdog *w = arg;
	struct timespec ts;
	char why[128];
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)w->seconds;
	ts.tv_nsec += (long)((w->seconds - (time_t)w->seconds) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	while (!w->done && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&w->cond, &w->lock, &ts);
	pthread_mutex_unlock(&w->lock);
	if (!w->done) {
		snprintf(why, sizeof(why), "the guest did not finish within --timeout %g s", w->seconds);
		vm__stop(w->vm, -ETIMEDOUT, why);
	}
	return NULL;
}

static int write_stats(const char *path, struct vm *vm, const struct vm_config *cfg,
		       const struct vm_result *res)
{
	FILE *f = fopen(path, "w");
	struct dz_json j;

	if (!f)
		return -errno;
	dz_json__init(&j, f);
	dz_json__obj_begin(&j, NULL);
	dz_json__str(&j, "command", "run");
	dz_json__str(&j, "workload", cfg->workload);
	dz_json__i64(&j, "cpus", cfg->nr_cpus);
	dz_json__u64(&j, "mem_bytes", cfg->ram_size);
	dz_json__double(&j, "elapsed_s", res->elapsed_s);
	dz_json__obj_begin(&j, "guest");
	dz_json__bool(&j, "powered_off", res->powered_off);
	dz_json__i64(&j, "status", res->guest_status);
	dz_json__u64(&j, "checksum", res->checksum);
	dz_json__u64(&j, "expected", res->expected);
	dz_json__bool(&j, "checksum_ok", res->checksum_ok);
	dz_json__obj_end(&j);
	dz_json__bool(&j, "snapshot_taken", res->snapshot_taken);
	if (res->error[0])
		dz_json__str(&j, "error", res->error);
	else
		dz_json__null(&j, "error");
	dz_json__arr_begin(&j, "vcpus");
	for (int i = 0; i < vm__nr_vcpus(vm); i++) {
		const struct vcpu_stats *s = vcpu__stats(vm__vcpu(vm, i));
		uint64_t total = 0;

		dz_json__obj_begin(&j, NULL);
		dz_json__i64(&j, "index", i);
		dz_json__obj_begin(&j, "exits");
		for (int r = 0; r < DZ_NR_EXIT_REASONS; r++)
			if (s->exits[r]) {
				dz_json__u64(&j, dz_kvm_exit_name(r), s->exits[r]);
				total += s->exits[r];
			}
		dz_json__obj_end(&j);
		dz_json__u64(&j, "exits_total", total);
		dz_json__u64(&j, "eintr", s->eintr);
		dz_json__u64(&j, "irqs_injected", s->irqs_injected);
		dz_json__u64(&j, "ticks", s->ticks);
		dz_json__u64(&j, "halts", s->halts);
		dz_json__u64(&j, "progress_units", s->progress);
		dz_json__obj_end(&j);
	}
	dz_json__arr_end(&j);
	vm_result__write_series(res, &j);
	dz_json__obj_end(&j);
	if (dz_json__finish(&j)) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -errno : 0;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cpus", required_argument, NULL, 'c' },
		{ "mem", required_argument, NULL, 'm' },
		{ "workload", required_argument, NULL, 'w' },
		{ "snapshot", required_argument, NULL, 's' },
		{ "stats-json", required_argument, NULL, 'j' },
		{ "tick-hz", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "irqchip", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vm_config cfg = {
		.ram_size = 128ULL << 20,
		.nr_cpus = 1,
		.workload = "scan",
	};
	const char *stats_path = NULL;
	struct watchdog wd = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	pthread_t wd_thread;
	struct vm_result res;
	struct vm *vm = NULL;
	struct dz_apf *apf = NULL;
	char *end;
	int c, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': {
			long n = strtol(optarg, &end, 10);

			if (*end || n < 1 || n > DZ_MAX_VCPUS) {
				fprintf(stderr, "doze run: --cpus must be 1..%d, got '%s'\n",
					DZ_MAX_VCPUS, optarg);
				return 2;
			}
			cfg.nr_cpus = n;
			break;
		}
		case 'm':
			if (parse_size(optarg, &cfg.ram_size) || !cfg.ram_size ||
			    cfg.ram_size % (2 << 20)) {
				fprintf(stderr, "doze run: --mem must be a multiple of 2M, got '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'w':
			cfg.workload = optarg;
			break;
		case 's':
			cfg.snapshot_prefix = optarg;
			break;
		case 'j':
			stats_path = optarg;
			break;
		case 't': {
			long n = strtol(optarg, &end, 10);

			if (*end || n < 1 || n > 10000) {
				fprintf(stderr, "doze run: --tick-hz must be 1..10000\n");
				return 2;
			}
			cfg.tick_hz = n;
			break;
		}
		case 'T':
			wd.seconds = strtod(optarg, &end);
			if (*end || !(wd.seconds > 0) || wd.seconds > 1e6) {
				fprintf(stderr, "doze run: --timeout wants seconds > 0, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 'q':
			cfg.quiet = true;
			break;
		case 'i':
			if (strcmp(optarg, "user") && strcmp(optarg, "kernel")) {
				fprintf(stderr, "doze run: --irqchip is user or kernel\n");
				return 2;
			}
			cfg.in_kernel_irqchip = !strcmp(optarg, "kernel");
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "doze run: expected exactly one GUEST ELF\n");
		usage(stderr);
		return 2;
	}
	cfg.guest_path = argv[optind];
	setvbuf(stdout, NULL, _IOLBF, 0);

	err = vm__create(&cfg, &vm);
	if (err) {
		fprintf(stderr, "doze run: cannot create the VM: %s%s\n", strerror(-err),
			err == -ENOENT || err == -EACCES ? " (/dev/kvm; run as root)" : "");
		return 1;
	}
	err = vm__load_guest(vm);
	if (err) {
		fprintf(stderr, "doze run: cannot load guest %s\n", vm__last_error(vm));
		vm__destroy(vm);
		return 1;
	}
	/* The guest arms its asynchronous half at boot (every page is present here,
	 * so nothing goes async): the async path answers its MSRs and verifies the
	 * predicate it registers. */
	if (!dz_apf__create(vm, &(struct dz_apf_config){ .policy = DZ_POLICY_SYNC }, &apf)) {
		struct vm_hooks hooks;

		dz_apf__vm_hooks(apf, &hooks);
		vm__set_hooks(vm, &hooks);
	}
	wd.vm = vm;
	if (wd.seconds && pthread_create(&wd_thread, NULL, watchdog_thread, &wd))
		wd.seconds = 0;
	err = vm__run(vm, &res);
	if (wd.seconds) {
		pthread_mutex_lock(&wd.lock);
		wd.done = true;
		pthread_cond_signal(&wd.cond);
		pthread_mutex_unlock(&wd.lock);
		pthread_join(wd_thread, NULL);
	}
	if (stats_path) {
		int e = write_stats(stats_path, vm, &cfg, &res);

		if (e)
			fprintf(stderr, "doze run: cannot write %s: %s\n", stats_path, strerror(-e));
	}
	if (res.snapshot_taken) {
		printf("snapshot written: %s %s\n", res.snapshot_paths[0], res.snapshot_paths[1]);
	} else if (err) {
		fprintf(stderr, "doze run: %s\n", res.error);
	} else if (cfg.snapshot_prefix) {
		fprintf(stderr, "doze run: --snapshot %s: the guest finished without asking for a "
				"snapshot (status %d); nothing written\n",
			cfg.snapshot_prefix, res.guest_status);
		err = -ENOENT;
	} else if (!res.checksum_ok) {
		fprintf(stderr,
			"doze run: guest reported status %d, checksum %#llx, expected %#llx: %s\n",
			res.guest_status, (unsigned long long)res.checksum,
			(unsigned long long)res.expected,
			vm_status__str(res.guest_status));
		err = -EBADMSG;
	} else {
		printf("doze run: checksum %#llx OK in %.3f s\n", (unsigned long long)res.checksum,
		       res.elapsed_s);
	}
	vm__destroy(vm);
	dz_apf__destroy(apf);
	return err ? 1 : 0;
}
