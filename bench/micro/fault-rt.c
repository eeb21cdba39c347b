// SPDX-License-Identifier: GPL-2.0
/*
 * Cost of one missing-page fault round trip per delivery path, on real KVM and
 * userfaultfd, with a source that answers at once (no latency model): what the
 * mechanism itself costs, apart from any policy or guest kernel.
 *
 * A bare guest (a few hand-assembled bytes, identity-mapped 2 MiB pages) reads
 * one word from each of 512 pages that are missing (registered with
 * userfaultfd in MISSING mode); the service thread is woken by poll(). Paths:
 *
 *   present      the pages are already there (first touch only): the floor
 *   sync         blocking fault; the service thread copies the page at once
 *   signal       the service thread signals the vCPU thread (KVM_RUN -> EINTR,
 *                ring 3 only: a ring-0 access is not interrupted here), which
 *                copies the page itself and re-enters
 *   poison/SIGBUS  the service thread poisons the page; ring 3 gets SIGBUS and
 *                EINTR; the vCPU thread copies the page over the poison
 *   poison/MMIO  the same in ring 0: KVM_EXIT_MMIO with the GPA; the vCPU
 *                thread copies the page and completes the read with its bytes
 *   MMIO+ioctls  poison/MMIO plus the register work of doze's async fault path
 *                at each exit: KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_VCPU_EVENTS,
 *                KVM_SET_REGS, KVM_SET_VCPU_EVENTS (values written back as read)
 *   MMIO+syncregs  the same work through KVM_CAP_SYNC_REGS: read from
 *                kvm_run->s.regs, written back with kvm_dirty_regs
 *
 * First the cost of one vCPU ioctl (KVM_GET_REGS / KVM_GET_SREGS: the host
 * side pays it for every register access of the async path), then what one
 * guest instruction costs in ring 0 (emulated on this machine kind) and, at
 * the end, in ring 3 (native). Each path in ring 3 and ring 0 where it
 * exists; best and median of several rounds of 512 faults, in microseconds
 * per fault. Root only.
 *
 * usage: fault-rt [ROUNDS]
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON (1 << 14)
#endif
struct uffdio_poison_compat {
	struct uffdio_range range;
	__u64 mode;
	__s64 updated;
};
#define UFFDIO_POISON_COMPAT _IOWR(UFFDIO, 0x08, struct uffdio_poison_compat)

#define RAM_SIZE (4ul << 20)
#define LAZY_BASE (2ul << 20) /* [2M, 4M) is lazy: 512 pages */
#define NPAGES 512
#define CODE 0x10000

enum path { P_PRESENT, P_SYNC, P_SIGNAL, P_POISON };

static int kvm, vm, vcpu, uffd;
static struct kvm_run *run;
static uint8_t *ram;
static uint8_t page_src[4096];
static enum path path;
static pid_t vcpu_tid;
static volatile uint64_t pending; /* host address of the fault to serve on the vCPU side */
static volatile int stop;

/* register work at each MMIO exit (the async fault path's, see above) */
enum regs_mode { R_NONE, R_IOCTLS, R_SYNC };
static enum regs_mode regs_mode;
#define SYNC_ALL (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS)

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int copy_page(uint64_t addr)
{
	struct uffdio_copy c = { .dst = addr & ~4095ull, .src = (uint64_t)page_src, .len = 4096 };

	if (ioctl(uffd, UFFDIO_COPY, &c) && errno != EEXIST)
		return -errno;
	return 0;
}

static void *service(void *arg)
{
	(void)arg;
	while (!stop) {
		struct pollfd p = { .fd = uffd, .events = POLLIN };
		struct uffd_msg m;

		if (poll(&p, 1, 100) <= 0)
			continue;
		if (read(uffd, &m, sizeof(m)) != sizeof(m) || m.event != UFFD_EVENT_PAGEFAULT)
			continue;
		uint64_t addr = m.arg.pagefault.address & ~4095ull;

		switch (path) {
		case P_SYNC:
		case P_PRESENT:
			copy_page(addr);
			break;
		case P_SIGNAL:
			pending = addr;
			syscall(SYS_tgkill, getpid(), vcpu_tid, SIGUSR1);
			break;
		case P_POISON: {
			struct uffdio_poison_compat pz = { .range = { .start = addr, .len = 4096 } };

			pending = addr;
			if (ioctl(uffd, UFFDIO_POISON_COMPAT, &pz) && errno != EEXIST)
				fprintf(stderr, "fault-rt: UFFDIO_POISON: %s\n", strerror(errno));
			break;
		}
		}
	}
	return NULL;
}

