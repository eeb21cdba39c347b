/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The doze VMM core: a KVM VM with guest RAM, vCPU threads, the debug devices
 * of the guest ABI (include/uapi/doze/abi.h), interrupt/exception injection and
 * hooks through which the fault service and the asynchronous page-fault path
 * plug into the vCPU loop.
 *
 * Life cycle, fresh boot (`doze run`):
 *	vm__create(cfg) -> vm__load_guest() -> vm__run() -> vm__destroy()
 * lazy restore (`doze restore`, helper D):
 *	vm__create(cfg with lazy_ram) -> register RAM with userfaultfd ->
 *	vm__restore_state(statefile) -> vm__set_hooks() -> vm__run() -> vm__destroy()
 *
 * All functions return 0 or a negative errno; the error text of a failed run is
 * in vm_result.error.
 */
#ifndef DZ_VMM_VM_H
#define DZ_VMM_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/kvm.h>

struct vm;
struct vcpu;

#define DZ_MAX_VCPUS		64
#define DZ_RAM_ALIGN		(2ULL << 20)	/* ram_size is a multiple of 2 MiB */

struct vm_config {
	const char *guest_path;	     /* guest ELF (for `doze run`); NULL when restoring */
	uint64_t ram_size;	     /* bytes, multiple of 2 MiB */
	int nr_cpus;
	const char *workload;	     /* "scan", "syscall", "atomic", "mixed", ":k=v,..." params, passed to the guest */
	bool lazy_ram;		     /* true: guest RAM is left empty (restore): nobody touches it before
					the fault service registers it with userfaultfd */
	bool in_kernel_irqchip;	     /* false (default): userspace irqchip; true only for --policy kvm */
	const char *snapshot_prefix; /* `doze run --snapshot PREFIX`: write PREFIX.mem/.state when the guest asks */
	bool quiet;		     /* do not copy the guest console to stdout */
	unsigned int tick_hz;	     /* guest timer tick; 0 = DZ_DEFAULT_TICK_HZ */
};

/* Per-vCPU counters (read after vm__run, or racily while it runs). */
#define DZ_NR_EXIT_REASONS	64
struct vcpu_stats {
	uint64_t exits[DZ_NR_EXIT_REASONS]; /* by KVM_EXIT_* reason */
	uint64_t eintr;			    /* KVM_RUN returned EINTR (kicks, timer, signals) */
	uint64_t irqs_injected;		    /* KVM_INTERRUPT deliveries */
	uint64_t exceptions_injected;	    /* vcpu__inject_exception() */
	uint64_t ticks;			    /* timer ticks queued */
	uint64_t halts;			    /* HLT exits where the thread slept */
	uint64_t progress;		    /* work units the guest reported on this vCPU */
};

/* One progress report of the guest: at t (seconds since vm__run started), vCPU
 * `cpu` had completed `units` work units in total. */
struct vm_progress {
	double t;
	uint32_t cpu;
	uint64_t units;
};

/* A phase marker of the guest (DZ_PHASE_*) with its time since vm__run started. */
struct vm_phase {
	double t;
	uint32_t phase;
};

struct vm_result {
	int guest_status;    /* what the guest reported at power-off (0 = checksum OK), -1 if it never did */
	uint64_t checksum;   /* workload checksum the guest reported */
	uint64_t expected;   /* the value the guest computed independently */
	bool checksum_ok;    /* guest reported, status 0 and checksum == expected */
	bool powered_off;    /* the guest reported its result and stopped */
	bool snapshot_taken; /* --snapshot: the snapshot was written and the run ended there */
	double elapsed_s;    /* vm__run wall time */
	char error[512];     /* why the run failed, if it did ("" otherwise) */
	int err;	     /* negative errno of the failure, 0 if none */
	/* progress time series (owned by the vm; valid until vm__destroy) */
	const struct vm_progress *progress;
	size_t nr_progress;
	struct vm_phase phases[16];
	size_t nr_phases;
	char snapshot_paths[2][4096]; /* PREFIX.mem, PREFIX.state once written */
};

