// SPDX-License-Identifier: GPL-2.0
/*
 * Fresh boot: load a guest ELF64 into RAM at its physical addresses, write the
 * boot info page and the boot page tables, and put every vCPU in the 64-bit
 * entry state of the boot protocol (include/uapi/doze/abi.h).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <doze/abi.h>

#include "vm-impl.h"

#define PTE_P	(1ULL << 0)
#define PTE_W	(1ULL << 1)
#define PTE_U	(1ULL << 2)
#define PTE_PS	(1ULL << 7)

int dz__load_elf(struct vm *vm, const char *path, uint64_t *entry)
{
	Elf64_Ehdr eh;
	Elf64_Phdr *ph = NULL;
	struct stat st;
	uint64_t lo = UINT64_MAX, hi = 0;
	bool entry_ok = false;
	int fd, err = -ENOEXEC;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh))
		goto out;
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64 ||
	    eh.e_type != ET_EXEC || eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
	    eh.e_phnum > 64 || eh.e_phoff > (uint64_t)st.st_size ||
	    eh.e_phnum * sizeof(Elf64_Phdr) > (uint64_t)st.st_size - eh.e_phoff)
		goto out;
	ph = calloc(eh.e_phnum, sizeof(*ph));
	if (!ph) {
		err = -ENOMEM;
		goto out;
	}
	if (pread(fd, ph, eh.e_phnum * sizeof(*ph), eh.e_phoff) != (ssize_t)(eh.e_phnum * sizeof(*ph)))
		goto out;
	for (int i = 0; i < eh.e_phnum; i++) {
		const Elf64_Phdr *p = &ph[i];

		if (p->p_type != PT_LOAD || !p->p_memsz)
			continue;
		if (p->p_filesz > p->p_memsz || p->p_offset > (uint64_t)st.st_size ||
		    p->p_filesz > (uint64_t)st.st_size - p->p_offset ||
		    p->p_paddr < DZ_KERNEL_MIN_GPA || p->p_paddr > vm->ram_size ||
		    p->p_memsz > vm->ram_size - p->p_paddr) {
			err = -ERANGE;
			goto out;
		}
		if (pread(fd, vm->ram + p->p_paddr, p->p_filesz, p->p_offset) !=
		    (ssize_t)p->p_filesz) {
			err = -EIO;
			goto out;
		}
		memset(vm->ram + p->p_paddr + p->p_filesz, 0, p->p_memsz - p->p_filesz);
		if (p->p_paddr < lo)
			lo = p->p_paddr;
		if (p->p_paddr + p->p_memsz > hi)
			hi = p->p_paddr + p->p_memsz;
		/* identity mapped: the entry point is a physical address too */
		if ((p->p_flags & PF_X) && eh.e_entry >= p->p_vaddr &&
		    eh.e_entry < p->p_vaddr + p->p_memsz && p->p_vaddr == p->p_paddr)
			entry_ok = true;
	}
	if (!entry_ok)
		goto out;
	vm->layout.image_start = lo;
	vm->layout.image_end = (hi + 4095) & ~4095ULL;
	vm->layout.entry = eh.e_entry;
	*entry = eh.e_entry;
	err = 0;
out:
	free(ph);
	close(fd);
	return err;
}

static void set_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->dpl = 0;
	s->s = 1;
	s->g = 1;
	s->l = code;
	s->db = !code;
}

