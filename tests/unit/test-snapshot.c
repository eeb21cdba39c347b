// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshot files without KVM: write a memory image and records, read them
 * back, and make sure every kind of damage is caught (bad page, short memory
 * file, flipped or truncated state file, wrong magic or version).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../vmm/snapshot.h"
#include "tap.h"

#define RAM (64 * DZ_SNAP_PAGE_SIZE)

static char dir[] = "/tmp/dz-snaptest-XXXXXX";
static char prefix[256], state[300], mem[300];

static int write_snapshot(const uint8_t *ram)
{
	struct dz_snap_header h = { .ram_size = RAM, .nr_cpus = 2, .tick_hz = 100 };
	struct dz_snap_writer *w;
	uint64_t regs[18] = { 1, 2, 3 };
	uint32_t odd[3] = { 7, 8, 9 }; /* 12 bytes: padded to 16 */
	int err;

	snprintf(h.workload, sizeof(h.workload), "scan:size=1M");
	h.layout.entry = 0x100000;
	err = dz_snap_writer__begin(prefix, &h, ram, &w);
	if (err)
		return err;
	if ((err = dz_snap_writer__add(w, DZ_SNAP_REC_REGS, 0, regs, sizeof(regs))) ||
	    (err = dz_snap_writer__add(w, DZ_SNAP_REC_VCPU_DEV, 1, odd, sizeof(odd))) ||
	    (err = dz_snap_writer__add(w, DZ_SNAP_REC_VM_DEV, UINT32_MAX, NULL, 0))) {
		dz_snap_writer__abort(w);
		return err;
	}
	return dz_snap_writer__finish(w, NULL, NULL);
}

static void flip_byte(const char *path, off_t off)
{
	int fd = open(path, O_RDWR);
	uint8_t b;

	if (pread(fd, &b, 1, off) == 1) {
		b ^= 0x40;
		if (pwrite(fd, &b, 1, off) != 1)
			diag("pwrite failed");
	}
	close(fd);
}

static int copy_file(const char *from, const char *to, off_t len)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "head -c %lld '%s' > '%s'", (long long)len, from, to);
	return system(cmd);
}

int main(void)
{
	uint8_t *ram = malloc(RAM);
	struct dz_snapshot *s = NULL;
	const void *d;
	size_t len;
	uint64_t bad = 0;
	struct stat st;
	char tmp[320];

	if (!ram || !mkdtemp(dir)) {
		printf("1..0 # SKIP no memory or temporary directory\n");
		return 0;
	}
	snprintf(prefix, sizeof(prefix), "%s/snap", dir);
	snprintf(state, sizeof(state), "%s.state", prefix);
	snprintf(mem, sizeof(mem), "%s.mem", prefix);
	for (size_t i = 0; i < RAM; i++)
		ram[i] = (uint8_t)(i * 7 + (i >> 12));
	memset(ram + 5 * DZ_SNAP_PAGE_SIZE, 0, DZ_SNAP_PAGE_SIZE);

	is_int(write_snapshot(ram), 0, "writer produces PREFIX.mem and PREFIX.state");
	ok(!stat(mem, &st) && st.st_size == RAM, "memory file holds all of RAM");
	snprintf(tmp, sizeof(tmp), "%s.state.tmp", prefix);
	ok(access(tmp, F_OK) != 0, "no temporary file left behind");

	if (!ok(!dz_snapshot__open(state, &s), "reader opens it"))
		return done_testing();
	is_u64(s->ram_size, RAM, "ram_size");
	is_int(s->page_size, 4096, "page_size");
	is_int(s->nr_cpus, 2, "nr_cpus");
	is_u64(s->nr_pages, 64, "nr_pages");
	is_str(s->workload, "scan:size=1M", "workload");
	is_u64(s->layout.entry, 0x100000, "layout");
	is_int(s->tick_hz, 100, "tick rate");
	is_u64(dz_snapshot__checksums(s)[3],
	       dz_snapshot__page_hash(ram + 3 * DZ_SNAP_PAGE_SIZE, DZ_SNAP_PAGE_SIZE),
	       "checksum of page 3 is the XXH64 of its bytes");
	ok(!dz_snapshot__record(s, DZ_SNAP_REC_REGS, 0, &d, &len) && len == 144 &&
		   ((const uint64_t *)d)[2] == 3,
	   "vCPU 0 regs record round-trips");
	ok(!dz_snapshot__record(s, DZ_SNAP_REC_VCPU_DEV, 1, &d, &len) && len == 12 &&
		   ((const uint32_t *)d)[2] == 9,
	   "an odd-sized record round-trips (padding)");
	ok(!dz_snapshot__record(s, DZ_SNAP_REC_VM_DEV, UINT32_MAX, &d, &len) && len == 0,
	   "an empty VM-wide record");
	is_int(dz_snapshot__record(s, DZ_SNAP_REC_REGS, 1, &d, &len), -ENOENT,
	       "a missing record is -ENOENT");
	is_int(dz_snapshot__verify_mem(s, mem, &bad), 0, "every page verifies");

	flip_byte(mem, 17 * DZ_SNAP_PAGE_SIZE + 100);
	is_int(dz_snapshot__verify_mem(s, mem, &bad), -EBADMSG, "a flipped byte fails verification");
	is_u64(bad, 17, "... naming page 17");
	flip_byte(mem, 17 * DZ_SNAP_PAGE_SIZE + 100);
	if (truncate(mem, 40 * DZ_SNAP_PAGE_SIZE + 10))
		diag("truncate failed");
	is_int(dz_snapshot__verify_mem(s, mem, &bad), -EIO, "a short memory file fails");
	is_u64(bad, 40, "... naming the first page that is not all there");
	is_int(dz_snapshot__verify_mem(s, "/nonexistent/x.mem", &bad), -ENOENT,
	       "a missing memory file is -ENOENT");
	dz_snapshot__close(s);

	/* damage to the state file */
	snprintf(tmp, sizeof(tmp), "%s/damaged.state", dir);
	copy_file(state, tmp, 1 << 30);
	flip_byte(tmp, sizeof(struct dz_snap_header) + 8 * 10);
	is_int(dz_snapshot__open(tmp, &s), -EBADMSG, "a flipped checksum byte is caught by the hash");
	copy_file(state, tmp, 1 << 30);
	flip_byte(tmp, 0);
	is_int(dz_snapshot__open(tmp, &s), -EBADMSG, "bad magic");
	copy_file(state, tmp, 1 << 30);
	flip_byte(tmp, 8);
	is_int(dz_snapshot__open(tmp, &s), -EPROTONOSUPPORT, "unknown version");
	copy_file(state, tmp, 600);
	is_int(dz_snapshot__open(tmp, &s), -EBADMSG, "a truncated state file");
	copy_file(state, tmp, 10);
	is_int(dz_snapshot__open(tmp, &s), -EBADMSG, "a state file shorter than its header");
	is_int(dz_snapshot__open("/nonexistent/x.state", &s), -ENOENT, "a missing state file");

	snprintf(tmp, sizeof(tmp), "rm -rf '%s'", dir);
	if (system(tmp))
		diag("cleanup failed");
	free(ram);
	return done_testing();
}
