// SPDX-License-Identifier: GPL-2.0
/*
 * The guest ABI's I/O ports (include/uapi/doze/abi.h): debug console, snapshot
 * request, result/power off, progress, phase markers, panic, IPI.
 * Values that do not fit a port write come in registers (vcpu__get_regs), so
 * the VMM never reads guest memory here (it may not be present yet).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <doze/abi.h>

#include "vm-impl.h"

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

void dz__console_flush(struct vcpu *vcpu)
{
	if (!vcpu->line_len)
		return;
	snprintf(vcpu->last_line, sizeof(vcpu->last_line), "%.*s", (int)vcpu->line_len, vcpu->line);
	if (!vcpu->vm->cfg.quiet) {
		pthread_mutex_lock(&out_lock);
		printf("[cpu%d] %.*s\n", vcpu->idx, (int)vcpu->line_len, vcpu->line);
		fflush(stdout);
		pthread_mutex_unlock(&out_lock);
	}
	vcpu->line_len = 0;
}

static void console_put(struct vcpu *vcpu, uint8_t c)
{
	if (c == '\n') {
		dz__console_flush(vcpu);
		return;
	}
	if (c == '\r')
		return;
	if (c < 0x20 && c != '\t')
		c = '?';
	vcpu->line[vcpu->line_len++] = c;
	if (vcpu->line_len == sizeof(vcpu->line))
		dz__console_flush(vcpu);
}

static int record_progress(struct vcpu *vcpu, uint32_t units)
{
	struct vm *vm = vcpu->vm;
	int err = 0;

	vcpu->stats.progress += units;
	pthread_mutex_lock(&vm->lock);
	if (vm->nr_progress == vm->cap_progress) {
		size_t cap = vm->cap_progress ? vm->cap_progress * 2 : 1024;
		struct vm_progress *p = realloc(vm->progress, cap * sizeof(*p));

		if (!p) {
			err = -ENOMEM;
			goto out;
		}
		vm->progress = p;
		vm->cap_progress = cap;
	}
	vm->progress[vm->nr_progress++] = (struct vm_progress){
		.t = dz__elapsed(vm, dz__now_ns()),
		.cpu = vcpu->idx,
		.units = vcpu->stats.progress,
	};
out:
	pthread_mutex_unlock(&vm->lock);
	return err;
}

static int take_snapshot(struct vm *vm, void *arg)
{
	(void)arg;
	return vm__save_snapshot(vm, vm->snapshot_prefix);
}

static int snapshot_request(struct vcpu *vcpu, uint32_t val)
{
	struct vm *vm = vcpu->vm;
	int err;

	if (val != DZ_SNAPSHOT_REQUEST || !vm->snapshot_prefix)
		return 1; /* no --snapshot: the guest just continues */
	err = vm__with_paused(vm, take_snapshot, NULL);
	if (err == -ECANCELED)
		return 1;
	if (err) {
		dz__fail(vm, err, "vCPU %d: writing snapshot %s failed: %s", vcpu->idx,
			 vm->snapshot_prefix, strerror(-err));
		return err;
	}
	pthread_mutex_lock(&vm->lock);
	vm->snapshot_taken = true;
	pthread_mutex_unlock(&vm->lock);
	vm__stop(vm, 0, "snapshot written");
	return 1;
}

static int guest_result(struct vcpu *vcpu, uint32_t status)
{
	struct vm *vm = vcpu->vm;
	struct kvm_regs r;
	int err = vcpu__get_regs(vcpu, &r);

	if (err)
		return err;
	dz__console_flush(vcpu);
	pthread_mutex_lock(&vm->lock);
	vm->powered_off = true;
	vm->guest_status = status;
	vm->checksum = r.rbx;
	vm->expected = r.rcx;
	pthread_mutex_unlock(&vm->lock);
	vm__stop(vm, 0, "guest powered off");
	return 1;
}

static int guest_panic(struct vcpu *vcpu, uint32_t code)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char what[64];
	int err;

	dz__console_flush(vcpu);
	err = vcpu__get_regs(vcpu, &r);
	if (!err)
		err = vcpu__get_sregs(vcpu, &s);
	if (err)
		return err;
	if (code < 32)
		snprintf(what, sizeof(what), "unhandled exception vector %u", code);
	else if (code == DZ_PANIC_HARD_ERROR)
		snprintf(what, sizeof(what), "hard error (async fault where the context cannot sleep)");
	else if (code == DZ_PANIC_LOST_PAGE)
		snprintf(what, sizeof(what), "lost page in a context that cannot report it");
	else if (code == DZ_PANIC_TOO_MANY_CPUS)
		snprintf(what, sizeof(what), "the guest does not support this many vCPUs");
	else if (code == DZ_PANIC_ASSERT)
		snprintf(what, sizeof(what), "kernel panic");
	else
		snprintf(what, sizeof(what), "panic code %#x", code);
	dz__fail(vcpu->vm, -EFAULT,
		 "guest panic on vCPU %d: %s at RIP %#llx (error code %#llx, CR2 %#llx), CPL of the "
		 "fault %llu%s%s%s",
		 vcpu->idx, what, r.rbx, r.rcx, r.rsi, r.rdi & 3, vcpu->last_line[0] ? "; its console: \"" : "",
		 vcpu->last_line, vcpu->last_line[0] ? "\"" : "");
	return -EFAULT;
}

int dz__handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t val = 0;

	if (run->io.direction == KVM_EXIT_IO_IN) {
		if (run->io.port == DZ_PORT_SNAPSHOT) {
			memset(data, 0, (size_t)run->io.size * run->io.count);
			data[0] = vm->snapshot_prefix != NULL;
			return 1;
		}
		return 0;
	}
	if (run->io.port == DZ_PORT_CONSOLE) {
		for (uint32_t i = 0; i < run->io.count; i++)
			console_put(vcpu, data[i * run->io.size]);
		return 1;
	}
	if (run->io.port < DZ_PORT_BASE || run->io.port > DZ_PORT_END)
		return 0;
	memcpy(&val, data, run->io.size < 4 ? run->io.size : 4);
	switch (run->io.port) {
	case DZ_PORT_SNAPSHOT:
		return snapshot_request(vcpu, val);
	case DZ_PORT_RESULT:
		return guest_result(vcpu, val);
	case DZ_PORT_PROGRESS:
		return record_progress(vcpu, val) ?: 1;
	case DZ_PORT_PHASE:
		pthread_mutex_lock(&vm->lock);
		if (vm->nr_phases < sizeof(vm->phases) / sizeof(vm->phases[0]))
			vm->phases[vm->nr_phases++] = (struct vm_phase){
				.t = dz__elapsed(vm, dz__now_ns()),
				.phase = val,
			};
		pthread_mutex_unlock(&vm->lock);
		return 1;
	case DZ_PORT_PANIC:
		return guest_panic(vcpu, val);
	case DZ_PORT_IPI: {
		struct vcpu *t = vm__vcpu(vm, val >> 8);
		uint8_t vec = val & 0xff;

		if (t && vec >= 32)
			vcpu__queue_irq(t, vec);
		return 1;
	}
	default:
		return 0;
	}
}