int vm__create(const struct vm_config *cfg, struct vm **out); /* RAM mmap'ed MAP_PRIVATE|MAP_ANONYMOUS */
void *vm__ram(struct vm *vm);				      /* host address of guest-physical 0 */
uint64_t vm__ram_size(struct vm *vm);
int vm__nr_vcpus(struct vm *vm);
struct vcpu *vm__vcpu(struct vm *vm, int idx);
const struct vm_config *vm__config(struct vm *vm);
int vm__fd(struct vm *vm);     /* the KVM VM fd */
int vm__kvm_fd(struct vm *vm); /* /dev/kvm */

/* Fresh boot: load the ELF, write the boot info and page tables, set every vCPU
 * to the 64-bit entry state. Touches RAM (never call it with lazy_ram). */
int vm__load_guest(struct vm *vm);
/* vCPU + device state from a PREFIX.state file; never touches RAM. */
int vm__restore_state(struct vm *vm, const char *state_path);
/* The DZ_CPUID_F_* bits the guest sees in CPUID 0x40000101 EAX and, unless an
 * on_msr hook answers it, in DZ_MSR_FEATURES (default DZ_CPUID_F_PORTS). Call
 * before vm__run (KVM refuses CPUID changes once a vCPU ran). */
int vm__set_doze_features(struct vm *vm, uint32_t features);
/* True if every vCPU has the machine-check bank of abi.h 6b. */
bool vm__has_mce(struct vm *vm);
/* Why the last vm__load_guest / vm__restore_state failed, in words ("" if it
 * did not), e.g. "vCPU 1: KVM_SET_MSRS refused MSR 0x10". */
const char *vm__last_error(struct vm *vm);
/* Starts one thread per vCPU and returns when the guest powers off, fails, a
 * snapshot was written (--snapshot), or vm__stop() was called. Returns 0 when
 * the guest powered off or the snapshot was written, negative errno otherwise
 * (details in res->error). */
int vm__run(struct vm *vm, struct vm_result *res);
/* Thread-safe: ends the run with an error (e.g. a page is lost) and kicks every
 * vCPU out of KVM_RUN. The first call's reason wins. err < 0. */
void vm__stop(struct vm *vm, int err, const char *why);
void vm__destroy(struct vm *vm);

struct dz_json;
/* The guest's phase marker DZ_PHASE_* by name ("boot", "fill_done", ...). */
const char *vm_phase__name(uint32_t phase);
/* What the guest's power-off status DZ_STATUS_* means, for messages. */
const char *vm_status__str(int status);
/* Writes the run's "phases" and "progress" members into a --stats-json object. */
void vm_result__write_series(const struct vm_result *r, struct dz_json *j);

/*
 * Pause every vCPU at an instruction boundary (pending port/MMIO completions are
 * retired first), call fn on the calling thread with all of them stopped, then
 * let them go. Called from a vCPU thread (inside an exit handler or hook) or from
 * any other thread while vm__run is running. Used by the snapshot writer.
 */
int vm__with_paused(struct vm *vm, int (*fn)(struct vm *vm, void *arg), void *arg);

/* Write PREFIX.mem and PREFIX.state for a paused VM (see snapshot.h). */
int vm__save_snapshot(struct vm *vm, const char *prefix);

struct vm_hooks {
	void *opaque;
	void (*vcpu_start)(void *opaque, struct vcpu *vcpu);			/* thread started, tid known */
	int (*on_eintr)(void *opaque, struct vcpu *vcpu);			/* KVM_RUN returned EINTR */
	int (*on_mmio)(void *opaque, struct vcpu *vcpu, struct kvm_run *run); /* MMIO exit (a poisoned RAM page
										 shows up as MMIO in guest ring 0) */
	int (*on_msr)(void *opaque, struct vcpu *vcpu, struct kvm_run *run);  /* filtered MSR exits */
	int (*before_entry)(void *opaque, struct vcpu *vcpu);			/* inject pending events */
	int (*on_port)(void *opaque, struct vcpu *vcpu, struct kvm_run *run); /* unknown I/O ports */
	void (*vcpu_stop)(void *opaque, struct vcpu *vcpu);			/* thread about to exit */
	int (*on_debug)(void *opaque, struct vcpu *vcpu, struct kvm_run *run); /* KVM_EXIT_DEBUG (single
										 step, breakpoints) */
};
/* Hooks return 1 = handled, 0 = not mine, < 0 = error that ends the VM.
 * Set before vm__run. */