int dz__setup_boot(struct vm *vm, uint64_t entry)
{
	struct dz_boot_info *bi = (void *)(vm->ram + DZ_BOOT_INFO_GPA);
	uint64_t *pml4 = (void *)(vm->ram + DZ_BOOT_PT_GPA);
	uint64_t *pdpt = (void *)(vm->ram + DZ_BOOT_PT_GPA + 0x1000);
	uint64_t nr_gib = (vm->ram_size + (1ULL << 30) - 1) >> 30;
	uint64_t pd_base = DZ_BOOT_PT_GPA + 0x2000;
	uint64_t pt_end = pd_base + nr_gib * 0x1000;

	if (pt_end > DZ_BOOT_PT_MAX_END || vm->layout.image_start < pt_end)
		return -ERANGE;
	memset(vm->ram + DZ_BOOT_PT_GPA, 0, pt_end - DZ_BOOT_PT_GPA);
	pml4[0] = (DZ_BOOT_PT_GPA + 0x1000) | PTE_P | PTE_W | PTE_U;
	for (uint64_t g = 0; g < nr_gib; g++) {
		uint64_t *pd = (void *)(vm->ram + pd_base + g * 0x1000);

		pdpt[g] = (pd_base + g * 0x1000) | PTE_P | PTE_W | PTE_U;
		for (int i = 0; i < 512; i++) {
			uint64_t pa = (g << 30) + ((uint64_t)i << 21);

			if (pa >= vm->ram_size)
				break;
			pd[i] = pa | PTE_P | PTE_W | PTE_U | PTE_PS;
		}
	}

	memset(bi, 0, sizeof(*bi));
	bi->magic = DZ_BOOT_MAGIC;
	bi->version = DZ_ABI_VERSION;
	bi->nr_cpus = vm->nr_vcpus;
	bi->ram_size = vm->ram_size;
	bi->pt_root = DZ_BOOT_PT_GPA;
	bi->pt_end = pt_end;
	bi->image_start = vm->layout.image_start;
	bi->image_end = vm->layout.image_end;
	bi->tsc_khz = vm->tsc_khz;
	bi->tick_hz = vm->tick_hz;
	bi->flags = (vm->snapshot_prefix ? DZ_BOOT_F_SNAPSHOT : 0) |
		    (vm->cfg.in_kernel_irqchip ? DZ_BOOT_F_LAPIC : 0);
	snprintf(bi->workload, sizeof(bi->workload), "%s", vm->workload);

	vm->layout.boot_info_gpa = DZ_BOOT_INFO_GPA;
	vm->layout.pt_root = DZ_BOOT_PT_GPA;
	vm->layout.pt_end = pt_end;

	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		struct kvm_sregs s;
		struct kvm_regs r = { 0 };

		dz__vcpu_forget_regs(v);
		if (ioctl(v->fd, KVM_GET_SREGS, &s))
			return -errno;
		set_seg(&s.cs, 0x08, 11, true);
		set_seg(&s.ds, 0x10, 3, false);
		s.es = s.fs = s.gs = s.ss = s.ds;
		memset(&s.tr, 0, sizeof(s.tr));
		s.tr.type = 11;
		s.tr.present = 1;
		s.tr.limit = 0x67;
		memset(&s.ldt, 0, sizeof(s.ldt));
		s.ldt.unusable = 1;
		s.gdt.base = 0;
		s.gdt.limit = 0;
		s.idt.base = 0;
		s.idt.limit = 0;
		s.cr0 = 0x80010033ULL; /* PG | WP | NE | ET | MP | PE */
		s.cr3 = DZ_BOOT_PT_GPA;
		s.cr4 = 0x620; /* OSXMMEXCPT | OSFXSR | PAE */
		s.efer = 0xd00; /* NXE | LMA | LME */
		if (ioctl(v->fd, KVM_SET_SREGS, &s))
			return -errno;
		r.rip = entry;
		r.rdi = DZ_BOOT_INFO_GPA;
		r.rsi = i;
		r.rflags = 2;
		if (ioctl(v->fd, KVM_SET_REGS, &r))
			return -errno;
		/* with an in-kernel LAPIC KVM parks all but vCPU 0 until INIT/SIPI */
		if (vm->cfg.in_kernel_irqchip) {
			struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

			if (ioctl(v->fd, KVM_SET_MP_STATE, &mp))
				return -errno;
		}
	}
	return 0;
}
