/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to the VMM core (vm.c, vcpu.c, loader.c, vmstate.c, devices.c):
 * the layout of struct vm and struct vcpu.
 */
#ifndef DZ_VMM_VM_IMPL_H
#define DZ_VMM_VM_IMPL_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#include "snapshot.h"
#include "vm.h"

/* The signal that kicks a vCPU thread out of KVM_RUN. It is blocked in vCPU
 * threads except inside KVM_RUN (KVM_SET_SIGNAL_MASK), so a kick is never lost:
 * one sent while the thread is outside KVM_RUN makes the next KVM_RUN return
 * EINTR at once; after EINTR the thread consumes it with sigtimedwait. */
#define DZ_KICK_SIGNAL		SIGUSR1

#define DZ_CONSOLE_LINE		512

struct vcpu {
	struct vm *vm;
	int idx;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
	_Atomic pid_t tid;
	timer_t timer;
	bool timer_armed;

	_Atomic uint64_t pending_irqs[4]; /* vectors waiting for KVM_INTERRUPT */

	/*
	 * KVM_CAP_SYNC_REGS (vcpu.c, the vcpu__get_* / vcpu__set_* wrappers):
	 * KVM copies regs, sregs and events into run->s.regs on every return
	 * from KVM_RUN and loads those marked in run->kvm_dirty_regs at the
	 * next one. sync_fields: the KVM_SYNC_X86_* in use (0: capability
	 * missing or off, plain ioctls). cached: which of them in run->s.regs
	 * are the vCPU's current state (set when KVM_RUN returns or a wrapper
	 * writes them, cleared when an ioctl changes the state behind them).
	 * Invariant: run->kvm_dirty_regs is a subset of cached.
	 */
	uint32_t sync_fields;
	uint32_t cached;
	uint64_t next_tick_ns;

	struct vcpu_stats stats;
	char line[DZ_CONSOLE_LINE];
	size_t line_len;
	char last_line[160]; /* last complete console line, for error messages */
};

struct vm {
	struct vm_config cfg;
	char *guest_path, *workload, *snapshot_prefix;
	int kvm_fd, vm_fd;
	size_t run_size;
	uint8_t *ram;
	uint64_t ram_size;
	int nr_vcpus;
	struct vcpu *vcpus;
	struct vm_hooks hooks;
	struct kvm_cpuid2 *cpuid;
	uint32_t *msr_list; /* MSRs saved in a snapshot */
	int nr_msrs;
	size_t xsave_size;  /* 0: no XSAVE, use KVM_GET_FPU */
	uint32_t tick_hz;
	uint32_t doze_features; /* DZ_CPUID_F_* */
	uint64_t mcg_cap;	/* KVM_X86_SETUP_MCE of every vCPU; 0: no machine checks */
	uint64_t tsc_khz;
	struct dz_snap_layout layout;
	bool loaded;	    /* vm__load_guest or vm__restore_state done */
	char last_error[256];

	uint64_t t0_ns;
	_Atomic bool stopping;
	pthread_mutex_t lock; /* stop reason, result, pause, progress */
	pthread_cond_t cond;
	int stop_err;
	char stop_why[512];
	struct vm_result *res;

	/* pause protocol (vm__with_paused) */
	bool pause_active;
	_Atomic bool pause_req;
	int nr_paused;
	int nr_running; /* vCPU threads inside their loop */

	/* guest reports */
	struct vm_progress *progress;
	size_t nr_progress, cap_progress;
	struct vm_phase phases[16];
	size_t nr_phases;
	bool powered_off;
	int guest_status;
	uint64_t checksum, expected;
	bool snapshot_taken;
	char snap_paths[2][4096];
};

static inline double dz__elapsed(struct vm *vm, uint64_t now_ns)
{
	return (now_ns - vm->t0_ns) / 1e9;
}

uint64_t dz__now_ns(void);

/* loader.c: ELF + boot page tables + entry state */
int dz__load_elf(struct vm *vm, const char *path, uint64_t *entry);
int dz__setup_boot(struct vm *vm, uint64_t entry);

/* vcpu.c */
void *dz__vcpu_thread(void *arg);
int dz__vcpu_settle(struct vcpu *vcpu);
/* Probes KVM_CAP_SYNC_REGS and turns it on for this vCPU (vm.c, at creation). */
void dz__vcpu_init_sync_regs(struct vcpu *vcpu);
/* Hands writes still waiting in run->s.regs to KVM with the ioctls, so that a
 * reader using the ioctls directly (the snapshot writer) sees them. */
int dz__vcpu_flush_regs(struct vcpu *vcpu);
/* The state is about to be replaced with the ioctls (boot, restore): drop the
 * sync-regs view and any writes waiting in it. */
void dz__vcpu_forget_regs(struct vcpu *vcpu);
void dz__fail(struct vm *vm, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* devices.c: I/O ports of the guest ABI; returns 1 handled, 0 unknown, <0 error */
int dz__handle_io(struct vcpu *vcpu);
void dz__console_flush(struct vcpu *vcpu);

/* vmstate.c */
int dz__init_state_lists(struct vm *vm);

#endif
