// SPDX-License-Identifier: GPL-2.0
/*
 * KVM VM creation: RAM, memory slot, vCPUs, CPUID (KVM's leaves plus doze's),
 * the MSR filter that routes the async-PF MSRs and doze's range to userspace,
 * and the run/stop/pause life cycle.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <doze/abi.h>

#include "vm-impl.h"

uint64_t dz__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void kick_handler(int sig)
{
	(void)sig;
}

static int setup_cpuid(struct vm *vm)
{
	int nent = 256;
	struct kvm_cpuid2 *c;

	for (;;) {
		c = calloc(1, sizeof(*c) + (nent + 2) * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = nent;
		if (!ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c))
			break;
		free(c);
		if (errno != E2BIG || nent > 4096)
			return -errno;
		nent *= 2;
	}
	/* doze's hypervisor leaves, in the slot after KVM's (0x40000000) */
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){
		.function = DZ_CPUID_BASE,
		.eax = DZ_CPUID_FEATURES,
		.ebx = DZ_CPUID_SIG_EBX,
		.ecx = DZ_CPUID_SIG_ECX,
		.edx = DZ_CPUID_SIG_EDX,
	};
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){
		.function = DZ_CPUID_FEATURES,
		.eax = vm->doze_features,
		.ebx = DZ_ABI_VERSION,
		.ecx = DZ_MSR_BASE,
	};
	vm->cpuid = c;
	return 0;
}

/* Per-vCPU CPUID: the APIC ids must differ. */
static int set_vcpu_cpuid(struct vm *vm, struct vcpu *vcpu)
{
	struct kvm_cpuid2 *c = vm->cpuid;
	size_t sz = sizeof(*c) + c->nent * sizeof(c->entries[0]);
	struct kvm_cpuid2 *mine = malloc(sz);
	int err = 0;

	if (!mine)
		return -ENOMEM;
	memcpy(mine, c, sz);
	for (unsigned int i = 0; i < mine->nent; i++) {
		struct kvm_cpuid_entry2 *e = &mine->entries[i];

		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffff) | ((uint32_t)vcpu->idx << 24);
		if (e->function == 0xb || e->function == 0x1f)
			e->edx = vcpu->idx;
	}
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, mine))
		err = -errno;
	free(mine);
	return err;
}

static int setup_msr_filter(struct vm *vm)
{
	static uint8_t deny_apf[1];		     /* 8 MSRs, all bits 0 = deny = exit */
	static uint8_t deny_dz[DZ_MSR_COUNT / 8];   /* doze's range */
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_USER_SPACE_MSR,
		.args[0] = KVM_MSR_EXIT_REASON_FILTER,
	};
	struct kvm_msr_filter f = { .flags = KVM_MSR_FILTER_DEFAULT_ALLOW };
	int n = 0;

	if (ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_USER_SPACE_MSR) <= 0)
		return -EOPNOTSUPP;
	if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap))
		return -errno;
	f.ranges[n++] = (struct kvm_msr_filter_range){
		.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
		.nmsrs = DZ_MSR_COUNT,
		.base = DZ_MSR_BASE,
		.bitmap = deny_dz,
	};
	/* with the in-kernel irqchip KVM runs its own APF: leave its MSRs alone */
	if (!vm->cfg.in_kernel_irqchip)
		f.ranges[n++] = (struct kvm_msr_filter_range){
			.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
			.nmsrs = 8,
			.base = 0x4b564d00,
			.bitmap = deny_apf,
		};
	if (ioctl(vm->vm_fd, KVM_X86_SET_MSR_FILTER, &f))
		return -errno;
	return 0;
}

/*
 * One machine-check bank per vCPU, so that a lost page can be reported to a
 * guest that has no #VE area armed (abi.h, 6b). The first vCPU finds what KVM
 * accepts; the others get the same. Not fatal: without it such a lost page
 * stops the run, as before.
 */
static void setup_mce(struct vm *vm, struct vcpu *vcpu)
{
	static const uint64_t want[] = {
		1 | DZ_MCG_CAP_CTL_P | DZ_MCG_CAP_SER_P,
		1 | DZ_MCG_CAP_SER_P,
		1,
	};
	uint64_t cap;

	if (vcpu->idx > 0) {
		cap = vm->mcg_cap;
		if (cap && ioctl(vcpu->fd, KVM_X86_SETUP_MCE, &cap))
			vm->mcg_cap = 0;
		return;
	}
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MCE) <= 0)
		return;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cap = want[i];
		if (!ioctl(vcpu->fd, KVM_X86_SETUP_MCE, &cap)) {
			vm->mcg_cap = want[i];
			return;
		}
	}
}

