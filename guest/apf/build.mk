# The reference guest's asynchronous page-fault half (guest/apf/), linked into
# the guest image with the predicate object embedded.
GUEST_APF_OBJS := $(O)/guest/obj/apf/apf.c.o $(O)/guest/obj/apf/kvm.c.o $(O)/guest/obj/apf/mce.c.o $(O)/guest/obj/apf/copy.S.o $(O)/guest/obj/apf/pred.S.o

$(O)/guest/obj/apf/pred.S.o: $(O)/guest/pred.bpf.o
$(O)/guest/obj/apf/pred.S.o: GUEST_CFLAGS += -DDZ_PRED_OBJ='"$(O)/guest/pred.bpf.o"'
$(O)/guest/obj/apf/apf.c.o $(O)/guest/obj/apf/kvm.c.o $(O)/guest/obj/apf/mce.c.o: GUEST_CFLAGS += -Iguest/apf

# (guest/build.mk sorts after this file: name the image literally)
$(O)/guest/doze-guest.elf: $(GUEST_APF_OBJS)

-include $(GUEST_APF_OBJS:.o=.d)
