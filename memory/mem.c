/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM and the hypervisor's view of it (see mem.h). RAM always holds what
 * the owner would read (plaintext), so the guests' engines map it directly;
 * the hypervisor's accessors compute what DRAM would show it: ciphertext of
 * the owner's key for private pages (docs/sev-snp-facts.md 6.4, keys.h), an RMP #PF for
 * writes to assigned pages under SNP (docs/sev-snp-facts.md 6.2, rmp.h), and under SEV-ES
 * (no RMP) a write that lands as ciphertext the owner then decrypts to garbage.
 */
#include "mem.h"

#include "keys.h"
#include "rmp.h"
#include "snpref/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MEM_ALIGN (2u << 20)

int mem_init(struct mem *m, uint64_t size, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    if (size == 0 || size % MEM_ALIGN) {
        snprintf(err, errlen, "RAM size %llu is not a non-zero multiple of 2 MiB",
                 (unsigned long long)size);
        return -1;
    }
    /* mmap gives zeroed, page-aligned memory that is only backed when touched,
     * so a large RAM costs nothing until the guest uses it. */
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "cannot allocate %llu MiB of guest RAM",
                 (unsigned long long)(size >> 20));
        return -1;
    }
    m->ram = p;
    m->size = size;
    return 0;
}

void mem_destroy(struct mem *m)
{
    if (m->ram)
        munmap(m->ram, m->size);
    free(m->owner); /* rmp and keys belong to the caller */
    memset(m, 0, sizeof(*m));
}

bool mem_read(const struct mem *m, uint64_t gpa, void *dst, uint64_t len)
{
    const void *p = mem_ptr(m, gpa, len);
    if (!p)
        return false;
    memcpy(dst, p, len);
    return true;
}

bool mem_write(struct mem *m, uint64_t gpa, const void *src, uint64_t len)
{
    void *p = mem_ptr(m, gpa, len);
    if (!p)
        return false;
    memcpy(p, src, len);
    return true;
}

uint64_t mem_ld64(const struct mem *m, uint64_t gpa)
{
    uint64_t v;
    SNP_ASSERT(mem_read(m, gpa, &v, sizeof(v)));
    return v;
}

uint32_t mem_ld32(const struct mem *m, uint64_t gpa)
{
    uint32_t v;
    SNP_ASSERT(mem_read(m, gpa, &v, sizeof(v)));
    return v;
}

void mem_st64(struct mem *m, uint64_t gpa, uint64_t v)
{
    SNP_ASSERT(mem_write(m, gpa, &v, sizeof(v)));
}

void mem_st32(struct mem *m, uint64_t gpa, uint32_t v)
{
    SNP_ASSERT(mem_write(m, gpa, &v, sizeof(v)));
}

/* ---- The hypervisor's view --------------------------------------------------------- */

#define BLOCK 16u /* the encryption engine's unit (keys.h) */

void mem_enable_encryption(struct mem *m, struct mem_keys *keys, struct rmp *rmp)
{
    SNP_ASSERT(keys != NULL && m->ram != NULL);
    if (!m->owner) {
        m->owner = calloc(m->size >> MEM_PAGE_SHIFT, sizeof(*m->owner));
        if (!m->owner)
            SNP_PANIC("cannot allocate the page-owner table for %llu MiB of RAM",
                      (unsigned long long)(m->size >> 20));
    }
    m->keys = keys;
    m->rmp = rmp;
}

void mem_set_owner(struct mem *m, uint64_t gpa, uint32_t asid)
{
    SNP_ASSERT(m->owner != NULL && mem_contains(m, gpa, 1));
    SNP_ASSERT(asid < KEYS_MAX_ASID);
    m->owner[gpa >> MEM_PAGE_SHIFT] = (uint16_t)asid;
}

uint32_t mem_owner(const struct mem *m, uint64_t gpa)
{
    if (!m->keys || !mem_contains(m, gpa, 1))
        return 0;
    if (m->rmp) {
        struct rmp_entry e;
        return rmp_lookup(m->rmp, gpa, &e) && e.assigned ? e.asid : 0;
    }
    return m->owner[gpa >> MEM_PAGE_SHIFT];
}

/* Bytes from spa to the end of its page, at most len. */
static uint64_t page_chunk(uint64_t spa, uint64_t len)
{
    uint64_t left = MEM_PAGE_SIZE - (spa & (MEM_PAGE_SIZE - 1));
    return len < left ? len : left;
}

/* The whole 16-byte blocks around [spa, spa+len), which never leave a page. */
static void block_span(uint64_t spa, uint64_t len, uint64_t *start, uint64_t *span)
{
    *start = spa & ~(uint64_t)(BLOCK - 1);
    *span = ((spa + len + BLOCK - 1) & ~(uint64_t)(BLOCK - 1)) - *start;
}

/* The ciphertext of one page's part [spa, spa+len) under asid, into dst. */
static void read_cipher(const struct mem *m, uint32_t asid, uint64_t spa, uint8_t *dst,
                        uint64_t len)
{
    uint8_t buf[MEM_PAGE_SIZE];
    uint64_t start, span;
    block_span(spa, len, &start, &span);
    keys_encrypt(m->keys, asid, start, m->ram + start, buf, span);
    memcpy(dst, buf + (spa - start), len);
}

bool mem_hv_read(const struct mem *m, uint64_t spa, void *dst, uint64_t len)
{
    if (!mem_contains(m, spa, len))
        return false;
    uint8_t *out = dst;
    while (len) {
        uint64_t n = page_chunk(spa, len);
        uint32_t asid = mem_owner(m, spa);
        if (asid)
            read_cipher(m, asid, spa, out, n);
        else
            memcpy(out, m->ram + spa, n);
        spa += n, out += n, len -= n;
    }
    return true;
}

/* SEV-ES: src lands in DRAM over one page's [spa, spa+len) of asid's
 * ciphertext; RAM keeps what the owner will now read, its decryption. */
static void write_cipher(struct mem *m, uint32_t asid, uint64_t spa, const uint8_t *src,
                         uint64_t len)
{
    uint8_t buf[MEM_PAGE_SIZE];
    uint64_t start, span;
    block_span(spa, len, &start, &span);
    keys_encrypt(m->keys, asid, start, m->ram + start, buf, span);
    memcpy(buf + (spa - start), src, len);
    keys_decrypt(m->keys, asid, start, buf, m->ram + start, span);
}

/* SNP: the first page of the range the RMP refuses a host write to, if any. */
static bool host_write_refused(const struct mem *m, uint64_t spa, uint64_t len,
                               uint64_t *pf_error)
{
    while (len) {
        uint64_t n = page_chunk(spa, len);
        struct rmp_check c = rmp_check_host(m->rmp, spa, true);
        if (c.verdict != RMP_ALLOW) {
            if (pf_error)
                *pf_error = c.npf_error;
            return true;
        }
        spa += n, len -= n;
    }
    return false;
}

bool mem_hv_write(struct mem *m, uint64_t spa, const void *src, uint64_t len, uint64_t *pf_error)
{
    if (pf_error)
        *pf_error = 0;
    if (!mem_contains(m, spa, len))
        return false;
    if (m->keys && m->rmp && host_write_refused(m, spa, len, pf_error))
        return false; /* nothing written: the check covers the range first */
    const uint8_t *in = src;
    while (len) {
        uint64_t n = page_chunk(spa, len);
        uint32_t asid = mem_owner(m, spa); /* 0 under SNP: checked above */
        if (asid)
            write_cipher(m, asid, spa, in, n);
        else
            memcpy(m->ram + spa, in, n);
        spa += n, in += n, len -= n;
    }
    return true;
}
