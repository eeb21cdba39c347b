; reads past the end of a 16-byte --mem buffer: -EFAULT in checked mode
	r0 = *(u64 *)(r1 +16)
	exit
