; doze bpf run --mem FILE: r0 = the two little-endian u64 at the start of FILE, added
	r0 = *(u64 *)(r1 +0)
	r3 = *(u64 *)(r1 +8)
	r0 += r3
	exit
