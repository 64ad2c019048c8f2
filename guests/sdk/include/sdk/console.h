/* SPDX-License-Identifier: MIT */
/*
 * Console output on COM1 (port 0x3F8). A whole printf call is formatted into a
 * buffer first and written under one lock with interrupts off, so lines from
 * different vCPUs (and from handlers) never interleave. An NMI or exception
 * that arrives while its own vCPU holds the lock writes without it rather than
 * deadlock. Formats: %d %i %u %x %X %p %s %c %%, flags '-' and '0', a width
 * (or '*'), length modifiers hh h l ll z.
 */
#ifndef SDK_CONSOLE_H
#define SDK_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>

int sdk_printf(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));
int sdk_vprintf(const char *fmt, va_list ap);
int sdk_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(__printf__, 3, 4)));
int sdk_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
void sdk_puts(const char *s);     /* no newline added */

#define printf sdk_printf
#define snprintf sdk_snprintf

#endif