static int create_vcpu(struct vm *vm, int idx)
{
	struct vcpu *vcpu = &vm->vcpus[idx];
	int err;

	vcpu->vm = vm;
	vcpu->idx = idx;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, idx);
	if (vcpu->fd < 0) {
		vcpu->fd = -1;
		return -errno;
	}
	vcpu->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		return -errno;
	}
	dz__vcpu_init_sync_regs(vcpu);
	err = set_vcpu_cpuid(vm, vcpu);
	if (!err)
		setup_mce(vm, vcpu);
	return err;
}

int vm__create(const struct vm_config *cfg, struct vm **out)
{
	struct kvm_userspace_memory_region region = { 0 };
	struct sigaction sa = { .sa_handler = kick_handler };
	struct vm *vm;
	int err, r;

	if (!cfg || cfg->nr_cpus < 1 || cfg->nr_cpus > DZ_MAX_VCPUS)
		return -EINVAL;
	if (!cfg->ram_size || cfg->ram_size % DZ_RAM_ALIGN || cfg->ram_size > DZ_MAX_RAM ||
	    cfg->ram_size < (4ULL << 20))
		return -EINVAL;
	if (cfg->workload && strlen(cfg->workload) >= DZ_WORKLOAD_MAX)
		return -ENAMETOOLONG;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->kvm_fd = vm->vm_fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	vm->cfg = *cfg;
	vm->guest_path = cfg->guest_path ? strdup(cfg->guest_path) : NULL;
	vm->workload = strdup(cfg->workload ? cfg->workload : "");
	vm->snapshot_prefix = cfg->snapshot_prefix ? strdup(cfg->snapshot_prefix) : NULL;
	vm->cfg.guest_path = vm->guest_path;
	vm->cfg.workload = vm->workload;
	vm->cfg.snapshot_prefix = vm->snapshot_prefix;
	vm->tick_hz = cfg->tick_hz ? cfg->tick_hz : DZ_DEFAULT_TICK_HZ;
	vm->doze_features = DZ_CPUID_F_PORTS;
	vm->guest_status = -1;
	err = -ENOMEM;
	if (!vm->workload || (cfg->guest_path && !vm->guest_path) ||
	    (cfg->snapshot_prefix && !vm->snapshot_prefix))
		goto fail;

	sigaction(DZ_KICK_SIGNAL, &sa, NULL);

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		err = -errno;
		goto fail;
	}
	r = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (r != KVM_API_VERSION) {
		err = -EPROTONOSUPPORT;
		goto fail;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		err = -errno;
		goto fail;
	}
	r = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (r <= 0) {
		err = r < 0 ? -errno : -EINVAL;
		goto fail;
	}
	vm->run_size = r;
	if (cfg->in_kernel_irqchip && ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0)) {
		err = -errno;
		goto fail;
	}
	err = setup_msr_filter(vm);
	if (err)
		goto fail;
	err = setup_cpuid(vm);
	if (err)
		goto fail;

	/* RAM: private anonymous, untouched here (a lazy restore registers it with
	 * userfaultfd before anyone reads it) */
	vm->ram_size = cfg->ram_size;
	vm->ram = mmap(NULL, vm->ram_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		err = -errno;
		goto fail;
	}
	madvise(vm->ram, vm->ram_size, MADV_DONTFORK);
	region.slot = 0;
	region.guest_phys_addr = 0;
	region.memory_size = vm->ram_size;
	region.userspace_addr = (uint64_t)(uintptr_t)vm->ram;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region)) {
		err = -errno;
		goto fail;
	}
	r = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_GET_TSC_KHZ);
	vm->nr_vcpus = cfg->nr_cpus;
	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		err = -ENOMEM;
		goto fail;
	}
	for (int i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i].fd = -1;
	for (int i = 0; i < vm->nr_vcpus; i++) {
		err = create_vcpu(vm, i);
		if (err)
			goto fail;
	}
	if (r > 0) {
		r = ioctl(vm->vcpus[0].fd, KVM_GET_TSC_KHZ, 0);
		vm->tsc_khz = r > 0 ? r : 0;
	}
	err = dz__init_state_lists(vm);
	if (err)
		goto fail;
	*out = vm;
	return 0;
fail:
	vm__destroy(vm);
	return err;
}

