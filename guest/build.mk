# The freestanding reference guest kernel: $(O)/guest/doze-guest.elf.
GUEST_ELF	:= $(O)/guest/doze-guest.elf
GUEST_SRCS	:= guest/entry.S guest/main.c guest/sched.c guest/lib.c guest/workload.c guest/hooks.c guest/user.c
GUEST_OBJS	:= $(patsubst guest/%,$(O)/guest/obj/%.o,$(GUEST_SRCS))
GUEST_CFLAGS	:= -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter -ffreestanding -nostdlib \
		   -fno-pic -fno-pie -mcmodel=small -mno-red-zone -mgeneral-regs-only -fno-builtin \
		   -fno-stack-protector -fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns \
		   -fcf-protection=none -Iinclude/uapi -Iguest -I/usr/include/$(shell $(CC) -print-multiarch)
ALL_TARGETS	+= $(GUEST_ELF)

$(O)/guest/obj/%.c.o: guest/%.c
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(O)/guest/obj/%.S.o: guest/%.S
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

# user.c's objects are named *user.o for the linker script's file match
$(O)/guest/obj/user.o: $(O)/guest/obj/user.c.o
	cp $< $@

$(GUEST_ELF): $(filter-out $(O)/guest/obj/user.c.o,$(GUEST_OBJS)) $(O)/guest/obj/user.o guest/kernel.ld
	$(CC) -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-T,guest/kernel.ld -Wl,-z,max-page-size=4096 -Wl,--no-warn-rwx-segments \
		-o $@ $(filter %.o,$^)

-include $(GUEST_OBJS:.o=.d)
