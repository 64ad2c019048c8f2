/* SPDX-License-Identifier: MIT */
/*
 * Reaching CPU state that Unicorn 2.1.4 has no API for (pinned by
 * tests/unit/test_unicorn.c), through the CPU context blob of
 * uc_context_save/uc_context_restore, which is a copy of QEMU's CPUX86State.
 *
 * 1. The exception in flight. QEMU tracks the exception "in flight" in
 * env->old_exception so that a fault during delivery becomes #DF and then a
 * triple fault; it clears the field only when it delivers an exception itself.
 * Unicorn hands exceptions to the UC_HOOK_INTR hook instead and never
 * delivers, so the field is never cleared:
 * a guest's second #GP reaches the hook as #DF and its third silently stops
 * the engine. The model delivers exceptions through the guest IDT itself
 * (idt.c), so after each one it clears the field, as QEMU's own delivery
 * would.
 *
 * The field has no API. Its place in the CPU context blob is found once per
 * process by calibration: in scratch engines, a #DE leaves it 0 and a #GP
 * leaves it 13 where a fresh engine holds -1; exactly one 32-bit slot of the
 * context must differ that way, or the model refuses to start (an upgrade that
 * moved the field must not silently corrupt exception delivery).
 *
 * 2. The CPL and the segment descriptor caches. A 64-bit engine's register API
 * writes only a segment's selector: its base, limit and attributes, and the CPL
 * the translator checks privileged instructions against (QEMU's hflags), stay
 * as they were. The model changes privilege itself (IDT delivery, SYSCALL,
 * SYSRET, the world switch), so it edits them in the blob, the way QEMU's own
 * segment loads do (cpu_x86_load_seg_cache: CS.L selects 64-bit code in long
 * mode, CS.D and SS.B the 32-bit code and stack, SS.DPL the CPL). The places
 * are calibrated, never assumed: the register file is found by a signature,
 * the segment caches by an FS load (the one 64-bit register write that loads
 * a descriptor), the hidden flags by the bits CR0.TS and CR4.OSFXSR set in
 * them; each must be found exactly once.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu_int.h"

static long old_exc_off = -1;
static long segs_off = -1;   /* SegmentCache segs[6] (ES, CS, SS, DS, FS, GS) */
static long hflags_off = -1; /* uint32_t hflags */
static bool calibrated;

/* QEMU's SegmentCache in a 64-bit target: selector, base, limit, flags. */
#define SC_SIZE   24
#define SC_SEL    0
#define SC_BASE   8
#define SC_LIMIT  16
#define SC_FLAGS  20

/* hflags bits (QEMU target/i386/cpu.h). */
#define HF_CPL_MASK    3u
#define HF_CS32        (1u << 4)
#define HF_SS32        (1u << 5)
#define HF_ADDSEG      (1u << 6)
#define HF_PE          (1u << 7)
#define HF_TS          (1u << 11)
#define HF_LMA         (1u << 14)
#define HF_CS64        (1u << 15)
#define HF_VM          (1u << 17)
#define HF_OSFXSR      (1u << 22)

static void stop_hook(uc_engine *uc, uint32_t intno, void *ud)
{
    (void)intno;
    (void)ud;
    uc_emu_stop(uc);
}

/* Runs `code` in a scratch engine and returns its context after the fault. */
static uc_context *fault_context(const uint8_t *code, size_t n, uc_context **fresh, size_t *size)
{
    uc_engine *uc;
    UC_CHECK(uc_open(UC_ARCH_X86, UC_MODE_64, &uc));
    UC_CHECK(uc_mem_map(uc, 0, 0x10000, UC_PROT_ALL));
    UC_CHECK(uc_mem_write(uc, 0x1000, code, n));
    uint64_t sp = 0x8000;
    UC_CHECK(uc_reg_write(uc, UC_X86_REG_RSP, &sp));
    uc_hook h;
    UC_CHECK(uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)stop_hook, NULL, 1, 0));
    uc_context *after;
    UC_CHECK(uc_context_alloc(uc, &after));
    if (fresh) {
        UC_CHECK(uc_context_alloc(uc, fresh));
        UC_CHECK(uc_context_save(uc, *fresh));
    }
    uc_emu_start(uc, 0x1000, 0x1000 + n, 0, 0);
    UC_CHECK(uc_context_save(uc, after));
    *size = uc_context_size(uc);
    uc_close(uc);
    return after;
}

static void ck_reg(uc_engine *uc, int reg, uint64_t val) { UC_CHECK(uc_reg_write(uc, reg, &val)); }

/* Offsets in a blob of `n` bytes where `want` (len bytes) occurs; returns how
 * many times, the last in *at. */
static int find_all(const unsigned char *p, size_t n, const void *want, size_t len, size_t step,
                    long *at)
{
    int hits = 0;
    for (size_t off = 0; off + len <= n; off += step)
        if (!memcmp(p + off, want, len)) {
            *at = (long)off;
            hits++;
        }
    return hits;
}

