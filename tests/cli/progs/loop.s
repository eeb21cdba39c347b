; never ends: stopped by the instruction budget (run --no-verify only)
	r0 = 0
again:
	r0 += 1
	goto again
	exit
