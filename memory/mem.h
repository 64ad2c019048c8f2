/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM: one host buffer, guest-physical address 0 to size, shared by every
 * vCPU engine (each maps the same pointer) and by the model's own accesses.
 * This module depends on nothing of ours (libc and OpenSSL's libcrypto only).
 * RAM holds what each page's owner reads (plaintext); under SEV-ES/SNP the
 * hypervisor's accessors below compute what it would see in DRAM instead:
 * ciphertext of private pages (keys.h, docs/sev-snp-facts.md 6.4) and RMP faults on
 * writes to assigned pages (rmp.h, docs/sev-snp-facts.md 6.2).
 */
#ifndef SNPREF_MEM_H
#define SNPREF_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEM_PAGE_SIZE  4096u
#define MEM_PAGE_SHIFT 12u
#define MEM_PAGE_MASK  (~(uint64_t)(MEM_PAGE_SIZE - 1))

struct rmp;
struct mem_keys;

struct mem {
    uint8_t *ram;       /* page-aligned, zero-filled at creation */
    uint64_t size;      /* bytes, a multiple of 2 MiB */
    /* SEV: whose key each page's contents are under (0 = none, plaintext).
     * Set when a guest maps the page with C=1 (mem_set_owner); under SNP the
     * RMP says it instead. NULL until mem_enable_encryption(). */
    uint16_t *owner;
    struct rmp *rmp;            /* SNP only, else NULL (not owned) */
    struct mem_keys *keys;      /* SEV-ES/SNP, else NULL (not owned) */
    /* One byte per page (NULL: nobody watches; not owned): whether the page
     * holds code a vCPU engine translated, and whether it was written since.
     * The value only grows: 0 = NONE, odd = CLEAN, even = WRITTEN. The CPU
     * turns NONE into CLEAN (1); every write through this module's
     * accessors (the model's own: loader, string I/O, IDT frames, GHCB,
     * devices, and the CPU's TLB fill of a guest store) turns CLEAN into the
     * next WRITTEN value, which is how the CPU learns that translated code
     * may have changed under it; the CPU may re-arm a WRITTEN page into the
     * next CLEAN value (mem_code_rearm). A CPU that remembers the value it
     * checked a block's bytes at knows, while the value is unchanged and
     * CLEAN, that nothing wrote the page since. */
    uint8_t *code;
    /* How many pages turned from CLEAN to WRITTEN so far: a CPU that caches
     * "this block's pages are unwritten" re-checks when it moved. */
    uint64_t code_written;
};

#define MEM_CODE_NONE    0u
#define MEM_CODE_CLEAN   1u /* the first CLEAN value: translated, not written since */
#define MEM_CODE_WRITTEN 2u /* the first WRITTEN value */
/* How often a page may be re-armed: a page that keeps being written (data
 * beside code) stays WRITTEN after that, its blocks compared at each entry. */
#define MEM_CODE_REARMS  16u

static inline bool mem_code_clean(uint8_t c) { return c & 1; }
static inline bool mem_code_written(uint8_t c) { return c && !(c & 1); }

/* A write to [gpa, gpa+len) in RAM: marks code pages in it WRITTEN. */
static inline void mem_note_write(struct mem *m, uint64_t gpa, uint64_t len)
{
    if (!m->code || !len)
        return;
    for (uint64_t pfn = gpa >> MEM_PAGE_SHIFT; pfn <= (gpa + len - 1) >> MEM_PAGE_SHIFT; pfn++)
        if (mem_code_clean(m->code[pfn])) {
            m->code[pfn]++;
            m->code_written++;
        }
}

/* Turns a WRITTEN page CLEAN again, unless it was re-armed MEM_CODE_REARMS
 * times already; true if it did. The caller makes sure that the next store
 * to it comes through mem_note_write again (no writable TLB entry is left). */
static inline bool mem_code_rearm(struct mem *m, uint64_t pfn)
{
    uint8_t c = m->code[pfn];
    if (!mem_code_written(c) || c >= MEM_CODE_WRITTEN + 2 * MEM_CODE_REARMS)
        return false;
    m->code[pfn] = (uint8_t)(c + 1);
    return true;
}

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

/* ---- The hypervisor's view (SEV-ES/SNP; docs/design.md section 1 "memory/") ---------- */

/* Turns on per-page owners and the hypervisor view; rmp may be NULL (SEV-ES).
 * keys and rmp stay the caller's (mem_destroy frees only the owner table). */
void mem_enable_encryption(struct mem *m, struct mem_keys *keys, struct rmp *rmp);
/* The guest with asid mapped the page at gpa with C=1 (SEV-ES bookkeeping). */
void mem_set_owner(struct mem *m, uint64_t gpa, uint32_t asid);
/* The ASID whose key covers the page (RMP owner under SNP), 0 if none. */
uint32_t mem_owner(const struct mem *m, uint64_t gpa);

/*
 * What the hypervisor reads at spa: plaintext for pages nobody owns, the
 * ciphertext for private pages (keys.h, whole 16-byte blocks encrypted and the
 * wanted bytes copied, so any range and alignment works). false (nothing
 * copied) only if the range leaves RAM. Without encryption: mem_read().
 */
bool mem_hv_read(const struct mem *m, uint64_t spa, void *dst, uint64_t len);
/*
 * A hypervisor write: under SNP, an assigned page refuses it (returns false,
 * *pf_error = the host #PF error code with the RMP bit, docs/sev-snp-facts.md 6.2); under
 * SEV-ES the bytes land as ciphertext of the owner's key (the owner reads
 * garbage: RAM gets keys_decrypt of the blocks as DRAM now holds them). Plain
 * pages are written as given. The RMP check covers the whole range before a
 * byte is written. false also (with *pf_error 0) if the range leaves RAM;
 * pf_error may be NULL, and is 0 after a successful write.
 */
bool mem_hv_write(struct mem *m, uint64_t spa, const void *src, uint64_t len, uint64_t *pf_error);

/* Little-endian scalar accessors for in-range, naturally sized fields. */
uint64_t mem_ld64(const struct mem *m, uint64_t gpa);
uint32_t mem_ld32(const struct mem *m, uint64_t gpa);
void mem_st64(struct mem *m, uint64_t gpa, uint64_t v);
void mem_st32(struct mem *m, uint64_t gpa, uint32_t v);

#endif
