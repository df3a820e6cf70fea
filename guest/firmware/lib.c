/* replayvm-sbi: memory helpers, the 16550 UART and a minimal printf. */
#include <stdarg.h>
#include "firmware.h"

#define UART_BASE 0x10000000UL
#define UART_RBR 0
#define UART_THR 0
#define UART_LSR 5
#define LSR_DR 0x01
#define LSR_THRE 0x20

void *memset(void *d, int c, unsigned long n)
{
	unsigned char *p = d;
	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
	unsigned char *p = d;
	const unsigned char *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

void *memmove(void *d, const void *s, unsigned long n)
{
	unsigned char *p = d;
	const unsigned char *q = s;
	if (p <= q || p >= q + n)
		return memcpy(d, s, n);
	while (n--)
		p[n] = q[n];
	return d;
}

int memcmp(const void *a, const void *b, unsigned long n)
{
	const unsigned char *p = a, *q = b;
	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}

unsigned long strlen(const char *s)
{
	unsigned long n = 0;
	while (s[n])
		n++;
	return n;
}

static volatile unsigned char *const uart = (volatile unsigned char *)UART_BASE;

void uart_putc(int c)
{
	while (!(uart[UART_LSR] & LSR_THRE))
		;
	uart[UART_THR] = (unsigned char)c;
}

int uart_getc(void)
{
	return (uart[UART_LSR] & LSR_DR) ? uart[UART_RBR] : -1;
}

void fw_puts(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			uart_putc('\r');
		uart_putc(*s);
	}
}

static void put_num(unsigned long v, unsigned int base, int width)
{
	char tmp[12];
	int n = 0;
	do {
		unsigned int d = v % base;
		tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	while (width-- > n)
		uart_putc('0');
	while (n)
		uart_putc(tmp[--n]);
}

/* %s %c %u %d %x and %0Nx; no long long. */
void fw_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		int width = 0;
		if (*fmt != '%') {
			if (*fmt == '\n')
				uart_putc('\r');
			uart_putc(*fmt);
			continue;
		}
		fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		switch (*fmt) {
		case 's':
			fw_puts(va_arg(ap, const char *));
			break;
		case 'c':
			uart_putc(va_arg(ap, int));
			break;
		case 'u':
			put_num(va_arg(ap, unsigned long), 10, width);
			break;
		case 'd': {
			long v = va_arg(ap, long);
			if (v < 0) {
				uart_putc('-');
				v = -v;
			}
			put_num((unsigned long)v, 10, width);
			break;
		}
		case 'x':
			put_num(va_arg(ap, unsigned long), 16, width);
			break;
		case 0:
			fmt--;
			break;
		default:
			uart_putc('%');
			uart_putc(*fmt);
		}
	}
	va_end(ap);
}