/* The 32-bit slot that CR0.TS and CR4.OSFXSR toggle in the hidden flags:
 * returns how many slots qualify, the last in *off. */
static int find_hflags(uc_engine *uc, uc_context *a, uc_context *b, long *off)
{
    uint64_t cr0 = 0, cr4 = 0;
    UC_CHECK(uc_reg_read(uc, UC_X86_REG_CR0, &cr0));
    UC_CHECK(uc_reg_read(uc, UC_X86_REG_CR4, &cr4));
    ck_reg(uc, UC_X86_REG_CR0, cr0 & ~(1ull << 3));
    ck_reg(uc, UC_X86_REG_CR4, cr4 & ~(1ull << 9));
    UC_CHECK(uc_context_save(uc, a));
    ck_reg(uc, UC_X86_REG_CR0, cr0 | (1ull << 3)); /* TS */
    ck_reg(uc, UC_X86_REG_CR4, cr4 | (1ull << 9)); /* OSFXSR */
    UC_CHECK(uc_context_save(uc, b));
    const unsigned char *pa = (const void *)a, *pb = (const void *)b;
    int hits = 0;
    for (size_t o = 0; o + 4 <= uc_context_size(uc); o += 4) {
        uint32_t x, y;
        memcpy(&x, pa + o, 4);
        memcpy(&y, pb + o, 4);
        if ((x ^ y) == (HF_TS | HF_OSFXSR) && (y & HF_LMA) && (y & HF_CS64)) {
            *off = (long)o;
            hits++;
        }
    }
    return hits;
}

static void calibrate_segments(void)
{
    uc_engine *uc;
    UC_CHECK(uc_open(UC_ARCH_X86, UC_MODE_64, &uc));
    UC_CHECK(uc_mem_map(uc, 0, 0x10000, UC_PROT_ALL));
    /* A GDT whose entry 0x08 is a DPL3 data segment with a base no other field
     * holds; FS = 0x0B loads it (selector, base 0x1BA56789, limit 4 GiB - 1,
     * flags = descriptor bits 63:32). */
    const uint64_t gdt[2] = {0, 0x1BCFF3A56789FFFFull};
    UC_CHECK(uc_mem_write(uc, 0x1000, gdt, sizeof(gdt)));
    uc_x86_mmr gdtr = {0, 0x1000, sizeof(gdt) - 1, 0};
    UC_CHECK(uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr));
    ck_reg(uc, UC_X86_REG_FS, 0x0B);
    uc_context *a, *b;
    UC_CHECK(uc_context_alloc(uc, &a));
    UC_CHECK(uc_context_alloc(uc, &b));
    int hits = find_hflags(uc, a, b, &hflags_off);
    unsigned char fs[SC_SIZE - SC_BASE];
    uint32_t limit = 0xFFFFFFFFu, flags = (uint32_t)(gdt[1] >> 32), at_sel = 0;
    uint64_t base = 0x1BA56789ull;
    memcpy(fs, &base, 8);
    memcpy(fs + SC_LIMIT - SC_BASE, &limit, 4);
    memcpy(fs + SC_FLAGS - SC_BASE, &flags, 4);
    long fs_off = -1;
    int fs_hits = find_all((const void *)b, uc_context_size(uc), fs, sizeof(fs), 4, &fs_off);
    if (fs_hits == 1)
        memcpy(&at_sel, (const unsigned char *)b + fs_off - SC_BASE, 4);
    uc_context_free(a);
    uc_context_free(b);
    uc_close(uc);
    if (hits != 1 || fs_hits != 1 || at_sel != 0x0B)
        SNP_PANIC("cannot locate Unicorn's hidden flags (%d candidates) or segment caches (%d): "
                  "this Unicorn differs from 2.1.4; see cpu/ucquirk.c", hits, fs_hits);
    segs_off = fs_off - SC_BASE - 4 * SC_SIZE; /* FS is segs[4] */
}

static void calibrate(void)
{
    static const uint8_t de[] = {0x31, 0xC9, 0xF7, 0xF1};                   /* xor ecx,ecx; div ecx */
    static const uint8_t gp[] = {0x66, 0xB8, 0x34, 0x12, 0x8E, 0xD8};       /* mov ds, 0x1234 */
    uc_context *fresh = NULL;
    size_t n1, n2;
    uc_context *a = fault_context(de, sizeof(de), &fresh, &n1);
    uc_context *b = fault_context(gp, sizeof(gp), NULL, &n2);
    const unsigned char *p0 = (const void *)fresh, *pa = (const void *)a, *pb = (const void *)b;
    int hits = 0;
    for (size_t off = 0; off + 4 <= n1 && off + 4 <= n2; off += 4) {
        int32_t v0, va, vb;
        memcpy(&v0, p0 + off, 4);
        memcpy(&va, pa + off, 4);
        memcpy(&vb, pb + off, 4);
        if (v0 == -1 && va == 0 && vb == 13) {
            old_exc_off = (long)off;
            hits++;
        }
    }
    uc_context_free(fresh);
    uc_context_free(a);
    uc_context_free(b);
    if (hits != 1)
        SNP_PANIC("cannot locate Unicorn's in-flight exception field (%d candidates): this Unicorn "
                  "differs from 2.1.4; see cpu/ucquirk.c and tests/unit/test_unicorn.c", hits);
    calibrate_segments();
    calibrated = true;
}

