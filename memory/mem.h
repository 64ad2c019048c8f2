/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM: one host buffer, guest-physical address 0 to size, shared by every
 * vCPU engine (each maps the same pointer) and by the model's own accesses.
 * This module depends on nothing of ours. Later issues add the RMP and the
 * per-ASID keys here; every host-side access goes through these accessors so
 * that those checks have one place to live.
 */
#ifndef SNPREF_MEM_H
#define SNPREF_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEM_PAGE_SIZE  4096u
#define MEM_PAGE_SHIFT 12u
#define MEM_PAGE_MASK  (~(uint64_t)(MEM_PAGE_SIZE - 1))

struct mem {
    uint8_t *ram;       /* page-aligned, zero-filled at creation */
    uint64_t size;      /* bytes, a multiple of 2 MiB */
};

/* Allocates size bytes of zeroed RAM. Returns 0, or -1 with a message in err. */
int mem_init(struct mem *m, uint64_t size, char *err, size_t errlen);
void mem_destroy(struct mem *m);

static inline bool mem_contains(const struct mem *m, uint64_t gpa, uint64_t len)
{
    return len <= m->size && gpa <= m->size - len;
}

/* Host pointer to [gpa, gpa+len) or NULL when any of it lies outside RAM. */
static inline void *mem_ptr(const struct mem *m, uint64_t gpa, uint64_t len)
{
    return mem_contains(m, gpa, len) ? m->ram + gpa : NULL;
}

/* Copy helpers; return false (and copy nothing) when the range leaves RAM. */
bool mem_read(const struct mem *m, uint64_t gpa, void *dst, uint64_t len);
bool mem_write(struct mem *m, uint64_t gpa, const void *src, uint64_t len);

/* Little-endian scalar accessors for in-range, naturally sized fields. */
uint64_t mem_ld64(const struct mem *m, uint64_t gpa);
uint32_t mem_ld32(const struct mem *m, uint64_t gpa);
void mem_st64(struct mem *m, uint64_t gpa, uint64_t v);
void mem_st32(struct mem *m, uint64_t gpa, uint32_t v);

#endif
