/* SPDX-License-Identifier: MIT */
/*
 * CPU modes in one engine: real mode, 32-bit protected mode and long mode
 * (SDM vol. 3 9.1, 9.8-9.9; APM vol. 2 1.2, 14.6).
 *
 * Every engine is created in UC_MODE_64: its register API then reaches RIP,
 * R8-R15 and the 64-bit control registers in every CPU mode, and the CPU
 * itself runs real-mode and 32-bit code natively and switches between the
 * modes when the guest says so (LGDT, CR0.PE, EFER.LME, CR0.PG, far jumps).
 * What that API cannot do is load a segment register's hidden part: in a
 * 64-bit engine a CS/SS/DS/ES write sets the selector only (measured:
 * tests/unit/test_unicorn.c). So a start state that names a mode (real mode
 * after SIPI, the 32-bit multiboot entry, a VMSA) and the model's own event
 * delivery load the hidden parts here, in the CPU state of the engine's
 * context blob, together with the hidden flags QEMU derives from them
 * (hflags: CS32/SS32/CS64/ADDSEG/CPL, as cpu_x86_load_seg_cache computes).
 *
 * The fields have no API. Their places in the blob are found once per process
 * by calibration, as ucquirk.c does: an LDTR written through the API marks the
 * descriptor-cache array (which precedes it), an EFER write marks EFER, and
 * the fresh engine's hidden flags must read as 64-bit mode; if any check
 * fails the model refuses to start rather than corrupt state.
 *
 * The decoder needs the current code size (Capstone mode 16, 32 or 64) and
 * the CS base (hooks see linear addresses, RIP is an offset). Both change only
 * when CS is loaded: by the model (boot state, VMSA, event delivery) or by a
 * far transfer the decoder marks (decode.c); mode_refresh() re-reads them.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu_int.h"

/* QEMU's hidden flags and descriptor-cache flags (qemu/target/i386/cpu.h). */
#define HF_CPL_MASK 3u
#define HF_CS32 (1u << 4)
#define HF_SS32 (1u << 5)
#define HF_ADDSEG (1u << 6)
#define HF_LMA (1u << 14)
#define HF_CS64 (1u << 15)
#define HF_SVME (1u << 20)
#define DESC_L (1u << 21)
#define DESC_B (1u << 22)

#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_SVME (1ull << 12)
#define CR0_PE 1ull
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define RFLAGS_VM (1ull << 17)

#define SEG_SIZE 24 /* struct SegmentCache: selector, base, limit, flags */

static long off_segs = -1, off_hflags = -1, off_efer = -1;

static uint32_t ld32(const unsigned char *p) { uint32_t x; memcpy(&x, p, 4); return x; }
static uint64_t ld64(const unsigned char *p) { uint64_t x; memcpy(&x, p, 8); return x; }
static void st32(unsigned char *p, uint32_t x) { memcpy(p, &x, 4); }
static void st64(unsigned char *p, uint64_t x) { memcpy(p, &x, 8); }

/* ---- Calibration ------------------------------------------------------------ */

static uc_context *saved(uc_engine *uc)
{
    uc_context *c;
    UC_CHECK(uc_context_alloc(uc, &c));
    UC_CHECK(uc_context_save(uc, c));
    return c;
}

