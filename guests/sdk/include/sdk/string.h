/* SPDX-License-Identifier: MIT */
/*
 * The four memory functions gcc may emit calls to even in freestanding code
 * (struct copies and initialisers), plus strlen.
 */
#ifndef SDK_STRING_H
#define SDK_STRING_H

#include <stddef.h>

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif
