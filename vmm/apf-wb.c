// SPDX-License-Identifier: GPL-2.0
/*
 * Write-behind: a guest ring-0 write to a poisoned page exits as MMIO after it
 * retired, so the vCPU need not wait at all. Its bytes are kept here, in order,
 * and applied to the page's data in the fault service's before_install hook,
 * just before UFFDIO_COPY makes the page visible. A write that comes while the
 * page is being installed waits for the install and then goes to RAM directly.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apf-impl.h"

static bool installing(struct dz_apf *a, uint64_t pfn)
{
	for (unsigned int i = 0; i < a->nr_installing; i++)
		if (a->installing[i] == pfn)
			return true;
	return false;
}

static void wait_installed(struct dz_apf *a)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 2000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&a->wb_cond, &a->wb_lock, &ts);
}

/* One piece that lies inside a single page. */
static int wb_piece(struct apf_vcpu *v, uint64_t gpa, const uint8_t *data, uint32_t len)
{
	struct dz_apf *a = v->a;
	uint64_t pfn = gpa >> DZ_PAGE_SHIFT;
	enum dz_page_state st;
	int ret = 0;

	pthread_mutex_lock(&a->wb_lock);
	for (;;) {
		st = apf__page_state(a, gpa);
		if (st == DZ_PAGE_PRESENT) {
			memcpy(a->ram + gpa, data, len);
			break;
		}
		if (st == DZ_PAGE_LOST) {
			ret = -EIO;
			break;
		}
		if (installing(a, pfn)) {
			wait_installed(a);
			continue;
		}
		if (a->nr_wb == a->cap_wb) {
			size_t cap = a->cap_wb ? a->cap_wb * 2 : 64;
			struct apf_wb *n = realloc(a->wb, cap * sizeof(*n));

			if (!n) {
				ret = -ENOMEM;
				break;
			}
			a->wb = n;
			a->cap_wb = cap;
		}
		a->wb[a->nr_wb].gpa = gpa;
		a->wb[a->nr_wb].len = len;
		memcpy(a->wb[a->nr_wb].data, data, len);
		a->nr_wb++;
		v->write_behind++;
		v->write_behind_bytes += len;
		break;
	}
	pthread_mutex_unlock(&a->wb_lock);
	return ret;
}

int apf__wb_write(struct apf_vcpu *v, uint64_t gpa, const void *data, uint32_t len)
{
	uint32_t first;
	int err;

	if (len > 8 || gpa + len > v->a->ram_size)
		return -EFAULT;
	first = DZ_PAGE_SIZE - (gpa & (DZ_PAGE_SIZE - 1));
	if (first >= len)
		return wb_piece(v, gpa, data, len);
	err = wb_piece(v, gpa, data, first);
	if (!err)
		err = wb_piece(v, gpa + first, (const uint8_t *)data + first, len - first);
	return err;
}

void apf__wb_before_install(struct dz_apf *a, uint64_t gpa, void *page)
{
	uint64_t pfn = gpa >> DZ_PAGE_SHIFT;
	size_t j = 0;

	pthread_mutex_lock(&a->wb_lock);
	if (a->nr_installing < APF_WB_MAX_INSTALLING)
		a->installing[a->nr_installing++] = pfn;
	/* Apply this page's writes in the order they retired, keep the others. */
	for (size_t i = 0; i < a->nr_wb; i++) {
		struct apf_wb *w = &a->wb[i];

		if (w->gpa >> DZ_PAGE_SHIFT == pfn)
			memcpy((uint8_t *)page + (w->gpa & (DZ_PAGE_SIZE - 1)), w->data, w->len);
		else
			a->wb[j++] = *w;
	}
	a->nr_wb = j;
	pthread_mutex_unlock(&a->wb_lock);
}

void apf__wb_page_done(struct dz_apf *a, uint64_t gpa, int status)
{
	uint64_t pfn = gpa >> DZ_PAGE_SHIFT;
	size_t j = 0;

	pthread_mutex_lock(&a->wb_lock);
	for (unsigned int i = 0; i < a->nr_installing; i++) {
		if (a->installing[i] == pfn) {
			a->installing[i] = a->installing[--a->nr_installing];
			break;
		}
	}
	if (status < 0) {
		a->lost[a->nr_lost % 64].pfn = pfn;
		a->lost[a->nr_lost % 64].status = status;
		a->nr_lost++;
		/* lost: the writes can never land; the writer is told through the error event */
		for (size_t i = 0; i < a->nr_wb; i++)
			if (a->wb[i].gpa >> DZ_PAGE_SHIFT != pfn)
				a->wb[j++] = a->wb[i];
		a->nr_wb = j;
	}
	pthread_cond_broadcast(&a->wb_cond);
	pthread_mutex_unlock(&a->wb_lock);
}

int apf__lost_status(struct dz_apf *a, uint64_t gpa)
{
	uint64_t pfn = gpa >> DZ_PAGE_SHIFT;
	int status = -EIO;

	pthread_mutex_lock(&a->wb_lock);
	for (unsigned int i = 0; i < a->nr_lost && i < 64; i++)
		if (a->lost[i].pfn == pfn)
			status = a->lost[i].status;
	pthread_mutex_unlock(&a->wb_lock);
	return status;
}
