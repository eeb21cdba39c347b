// SPDX-License-Identifier: GPL-2.0
/*
 * Guest ring 0 is emulated here (~1 us per instruction), so the reference
 * guest's kernel paths are budgeted in instructions. This test single-steps a
 * small run of the guest (KVM_GUESTDBG_SINGLESTEP), cuts the trace into ring-0
 * episodes (CPL 3 -> 0 -> 3), classifies each by its entry point and system
 * call number, and checks the counts against the budgets in docs/vmm.md.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../vmm/vm.h"
/* the guest's system call numbers (guest/workload.h uses the guest's types) */
typedef uint32_t u32;
typedef uint64_t u64;
#include "../../guest/workload.h"
#include "tap.h"

static char guest[4096];

enum cls { C_SYS_PORT, C_SYS_YIELD, C_SYS_BARRIER, C_SYS_RECORDS, C_SYS_ATOMIC, C_SYS_EXIT,
	   C_TICK, C_OTHER, C_NR };
static const char *const cls_name[C_NR] = { "syscall PORT", "syscall YIELD", "syscall BARRIER",
					    "syscall RECORDS", "syscall ATOMIC", "syscall EXIT",
					    "timer tick", "other" };

struct trace {
	uint64_t sym_syscall, sym_timer, sym_switch, sym_switch_end;
	bool armed;
	int cls;
	uint64_t count, switch_start, steps;
	bool in_switch;
	uint64_t min[C_NR], max[C_NR], n[C_NR], sum[C_NR];
	uint64_t switch_min, switch_max, switch_n;
	uint64_t tick_min_noswitch;
	bool saw_switch_in_episode;
	bool active;
};

static uint64_t elf_sym(const char *path, const char *name)
{
	struct stat st;
	uint8_t *buf = NULL;
	uint64_t val = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) || !(buf = malloc(st.st_size)) ||
	    read(fd, buf, st.st_size) != st.st_size)
		goto out;
	{
		Elf64_Ehdr *eh = (void *)buf;
		Elf64_Shdr *sh = (void *)(buf + eh->e_shoff);

		for (int i = 0; i < eh->e_shnum; i++) {
			if (sh[i].sh_type != SHT_SYMTAB)
				continue;
			Elf64_Sym *sym = (void *)(buf + sh[i].sh_offset);
			const char *str = (const char *)(buf + sh[sh[i].sh_link].sh_offset);

			for (size_t k = 0; k < sh[i].sh_size / sizeof(*sym); k++)
				if (!strcmp(str + sym[k].st_name, name))
					val = sym[k].st_value;
		}
	}
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return val;
}

static int before_entry(void *opaque, struct vcpu *vcpu)
{
	struct trace *t = opaque;
	struct kvm_guest_debug dbg = { .control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP };

	if (t->armed)
		return 0;
	t->armed = true;
	return ioctl(vcpu__fd(vcpu), KVM_SET_GUEST_DEBUG, &dbg) ? -errno : 0;
}

static void record(struct trace *t, int c, uint64_t v)
{
	if (!t->n[c] || v < t->min[c])
		t->min[c] = v;
	if (v > t->max[c])
		t->max[c] = v;
	t->n[c]++;
	t->sum[c] += v;
}

/*
 * Single-step exits come only for ring-0 instructions here (ring 3 runs
 * natively), with RIP = the next instruction. On this backend the step after
 * an entry and after swapgs is merged with the next instruction, so the
 * counts are lower bounds (switch_to, made of plain instructions, steps
 * exactly: its 19 instructions are all seen). An episode starts in the first
 * bytes of an entry point and ends at the "swapgs; iretq" that returns to
 * ring 3; it includes a task switch if one happens on the way (that is what
 * a yield costs).
 */
static int on_debug(void *opaque, struct vcpu *vcpu, struct kvm_run *run)
{
	struct trace *t = opaque;
	uint8_t *ram = vm__ram(vcpu__vm(vcpu));
	struct kvm_regs r;
	uint64_t rip;

	if (vcpu__get_regs(vcpu, &r))
		return -EIO;
	rip = r.rip;
	if (++t->steps > 3000000) {
		vm__stop(vcpu__vm(vcpu), -E2BIG, "too many single steps");
		return 1;
	}
	/* an entry from ring 3 (CS in the hardware frame; syscall_entry's push
	 * may already have happened when we first see it) */
	if (!t->active && ((rip >= t->sym_syscall && rip < t->sym_syscall + 8 &&
			    (*(uint64_t *)(ram + r.rsp + (rip >= t->sym_syscall + 4 ? 16 : 8)) & 3) == 3) ||
			   (rip >= t->sym_timer && rip < t->sym_timer + 8 &&
			    (*(uint64_t *)(ram + r.rsp + 8) & 3) == 3))) {
		t->count = 0;
		t->active = true;
		t->saw_switch_in_episode = false;
		if (rip >= t->sym_timer && rip < t->sym_timer + 8)
			t->cls = C_TICK;
		else
			switch (r.rax) {
			case SYS_PORT: t->cls = C_SYS_PORT; break;
			case SYS_YIELD: t->cls = C_SYS_YIELD; break;
			case SYS_BARRIER: t->cls = C_SYS_BARRIER; break;
			case SYS_RECORDS: t->cls = C_SYS_RECORDS; break;
			case SYS_ATOMIC: t->cls = C_SYS_ATOMIC; break;
			case SYS_EXIT: t->cls = C_SYS_EXIT; break;
			default: t->cls = C_OTHER;
			}
	}
	t->count++;
	if (rip == t->sym_switch) {
		t->in_switch = true;
		t->switch_start = t->count;
		t->saw_switch_in_episode = true;
	} else if (t->in_switch && (rip < t->sym_switch || rip >= t->sym_switch_end)) {
		uint64_t len = t->count - t->switch_start;

		if (!t->switch_n || len < t->switch_min)
			t->switch_min = len;
		if (len > t->switch_max)
			t->switch_max = len;
		t->switch_n++;
		t->in_switch = false;
	}
	/* "swapgs; iretq" (0f 01 f8 48 cf) returns to ring 3: the episode ends */
	if (t->active && rip + 5 < vm__ram_size(vcpu__vm(vcpu)) && !memcmp(ram + rip, "\x0f\x01\xf8\x48\xcf", 5)) {
		t->count++; /* the iretq */
		record(t, t->cls, t->count);
		if (t->cls == C_TICK && !t->saw_switch_in_episode &&
		    (!t->tick_min_noswitch || t->count < t->tick_min_noswitch))
			t->tick_min_noswitch = t->count;
		t->active = false;
	}
	return 1;
}

