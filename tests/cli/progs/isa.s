; a little of everything (cpu v4 included); r0 = 0x3f when all checks pass
	r0 = 0
	r1 = 0x8000000000000000
	r2 = -1
	r1 s/= r2			; INT64_MIN / -1 wraps
	r3 = 0x8000000000000000
	if r1 != r3 goto fail1
	r0 |= 1
fail1:
	r4 = 10
	r5 = 0
	r4 %= r5			; modulo by zero keeps the dividend
	if r4 != 10 goto fail2
	r0 |= 2
fail2:
	w6 = -1
	r6 += 1				; w6 was zero-extended
	r7 = 0x100000000
	if r6 != r7 goto fail3
	r0 |= 4
fail3:
	r8 = 0x180
	r8 = (s8)r8
	if r8 != -128 goto fail4
	r0 |= 8
fail4:
	r9 = 0x1234
	r9 = be16 r9
	if r9 != 0x3412 goto fail5
	r0 |= 16
fail5:
	*(u64 *)(r10 -8) = r0
	r1 = 32
	lock *(u64 *)(r10 -8) |= r1
	r0 = *(u64 *)(r10 -8)
	exit
