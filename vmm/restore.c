// SPDX-License-Identifier: GPL-2.0
/*
 * Lazy restore (see restore.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apf.h"
#include "kvmapf.h"
#include "pin.h"
#include "restore.h"
#include "snapshot.h"
#include "source.h"
#include "stats.h"

struct restore {
	const struct dz_restore_opts *o;
	struct vm *vm;
	struct dz_faultsvc *svc;
	struct dz_apf *apf;		/* the async page-fault path, every policy */
	struct dz_kvmapf *kapf;		/* --policy kvm instead: KVM's own APF (kvmapf.h) */
	struct dz_pin *pin;		/* --pin */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	bool stopped_for_lost;
};

/* A page a vCPU waits for can never arrive: in the synchronous restore that ends the VM. */
static void on_lost(void *opaque, uint64_t gpa, int err, const char *why)
{
	struct restore *r = opaque;

	r->stopped_for_lost = true;
	vm__stop(r->vm, err < 0 ? err : -EIO, why);
}

static bool wait_done(struct restore *r, uint64_t ns)
{
	struct timespec ts;
	uint64_t t;
	bool done;

	clock_gettime(CLOCK_REALTIME, &ts);
	t = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + ns;
	ts.tv_sec = (time_t)(t / 1000000000ull);
	ts.tv_nsec = (long)(t % 1000000000ull);
	pthread_mutex_lock(&r->lock);
	if (!r->done)
		pthread_cond_timedwait(&r->cond, &r->lock, &ts);
	done = r->done;
	pthread_mutex_unlock(&r->lock);
	return done;
}

