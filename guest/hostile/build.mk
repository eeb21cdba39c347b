# The reference guest's hostile test mode (guest/hostile/, workload `hostile`):
# probes the VMM's MSRs and predicate registration with garbage (tests/kvm/hostile.t).
GUEST_HOSTILE_OBJS := $(O)/guest/obj/hostile/hostile.c.o $(O)/guest/obj/hostile/msr.S.o

# (guest/build.mk sorts after this file: name the image literally)
$(O)/guest/doze-guest.elf: $(GUEST_HOSTILE_OBJS)

-include $(GUEST_HOSTILE_OBJS:.o=.d)
