// SPDX-License-Identifier: GPL-2.0
/*
 * The vCPU register wrappers (vcpu__get/set_regs, _sregs, _events,
 * vcpu__inject_exception, vcpu__complete_io) with and without
 * KVM_CAP_SYNC_REGS: a bare guest stops at I/O ports, the host changes its
 * registers, CR2 and pending events there the way the async fault path does
 * (a read completed with immediate_exit and then changed, CR2 + #PF, registers
 * + #VE, a snapshot taken right after them, exceptions while timer interrupts
 * are being injected), and the guest checks that it sees every change. Each
 * failed guest check is reported on a port with its number; the guest powers
 * off with the number of failures as its status.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <doze/abi.h>

#include "../../vmm/snapshot.h"
#include "../../vmm/vm.h"
#include "tap.h"

#define V_RBX	0x0b0bcafe55aa1122
#define V_R12	0x123456789abcdef0
#define V_CR2	0xdead5000
#define V_R13	0x7777000077770000
#define V_CR2B	0xfeed3000
#define V_R14	0x1414141414141414
#define PF_ERR	6
#define LOAD_GPA 0x100000

#define S_(x) #x
#define S(x) S_(x)

/* a check: jump over the failure report if the flags say equal */
#define EXPECT_EQ(n) "je 1f\n mov $" #n ", %eax\n call fail\n1:\n"

