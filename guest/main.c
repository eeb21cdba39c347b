// SPDX-License-Identifier: GPL-2.0
/*
 * Boot of the reference guest. Every vCPU enters _start (entry.S) in long mode
 * with the VMM's identity map. CPU 0 validates the boot info, builds the IDT,
 * the per-CPU areas, the memory layout and the workload's tasks, then lets the
 * other CPUs go; each CPU loads its GDT/TSS/IDT and GS base and becomes its
 * idle task.
 *
 * Physical layout (identity mapped, 2 MiB pages):
 *	0 .. 4 MiB	boot info, boot page tables, kernel image	supervisor
 *	4 MiB ..	user text/data (user.c)				user
 *	kheap		per-CPU areas, task structs + kernel stacks	supervisor
 *	uheap		user stacks, task arrays, kbuf, abuf		user
 */
#include "kernel.h"

u8 boot_stacks[GUEST_MAX_CPUS][8192] __attribute__((aligned(8192)));
static struct task idle_tasks[GUEST_MAX_CPUS];
struct percpu *percpus[GUEST_MAX_CPUS];
u32 nr_cpus;
static volatile u32 smp_go;
static bool lapic;	/* DZ_BOOT_F_LAPIC */

struct idt_entry {
	u16 off0, sel;
	u8 ist, type;
	u16 off1;
	u32 off2, zero;
};
static struct idt_entry idt[256] __attribute__((aligned(16)));

static u64 kheap_cur, kheap_end, uheap_cur, uheap_end;
extern char __user_start[], __user_end[], __kernel_end[];

static u64 align_up(u64 v, u64 a)
{
	return (v + a - 1) & ~(a - 1);
}

void *kalloc(size_t size, size_t align)
{
	u64 p = align_up(kheap_cur, align);

	if (p + size > kheap_end || p + size < p)
		return NULL;
	kheap_cur = p + size;
	return (void *)p; /* the VMM hands out zeroed RAM */
}

void *ualloc(size_t size, size_t align)
{
	u64 p = align_up(uheap_cur, align);

	if (p + size > uheap_end || p + size < p)
		return NULL;
	uheap_cur = p + size;
	return (void *)p;
}

u64 uheap_free(void);
u64 uheap_free(void)
{
	return uheap_end - uheap_cur;
}

static void idt_set(int vec, void (*h)(void), int dpl)
{
	u64 a = (u64)h;

	idt[vec] = (struct idt_entry){
		.off0 = a & 0xffff,
		.sel = KERNEL_CS,
		.type = 0x8e | (dpl << 5), /* present, interrupt gate (IF cleared on entry) */
		.off1 = (a >> 16) & 0xffff,
		.off2 = a >> 32,
	};
}

/* Clear or set the user bit of the 2 MiB mappings covering [start, end). */
static void map_user(u64 pt_root, u64 start, u64 end, int user)
{
	for (u64 a = start & ~(HUGE_SIZE - 1); a < end; a += HUGE_SIZE) {
		u64 *pd = (u64 *)(pt_root + 0x2000 + (a >> 30) * 0x1000);
		u64 *e = &pd[(a >> 21) & 511];

		*e = user ? (*e | 4) : (*e & ~4UL);
	}
}

static void percpu_setup(int cpu)
{
	struct percpu *pc = kalloc(sizeof(*pc), 64);
	u64 tss = (u64)&pc->tss;

	if (!pc)
		panic("out of kernel memory for per-CPU areas");
	pc->self = (u64)pc;
	pc->cpu = cpu;
	pc->tss.iomap_base = sizeof(struct tss);
	pc->gdt[0] = 0;
	pc->gdt[1] = 0x00af9b000000ffffUL; /* 0x08 kernel code */
	pc->gdt[2] = 0x00cf93000000ffffUL; /* 0x10 kernel data */
	pc->gdt[3] = 0x00cff3000000ffffUL; /* 0x18 user data */
	pc->gdt[4] = 0x00affb000000ffffUL; /* 0x20 user code */
	pc->gdt[5] = (sizeof(struct tss) - 1) | ((tss & 0xffffff) << 16) | (0x89UL << 40) |
		     (((tss >> 24) & 0xff) << 56);
	pc->gdt[6] = tss >> 32;
	idle_tasks[cpu].kstack_top = (u64)boot_stacks[cpu + 1];
	sched_init_cpu(pc, &idle_tasks[cpu]);
	idle_tasks[cpu].id = 0xffff0000 | cpu;
	percpus[cpu] = pc;
}