/* The TTY progress line: pages present / total and the rate, a few times a second. */
static void *progress_thread(void *arg)
{
	struct restore *r = arg;
	uint64_t t0 = dz_now_ns(), last_t = t0, last_b = 0;
	double rate = 0;
	bool shown = false;

	while (!wait_done(r, 250000000ull)) {
		uint64_t present, lost, total, bytes, now = dz_now_ns();
		char lostbuf[48] = "";

		dz_faultsvc__progress(r->svc, &present, &lost, &total, &bytes);
		if (now > last_t) {
			double inst = (double)(bytes - last_b) / ((double)(now - last_t) / 1e9) / 1e6;

			rate = shown ? 0.5 * rate + 0.5 * inst : inst;
		}
		last_t = now;
		last_b = bytes;
		if (lost)
			snprintf(lostbuf, sizeof(lostbuf), ", %llu lost", (unsigned long long)lost);
		fprintf(stderr, "\rrestore: %llu/%llu pages present (%.0f%%)%s, %.1f MB/s, %.1f s\033[K",
			(unsigned long long)present, (unsigned long long)total,
			total ? 100.0 * (double)present / (double)total : 0.0, lostbuf, rate,
			(double)(now - t0) / 1e9);
		fflush(stderr);
		shown = true;
	}
	if (shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	return NULL;
}

static void *watchdog_thread(void *arg)
{
	struct restore *r = arg;
	char why[128];

	if (wait_done(r, (uint64_t)(r->o->timeout_s * 1e9)))
		return NULL;
	snprintf(why, sizeof(why), "the guest did not finish within --timeout %g s", r->o->timeout_s);
	vm__stop(r->vm, -ETIMEDOUT, why);
	return NULL;
}

/* --no-run: every page is present; compare all of RAM with the memory file. */
static int compare_ram(struct restore *r, struct dz_restore_result *res)
{
	const uint8_t *ram = vm__ram(r->vm);
	uint64_t size = vm__ram_size(r->vm);
	char *buf = malloc(1 << 20);
	int fd = open(r->o->verify_ram, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0 || !buf) {
		err = fd < 0 ? -errno : -ENOMEM;
		goto out;
	}
	for (uint64_t off = 0; off < size; off += 1 << 20) {
		size_t want = size - off < (1 << 20) ? (size_t)(size - off) : (1 << 20);
		ssize_t n = pread(fd, buf, want, (off_t)off);

		for (size_t p = 0; p < want; p += 4096) {
			uint64_t gpa = off + p;

			if (dz_faultsvc__page_state(r->svc, gpa) != DZ_PAGE_PRESENT)
				continue;	/* lost: counted as such */
			res->ram_compared++;
			if (n < (ssize_t)(p + 4096) || memcmp(buf + p, ram + gpa, 4096))
				res->ram_mismatches++;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return err;
}

static void write_stats(struct restore *r, const struct dz_snapshot *s, struct dz_restore_result *res,
			double total_s)
{
	FILE *f = fopen(r->o->stats_json, "w");
	struct dz_json j;

	if (!f) {
		fprintf(stderr, "doze restore: cannot write %s: %s\n", r->o->stats_json, strerror(errno));
		return;
	}
	dz_json__init(&j, f);
	dz_json__obj_begin(&j, NULL);
	dz_json__str(&j, "command", "restore");
	dz_json__str(&j, "state", r->o->state_path);
	dz_json__str(&j, "policy", r->o->policy);
	dz_json__str(&j, "pin", r->pin ? dz_pin__describe(r->pin) : NULL);
	dz_json__str(&j, "workload", s->workload);
	dz_json__i64(&j, "cpus", s->nr_cpus);
	dz_json__u64(&j, "mem_bytes", s->ram_size);
	dz_json__bool(&j, "ran", res->ran);
	dz_json__double(&j, "elapsed_s", res->vm.elapsed_s);
	dz_json__double(&j, "restore_total_s", total_s);
	dz_json__obj_begin(&j, "guest");
	dz_json__bool(&j, "powered_off", res->vm.powered_off);
	dz_json__i64(&j, "status", res->vm.guest_status);
	dz_json__u64(&j, "checksum", res->vm.checksum);
	dz_json__u64(&j, "expected", res->vm.expected);
	dz_json__bool(&j, "checksum_ok", res->vm.checksum_ok);
	dz_json__obj_end(&j);
	dz_json__str(&j, "error", res->error[0] ? res->error : NULL);
	dz_json__bool(&j, "every_page_verified", res->all_verified);
	dz_faultsvc__stats_json(r->svc, &j);
	if (r->apf)
		dz_apf__stats_json(r->apf, &j);
	if (r->kapf)
		dz_kvmapf__stats_json(r->kapf, &j);
	if (r->o->verify_ram) {
		dz_json__obj_begin(&j, "ram_verify");
		dz_json__str(&j, "file", r->o->verify_ram);
		dz_json__u64(&j, "pages_compared", res->ram_compared);
		dz_json__u64(&j, "mismatches", res->ram_mismatches);
		dz_json__obj_end(&j);
	}
	/* The guest's phases and work rate over time since resume; the benchmark plots them. */
	vm_result__write_series(&res->vm, &j);
	dz_json__obj_end(&j);
	if (dz_json__finish(&j) | fclose(f))
		fprintf(stderr, "doze restore: error writing %s\n", r->o->stats_json);
}

int dz_restore__run(const struct dz_restore_opts *o, struct dz_restore_result *res)
{
	struct restore r = { .o = o };
	struct dz_snapshot *s = NULL;
	struct dz_source *src = NULL;
	struct dz_faultsvc_hooks hooks = { .opaque = &r, .lost = on_lost };
	struct dz_apf_config ac = { .async_min_wait_ns = o->async_min_wait_ns,
				    .trace = o->async_trace,
				    .pf_delivery = o->async_pf };
	struct vm_hooks vh;
	struct dz_faultsvc_config fc = { 0 };
	struct vm_config vc = { 0 };
	pthread_t prog_th, wd_th;
	bool prog = false, wd = false;
	uint64_t t0 = dz_now_ns();
	char err[512];
	int e;

	memset(res, 0, sizeof(*res));
	res->vm.guest_status = -1;
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.cond, NULL);
	bool kvm = o->policy && !strcmp(o->policy, "kvm");

	if (!kvm && dz_policy_kind__parse(o->policy ? o->policy : "sync", &ac.policy)) {
		snprintf(res->error, sizeof(res->error),
			 "unknown policy '%s' (known: sync, user, always, bpf)", o->policy);
		e = -EINVAL;
		goto out;
	}
	e = dz_snapshot__open(o->state_path, &s);
	if (e) {
		snprintf(res->error, sizeof(res->error), "cannot read snapshot %s: %s", o->state_path,
			 e == -EBADMSG || e == -EINVAL ? "not a valid doze state file" : strerror(-e));
		goto out;
	}
	/* before the source, the fault service and the vCPUs start their threads */
	if (o->pin && (e = dz_pin__create((int)s->nr_cpus, &r.pin))) {
		snprintf(res->error, sizeof(res->error), "--pin: %s", strerror(-e));
		goto out;
	}
	e = dz_source__open(o->source_uri, &(struct dz_source_opts){ .expect_size = s->ram_size }, &src,
			    err, sizeof(err));
	if (e) {
		snprintf(res->error, sizeof(res->error), "cannot open page source: %s", err);
		goto out;
	}
	if (dz_source__size(src) && dz_source__size(src) < s->ram_size)
		fprintf(stderr,
			"doze restore: warning: %s holds %llu bytes, guest RAM is %llu: the pages past its end will be lost\n",
			o->source_uri, (unsigned long long)dz_source__size(src),
			(unsigned long long)s->ram_size);

	vc.ram_size = s->ram_size;
	vc.nr_cpus = (int)s->nr_cpus;
	vc.workload = s->workload;
	vc.lazy_ram = true;
	vc.quiet = o->quiet;
	vc.tick_hz = s->tick_hz;
	vc.in_kernel_irqchip = kvm;
	e = vm__create(&vc, &r.vm);
	if (e) {
		snprintf(res->error, sizeof(res->error), "cannot create the VM: %s%s", strerror(-e),
			 e == -ENOENT || e == -EACCES ? " (/dev/kvm; run as root)" : "");
		goto out;
	}
	/* KVM cannot walk page tables or fetch ring-0 code through a poisoned page:
	 * the boot page tables and the kernel image are never made async (the guest
	 * adds its own ranges with DZ_MSR_SYNC_RANGES). */
	ac.pinned[0].start = 0;
	ac.pinned[0].end = s->layout.image_end > s->layout.pt_end ? s->layout.image_end
								   : s->layout.pt_end;
	ac.nr_pinned = 1;
	if (kvm)
		e = dz_kvmapf__create(r.vm, &(struct dz_kvmapf_config){ .guest = o->kvm_guest },
				      &r.kapf);
	else
		e = dz_apf__create(r.vm, &ac, &r.apf);
	if (e) {
		snprintf(res->error, sizeof(res->error), "cannot set up the async page-fault path: %s",
			 strerror(-e));
		goto out;
	}
	if (kvm)
		dz_kvmapf__faultsvc_hooks(r.kapf, &hooks);
	else
		dz_apf__faultsvc_hooks(r.apf, &hooks);
	fc.host_addr = vm__ram(r.vm);
	fc.size = vm__ram_size(r.vm);
	fc.src = src;
	fc.checksums = dz_snapshot__checksums(s);
	fc.prefetch = o->prefetch || o->no_run;
	fc.prefetch_window = o->prefetch_window;
	fc.prefetch_batch = o->prefetch_batch;
	/* a lost page stays poisoned: every touch reports it to the guest (vmm/apf.c) */
	fc.lost_release = kvm ? DZ_LOST_ZEROPAGE : DZ_LOST_POISON; /* kvm: on_lost stops the VM */
	fc.hooks = &hooks;
	fc.verify_path = o->no_run ? NULL : o->verify_ram;	/* --no-run compares all RAM after */
	fc.busy_poll = o->busy_poll;
	e = dz_faultsvc__create(&fc, &r.svc);
	if (e) {
		snprintf(res->error, sizeof(res->error), "cannot register guest RAM with userfaultfd: %s%s",
			 strerror(-e), e == -EPERM ? " (run as root)" : "");
		goto out;
	}
	src = NULL;	/* the fault service owns it now */
	if (r.apf)
		dz_apf__set_faultsvc(r.apf, r.svc);
	e = vm__restore_state(r.vm, o->state_path);
	if (e) {
		snprintf(res->error, sizeof(res->error), "cannot restore the vCPU state from %s: %s",
			 o->state_path, strerror(-e));
		goto out;
	}
	if (kvm && !e)
		e = dz_kvmapf__after_restore(r.kapf);
	if (e) {
		snprintf(res->error, sizeof(res->error), "cannot enable the in-kernel LAPIC: %s",
			 strerror(-e));
		goto out;
	}
	if (kvm)
		dz_kvmapf__vm_hooks(r.kapf, &vh);
	else
		dz_apf__vm_hooks(r.apf, &vh);
	vm__set_hooks(r.vm, &vh);
	if (o->progress && !pthread_create(&prog_th, NULL, progress_thread, &r))
		prog = true;
	if (o->no_run) {
		e = dz_faultsvc__wait_all(r.svc, 600ull * 1000000000ull);
		if (!e && o->verify_ram)
			e = compare_ram(&r, res);
		if (e)
			snprintf(res->error, sizeof(res->error), "fetching every page: %s", strerror(-e));
	} else {
		if (o->timeout_s > 0 && !pthread_create(&wd_th, NULL, watchdog_thread, &r))
			wd = true;
		res->ran = true;
		if (r.pin)
			dz_pin__vcpus(r.pin, r.vm);
		e = vm__run(r.vm, &res->vm);
		if (r.kapf)
			dz_kvmapf__collect(r.kapf, r.svc);
		if (e) {
			char why[480];

			why[0] = 0;
			if (r.apf)
				dz_apf__explain(r.apf, &res->vm, why, sizeof(why));
			snprintf(res->error, sizeof(res->error), "%s", res->vm.error);
			if (why[0]) {
				size_t n = strlen(res->error);

				snprintf(res->error + n, sizeof(res->error) - n, "; %s", why);
			}
		}
		else if (!res->vm.checksum_ok) {
			snprintf(res->error, sizeof(res->error),
				 "guest reported status %d (%s), checksum %#llx, expected %#llx",
				 res->vm.guest_status, vm_status__str(res->vm.guest_status),
				 (unsigned long long)res->vm.checksum,
				 (unsigned long long)res->vm.expected);
			e = -EBADMSG;
		}
		/*
		 * The restore is complete when every page is in: with prefetch on (and for
		 * --verify-ram, which compares pages as they are installed) let the rest
		 * arrive even if the guest finished first.
		 */
		if ((o->prefetch || o->verify_ram) && !r.stopped_for_lost && !e)
			dz_faultsvc__wait_all(r.svc, 600ull * 1000000000ull);
	}
	pthread_mutex_lock(&r.lock);
	r.done = true;
	pthread_cond_broadcast(&r.cond);
	pthread_mutex_unlock(&r.lock);
	if (prog)
		pthread_join(prog_th, NULL);
	if (wd)
		pthread_join(wd_th, NULL);
	prog = wd = false;

	dz_faultsvc__stats(r.svc, &res->svc);
	dz_faultsvc__lost_reason(r.svc, res->lost_reason, sizeof(res->lost_reason));
	res->all_verified = res->svc.pages_verified == res->svc.pages_total;
	if (e && res->svc.pages_lost && !strstr(res->error, "page(s) lost")) {
		/* the guest was told (a task killed, -EFAULT): still name what was lost */
		size_t n = strlen(res->error);

		snprintf(res->error + n, sizeof(res->error) - n, "; %llu page(s) lost, first: %s",
			 (unsigned long long)res->svc.pages_lost, res->lost_reason);
	}
	if (o->verify_ram)
		res->ram_mismatches += res->svc.ram_verify_mismatches;
	if (!e && res->svc.pages_lost) {
		snprintf(res->error, sizeof(res->error), "restore incomplete: %llu page(s) lost; first: %s",
			 (unsigned long long)res->svc.pages_lost, res->lost_reason);
		e = -EIO;
	}
	if (!e && res->ram_mismatches) {
		snprintf(res->error, sizeof(res->error),
			 "restored RAM differs from %s in %llu page(s)", o->verify_ram,
			 (unsigned long long)res->ram_mismatches);
		e = -EBADMSG;
	}
	if (o->stats_json)
		write_stats(&r, s, res, (double)(dz_now_ns() - t0) / 1e9);
out:
	if (prog || wd) {
		pthread_mutex_lock(&r.lock);
		r.done = true;
		pthread_cond_broadcast(&r.cond);
		pthread_mutex_unlock(&r.lock);
		if (prog)
			pthread_join(prog_th, NULL);
		if (wd)
			pthread_join(wd_th, NULL);
	}
	/* vCPU threads are gone once vm__run returned: the service can go, then the VM. */
	if (r.svc)
		dz_faultsvc__destroy(r.svc);
	if (src)
		dz_source__close(src);
	if (r.vm)
		vm__destroy(r.vm);
	dz_apf__destroy(r.apf);
	dz_kvmapf__destroy(r.kapf);
	dz_pin__destroy(r.pin);
	if (s)
		dz_snapshot__close(s);
	pthread_cond_destroy(&r.cond);
	pthread_mutex_destroy(&r.lock);
	return e;
}