/* The guest: ring 0, 64-bit, loaded at LOAD_GPA by doze's ELF loader. */
/* clang-format off */
asm(".pushsection .rodata\n"
    ".balign 16\n"
    "sr_guest_start:\n"
    "	lea stack_top(%rip), %rsp\n"
    "	xor %r15d, %r15d\n"
    "	lea gdt(%rip), %rax\n"
    "	mov %rax, gdtr+2(%rip)\n"
    "	lgdt gdtr(%rip)\n"
    "	lea idt(%rip), %rax\n"
    "	mov %rax, idtr+2(%rip)\n"
    "	lea idt+14*16(%rip), %rdi\n"
    "	lea pf_handler(%rip), %rax\n"
    "	call set_gate\n"
    "	lea idt+20*16(%rip), %rdi\n"
    "	lea ve_handler(%rip), %rax\n"
    "	call set_gate\n"
    "	lea idt+32*16(%rip), %rdi\n"
    "	lea tick_handler(%rip), %rax\n"
    "	call set_gate\n"
    "	lidt idtr(%rip)\n"
    /* 1: general registers and CR2 written at an OUT exit */
    "	mov $0x1111, %ebx\n"
    "	mov $0x700, %edx\n"
    "	mov $1, %eax\n"
    "	out %eax, (%dx)\n"
    "	movabs $" S(V_RBX) ", %rax\n"
    "	cmp %rax, %rbx\n" EXPECT_EQ(11)
    "	movabs $" S(V_R12) ", %rax\n"
    "	cmp %rax, %r12\n" EXPECT_EQ(12)
    "	mov %cr2, %rax\n"
    "	mov $" S(V_CR2) ", %ecx\n"
    "	cmp %rcx, %rax\n" EXPECT_EQ(13)
    /* 2: an IN completed on the host (immediate_exit), then a register changed */
    "	mov $0x701, %edx\n"
    "	xor %eax, %eax\n"
    "	in (%dx), %al\n"
    "	cmp $0x5a, %eax\n" EXPECT_EQ(21)
    "	movabs $" S(V_R13) ", %rax\n"
    "	cmp %rax, %r13\n" EXPECT_EQ(22)
    /* 3: #PF with an error code and CR2 (the #PF delivery mode) */
    "	mov $0x702, %edx\n"
    "	out %eax, (%dx)\n"
    "	cmpq $1, pf_count(%rip)\n" EXPECT_EQ(31)
    "	cmpq $" S(PF_ERR) ", pf_err(%rip)\n" EXPECT_EQ(32)
    "	mov $" S(V_CR2B) ", %eax\n"
    "	cmp %rax, pf_cr2(%rip)\n" EXPECT_EQ(33)
    /* 4: registers + #VE in one exit (the rollback + injection), snapshot there */
    "	mov $0x703, %edx\n"
    "	out %eax, (%dx)\n"
    "	cmpq $1, ve_count(%rip)\n" EXPECT_EQ(41)
    "	movabs $" S(V_R14) ", %rax\n"
    "	cmp %rax, ve_r14(%rip)\n" EXPECT_EQ(42)
    "	cmp %rax, %r14\n" EXPECT_EQ(43)
    /* 5: #VE on every other exit while timer interrupts come (IF = 1) */
    "	movq $0, ve_count(%rip)\n"
    "	sti\n"
    "	mov $200, %r8d\n"
    "2:	mov $0x704, %edx\n"
    "	out %eax, (%dx)\n"
    "	dec %r8d\n"
    "	jnz 2b\n"
    "	cli\n"
    "	cmpq $100, ve_count(%rip)\n" EXPECT_EQ(51)
    /* power off: status = failures, checksum = expected = 1 */
    "	mov ticks(%rip), %rsi\n"
    "	mov %r15d, %eax\n"
    "	mov $1, %ebx\n"
    "	mov $1, %ecx\n"
    "	mov $" S(DZ_PORT_RESULT) ", %edx\n"
    "	out %eax, (%dx)\n"
    "3:	hlt\n"
    "	jmp 3b\n"
    /* rdi = gate, rax = handler: a present 64-bit interrupt gate, selector 8 */
    "set_gate:\n"
    "	mov %ax, (%rdi)\n"
    "	movw $8, 2(%rdi)\n"
    "	movw $0x8e00, 4(%rdi)\n"
    "	shr $16, %rax\n"
    "	mov %ax, 6(%rdi)\n"
    "	shr $16, %rax\n"
    "	mov %eax, 8(%rdi)\n"
    "	movl $0, 12(%rdi)\n"
    "	ret\n"
    "fail:\n"
    "	inc %r15d\n"
    "	mov $0x7ff, %edx\n"
    "	out %eax, (%dx)\n"
    "	ret\n"
    "pf_handler:\n"
    "	push %rax\n"
    "	mov 8(%rsp), %rax\n"
    "	mov %rax, pf_err(%rip)\n"
    "	mov %cr2, %rax\n"
    "	mov %rax, pf_cr2(%rip)\n"
    "	incq pf_count(%rip)\n"
    "	pop %rax\n"
    "	add $8, %rsp\n"
    "	iretq\n"
    "ve_handler:\n"
    "	mov %r14, ve_r14(%rip)\n"
    "	incq ve_count(%rip)\n"
    "	iretq\n"
    "tick_handler:\n"
    "	incq ticks(%rip)\n"
    "	iretq\n"
    ".balign 16\n"
    "gdt:	.quad 0, 0x00af9b000000ffff, 0x00cf93000000ffff\n"
    "gdtr:	.word 23\n"
    "	.quad 0\n"
    "idtr:	.word 33 * 16 - 1\n"
    "	.quad 0\n"
    ".balign 16\n"
    "idt:	.space 33 * 16\n"
    "pf_count: .quad 0\n"
    "pf_err: .quad 0\n"
    "pf_cr2: .quad 0\n"
    "ve_count: .quad 0\n"
    "ve_r14: .quad 0\n"
    "ticks:	.quad 0\n"
    ".balign 16\n"
    "	.space 4096\n"
    "stack_top:\n"
    "sr_guest_end:\n"
    ".popsection\n");
/* clang-format on */

extern const uint8_t sr_guest_start[], sr_guest_end[];

static char dir[] = "/tmp/dz-syncregs-XXXXXX", elf_path[4200], prefix[4200];

struct host {
	struct vm *vm;
	bool take_snapshot;
	int snapshot_err;
	bool snapshotted;
	int host_fail; /* host-side checks that failed */
	int guest_fail[8], nr_guest_fail;
	int ve_outs;
};