void vm__destroy(struct vm *vm)
{
	if (!vm)
		return;
	for (int i = 0; vm->vcpus && i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->timer_armed)
			timer_delete(v->timer);
		if (v->run)
			munmap(v->run, vm->run_size);
		if (v->fd >= 0)
			close(v->fd);
	}
	free(vm->vcpus);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	free(vm->cpuid);
	free(vm->msr_list);
	free(vm->progress);
	free(vm->guest_path);
	free(vm->workload);
	free(vm->snapshot_prefix);
	pthread_mutex_destroy(&vm->lock);
	pthread_cond_destroy(&vm->cond);
	free(vm);
}

void *vm__ram(struct vm *vm)
{
	return vm->ram;
}

uint64_t vm__ram_size(struct vm *vm)
{
	return vm->ram_size;
}

int vm__nr_vcpus(struct vm *vm)
{
	return vm->nr_vcpus;
}

struct vcpu *vm__vcpu(struct vm *vm, int idx)
{
	return idx >= 0 && idx < vm->nr_vcpus ? &vm->vcpus[idx] : NULL;
}

const struct vm_config *vm__config(struct vm *vm)
{
	return &vm->cfg;
}

int vm__fd(struct vm *vm)
{
	return vm->vm_fd;
}

int vm__kvm_fd(struct vm *vm)
{
	return vm->kvm_fd;
}

bool vm__has_mce(struct vm *vm)
{
	return vm->mcg_cap != 0;
}

int vm__set_doze_features(struct vm *vm, uint32_t features)
{
	for (unsigned int i = 0; i < vm->cpuid->nent; i++)
		if (vm->cpuid->entries[i].function == DZ_CPUID_FEATURES)
			vm->cpuid->entries[i].eax = features;
	for (int i = 0; i < vm->nr_vcpus; i++) {
		int err = set_vcpu_cpuid(vm, &vm->vcpus[i]);

		if (err)
			return err;
	}
	vm->doze_features = features;
	return 0;
}

const char *vm__last_error(struct vm *vm)
{
	return vm->last_error;
}

void vm__set_hooks(struct vm *vm, const struct vm_hooks *hooks)
{
	if (hooks)
		vm->hooks = *hooks;
	else
		memset(&vm->hooks, 0, sizeof(vm->hooks));
}

int vm__load_guest(struct vm *vm)
{
	uint64_t entry;
	int err;

	if (!vm->guest_path)
		return -EINVAL;
	if (vm->cfg.lazy_ram)
		return -EPERM;
	vm->last_error[0] = 0;
	err = dz__load_elf(vm, vm->guest_path, &entry);
	if (err) {
		snprintf(vm->last_error, sizeof(vm->last_error), "%s: %s", vm->guest_path,
			 err == -ENOEXEC ? "not an x86-64 ELF executable with a valid entry point"
			 : err == -ERANGE ? "its segments do not fit guest RAM above 1 MiB"
					  : strerror(-err));
		return err;
	}
	err = dz__setup_boot(vm, entry);
	if (err)
		snprintf(vm->last_error, sizeof(vm->last_error), "setting up the boot state: %s",
			 strerror(-err));
	else
		vm->loaded = true;
	return err;
}

void vm__stop(struct vm *vm, int err, const char *why)
{
	pthread_mutex_lock(&vm->lock);
	if (!vm->stopping) {
		vm->stop_err = err;
		snprintf(vm->stop_why, sizeof(vm->stop_why), "%s", why ? why : "");
		atomic_store(&vm->stopping, true);
	}
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	for (int i = 0; i < vm->nr_vcpus; i++)
		vcpu__kick(&vm->vcpus[i]);
}

void dz__fail(struct vm *vm, int err, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	vm__stop(vm, err, buf);
}