static void on_sigusr1(int s)
{
	(void)s;
}

static void on_sigbus(int s, siginfo_t *si, void *u)
{
	(void)s;
	(void)u;
	pending = (uint64_t)si->si_addr;
}

/* Page tables, GDT and TSS in the present first 2 MiB; the code at CODE. */
static void setup_guest(void)
{
	uint64_t *pml4 = (uint64_t *)(ram + 0x2000), *pdpt = (uint64_t *)(ram + 0x3000),
		 *pd = (uint64_t *)(ram + 0x4000), *gdt = (uint64_t *)(ram + 0x500);
	/* loop: mov rax,[rsi]; add rsi,4096; dec rcx; jnz loop; hlt */
	static const uint8_t code[] = { 0x48, 0x8b, 0x06, 0x48, 0x81, 0xc6, 0x00, 0x10, 0x00, 0x00,
					0x48, 0xff, 0xc9, 0x75, 0xf1, 0xf4 };
	/* at CODE + 0x100: loop: dec rcx; jnz loop; hlt (2 instructions per iteration) */
	static const uint8_t loop[] = { 0x48, 0xff, 0xc9, 0x75, 0xfb, 0xf4 };
	uint64_t tb = 0x600;

	pml4[0] = 0x3000 | 7;
	pdpt[0] = 0x4000 | 7;
	pd[0] = 0x87;
	pd[1] = LAZY_BASE | 0x87;
	gdt[1] = 0x00af9b000000ffffull; /* kernel code */
	gdt[2] = 0x00cf93000000ffffull; /* kernel data */
	gdt[3] = 0x00cff3000000ffffull; /* user data */
	gdt[4] = 0x00affb000000ffffull; /* user code */
	gdt[5] = 103 | ((tb & 0xffffff) << 16) | (0x89ull << 40);
	gdt[6] = 0;
	*(uint64_t *)(ram + 0x604) = 0x28000; /* TSS.RSP0 */
	memcpy(ram + CODE, code, sizeof(code));
	memcpy(ram + CODE + 0x100, loop, sizeof(loop));
}

static int set_cpu(int user)
{
	struct kvm_sregs s;
	struct kvm_regs r = { .rip = CODE, .rflags = 0x2, .rsp = 0x30000, .rsi = LAZY_BASE, .rcx = NPAGES };
	struct kvm_segment cs = { .base = 0, .limit = 0xffffffff, .selector = 1 << 3, .present = 1,
				  .type = 11, .dpl = 0, .s = 1, .l = 1, .g = 1 };
	struct kvm_segment ds = cs;

	if (ioctl(vcpu, KVM_GET_SREGS, &s))
		return -errno;
	s.cr3 = 0x2000;
	s.cr4 = 1 << 5;
	s.cr0 = 1 | (1u << 31) | (1 << 16) | (1 << 5) | (1 << 1);
	s.efer = (1 << 8) | (1 << 10);
	ds.type = 3;
	ds.selector = 2 << 3;
	ds.l = 0;
	ds.db = 1;
	if (user) {
		cs.selector = 0x23;
		cs.dpl = 3;
		ds.selector = 0x1b;
		ds.dpl = 3;
	}
	s.cs = cs;
	s.ds = s.es = s.fs = s.gs = s.ss = ds;
	s.gdt.base = 0x500;
	s.gdt.limit = 7 * 8 - 1;
	s.tr = (struct kvm_segment){ .base = 0x600, .limit = 103, .selector = 5 << 3, .present = 1,
				     .type = 11 };
	if (ioctl(vcpu, KVM_SET_SREGS, &s) || ioctl(vcpu, KVM_SET_REGS, &r))
		return -errno;
	return 0;
}

static int regs_work(void)
{
	struct kvm_regs r;
	struct kvm_sregs sr;
	struct kvm_vcpu_events ev;

	switch (regs_mode) {
	case R_NONE:
		return 0;
	case R_IOCTLS:
		if (ioctl(vcpu, KVM_GET_REGS, &r) || ioctl(vcpu, KVM_GET_SREGS, &sr) ||
		    ioctl(vcpu, KVM_GET_VCPU_EVENTS, &ev))
			return -errno;
		ev.flags = 0;
		if (ioctl(vcpu, KVM_SET_REGS, &r) || ioctl(vcpu, KVM_SET_VCPU_EVENTS, &ev))
			return -errno;
		return 0;
	case R_SYNC:
		r = run->s.regs.regs;
		sr = run->s.regs.sregs;
		ev = run->s.regs.events;
		(void)sr;
		ev.flags = 0;
		run->s.regs.regs = r;
		run->s.regs.events = ev;
		run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_EVENTS;
		return 0;
	}
	return 0;
}