static int write_elf(const char *path)
{
	size_t len = sr_guest_end - sr_guest_start;
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph;
	} h = {
		.eh = {
			.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB,
				     EV_CURRENT },
			.e_type = ET_EXEC,
			.e_machine = EM_X86_64,
			.e_version = EV_CURRENT,
			.e_entry = LOAD_GPA,
			.e_phoff = offsetof(typeof(h), ph),
			.e_ehsize = sizeof(Elf64_Ehdr),
			.e_phentsize = sizeof(Elf64_Phdr),
			.e_phnum = 1,
		},
		.ph = {
			.p_type = PT_LOAD,
			.p_flags = PF_R | PF_W | PF_X,
			.p_offset = sizeof(h),
			.p_vaddr = LOAD_GPA,
			.p_paddr = LOAD_GPA,
			.p_filesz = len,
			.p_memsz = len,
			.p_align = 16,
		},
	};
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	bool good;

	if (fd < 0)
		return -errno;
	good = write(fd, &h, sizeof(h)) == sizeof(h) &&
	       write(fd, sr_guest_start, len) == (ssize_t)len;
	close(fd);
	return good ? 0 : -EIO;
}

static int snap(struct vm *vm, void *arg)
{
	return vm__save_snapshot(vm, arg);
}

#define HOST_CHECK(h, cond)                                                                    \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			(h)->host_fail++;                                                      \
			diag("host check failed: %s (line %d)", #cond, __LINE__);              \
		}                                                                              \
	} while (0)

static int on_port(void *opaque, struct vcpu *vcpu, struct kvm_run *run)
{
	struct host *h = opaque;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	struct kvm_regs r, r2;
	struct kvm_sregs s, s2;
	int err;

	switch (run->io.port) {
	case 0x700:
		HOST_CHECK(h, !vcpu__get_regs(vcpu, &r) && r.rbx == 0x1111 && (r.rax & 0xff) == 1);
		r.rbx = V_RBX;
		r.r12 = V_R12;
		HOST_CHECK(h, !vcpu__set_regs(vcpu, &r));
		/* a get after a set in the same exit sees the set */
		HOST_CHECK(h, !vcpu__get_regs(vcpu, &r2) && r2.rbx == V_RBX && r2.r12 == V_R12);
		HOST_CHECK(h, !vcpu__get_sregs(vcpu, &s));
		s.cr2 = V_CR2;
		HOST_CHECK(h, !vcpu__set_sregs(vcpu, &s));
		HOST_CHECK(h, !vcpu__get_sregs(vcpu, &s2) && s2.cr2 == V_CR2);
		return 1;
	case 0x701:
		data[0] = 0x5a;
		/* the IN retires now: the registers read next must show it */
		err = vcpu__complete_io(vcpu);
		HOST_CHECK(h, err == 0);
		HOST_CHECK(h, !vcpu__get_regs(vcpu, &r) && (r.rax & 0xff) == 0x5a);
		r.r13 = V_R13;
		HOST_CHECK(h, !vcpu__set_regs(vcpu, &r));
		return 1;
	case 0x702:
		HOST_CHECK(h, !vcpu__get_sregs(vcpu, &s));
		s.cr2 = V_CR2B;
		HOST_CHECK(h, !vcpu__set_sregs(vcpu, &s));
		HOST_CHECK(h, vcpu__inject_exception(vcpu, 14, true, PF_ERR) == 0);
		/* the events seen next include the injection */
		HOST_CHECK(h, vcpu__inject_exception(vcpu, 20, false, 0) == -EBUSY);
		return 1;
	case 0x703:
		HOST_CHECK(h, !vcpu__get_regs(vcpu, &r));
		r.r14 = V_R14;
		HOST_CHECK(h, !vcpu__set_regs(vcpu, &r));
		HOST_CHECK(h, vcpu__inject_exception(vcpu, DZ_VEC_VE, false, 0) == 0);
		if (h->take_snapshot) {
			/* pausing settles this vCPU: what was written above must be in
			 * the snapshot (the restored run checks it) */
			h->snapshot_err = vm__with_paused(h->vm, snap, prefix);
			h->snapshotted = true;
		}
		return 1;
	case 0x704:
		if (++h->ve_outs % 2 == 0)
			HOST_CHECK(h, vcpu__inject_exception(vcpu, DZ_VEC_VE, false, 0) == 0);
		return 1;
	case 0x7ff:
		if (h->nr_guest_fail < 8)
			h->guest_fail[h->nr_guest_fail++] = *(uint32_t *)data;
		return 1;
	}
	return 0;
}

