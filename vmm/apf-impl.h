/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to the asynchronous page-fault path (apf*.c).
 */
#ifndef DZ_VMM_APF_IMPL_H
#define DZ_VMM_APF_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include <doze/abi.h>
#include <doze/apf.h>

#include "apf.h"
#include "guestmem.h"
#include "tokens.h"

#define APF_NO_PFN	      UINT64_MAX
#define APF_WB_MAX_INSTALLING 64

/* Linux KVM paravirtual APF (arch/x86/include/uapi/asm/kvm_para.h, mirrored) */
#define KVM_ASYNC_PF_ENABLED		   (1ULL << 0)
#define KVM_ASYNC_PF_SEND_ALWAYS	   (1ULL << 1)
#define KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT (1ULL << 2)
#define KVM_ASYNC_PF_DELIVERY_AS_INT	   (1ULL << 3)
#define KVM_PV_REASON_PAGE_NOT_PRESENT	   1
#define APF_AREA_FLAGS			   0 /* u32 flags in the shared area */
#define APF_AREA_TOKEN			   4 /* u32 page-ready token */
#define APF_AREA_SIZE			   64

#define MSR_KERNEL_GS_BASE 0xc0000102U

enum apf_kind {
	APF_SIGBUS,	/* ring-3 access, KVM_RUN returned EINTR with RIP at the instruction */
	APF_MMIO_READ,	/* emulated ring-0 read: not retired yet */
	APF_MMIO_WRITE, /* emulated ring-0 write: retired */
};

struct apf_vcpu {
	struct dz_apf *a;
	struct vcpu *vcpu;
	int idx;
	struct dz_tokens tokens;

	/* guest settings: written on this vCPU's thread, `armed` read by the service */
	uint64_t msr_en, msr_int, msr_ve;
	uint64_t area_gpa; /* Linux APF shared area (flags, token) */
	uint64_t ve_gpa;   /* struct dz_ve_info, if #VE delivery is on */
	uint8_t vector;	   /* page-ready interrupt vector */
	bool en;	   /* APF enabled with interrupt delivery */
	bool ve;	   /* page-not-present as #VE (else #PF, Linux) */
	_Atomic bool armed;
	int64_t pred_verdict;
	uint64_t last_error; /* DZ_ERR_* of the last lost page */

	/* set by the SIGBUS handler, consumed by on_eintr */
	volatile uint64_t sigbus_gpa;
	volatile int sigbus_pending;
	volatile uint32_t sigbus_repeat;

	/* the page this vCPU waits for on the host side (under a->wait_lock) */
	uint64_t wait_pfn;
	pthread_cond_t cond;

	/* the last page-not-present delivered, for the hard-error diagnostic */
	struct {
		bool valid;
		uint64_t rip, gpa;
		uint32_t cpl, token;
		enum dz_decide_reason why;
	} last;

	/* counters, this vCPU's thread only (read after the run) */
	uint64_t rollbacks, write_behind, write_behind_bytes, early, page_ready, acks;
	uint64_t sync_waits, sync_wait_ns, errors, visible;
	uint64_t mce; /* lost pages reported as a machine check (no #VE area) */
	uint64_t gva_filled, gva_unknown; /* #VE page-not-present with / without a GVA */
};

struct apf_wb {
	uint64_t gpa;
	uint8_t len;
	uint8_t data[8];
};

struct dz_apf {
	struct vm *vm;
	struct dz_apf_config cfg;
	struct dz_policy *policy;
	struct dz_faultsvc *svc;
	struct dz_guestmem gm;
	uint8_t *ram;
	uint64_t ram_size;
	int nr;
	struct apf_vcpu *v;

	pthread_mutex_t wait_lock; /* wait_pfn of every vCPU */

	/* write-behind: retired writes waiting for their page */
	pthread_mutex_t wb_lock;
	pthread_cond_t wb_cond;
	struct apf_wb *wb;
	size_t nr_wb, cap_wb;
	uint64_t installing[APF_WB_MAX_INSTALLING]; /* pages between before_install and page_done */
	unsigned int nr_installing;
	struct {
		uint64_t pfn;
		int status;
	} lost[64]; /* recent lost pages and why (under wb_lock) */
	unsigned int nr_lost;

	/* ranges the guest declared never-async (DZ_MSR_SYNC_RANGES) */
	pthread_mutex_t pin_lock;
	struct dz_apf_range guest_pinned[DZ_SYNC_RANGES_MAX];
	unsigned int nr_guest_pinned;

	/*
	 * Per page: 1 = poisoned by decide(), no vCPU has reported the fault yet;
	 * 2 = reported. A page installed while still 1 never became visible (it was
	 * served synchronously by its arrival): counted as not_visible.
	 */
	_Atomic uint8_t *visible;

	_Atomic uint64_t hard_errors;
	_Atomic uint64_t pred_registered, pred_rejected;
};

/* apf.c */
struct apf_vcpu *apf__vcpu_of(struct dz_apf *a, struct vcpu *vcpu);
enum dz_page_state apf__page_state(struct dz_apf *a, uint64_t gpa);
/* Makes [gpa, gpa + len) present, waiting on the host side. 0, -EIO (lost), -EFAULT, -EINTR
 * (stopping). */
int apf__ensure_present(struct apf_vcpu *v, uint64_t gpa, uint64_t len);
void apf__deliver_ready(struct apf_vcpu *v);

bool apf__pinned(struct dz_apf *a, uint64_t gpa);

/* apf-msr.c: 1 handled, 0 not ours */
int apf__on_msr(struct apf_vcpu *v, struct kvm_run *run);

/* apf-wb.c */
int apf__wb_write(struct apf_vcpu *v, uint64_t gpa, const void *data, uint32_t len);
void apf__wb_before_install(struct dz_apf *a, uint64_t gpa, void *page);
void apf__wb_page_done(struct dz_apf *a, uint64_t gpa, int status);
/* The status a lost page was reported with (-EIO if unknown). */
int apf__lost_status(struct dz_apf *a, uint64_t gpa);

#endif
