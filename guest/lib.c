// SPDX-License-Identifier: GPL-2.0
/*
 * Console output (debug port 0xe9), panics and power off, and the few string
 * routines the compiler may call.
 */
#include <stdarg.h>

#include "kernel.h"

void *memset(void *d, int c, size_t n)
{
	u8 *p = d;

	while (n--)
		*p++ = (u8)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	u8 *p = d;
	const u8 *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (u8)*a - (u8)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

static void put_num(u64 v, int base, int neg)
{
	char buf[24];
	int i = 0;

	if (neg)
		outb(DZ_PORT_CONSOLE, '-');
	do {
		u64 d = v % base;

		buf[i++] = d < 10 ? '0' + d : 'a' + d - 10;
		v /= base;
	} while (v);
	while (i)
		outb(DZ_PORT_CONSOLE, buf[--i]);
}

static void vprintk(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int longs = 0;

		if (*fmt != '%') {
			outb(DZ_PORT_CONSOLE, *fmt);
			continue;
		}
		fmt++;
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			for (s = s ? s : "(null)"; *s; s++)
				outb(DZ_PORT_CONSOLE, *s);
			break;
		}
		case 'c':
			outb(DZ_PORT_CONSOLE, (char)va_arg(ap, int));
			break;
		case 'd': {
			s64 v = longs ? va_arg(ap, s64) : va_arg(ap, int);

			put_num(v < 0 ? -(u64)v : (u64)v, 10, v < 0);
			break;
		}
		case 'u':
			put_num(longs ? va_arg(ap, u64) : va_arg(ap, u32), 10, 0);
			break;
		case 'x':
			put_num(longs ? va_arg(ap, u64) : va_arg(ap, u32), 16, 0);
			break;
		case 'p':
			outb(DZ_PORT_CONSOLE, '0');
			outb(DZ_PORT_CONSOLE, 'x');
			put_num((u64)va_arg(ap, void *), 16, 0);
			break;
		case '%':
			outb(DZ_PORT_CONSOLE, '%');
			break;
		default:
			outb(DZ_PORT_CONSOLE, '?');
			if (!*fmt)
				return;
		}
	}
}

void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

/* Tell the VMM we died: RBX = RIP, RCX = error code, RSI = CR2, RDI = CS. */
static void __attribute__((noreturn)) report_death(u32 code, u64 rip, u64 err, u64 cr2, u64 cs)
{
	for (;;) {
		register u64 rbx __asm__("rbx") = rip;

		__asm__ volatile("outl %%eax, %%dx"
				 :
				 : "a"(code), "d"((u16)DZ_PORT_PANIC), "r"(rbx), "c"(err), "S"(cr2),
				   "D"(cs));
		cli();
		__asm__ volatile("hlt");
	}
}

void panic(const char *fmt, ...)
{
	va_list ap;

	cli();
	printk("PANIC: ");
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	printk("\n");
	report_death(DZ_PANIC_ASSERT, (u64)__builtin_return_address(0), 0, 0, KERNEL_CS);
}

void die(u32 code, const struct regs *r)
{
	u64 cr2;

	cli();
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	printk("PANIC: exception %u, error %lx at RIP %lx CS %lx RSP %lx RFLAGS %lx CR2 %lx\n", code,
	       r->error, r->rip, r->cs, r->rsp, r->rflags, cr2);
	report_death(code, r->rip, r->error, cr2, r->cs);
}

void power_off(u32 status, u64 checksum, u64 expected)
{
	for (;;) {
		register u64 rbx __asm__("rbx") = checksum;

		__asm__ volatile("outl %%eax, %%dx"
				 :
				 : "a"(status), "d"((u16)DZ_PORT_RESULT), "r"(rbx), "c"(expected));
		cli();
		__asm__ volatile("hlt");
	}
}
