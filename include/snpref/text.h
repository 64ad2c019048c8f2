/* SPDX-License-Identifier: MIT */
/*
 * User text in and out, the same way everywhere: strict number parsing (a
 * value is digits and nothing else: no sign, no space, no trailing junk, so
 * "0x-30000" or "0x 10" are refused rather than read as something else), and
 * the one escape for user text echoed in a message, so that every error stays
 * one line (docs/cli.md) whatever bytes a file name, key or value holds.
 * Header-only, depends on nothing (like base.h).
 */
#ifndef SNPREF_TEXT_H
#define SNPREF_TEXT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static inline int snp_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The hex digits at p (no prefix): their count, 1 to 16, with the value in
 * *out; 0 when there is none or more than 16 (nothing stored). */
static inline size_t snp_scan_hex(const char *p, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = 0;
    for (int d; (d = snp_hex_digit(p[n])) >= 0; n++) {
        if (n == 16)
            return 0;
        v = v << 4 | (uint64_t)d;
    }
    if (n)
        *out = v;
    return n;
}

/* "0x" (or "0X") and 1 to 16 hex digits, nothing else. */
static inline bool snp_parse_hex(const char *s, uint64_t *out)
{
    if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2])
        return false;
    uint64_t v = 0;
    size_t n = 0;
    for (const char *p = s + 2; *p; p++, n++) {
        int d = snp_hex_digit(*p);
        if (d < 0 || n >= 16)
            return false;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return true;
}

/* Decimal digits that fit in 64 bits, or snp_parse_hex(); nothing else. */
static inline bool snp_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return false;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        return snp_parse_hex(s, out);
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/*
 * Escapes control bytes (0x00-0x1f, 0x7f) in place as \n, \t, \r or \xHH,
 * truncating to cap bytes (NUL included). Other bytes stay as they are, a
 * backslash too: escaping twice changes nothing, so a message may be escaped
 * where it is built and again where it is printed. A NUL cannot be inside a C
 * string; the readers refuse one in their input (a raw NUL byte, or \u0000 in
 * JSON) with a message saying so.
 */
static inline char *snp_esc_inplace(char *buf, size_t cap)
{
    static const char hexd[] = "0123456789abcdef";
    size_t n = strlen(buf), o = 0;
    char *src = malloc(n + 1);
    if (!src)
        return buf;
    memcpy(src, buf, n + 1);
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        char rep[5] = {0};
        if (c == '\n' || c == '\t' || c == '\r')
            rep[0] = '\\', rep[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
        else if (c < 0x20 || c == 0x7f)
            rep[0] = '\\', rep[1] = 'x', rep[2] = hexd[c >> 4], rep[3] = hexd[c & 15];
        else
            rep[0] = (char)c;
        size_t l = strlen(rep);
        if (o + l + 1 > cap)
            break;
        memcpy(buf + o, rep, l);
        o += l;
    }
    if (cap)
        buf[o < cap ? o : cap - 1] = '\0';
    free(src);
    return buf;
}

/* True if JSON text holds a \u0000 escape: cJSON would decode it into a NUL
 * that silently ends the C string. */
static inline bool snp_json_has_nul_escape(const char *s)
{
    for (; *s; s++)
        if (*s == '\\') {
            if (strncmp(s + 1, "u0000", 5) == 0)
                return true;
            if (s[1])
                s++;
        }
    return false;
}

/* fopen() for a file the user names as input: a directory fails like a
 * missing file (errno EISDIR), so every verb reports it as missing input (66)
 * instead of failing later at the first read. */
static inline FILE *snp_fopen_input(const char *path, const char *mode)
{
    FILE *f = fopen(path, mode);
    struct stat st;
    if (f && fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        errno = EISDIR;
        return NULL;
    }
    return f;
}

/* True if path names a directory (an output file cannot go there). */
static inline bool snp_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

#endif
