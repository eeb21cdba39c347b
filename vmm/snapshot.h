/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Snapshot files.
 *
 *   PREFIX.mem    raw guest RAM: page i (4 KiB) at offset i * 4096, length = ram_size.
 *   PREFIX.state  little-endian binary:
 *	struct dz_snap_header                 (magic "DOZESNAP", version, sizes, layout)
 *	u64 checksums[nr_pages]               XXH64 (seed 0) of each page of PREFIX.mem
 *	records: { struct dz_snap_rec_hdr; payload[len]; pad to 8 } ...
 *	terminated by a DZ_SNAP_REC_END record whose payload is the XXH64 of
 *	everything before it in the file.
 *
 * Records carry vCPU state (regs, sregs, xsave/fpu, xcrs, MSRs, vcpu events,
 * debug registers) and device state (the VMM's interrupt and timer state).
 * The reader validates sizes and the final hash before anyone uses a byte.
 */
#ifndef DZ_VMM_SNAPSHOT_H
#define DZ_VMM_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#define DZ_SNAP_MAGIC		"DOZESNAP"
#define DZ_SNAP_VERSION		1
#define DZ_SNAP_PAGE_SIZE	4096

/* What the snapshot knows about the guest's memory layout. */
struct dz_snap_layout {
	uint64_t boot_info_gpa;
	uint64_t pt_root, pt_end;	  /* boot page tables */
	uint64_t image_start, image_end;  /* loaded ELF segments */
	uint64_t entry;			  /* ELF entry point */
};

struct dz_snap_header {
	char magic[8];		/* "DOZESNAP" */
	uint32_t version;	/* DZ_SNAP_VERSION */
	uint32_t header_size;	/* sizeof(struct dz_snap_header) */
	uint64_t ram_size;
	uint32_t page_size;	/* 4096 */
	uint32_t nr_cpus;
	uint64_t nr_pages;	/* ram_size / page_size */
	uint64_t checksums_off; /* file offset of the checksum array */
	uint64_t records_off;	/* file offset of the first record */
	uint64_t created_ns;	/* CLOCK_REALTIME when written */
	struct dz_snap_layout layout;
	uint32_t tick_hz;
	uint32_t flags;
	char workload[256];
};

enum dz_snap_rec_type {
	DZ_SNAP_REC_END = 0,
	DZ_SNAP_REC_REGS = 1,	   /* struct kvm_regs */
	DZ_SNAP_REC_SREGS = 2,	   /* struct kvm_sregs */
	DZ_SNAP_REC_XSAVE = 3,	   /* struct kvm_xsave (or DZ_SNAP_REC_FPU when XSAVE is missing) */
	DZ_SNAP_REC_FPU = 4,	   /* struct kvm_fpu */
	DZ_SNAP_REC_XCRS = 5,	   /* struct kvm_xcrs */
	DZ_SNAP_REC_MSRS = 6,	   /* u32 n, u32 pad, struct kvm_msr_entry[n] */
	DZ_SNAP_REC_EVENTS = 7,	   /* struct kvm_vcpu_events */
	DZ_SNAP_REC_DEBUGREGS = 8, /* struct kvm_debugregs */
	DZ_SNAP_REC_VCPU_DEV = 9,  /* struct dz_snap_vcpu_dev: VMM interrupt/timer state */
	DZ_SNAP_REC_VM_DEV = 10,   /* struct dz_snap_vm_dev: VM-wide device state */
	DZ_SNAP_REC_LAPIC = 11,	   /* struct kvm_lapic_state (in-kernel irqchip only) */
	DZ_SNAP_REC_MP_STATE = 12, /* struct kvm_mp_state (in-kernel irqchip only) */
	DZ_SNAP_REC_MAX
};

struct dz_snap_rec_hdr {
	uint32_t type;	/* enum dz_snap_rec_type */
	uint32_t cpu;	/* vCPU index, or UINT32_MAX for VM-wide records */
	uint64_t len;	/* payload bytes (the payload is padded to 8) */
};

/* The VMM's per-vCPU device state: userspace irqchip and tick. */
struct dz_snap_vcpu_dev {
	uint64_t pending_irqs[4]; /* 256-bit bitmap of queued vectors */
	uint64_t ticks;		  /* ticks queued so far */
	uint64_t progress;	  /* work units the guest reported */
	uint64_t reserved[4];
};

struct dz_snap_vm_dev {
	uint32_t tick_hz;
	uint32_t reserved0;
	uint64_t kvmclock_ns;	/* KVM_GET_CLOCK */
	uint64_t reserved[6];
};

/* ---- reader ---- */
struct dz_snapshot {
	uint64_t ram_size;
	uint32_t page_size;
	uint32_t nr_cpus;
	uint64_t nr_pages;
	char workload[256];
	struct dz_snap_layout layout;
	uint32_t tick_hz;
	/* private */
	uint8_t *buf;	 /* the whole state file */
	size_t buf_len;
	const uint64_t *checksums;
};

/* Open and validate a PREFIX.state file (magic, version, sizes, final hash). */
int dz_snapshot__open(const char *state_path, struct dz_snapshot **out);
void dz_snapshot__close(struct dz_snapshot *s);
/* nr_pages XXH64 checksums (seed 0) of the memory file's pages. */
const uint64_t *dz_snapshot__checksums(const struct dz_snapshot *s);
/* Find a record; returns 0 and sets data/len, or -ENOENT. */
int dz_snapshot__record(const struct dz_snapshot *s, uint32_t type, uint32_t cpu, const void **data,
			size_t *len);
/* XXH64 (seed 0) of one page, the function the checksums use. */
uint64_t dz_snapshot__page_hash(const void *page, size_t len);
/* Check every page of mem_path against the checksums. Returns 0 if all match,
 * -EBADMSG with *bad_page set to the first mismatching page, -EIO with
 * *bad_page = the first missing page if the file is short, or -errno. */
int dz_snapshot__verify_mem(const struct dz_snapshot *s, const char *mem_path, uint64_t *bad_page);
/*
 * Reads a whole memory file into ram (an eager, non-lazy restore: tests and the
 * benchmark's all-memory-present baseline). -EIO if the file is shorter than size.
 */
int dz_snapshot__load_mem(const char *mem_path, void *ram, uint64_t size);

/* ---- writer (used by vm__save_snapshot) ---- */
struct dz_snap_writer;
/* Start PREFIX.state (written to a temporary name, renamed on finish); the
 * checksums of the memory image `ram` are computed and PREFIX.mem written. */
int dz_snap_writer__begin(const char *prefix, const struct dz_snap_header *hdr, const void *ram,
			  struct dz_snap_writer **out);
int dz_snap_writer__add(struct dz_snap_writer *w, uint32_t type, uint32_t cpu, const void *data,
			size_t len);
/* Write the END record and rename into place; frees w. mem_path/state_path
 * (each >= 4096 bytes, may be NULL) receive the final paths. */
int dz_snap_writer__finish(struct dz_snap_writer *w, char *mem_path, char *state_path);
void dz_snap_writer__abort(struct dz_snap_writer *w);

#endif /* DZ_VMM_SNAPSHOT_H */