int vm__run(struct vm *vm, struct vm_result *res)
{
	sigset_t block, old;
	int err = 0, started = 0;

	memset(res, 0, sizeof(*res));
	res->guest_status = -1;
	if (!vm->loaded) {
		snprintf(res->error, sizeof(res->error), "no guest loaded or state restored");
		res->err = -EINVAL;
		return -EINVAL;
	}
	vm->t0_ns = dz__now_ns();
	/* vCPU threads inherit a mask that blocks the kick signal (see vm-impl.h) */
	sigemptyset(&block);
	sigaddset(&block, DZ_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->next_tick_ns = vm->t0_ns + 1000000000ULL / vm->tick_hz;
		pthread_mutex_lock(&vm->lock);
		vm->nr_running++;
		pthread_mutex_unlock(&vm->lock);
		err = pthread_create(&v->thread, NULL, dz__vcpu_thread, v);
		if (err) {
			pthread_mutex_lock(&vm->lock);
			vm->nr_running--;
			pthread_mutex_unlock(&vm->lock);
			dz__fail(vm, -err, "cannot start vCPU %d thread: %s", i, strerror(err));
			break;
		}
		v->thread_started = true;
		started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].thread_started) {
			pthread_join(vm->vcpus[i].thread, NULL);
			vm->vcpus[i].thread_started = false;
		}
	(void)started;
	res->elapsed_s = dz__elapsed(vm, dz__now_ns());

	pthread_mutex_lock(&vm->lock);
	res->guest_status = vm->guest_status;
	res->checksum = vm->checksum;
	res->expected = vm->expected;
	res->powered_off = vm->powered_off;
	res->checksum_ok = vm->powered_off && vm->guest_status == 0 && vm->checksum == vm->expected;
	res->snapshot_taken = vm->snapshot_taken;
	memcpy(res->snapshot_paths, vm->snap_paths, sizeof(res->snapshot_paths));
	res->progress = vm->progress;
	res->nr_progress = vm->nr_progress;
	memcpy(res->phases, vm->phases, sizeof(res->phases));
	res->nr_phases = vm->nr_phases;
	if (vm->stop_err < 0) {
		res->err = vm->stop_err;
		snprintf(res->error, sizeof(res->error), "%s", vm->stop_why);
	} else if (!vm->powered_off && !vm->snapshot_taken) {
		res->err = -ECANCELED;
		snprintf(res->error, sizeof(res->error), "%s",
			 vm->stop_why[0] ? vm->stop_why : "run ended without a guest result");
	}
	pthread_mutex_unlock(&vm->lock);
	return res->err;
}

/* ---- pausing every vCPU at an instruction boundary ---- */

static struct vcpu *self_vcpu(struct vm *vm)
{
	pid_t me = gettid();

	for (int i = 0; i < vm->nr_vcpus; i++)
		if (atomic_load(&vm->vcpus[i].tid) == me)
			return &vm->vcpus[i];
	return NULL;
}

/* Called by a vCPU thread (lock held) when pause_req is set: park until released. */
static void park_locked(struct vm *vm, struct vcpu *vcpu)
{
	pthread_mutex_unlock(&vm->lock);
	dz__vcpu_settle(vcpu);
	pthread_mutex_lock(&vm->lock);
	vm->nr_paused++;
	pthread_cond_broadcast(&vm->cond);
	while (atomic_load(&vm->pause_req) && !vm->stopping)
		pthread_cond_wait(&vm->cond, &vm->lock);
	vm->nr_paused--;
	pthread_cond_broadcast(&vm->cond);
}

void dz__vcpu_maybe_park(struct vcpu *vcpu);
void dz__vcpu_maybe_park(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	if (!atomic_load(&vm->pause_req))
		return;
	pthread_mutex_lock(&vm->lock);
	if (atomic_load(&vm->pause_req) && !vm->stopping)
		park_locked(vm, vcpu);
	pthread_mutex_unlock(&vm->lock);
}

/* A vCPU thread leaving its loop. */
void dz__vcpu_exit_loop(struct vcpu *vcpu);
void dz__vcpu_exit_loop(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	pthread_mutex_lock(&vm->lock);
	vm->nr_running--;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

int vm__with_paused(struct vm *vm, int (*fn)(struct vm *vm, void *arg), void *arg)
{
	struct vcpu *self = self_vcpu(vm);
	int err;

	pthread_mutex_lock(&vm->lock);
	while (vm->pause_active && !vm->stopping) {
		/* someone else is pausing: take part, or we would deadlock */
		if (self && atomic_load(&vm->pause_req))
			park_locked(vm, self);
		else
			pthread_cond_wait(&vm->cond, &vm->lock);
	}
	if (vm->stopping) {
		pthread_mutex_unlock(&vm->lock);
		return -ECANCELED;
	}
	vm->pause_active = true;
	atomic_store(&vm->pause_req, true);
	pthread_mutex_unlock(&vm->lock);
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (&vm->vcpus[i] != self)
			vcpu__kick(&vm->vcpus[i]);
	if (self)
		dz__vcpu_settle(self);
	pthread_mutex_lock(&vm->lock);
	while (vm->nr_paused < vm->nr_running - (self ? 1 : 0) && !vm->stopping)
		pthread_cond_wait(&vm->cond, &vm->lock);
	if (vm->stopping) {
		err = -ECANCELED;
	} else {
		pthread_mutex_unlock(&vm->lock);
		err = fn(vm, arg);
		pthread_mutex_lock(&vm->lock);
	}
	atomic_store(&vm->pause_req, false);
	vm->pause_active = false;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return err;
}
