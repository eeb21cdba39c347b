// SPDX-License-Identifier: GPL-2.0
/*
 * CPU pinning for measurements (see pin.h).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pin.h"

struct dz_pin {
	int cpus[CPU_SETSIZE]; /* CPUs the process may use, in order */
	int nr_cpus, nr_vcpus;
	struct vm *vm;
	pthread_t th;
	bool started;
	char desc[256];
};

int dz_pin__create(int nr_vcpus, struct dz_pin **out)
{
	struct dz_pin *p = calloc(1, sizeof(*p));
	cpu_set_t set, rest;
	size_t len = 0;

	if (!p)
		return -ENOMEM;
	if (sched_getaffinity(0, sizeof(set), &set)) {
		free(p);
		return -errno;
	}
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			p->cpus[p->nr_cpus++] = c;
	p->nr_vcpus = nr_vcpus;
	len += snprintf(p->desc + len, sizeof(p->desc) - len, "vCPU i -> CPU %d+i", p->cpus[0]);
	if (p->nr_cpus > nr_vcpus) {
		CPU_ZERO(&rest);
		for (int i = nr_vcpus; i < p->nr_cpus; i++)
			CPU_SET(p->cpus[i], &rest);
		if (sched_setaffinity(0, sizeof(rest), &rest)) {
			free(p);
			return -errno;
		}
		snprintf(p->desc + len, sizeof(p->desc) - len, "; other threads -> CPU %d%s",
			 p->cpus[nr_vcpus], p->nr_cpus > nr_vcpus + 1 ? "+" : "");
	} else {
		snprintf(p->desc + len, sizeof(p->desc) - len,
			 "; no CPU left for the other threads");
	}
	*out = p;
	return 0;
}

static void *pin_thread(void *arg)
{
	struct dz_pin *p = arg;
	int n = vm__nr_vcpus(p->vm), done = 0;
	bool pinned[64] = {0};

	/* vCPU threads start right after vm__run begins; give up after 10 s */
	for (int tries = 0; done < n && tries < 50000; tries++) {
		for (int i = 0; i < n && i < 64; i++) {
			pid_t tid = pinned[i] ? 0 : vcpu__tid(vm__vcpu(p->vm, i));
			cpu_set_t one;

			if (!tid)
				continue;
			CPU_ZERO(&one);
			CPU_SET(p->cpus[i % p->nr_cpus], &one);
			sched_setaffinity(tid, sizeof(one), &one);
			pinned[i] = true;
			done++;
		}
		if (done < n)
			nanosleep(&(struct timespec){.tv_nsec = 200000}, NULL);
	}
	return NULL;
}

int dz_pin__vcpus(struct dz_pin *p, struct vm *vm)
{
	int err;

	p->vm = vm;
	err = pthread_create(&p->th, NULL, pin_thread, p);
	if (err)
		return -err;
	p->started = true;
	return 0;
}

const char *dz_pin__describe(struct dz_pin *p)
{
	return p->desc;
}

void dz_pin__destroy(struct dz_pin *p)
{
	if (!p)
		return;
	if (p->started)
		pthread_join(p->th, NULL);
	free(p);
}