void vm__set_hooks(struct vm *vm, const struct vm_hooks *hooks);

/* vCPU accessors. */
int vcpu__index(struct vcpu *vcpu);
int vcpu__fd(struct vcpu *vcpu);
struct kvm_run *vcpu__kvm_run(struct vcpu *vcpu);
struct vm *vcpu__vm(struct vcpu *vcpu);
pid_t vcpu__tid(struct vcpu *vcpu);  /* valid once vm__run started the thread (0 before) */
int vcpu__kick(struct vcpu *vcpu);   /* signal the vCPU thread: KVM_RUN returns EINTR (ring 3) */
const struct vcpu_stats *vcpu__stats(struct vcpu *vcpu);

/*
 * Queue an external interrupt (userspace irqchip). Thread-safe. Delivered with
 * KVM_INTERRUPT before a later KVM_RUN once the guest has IF=1 and KVM reports
 * ready_for_interrupt_injection (else an interrupt window is requested).
 * Higher vectors first. Returns -EINVAL for vectors < 32, -EOPNOTSUPP with the
 * in-kernel irqchip.
 */
int vcpu__queue_irq(struct vcpu *vcpu, uint8_t vector);
/* Inject an exception for the next entry (the events' exception.injected).
 * -EBUSY if one is already injected or pending. Call on the vCPU thread
 * (hooks) while it is outside KVM_RUN. */
int vcpu__inject_exception(struct vcpu *vcpu, uint8_t vector, bool has_error, uint32_t error_code);
/* Raises a machine check in bank DZ_MCE_BANK (abi.h 6b): -EOPNOTSUPP without a
 * bank, -EPERM if the guest has machine checks off, -EBUSY if one is in progress. */
int vcpu__machine_check(struct vcpu *vcpu, uint64_t status, uint64_t addr, uint64_t misc,
			uint64_t mcg_status);

/*
 * The vCPU's registers, segment/control registers and pending events, for
 * hooks (vCPU thread outside KVM_RUN, or any thread while the VM is paused or
 * not running). A get always returns the current state, including what a set
 * or an injection changed earlier in the same exit; a set takes effect at the
 * next KVM_RUN at the latest. With KVM_CAP_SYNC_REGS they cost no ioctl: the
 * state KVM left in kvm_run at the exit is read and written there, and KVM
 * loads what was written when it enters the guest again. Without the
 * capability (or with DOZE_SYNC_REGS=0 in the environment) they are the plain
 * KVM_GET/SET_REGS, _SREGS and _VCPU_EVENTS ioctls. Code that calls those
 * ioctls on a vCPU fd itself must not mix them with these.
 *
 * vcpu__set_events has KVM_SET_VCPU_EVENTS semantics (ev->flags says which
 * optional parts apply).
 */
int vcpu__get_regs(struct vcpu *vcpu, struct kvm_regs *regs);
int vcpu__set_regs(struct vcpu *vcpu, const struct kvm_regs *regs);
int vcpu__get_sregs(struct vcpu *vcpu, struct kvm_sregs *sregs);
int vcpu__set_sregs(struct vcpu *vcpu, const struct kvm_sregs *sregs);
int vcpu__get_events(struct vcpu *vcpu, struct kvm_vcpu_events *ev);
int vcpu__set_events(struct vcpu *vcpu, const struct kvm_vcpu_events *ev);
/* true if the wrappers above work through KVM_CAP_SYNC_REGS. */
bool vcpu__sync_regs(struct vcpu *vcpu);

/*
 * Retire a pending port/MMIO completion without entering the guest (KVM_RUN
 * with immediate_exit), e.g. to take back an emulated read that exited before
 * it retired. Returns 0 when done, 1 when KVM exited once more for another
 * piece of the same instruction (see kvm_run->exit_reason; call again), < 0 on
 * error. Writes made with the setters above are loaded by KVM first.
 */
int vcpu__complete_io(struct vcpu *vcpu);

/* Name of a KVM_EXIT_* reason ("IO", "MMIO", "HLT", ...). */
const char *dz_kvm_exit_name(unsigned int reason);

#endif /* DZ_VMM_VM_H */
