# The preamble of every KVM shell test (sourced): a test that cannot run says
# why and skips. Sets G, the reference guest image.
G="$DZ_BUILD/guest/doze-guest.elf"
if [ ! -w /dev/kvm ]; then echo "1..0 # SKIP /dev/kvm not accessible (run as root)"; exit 0; fi
if [ ! -r "$G" ]; then echo "1..0 # SKIP no guest image at $G"; exit 0; fi