int main(void)
{
	const char *build = getenv("DZ_BUILD");
	struct trace t = { 0 };
	struct vm_hooks hooks = { .opaque = &t, .before_entry = before_entry, .on_debug = on_debug };
	struct vm_config cfg = {
		.ram_size = 96ULL << 20,
		.nr_cpus = 1,
		/* two tasks on one CPU: yields and barriers switch between them */
		.workload = "mixed:tasks=3,size=64K,kbuf=256K,abuf=256K,passes=2",
		.quiet = true,
		.tick_hz = 100,
	};
	struct vm_result res;
	struct vm *vm;
	int err;

	if (access("/dev/kvm", R_OK | W_OK)) {
		printf("1..0 # SKIP /dev/kvm not accessible (run as root)\n");
		return 0;
	}
	snprintf(guest, sizeof(guest), "%s/guest/doze-guest.elf", build ? build : "build");
	if (access(guest, R_OK)) {
		printf("1..0 # SKIP no guest image at %s\n", guest);
		return 0;
	}
	t.sym_syscall = elf_sym(guest, "syscall_entry");
	t.sym_timer = elf_sym(guest, "timer_entry");
	t.sym_switch = elf_sym(guest, "switch_to");
	t.sym_switch_end = elf_sym(guest, "start_user"); /* follows switch_to in entry.S */
	if (!ok(t.sym_syscall && t.sym_timer && t.sym_switch, "entry symbols found in the guest ELF"))
		return done_testing();
	cfg.guest_path = guest;
	for (int pass = 0; pass < 2; pass++) {
		t.armed = false;
		t.active = false;
		/* second run: one long ring-3 task, so ticks find nobody else ready */
		if (pass == 1)
			cfg.workload = "scan:tasks=1,size=32M,passes=3";
		err = vm__create(&cfg, &vm);
		if (err) {
			printf("1..0 # SKIP cannot create a VM: %s\n", strerror(-err));
			return 0;
		}
		vm__set_hooks(vm, &hooks);
		is_int(vm__load_guest(vm), 0, "%s: guest loaded", cfg.workload);
		err = vm__run(vm, &res);
		if (err)
			diag("run: %s", res.error);
		ok(!err && res.checksum_ok, "%s: single-stepped run ends with checksum OK", cfg.workload);
		vm__destroy(vm);
	}
	diag("%llu instructions single-stepped", (unsigned long long)t.steps);
	for (int c = 0; c < C_NR; c++)
		if (t.n[c])
			diag("%-16s %5llu episodes, ring-0 instructions min %llu mean %.1f max %llu",
			     cls_name[c], (unsigned long long)t.n[c], (unsigned long long)t.min[c],
			     (double)t.sum[c] / t.n[c], (unsigned long long)t.max[c]);
	diag("switch_to: %llu switches, %llu..%llu instructions", (unsigned long long)t.switch_n,
	     (unsigned long long)t.switch_min, (unsigned long long)t.switch_max);
	diag("timer tick without a switch: %llu instructions", (unsigned long long)t.tick_min_noswitch);
	ok(t.n[C_SYS_PORT] > 0 && t.min[C_SYS_PORT] <= 40,
	   "system call round trip (SYS_PORT) within 40 ring-0 instructions (min %llu)",
	   (unsigned long long)t.min[C_SYS_PORT]);
	ok(t.switch_n > 0 && t.switch_max <= 20, "switch_to within 20 instructions (max %llu)",
	   (unsigned long long)t.switch_max);
	ok(t.n[C_TICK] > 0 && t.tick_min_noswitch > 0 && t.tick_min_noswitch <= 10,
	   "timer tick from ring 3 without a switch within 10 instructions (%llu)",
	   (unsigned long long)t.tick_min_noswitch);
	ok(t.n[C_SYS_YIELD] + t.n[C_SYS_BARRIER] > 0, "task switches were traced");
	return done_testing();
}
