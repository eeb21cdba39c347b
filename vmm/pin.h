/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CPU pinning for measurements (`doze restore --pin`): vCPU i runs on the i-th
 * CPU the process may use, every other thread (fault service, source I/O,
 * KVM's async worker is per-CPU and stays with its vCPU) on the CPUs left over,
 * so that each policy is measured with the same CPU layout (issue 8). With
 * no CPU left over the other threads may run anywhere.
 */
#ifndef DZ_VMM_PIN_H
#define DZ_VMM_PIN_H

#include "vm.h"

struct dz_pin;

/* Call on the thread that will create every other thread, before it does:
 * its affinity (inherited by the threads it creates) becomes the leftover CPUs.
 * @nr_vcpus: how many CPUs to keep for vCPUs. */
int dz_pin__create(int nr_vcpus, struct dz_pin **out);
/* Starts a helper that moves each vCPU thread to its CPU as soon as it runs
 * (call before vm__run). */
int dz_pin__vcpus(struct dz_pin *p, struct vm *vm);
/* "vCPU 0 -> CPU 0; others -> CPU 1" for logs and stats. */
const char *dz_pin__describe(struct dz_pin *p);
/* Joins the helper. */
void dz_pin__destroy(struct dz_pin *p);

#endif