static void calibrate(void)
{
    uc_engine *uc;
    UC_CHECK(uc_open(UC_ARCH_X86, UC_MODE_64, &uc));
    uc_x86_mmr ldtr = {0x1238, 0x123456789Aull, 0xABCDE, 0x00C0F200};
    UC_CHECK(uc_reg_write(uc, UC_X86_REG_LDTR, &ldtr));
    uint16_t cs = 0x33, ss = 0x2B;
    UC_CHECK(uc_reg_write(uc, UC_X86_REG_CS, &cs));
    UC_CHECK(uc_reg_write(uc, UC_X86_REG_SS, &ss));
    uc_x86_msr efer = {0xC0000080, 0};
    UC_CHECK(uc_reg_read(uc, UC_X86_REG_MSR, &efer));
    uc_context *a = saved(uc);
    efer.value ^= 1ull << 11; /* NXE */
    UC_CHECK(uc_reg_write(uc, UC_X86_REG_MSR, &efer));
    uc_context *b = saved(uc);
    size_t n = uc_context_size(uc);
    const unsigned char *pa = (const void *)a, *pb = (const void *)b;
    int ldt_hits = 0, efer_hits = 0;
    long ldt = -1;
    for (size_t o = 0; o + SEG_SIZE <= n; o += 4) {
        if (ld32(pa + o) == ldtr.selector && ld64(pa + o + 8) == ldtr.base &&
            ld32(pa + o + 16) == ldtr.limit && ld32(pa + o + 20) == ldtr.flags)
            ldt = (long)o, ldt_hits++;
        if (o % 8 == 0 && ld64(pb + o) == efer.value && ld64(pa + o) == (efer.value ^ (1ull << 11)))
            off_efer = (long)o, efer_hits++;
    }
    off_segs = ldt - 6 * SEG_SIZE; /* segs[6] precede ldt; hflags, hflags2 precede segs */
    off_hflags = off_segs - 8;
    bool ok = ldt_hits == 1 && efer_hits == 1 && off_hflags > 0 &&
              ld32(pa + off_segs + 1 * SEG_SIZE) == cs && ld32(pa + off_segs + 2 * SEG_SIZE) == ss &&
              (ld32(pa + off_hflags) & (HF_LMA | HF_CS64 | HF_CS32)) == (HF_LMA | HF_CS64 | HF_CS32);
    uc_context_free(a);
    uc_context_free(b);
    uc_close(uc);
    if (!ok)
        SNP_PANIC("cannot locate Unicorn's segment caches (%d), hidden flags or EFER (%d) in its "
                  "CPU context: this Unicorn differs from 2.1.4; see cpu/mode.c",
                  ldt_hits, efer_hits);
}

void mode_init(void)
{
    if (off_segs < 0)
        calibrate();
}

/* ---- The blob ---------------------------------------------------------------- */

unsigned char *mode_blob_save(struct vcpu *v)
{
    if (!v->ctx_blob)
        UC_CHECK(uc_context_alloc(v->uc, &v->ctx_blob));
    UC_CHECK(uc_context_save(v->uc, v->ctx_blob));
    return (unsigned char *)v->ctx_blob;
}

static void blob_restore(struct vcpu *v) { UC_CHECK(uc_context_restore(v->uc, v->ctx_blob)); }

struct seg_cache {
    uint32_t sel, limit, flags;
    uint64_t base;
};

static struct seg_cache seg_get(const unsigned char *b, int r)
{
    const unsigned char *p = b + off_segs + r * SEG_SIZE;
    return (struct seg_cache){ld32(p), ld32(p + 16), ld32(p + 20), ld64(p + 8)};
}

/* Writes a descriptor cache and updates the hidden flags exactly as QEMU's
 * cpu_x86_load_seg_cache does (CPL is SS.DPL there). */
static void seg_put(unsigned char *b, int r, const struct seg_cache *s, uint64_t cr0,
                    uint64_t rflags)
{
    unsigned char *p = b + off_segs + r * SEG_SIZE;
    st32(p, s->sel), st64(p + 8, s->base), st32(p + 16, s->limit), st32(p + 20, s->flags);
    uint32_t hf = ld32(b + off_hflags);
    if (r == SR_CS) {
        if ((hf & HF_LMA) && (s->flags & DESC_L))
            hf = (hf | HF_CS32 | HF_SS32 | HF_CS64) & ~HF_ADDSEG;
        else
            hf = (hf & ~(HF_CS32 | HF_CS64)) | ((s->flags & DESC_B) ? HF_CS32 : 0);
    }
    if (r == SR_SS)
        hf = (hf & ~HF_CPL_MASK) | ((s->flags >> 13) & 3);
    struct seg_cache ss = seg_get(b, SR_SS), ds = seg_get(b, SR_DS), es = seg_get(b, SR_ES);
    uint32_t nf = (ss.flags & DESC_B) ? HF_SS32 : 0;
    if (hf & HF_CS64)
        ;
    else if (!(cr0 & CR0_PE) || (rflags & RFLAGS_VM) || !(hf & HF_CS32))
        nf |= HF_ADDSEG;
    else if (ds.base | es.base | ss.base)
        nf |= HF_ADDSEG;
    st32(b + off_hflags, (hf & ~(HF_SS32 | HF_ADDSEG)) | nf);
}