static void report(const char *what, struct host *h, int err, const struct vm_result *res)
{
	if (err)
		diag("%s: %s", what, res->error);
	for (int i = 0; i < h->nr_guest_fail; i++)
		diag("%s: guest check %d failed", what, h->guest_fail[i]);
	ok(!err && res->checksum_ok && res->guest_status == 0 && !h->nr_guest_fail,
	   "%s: the guest saw every change (status %d)", what, res->guest_status);
	is_int(h->host_fail, 0, "%s: host-side checks", what);
}

static void one(bool sync, bool kernel_irqchip, bool snapshot)
{
	struct vm_config cfg = {
		.guest_path = elf_path,
		.ram_size = 16ULL << 20,
		.nr_cpus = 1,
		.workload = "syncregs",
		.quiet = true,
		.in_kernel_irqchip = kernel_irqchip,
		.tick_hz = 1000,
	};
	struct host h = { .take_snapshot = snapshot }, h2 = { 0 };
	struct vm_hooks hooks = { .on_port = on_port };
	struct vm_result res = { 0 }, res2 = { 0 };
	char what[128], state[4300], mem[4300];
	struct vm *vm2;
	int err;

	snprintf(what, sizeof(what), "%s, %s irqchip%s", sync ? "sync regs" : "ioctls",
		 kernel_irqchip ? "in-kernel" : "userspace", snapshot ? ", snapshot" : "");
	if (sync)
		unsetenv("DOZE_SYNC_REGS");
	else
		setenv("DOZE_SYNC_REGS", "0", 1);
	if (vm__create(&cfg, &h.vm) || vm__load_guest(h.vm)) {
		ok(0, "%s: VM created and loaded", what);
		return;
	}
	if (sync && !vcpu__sync_regs(vm__vcpu(h.vm, 0))) {
		ok(1, "# SKIP %s: KVM_CAP_SYNC_REGS is not available", what);
		vm__destroy(h.vm);
		return;
	}
	ok(vcpu__sync_regs(vm__vcpu(h.vm, 0)) == sync, "%s: the wrappers use %s", what,
	   sync ? "kvm_run" : "the ioctls");
	hooks.opaque = &h;
	vm__set_hooks(h.vm, &hooks);
	err = vm__run(h.vm, &res);
	report(what, &h, err, &res);
	vm__destroy(h.vm);
	if (!snapshot)
		return;
	ok(h.snapshotted && !h.snapshot_err, "%s: snapshot taken inside the exit (%d)", what,
	   h.snapshot_err);
	snprintf(state, sizeof(state), "%s.state", prefix);
	snprintf(mem, sizeof(mem), "%s.mem", prefix);
	cfg.guest_path = NULL;
	if (vm__create(&cfg, &vm2)) {
		ok(0, "%s: second VM", what);
		return;
	}
	err = dz_snapshot__load_mem(mem, vm__ram(vm2), vm__ram_size(vm2));
	if (!err)
		err = vm__restore_state(vm2, state);
	if (err)
		diag("restore: %s", vm__last_error(vm2));
	h2.vm = vm2;
	hooks.opaque = &h2;
	vm__set_hooks(vm2, &hooks);
	if (!err)
		err = vm__run(vm2, &res2);
	snprintf(what + strlen(what), sizeof(what) - strlen(what), ", restored");
	report(what, &h2, err, &res2);
	vm__destroy(vm2);
	unlink(state);
	unlink(mem);
}

int main(void)
{
	if (access("/dev/kvm", R_OK | W_OK)) {
		printf("1..0 # SKIP /dev/kvm not accessible (run as root)\n");
		return 0;
	}
	if (!mkdtemp(dir)) {
		printf("1..0 # SKIP mkdtemp failed\n");
		return 0;
	}
	snprintf(elf_path, sizeof(elf_path), "%s/guest.elf", dir);
	snprintf(prefix, sizeof(prefix), "%s/snap", dir);
	if (write_elf(elf_path)) {
		ok(0, "write the test guest");
		return done_testing();
	}
	one(true, false, true);
	one(false, false, true);
	one(true, true, false);
	one(false, true, false);
	unlink(elf_path);
	rmdir(dir);
	return done_testing();
}