/* One round: make the lazy pages missing again, run the loop; us per page or < 0. */
static double round_trip(enum path p, int user)
{
	double t0;

	if (madvise(ram + LAZY_BASE, RAM_SIZE - LAZY_BASE, MADV_DONTNEED))
		return -1;
	if (p == P_PRESENT)
		for (unsigned long i = 0; i < NPAGES; i++)
			copy_page((uint64_t)ram + LAZY_BASE + i * 4096);
	if (set_cpu(user))
		return -1;
	path = p;
	pending = 0;
	t0 = now_us();
	for (;;) {
		int rc = ioctl(vcpu, KVM_RUN, 0);

		if (rc < 0 && errno == EINTR) {
			uint64_t a = pending;

			if (a) {
				pending = 0;
				copy_page(a);
			}
			continue;
		}
		if (rc < 0) {
			fprintf(stderr, "fault-rt: KVM_RUN: %s\n", strerror(errno));
			return -1;
		}
		if (run->exit_reason == KVM_EXIT_MMIO && !run->mmio.is_write) {
			uint64_t gpa = run->mmio.phys_addr;

			pending = 0;
			if (regs_work()) {
				fprintf(stderr, "fault-rt: register ioctls: %s\n", strerror(errno));
				return -1;
			}
			copy_page((uint64_t)ram + gpa);
			memcpy(run->mmio.data, page_src + (gpa & 4095), run->mmio.len);
			continue;
		}
		if (run->exit_reason == KVM_EXIT_HLT || run->exit_reason == KVM_EXIT_SHUTDOWN)
			break; /* ring 3's hlt raises #GP: no IDT, so a shutdown ends it too */
		fprintf(stderr, "fault-rt: unexpected exit %u\n", run->exit_reason);
		return -1;
	}
	return (now_us() - t0) / NPAGES;
}

static int new_vcpu(void);