/* VMCB attributes (descriptor bits 47:40 in [7:0], 55:52 in [11:8]) <-> QEMU flags
 * (the descriptor's high dword). */
uint32_t flags_of_attrib(uint16_t a)
{
    return ((uint32_t)(a & 0xFF) << 8) | ((uint32_t)(a & 0xF00) << 12);
}

uint16_t attrib_of_flags(uint32_t f)
{
    return (uint16_t)(((f >> 8) & 0xFF) | ((f >> 12) & 0xF00));
}

struct vmcb_seg seg_of_desc(uint16_t sel, uint64_t d)
{
    struct vmcb_seg s = {sel, (uint16_t)(((d >> 40) & 0xFF) | (((d >> 52) & 0xF) << 8)), 0, 0};
    s.limit = (uint32_t)((d & 0xFFFF) | ((d >> 32) & 0xF0000));
    if (d & (1ull << 55)) /* G: 4 KiB granularity */
        s.limit = (s.limit << 12) | 0xFFF;
    s.base = ((d >> 16) & 0xFFFFFF) | (((d >> 56) & 0xFF) << 24);
    return s;
}

/* ---- Mode and CS base ----------------------------------------------------------- */

static void set_decoder_mode(struct vcpu *v, unsigned bits)
{
    if (v->code_bits == bits)
        return;
    v->code_bits = bits;
    cs_mode m = bits == 64 ? CS_MODE_64 : bits == 32 ? CS_MODE_32 : CS_MODE_16;
    cs_option(v->cs, CS_OPT_MODE, m);
    cs_option(v->cs_detail, CS_OPT_MODE, m);
}

static void refresh_from(struct vcpu *v, const unsigned char *b)
{
    uint32_t hf = ld32(b + off_hflags);
    set_decoder_mode(v, (hf & HF_CS64) ? 64 : (hf & HF_CS32) ? 32 : 16);
    /* In 64-bit mode the CS base is treated as 0 (APM vol. 2 4.12.2). */
    v->cs_base = (hf & HF_CS64) ? 0 : seg_get(b, SR_CS).base;
    v->mode_check = false;
}

void mode_refresh(struct vcpu *v) { refresh_from(v, mode_blob_save(v)); }

unsigned vcpu_code_bits(struct vcpu *v)
{
    mode_refresh(v);
    return v->code_bits;
}

/* ---- Segment registers ---------------------------------------------------------- */

void vcpu_get_seg(struct vcpu *v, enum vcpu_sreg r, struct vmcb_seg *s)
{
    struct seg_cache c = seg_get(mode_blob_save(v), (int)r);
    *s = (struct vmcb_seg){(uint16_t)c.sel, attrib_of_flags(c.flags), c.limit, c.base};
}

void mode_set_segs(struct vcpu *v, const struct vmcb_seg *segs[6])
{
    uint64_t cr0 = vcpu_get(v, VR_CR0), rflags = vcpu_get(v, VR_RFLAGS);
    unsigned char *b = mode_blob_save(v);
    /* CS first: DS/ES/SS's ADDSEG depends on the code size (QEMU's order). */
    static const int order[6] = {SR_CS, SR_SS, SR_DS, SR_ES, SR_FS, SR_GS};
    for (int i = 0; i < 6; i++) {
        const struct vmcb_seg *s = segs[order[i]];
        if (!s)
            continue;
        struct seg_cache c = {s->selector, s->limit, flags_of_attrib(s->attrib), s->base};
        seg_put(b, order[i], &c, cr0, rflags);
    }
    blob_restore(v);
    refresh_from(v, b);
}