static void boot_cpu0(struct dz_boot_info *bi)
{
	u64 kheap_size;

	printk("doze reference guest: %u vCPUs, %lu MiB RAM, workload '%s'\n", bi->nr_cpus,
	       (u64)bi->ram_size >> 20, bi->workload);
	{
		u32 sig[3], max, feat, abi, c, d;

		cpuid(DZ_CPUID_BASE, &max, &sig[0], &sig[1], &sig[2]);
		cpuid(DZ_CPUID_FEATURES, &feat, &abi, &c, &d);
		if (sig[0] == DZ_CPUID_SIG_EBX && sig[1] == DZ_CPUID_SIG_ECX && max >= DZ_CPUID_FEATURES)
			printk("hypervisor: dozeDOZEdoze, ABI %u, features %x, MSR base %x\n", abi, feat, c);
		else
			printk("hypervisor: no doze CPUID leaves\n");
	}
	if (bi->magic != DZ_BOOT_MAGIC || bi->version != DZ_ABI_VERSION)
		panic("bad boot info (magic %lx version %u)", (u64)bi->magic, bi->version);
	if (bi->nr_cpus == 0 || bi->nr_cpus > GUEST_MAX_CPUS)
		panic("%u vCPUs: this guest supports 1..%u", bi->nr_cpus, GUEST_MAX_CPUS);
	nr_cpus = bi->nr_cpus;

	for (int v = 0; v < 32; v++)
		idt_set(v, (void (*)(void))(exc_stubs + 16 * v), 0);
	idt_set(4, syscall_entry, 3);
	idt_set(DZ_VEC_TIMER, timer_entry, 0);
	idt_set(DZ_VEC_IPI, irq_entry_ipi, 0);
	idt_set(DZ_VEC_VE, ve_entry, 0); /* the fast path; the stub is its slow path */
	idt_set(DZ_VEC_PAGE_READY, irq_entry_page_ready, 0);
	if (bi->flags & DZ_BOOT_F_LAPIC) {
		lapic = true;
		idt_set(DZ_VEC_TIMER, lapic_timer_entry, 0);
		idt_set(DZ_VEC_IPI, lapic_ipi_entry, 0);
		idt_set(DZ_VEC_PAGE_READY, lapic_page_ready_entry, 0);
		idt_set(0xff, spurious_entry, 0);
	}

	/* kernel heap: per-CPU areas and up to MAX_TASKS kernel stacks */
	kheap_size = align_up(GUEST_MAX_CPUS * sizeof(struct percpu) + MAX_TASKS * KSTACK_SIZE,
			      HUGE_SIZE);
	kheap_cur = align_up((u64)__kernel_end, HUGE_SIZE);
	kheap_end = kheap_cur + kheap_size;
	uheap_cur = kheap_end;
	uheap_end = bi->ram_size;
	if (uheap_cur >= uheap_end)
		panic("%lu MiB of RAM is too small for the kernel", (u64)bi->ram_size >> 20);
	map_user(bi->pt_root, 0, (u64)__user_start, 0);
	map_user(bi->pt_root, kheap_cur, kheap_end, 0);

	for (u32 c = 0; c < nr_cpus; c++)
		percpu_setup(c);
}

static void cpu_init(int cpu)
{
	struct percpu *pc = percpus[cpu];
	struct {
		u16 limit;
		u64 base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (u64)idt };
	u64 cr3;

	load_gdt_tss(pc->gdt, sizeof(pc->gdt) - 1);
	__asm__ volatile("lidt %0" : : "m"(idtr));
	/* GS base = per-CPU area; KERNEL_GS_BASE = 0 (what ring 3 sees after swapgs) */
	__asm__ volatile("wrmsr" : : "c"(0xc0000101), "a"((u32)(u64)pc), "d"((u32)((u64)pc >> 32)));
	__asm__ volatile("wrmsr" : : "c"(0xc0000102), "a"(0), "d"(0));
	/* drop TLB entries from before the user bits changed */
	__asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
	mce_init_cpu();
	if (lapic) { /* x2APIC on, software-enabled, spurious vector 0xff */
		u32 lo, hi;

		__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0x1b));
		__asm__ volatile("wrmsr" : : "c"(0x1b), "a"(lo | 0xc00), "d"(hi));
		__asm__ volatile("wrmsr" : : "c"(0x80f), "a"(0x1ff), "d"(0));
	}
}

void kmain(struct dz_boot_info *bi, u64 cpu);
void kmain(struct dz_boot_info *bi, u64 cpu)
{
	if (cpu == 0) {
		/* CPU 0 loads its IDT before the workload is set up, so a fault
		 * there is reported, not a triple fault */
		boot_cpu0(bi);
		cpu_init(0);
		apf_init();
		workload_setup(bi->workload);
		outl(DZ_PORT_PHASE, DZ_PHASE_BOOT);
		__atomic_store_n(&smp_go, 1, __ATOMIC_RELEASE);
	} else {
		while (!__atomic_load_n(&smp_go, __ATOMIC_ACQUIRE))
			__asm__ volatile("pause");
		cpu_init(cpu);
	}
	apf_arm_cpu();
	/* the idle loop (entry.S): restarts on an empty stack whenever idle runs */
	idle_enter();
}