void ucq_init(void)
{
    if (!calibrated)
        calibrate();
}

void ucq_snapshot(struct vcpu *v)
{
    if (!v->ctx_blob)
        UC_CHECK(uc_context_alloc(v->uc, &v->ctx_blob));
    UC_CHECK(uc_context_save(v->uc, v->ctx_blob));
}

void ucq_commit(struct vcpu *v) { UC_CHECK(uc_context_restore(v->uc, v->ctx_blob)); }

void ucq_clear_old_exception(struct vcpu *v)
{
    ucq_snapshot(v);
    int32_t none = -1;
    memcpy((unsigned char *)v->ctx_blob + old_exc_off, &none, sizeof(none));
    ucq_commit(v);
}

static unsigned char *blob(const struct vcpu *v, long off)
{
    SNP_ASSERT(v->ctx_blob && off >= 0);
    return (unsigned char *)v->ctx_blob + off;
}

static uint32_t get_hflags(const struct vcpu *v)
{
    uint32_t hf;
    memcpy(&hf, blob(v, hflags_off), 4);
    return hf;
}

static void put_hflags(struct vcpu *v, uint32_t hf) { memcpy(blob(v, hflags_off), &hf, 4); }

void ucq_seg(const struct vcpu *v, enum ucq_sreg r, struct ucq_seg *s)
{
    const unsigned char *p = blob(v, segs_off + (long)r * SC_SIZE);
    uint32_t sel;
    memcpy(&sel, p + SC_SEL, 4);
    s->sel = (uint16_t)sel;
    memcpy(&s->base, p + SC_BASE, 8);
    memcpy(&s->limit, p + SC_LIMIT, 4);
    memcpy(&s->flags, p + SC_FLAGS, 4);
}

bool ucq_code64(const struct vcpu *v) { return get_hflags(v) & HF_CS64; }

void ucq_set_cpl(struct vcpu *v, unsigned cpl)
{
    put_hflags(v, (get_hflags(v) & ~HF_CPL_MASK) | (cpl & 3));
}

/* As QEMU's cpu_x86_load_seg_cache() updates the hidden flags after a load
 * into CS or SS (the two the model loads). */
void ucq_load_seg(struct vcpu *v, enum ucq_sreg r, const struct ucq_seg *s)
{
    SNP_ASSERT(r == UCQ_CS || r == UCQ_SS);
    unsigned char *p = blob(v, segs_off + (long)r * SC_SIZE);
    uint32_t sel = s->sel;
    memcpy(p + SC_SEL, &sel, 4);
    memcpy(p + SC_BASE, &s->base, 8);
    memcpy(p + SC_LIMIT, &s->limit, 4);
    memcpy(p + SC_FLAGS, &s->flags, 4);
    uint32_t hf = get_hflags(v);
    if (r == UCQ_CS) {
        if ((hf & HF_LMA) && (s->flags & SEGF_L))
            hf = (hf | HF_CS32 | HF_SS32 | HF_CS64) & ~HF_ADDSEG;
        else
            hf = (hf & ~(HF_CS32 | HF_CS64)) | ((s->flags & SEGF_DB) ? HF_CS32 : 0);
    } else {
        hf = (hf & ~HF_CPL_MASK) | ((s->flags >> SEGF_DPL_SHIFT) & 3);
    }
    /* SS.B gives the stack size; outside 64-bit mode, ADDSEG says whether
     * segment bases must be added (always in real and virtual-8086 mode and
     * with 16-bit code, else when a DS, ES or SS base is not 0). */
    struct ucq_seg ss, ds, es;
    ucq_seg(v, UCQ_SS, &ss);
    ucq_seg(v, UCQ_DS, &ds);
    ucq_seg(v, UCQ_ES, &es);
    uint32_t nh = (ss.flags & SEGF_DB) ? HF_SS32 : 0;
    if (!(hf & HF_CS64)) {
        if (!(hf & HF_PE) || (hf & HF_VM) || !(hf & HF_CS32))
            nh |= HF_ADDSEG;
        else if (ss.base | ds.base | es.base)
            nh |= HF_ADDSEG;
    }
    hf = (hf & ~(HF_SS32 | HF_ADDSEG)) | nh;
    put_hflags(v, hf);
}
