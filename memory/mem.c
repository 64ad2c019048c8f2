/* SPDX-License-Identifier: MIT */
/* Guest RAM (see mem.h). */
#include "mem.h"

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
