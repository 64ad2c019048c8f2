/* SPDX-License-Identifier: MIT */
/*
 * printf to COM1. The model's LSR always reads "transmitter empty"
 * (docs/guest-abi.md), so bytes go straight to the data port without polling,
 * which halves the intercepted I/O per character. A call formats into a stack
 * buffer, then writes it whole under console_lock with interrupts off; an NMI
 * or exception handler interrupting the lock holder on the same vCPU writes
 * without the lock (console_owner) instead of deadlocking.
 */
#include <sdk/sdk.h>

#define CONSOLE_BUF 512

static struct spinlock console_lock;
static volatile int console_owner = -1;

struct out {
    char *buf;
    size_t size, len;     /* len counts every byte, even those that did not fit */
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_padded(struct out *o, const char *s, size_t n, int width, bool left, char pad)
{
    int fill = width > (int)n ? width - (int)n : 0;
    if (!left)
        while (fill-- > 0)
            put(o, pad);
    for (size_t i = 0; i < n; i++)
        put(o, s[i]);
    if (left)
        while (fill-- > 0)
            put(o, ' ');
}

/* Digits of v in base 10 or 16 into tmp (right to left); returns the count. */
static size_t utoa(char tmp[24], uint64_t v, unsigned base, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    size_t n = 0;
    do {
        tmp[23 - n++] = digits[v % base];
        v /= base;
    } while (v);
    return n;
}

static void put_number(struct out *o, uint64_t v, bool neg, unsigned base, bool upper,
                       int width, bool left, bool zero, const char *prefix)
{
    char tmp[24];
    size_t n = utoa(tmp, v, base, upper);
    size_t plen = strlen(prefix) + (neg ? 1 : 0);
    int fill = width > (int)(n + plen) ? width - (int)(n + plen) : 0;

    if (!left && !zero)
        while (fill-- > 0)
            put(o, ' ');
    if (neg)
        put(o, '-');
    while (*prefix)
        put(o, *prefix++);
    if (!left && zero)
        while (fill-- > 0)
            put(o, '0');
    for (size_t i = 0; i < n; i++)
        put(o, tmp[24 - n + i]);
    if (left)
        while (fill-- > 0)
            put(o, ' ');
}

/* Reads an integer argument of the given length modifier (0 int, 1 l, 2 ll, 3 z, -1 h, -2 hh). */
static uint64_t arg_unsigned(va_list *ap, int len)
{
    switch (len) {
    case 1: return va_arg(*ap, unsigned long);
    case 2: return va_arg(*ap, unsigned long long);
    case 3: return va_arg(*ap, size_t);
    case -1: return (unsigned short)va_arg(*ap, unsigned int);
    case -2: return (unsigned char)va_arg(*ap, unsigned int);
    default: return va_arg(*ap, unsigned int);
    }
}

static int64_t arg_signed(va_list *ap, int len)
{
    switch (len) {
    case 1: return va_arg(*ap, long);
    case 2: return va_arg(*ap, long long);
    case 3: return (int64_t)va_arg(*ap, size_t);
    case -1: return (short)va_arg(*ap, int);
    case -2: return (signed char)va_arg(*ap, int);
    default: return va_arg(*ap, int);
    }
}

static void format_one(struct out *o, const char **fmtp, va_list *ap)
{
    const char *f = *fmtp;
    bool left = false, zero = false;
    int width = 0, len = 0;

    for (;; f++) {
        if (*f == '-') left = true;
        else if (*f == '0') zero = true;
        else break;
    }
    if (*f == '*') {
        width = va_arg(*ap, int);
        f++;
    }
    while (*f >= '0' && *f <= '9')
        width = width * 10 + (*f++ - '0');
    for (; *f == 'l' || *f == 'h' || *f == 'z'; f++)
        len = *f == 'z' ? 3 : *f == 'l' ? len + 1 : len - 1;

    switch (*f) {
    case 'd': case 'i': {
        int64_t v = arg_signed(ap, len);
        put_number(o, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0, 10, false, width, left, zero, "");
        break;
    }
    case 'u': put_number(o, arg_unsigned(ap, len), false, 10, false, width, left, zero, ""); break;
    case 'x': put_number(o, arg_unsigned(ap, len), false, 16, false, width, left, zero, ""); break;
    case 'X': put_number(o, arg_unsigned(ap, len), false, 16, true, width, left, zero, ""); break;
    case 'p':
        put_number(o, (uint64_t)(uintptr_t)va_arg(*ap, void *), false, 16, false, width, left,
                   zero, "0x");
        break;
    case 's': {
        const char *s = va_arg(*ap, const char *);
        if (!s)
            s = "(null)";
        put_padded(o, s, strlen(s), width, left, ' ');
        break;
    }
    case 'c': {
        char c = (char)va_arg(*ap, int);
        put_padded(o, &c, 1, width, left, ' ');
        break;
    }
    case '%': put(o, '%'); break;
    case '\0': f--; break;  /* a lone '%' at the end */
    default: put(o, '%'); put(o, *f); break;
    }
    *fmtp = f + 1;
}

int sdk_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    va_list aq;

    va_copy(aq, ap);
    while (*fmt) {
        if (*fmt != '%') {
            put(&o, *fmt++);
            continue;
        }
        fmt++;
        format_one(&o, &fmt, &aq);
    }
    va_end(aq);
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int sdk_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = sdk_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

static void console_write(const char *s, size_t n)
{
    uint64_t flags = irq_save();
    int me = (int)sdk_cpu();
    bool locked = READ_ONCE(console_owner) != me;

    if (locked) {
        spin_lock(&console_lock);
        console_owner = me;
    }
    for (size_t i = 0; i < n; i++)
        outb(SNP_PORT_COM1, (uint8_t)s[i]);
    if (locked) {
        console_owner = -1;
        spin_unlock(&console_lock);
    }
    irq_restore(flags);
}

int sdk_vprintf(const char *fmt, va_list ap)
{
    char buf[CONSOLE_BUF];
    int n = sdk_vsnprintf(buf, sizeof(buf), fmt, ap);
    console_write(buf, strlen(buf));
    return n;
}

int sdk_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = sdk_vprintf(fmt, ap);
    va_end(ap);
    return n;
}

void sdk_puts(const char *s)
{
    console_write(s, strlen(s));
}