void vcpu_set_seg(struct vcpu *v, enum vcpu_sreg r, const struct vmcb_seg *s)
{
    const struct vmcb_seg *segs[6] = {0};
    segs[r] = s;
    mode_set_segs(v, segs);
}

/* The segment a real-mode load of `sel` makes: base = sel << 4, the rest kept
 * (SDM vol. 3 20.1.1). */
void mode_load_real_seg(struct vcpu *v, enum vcpu_sreg r, uint16_t sel)
{
    struct vmcb_seg s;
    vcpu_get_seg(v, r, &s);
    s.selector = sel;
    s.base = (uint64_t)sel << 4;
    vcpu_set_seg(v, r, &s);
}

/* ---- Control registers and EFER ---------------------------------------------------- */

/*
 * EFER, CR4, CR3 and CR0 as a start state names them. LMA is not written: the
 * CPU sets it when CR0.PG turns on with EFER.LME (APM vol. 2 14.6.1), and
 * Unicorn's EFER write keeps the old LMA, so EFER goes into the blob with LMA
 * clear and paging off, and the CR0 write through the API derives it.
 */
int mode_set_control(struct vcpu *v, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer,
                     const char **why)
{
    if ((cr0 & CR0_PG) && !(cr0 & CR0_PE)) {
        *why = "CR0.PG without CR0.PE";
        return -1;
    }
    if ((cr0 & CR0_PG) && (efer & EFER_LME) && !(cr4 & CR4_PAE)) {
        *why = "EFER.LME and CR0.PG without CR4.PAE";
        return -1;
    }
    vcpu_set(v, VR_CR0, vcpu_get(v, VR_CR0) & ~CR0_PG); /* leaves long mode if it was on */
    unsigned char *b = mode_blob_save(v);
    uint64_t e = efer & ~EFER_LMA;
    st64(b + off_efer, e);
    uint32_t hf = ld32(b + off_hflags) & ~(HF_LMA | HF_CS64 | HF_SVME);
    st32(b + off_hflags, hf | ((e & EFER_SVME) ? HF_SVME : 0));
    blob_restore(v);
    vcpu_set(v, VR_CR4, cr4);
    vcpu_set(v, VR_CR3, cr3);
    vcpu_set(v, VR_CR0, cr0);
    return 0;
}

/* ---- Start states ----------------------------------------------------------------- */

static const struct vmcb_seg flat_code64 = {0, 0xA9B, 0xFFFFFFFF, 0};  /* P S code/RA, L, G */
static const struct vmcb_seg flat_code32 = {0, 0xC9B, 0xFFFFFFFF, 0};  /* P S code/RA, D, G */
static const struct vmcb_seg flat_data = {0, 0xC93, 0xFFFFFFFF, 0};    /* P S data/WA, B, G */
static const struct vmcb_seg real_code = {0, 0x09B, 0xFFFF, 0};        /* SDM table 9-1 */
static const struct vmcb_seg real_data = {0, 0x093, 0xFFFF, 0};

static void start_segs(struct vcpu *v, const struct vcpu_boot *b)
{
    struct vmcb_seg cs, ds;
    if (b->mode == VCPU_BOOT_REAL) {
        cs = real_code, ds = real_data;
        cs.base = (uint64_t)b->cs << 4;
        ds.base = (uint64_t)b->ds << 4;
    } else {
        cs = b->mode == VCPU_BOOT_PROT32 ? flat_code32 : flat_code64;
        ds = flat_data;
    }
    cs.selector = b->cs;
    ds.selector = b->ds;
    const struct vmcb_seg *segs[6] = {&ds, &cs, &ds, &ds, &ds, &ds};
    mode_set_segs(v, segs);
}