/* ns per guest instruction in ring 0 or 3: a dec/jnz loop of @iters iterations. */
static double insn_ns(int user, long iters)
{
	struct kvm_regs r;
	double t0, best = 1e18;

	for (int round = 0; round < 3; round++) {
		if ((user && new_vcpu()) || set_cpu(user) || ioctl(vcpu, KVM_GET_REGS, &r))
			return -1;
		r.rip = CODE + 0x100;
		r.rcx = iters;
		if (ioctl(vcpu, KVM_SET_REGS, &r))
			return -1;
		t0 = now_us();
		while (ioctl(vcpu, KVM_RUN, 0) < 0 && errno == EINTR)
			;
		double dt = (now_us() - t0) * 1e3 / (2.0 * iters);

		if (run->exit_reason != KVM_EXIT_HLT && run->exit_reason != KVM_EXIT_SHUTDOWN)
			return -1;
		if (dt < best)
			best = dt;
	}
	return best;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int measure(const char *name, enum path p, int user, int rounds)
{
	double v[64];

	if (rounds > 64)
		rounds = 64;
	for (int i = 0; i < rounds; i++) {
		/* Ring 3 ends in a shutdown: the vCPU must be recreated to run again. */
		v[i] = round_trip(p, user);
		if (v[i] < 0) {
			printf("fault %-14s ring %d  failed\n", name, user ? 3 : 0);
			return -1;
		}
	}
	qsort(v, rounds, sizeof(v[0]), cmp);
	printf("fault %-14s ring %d  %8.1f us per fault (best), %8.1f median of %d rounds x %d pages\n",
	       name, user ? 3 : 0, v[0], v[rounds / 2], rounds, NPAGES);
	fflush(stdout);
	return 0;
}

static int new_vcpu(void)
{
	static int id;
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[100];
	} cp = { .c.nent = 100 };
	int sz;

	if (vcpu > 0) {
		munmap(run, ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0));
		close(vcpu);
	}
	vcpu = ioctl(vm, KVM_CREATE_VCPU, id++);
	if (vcpu < 0)
		return -errno;
	sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return -errno;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &cp) || ioctl(vcpu, KVM_SET_CPUID2, &cp))
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 7;
	struct sigaction su = { .sa_handler = on_sigusr1 }, sb = { .sa_sigaction = on_sigbus,
								    .sa_flags = SA_SIGINFO };
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_THREAD_ID | UFFD_FEATURE_POISON };
	struct uffdio_register reg;
	struct kvm_userspace_memory_region mr;
	pthread_t th;
	int err = 0, sync_caps;

	memset(page_src, 0x5a, sizeof(page_src));
	sigaction(SIGUSR1, &su, NULL);
	sigaction(SIGBUS, &sb, NULL);
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		fprintf(stderr, "fault-rt: /dev/kvm: %s (root?)\n", strerror(errno));
		return 1;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm < 0 || ram == MAP_FAILED) {
		fprintf(stderr, "fault-rt: cannot create the VM: %s\n", strerror(errno));
		return 1;
	}
	setup_guest();
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
		fprintf(stderr, "fault-rt: userfaultfd with poison: %s\n", strerror(errno));
		return 1;
	}
	reg = (struct uffdio_register){ .range = { .start = (uint64_t)ram + LAZY_BASE, .len = RAM_SIZE - LAZY_BASE },
					.mode = UFFDIO_REGISTER_MODE_MISSING };
	mr = (struct kvm_userspace_memory_region){ .slot = 0, .memory_size = RAM_SIZE,
						   .userspace_addr = (uint64_t)ram };
	if (ioctl(uffd, UFFDIO_REGISTER, &reg) || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mr) || new_vcpu()) {
		fprintf(stderr, "fault-rt: setup: %s\n", strerror(errno));
		return 1;
	}
	vcpu_tid = syscall(SYS_gettid);
	pthread_create(&th, NULL, service, NULL);

	/* What the host side pays per vCPU ioctl (every one loads the vCPU). */
	{
		struct kvm_regs r;
		struct kvm_sregs sr;
		double t0 = now_us();
		int n = 20000;

		for (int i = 0; i < n; i++)
			ioctl(vcpu, KVM_GET_REGS, &r);
		printf("vCPU ioctl  KVM_GET_REGS   %8.2f us\n", (now_us() - t0) / n);
		t0 = now_us();
		for (int i = 0; i < n; i++)
			ioctl(vcpu, KVM_GET_SREGS, &sr);
		printf("vCPU ioctl  KVM_GET_SREGS  %8.2f us\n", (now_us() - t0) / n);
		fflush(stdout);
	}
	/* What one guest instruction costs in each ring (ring 0 is emulated here). */
	printf("guest instruction  ring 0  %8.3f us (dec/jnz loop, 2 x 20000 instructions)\n",
	       insn_ns(0, 20000) / 1e3);
	fflush(stdout);
	/* Ring 0 first (the vCPU survives its hlt), then ring 3 (each round ends in a shutdown). */
	err |= measure("present", P_PRESENT, 0, rounds);
	err |= measure("sync", P_SYNC, 0, rounds);
	err |= measure("poison/MMIO", P_POISON, 0, rounds);
	regs_mode = R_IOCTLS;
	err |= measure("MMIO+ioctls", P_POISON, 0, rounds);
	sync_caps = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
	if (sync_caps > 0 && (sync_caps & SYNC_ALL) == SYNC_ALL) {
		regs_mode = R_SYNC;
		run->kvm_valid_regs = SYNC_ALL;
		err |= measure("MMIO+syncregs", P_POISON, 0, rounds);
		run->kvm_valid_regs = 0;
	} else {
		printf("fault MMIO+syncregs  ring 0  (KVM_CAP_SYNC_REGS not available)\n");
	}
	regs_mode = R_NONE;
	for (int i = 0; i < 4 && !err; i++) {
		static const struct {
			const char *name;
			enum path p;
		} r3[] = { { "present", P_PRESENT }, { "sync", P_SYNC }, { "signal", P_SIGNAL },
			   { "poison/SIGBUS", P_POISON } };
		double v[64];
		int n = rounds > 64 ? 64 : rounds;

		for (int k = 0; k < n; k++) {
			if (new_vcpu()) {
				err = 1;
				break;
			}
			v[k] = round_trip(r3[i].p, 1);
			if (v[k] < 0)
				err = 1;
		}
		if (err) {
			printf("fault %-14s ring 3  failed\n", r3[i].name);
			break;
		}
		qsort(v, n, sizeof(v[0]), cmp);
		printf("fault %-14s ring 3  %8.1f us per fault (best), %8.1f median of %d rounds x %d pages\n",
		       r3[i].name, v[0], v[n / 2], n, NPAGES);
		fflush(stdout);
	}
	printf("guest instruction  ring 3  %8.3f ns (dec/jnz loop, 2 x 50000000 instructions)\n",
	       insn_ns(1, 50000000));
	stop = 1;
	pthread_join(th, NULL);
	return err ? 1 : 0;
}