int vcpu_set_boot_state(struct vcpu *v, const struct vcpu_boot *b, char *err, size_t errlen)
{
    const char *why;
    bool real = b->mode == VCPU_BOOT_REAL;
    if (mode_set_control(v, b->cr0, b->cr3, b->cr4, b->efer, &why) < 0) {
        snprintf(err, errlen, "vCPU %u boot state: %s", v->index, why);
        return -1;
    }
    bool lma = (vcpu_get(v, VR_EFER) & EFER_LMA) != 0;
    if ((b->mode == VCPU_BOOT_LONG64) != lma || (real == ((b->cr0 & CR0_PE) != 0))) {
        snprintf(err, errlen, "vCPU %u boot state: CR0 %#llx / EFER %#llx do not name the %s mode",
                 v->index, (unsigned long long)b->cr0, (unsigned long long)b->efer,
                 real ? "real" : b->mode == VCPU_BOOT_PROT32 ? "32-bit protected" : "long");
        return -1;
    }
    /* Real mode: the descriptor tables as INIT leaves them (SDM table 9-1). */
    uint16_t idt_limit = real ? 0xFFFF : 0;
    uc_x86_mmr gdtr = {0, b->gdt_base, b->gdt_limit, 0}, idtr = {0, 0, idt_limit, 0};
    UC_CHECK(uc_reg_write(v->uc, UC_X86_REG_GDTR, &gdtr));
    UC_CHECK(uc_reg_write(v->uc, UC_X86_REG_IDTR, &idtr));
    vcpu_set(v, VR_RFLAGS, b->rflags | 2);
    start_segs(v, b);
    for (int r = VR_RAX; r <= VR_R15; r++)
        vcpu_set(v, (enum vcpu_reg)r, 0);
    vcpu_set(v, VR_RSP, b->rsp);
    vcpu_set(v, VR_RDI, b->rdi);
    vcpu_set(v, VR_RSI, b->rsi);
    vcpu_set(v, VR_RAX, b->rax);
    vcpu_set(v, VR_RBX, b->rbx);
    vcpu_set(v, VR_RDX, b->rdx);
    vcpu_set(v, VR_RIP, b->rip);
    vcpu_msr_set(v, 0xC0000100, 0);
    vcpu_msr_set(v, 0xC0000101, 0);
    vcpu_msr_set(v, 0xC0000102, 0);
    v->nmi_blocked = false;
    v->shadow_pc = UINT64_MAX;
    UC_CHECK(uc_ctl_flush_tlb(v->uc));
    return 0;
}

/*
 * INIT then SIPI with vector V (SDM vol. 3 9.1.1 table 9-1, 9.4.4; APM vol. 2
 * 16.5): real mode, CS = V << 8 with base V << 12 and limit 0xFFFF, IP = 0,
 * CR0 = 0x60000010, EFER = 0, RFLAGS = 2, DR7 = 0x400, the data segments 0 with
 * limit 0xFFFF, GDTR/IDTR base 0 limit 0xFFFF. XXX(model): EDX holds 0, where
 * hardware puts the processor signature (CPUID 1 EAX) there.
 */
void vcpu_sipi(struct vcpu *v, uint8_t vector)
{
    struct vcpu_boot b = {.mode = VCPU_BOOT_REAL, .rip = 0, .rflags = 2, .cr0 = 0x60000010,
                          .gdt_limit = 0xFFFF, .cs = (uint16_t)(vector << 8), .ds = 0};
    char err[128];
    if (vcpu_set_boot_state(v, &b, err, sizeof(err)) < 0)
        SNP_PANIC("%s", err);
    vcpu_set(v, VR_CR2, 0);
    vcpu_set(v, VR_DR7, 0x400);
}
