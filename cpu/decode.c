/* SPDX-License-Identifier: MIT */
/*
 * Block decode and exact-address intercepts (docs/unicorn.md "Hooks").
 *
 * Unicorn hooks CPUID, IN/OUT and RDTSC(P) itself but has no hook for RDMSR,
 * WRMSR and the other instructions a VMCB can intercept. So every translated
 * block is decoded once with Capstone when the block hook first sees it: the
 * decode gives its instruction count (instruction accounting stays per block)
 * and the addresses of interceptable instructions, each of which gets a
 * UC_HOOK_CODE on exactly that address. A block that needed new hooks is
 * retranslated before it runs (the block hook writes RIP back to its start).
 *
 * Self-modifying code (SDM vol. 3 8.1.3; APM vol. 2 7.6.1). The pages holding
 * decoded code are marked in the map all engines share (mem->code):
 *  - CLEAN, code never written: the TLB-fill hook grants no write access to
 *    them, so the first store by any vCPU comes back through the hook, which
 *    marks the page WRITTEN (as every model write through memory/ does);
 *  - WRITTEN: stores run at full speed in every engine (paging.c). Unicorn
 *    2.1.4 does not keep an engine's translations coherent with them, nor
 *    with another engine's stores or the model's (test_unicorn.c pins both),
 *    so a block on a WRITTEN page is compared with its decoded bytes each
 *    time it is entered: if they changed, the block is dropped (with the
 *    intercepts whose instructions changed) and retranslated before it runs;
 *  - re-armed: a block found unchanged turns its WRITTEN page CLEAN again
 *    (a new CLEAN value, mem.h) and drops every engine's writable TLB
 *    entries, so the next store traps again. Each block remembers the page
 *    state it was last checked at and is compared once more after any
 *    change, then runs uncompared while the page stays CLEAN. Code patched
 *    once (a kernel's alternatives, jump labels) so stops costing a
 *    comparison per entry; a page re-armed MEM_CODE_REARMS times (data
 *    beside code, stored to all the time) stays WRITTEN instead of trapping
 *    at every store.
 * XXX(model): on a WRITTEN page a store into the block being executed takes
 * effect at the next block entry (a jump, a call, an intercept), not at the
 * next instruction as on AMD hardware; SDM 8.1.3 asks portable code to jump
 * after modifying code anyway.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu_int.h"

void on_icpt(uc_engine *uc, uint64_t addr, uint32_t size, void *ud); /* vcpu.c */

/* ---- Block table (open addressing, key (pc, size); a hit matches the code size too) */

static size_t blk_hash(uint64_t pc, uint32_t size, size_t cap)
{
    return (size_t)((pc * 0x9E3779B97F4A7C15ull) ^ size) & (cap - 1);
}

struct blk *blk_lookup(struct vcpu *v, uint64_t pc, uint32_t size)
{
    if (!v->blk_cap)
        return NULL;
    for (size_t i = blk_hash(pc, size, v->blk_cap);; i = (i + 1) & (v->blk_cap - 1)) {
        struct blk *b = v->blk_tab[i];
        if (!b)
            return NULL;
        if (b->pc == pc && b->size == size && !b->dead && b->bits == v->code_bits)
            return b;
    }
}

static void blk_insert(struct vcpu *v, struct blk *b);

static void blk_hot_clear(struct vcpu *v)
{
    for (unsigned i = 0; v->blk_hot && i < BLK_HOT_SLOTS; i++)
        v->blk_hot[i].pc = BLK_HOT_NONE;
}

void blk_hot_fill(struct vcpu *v, struct blk *b)
{
    if (!v->blk_hot) {
        v->blk_hot = malloc(BLK_HOT_SLOTS * sizeof(*v->blk_hot));
        SNP_ASSERT(v->blk_hot);
        blk_hot_clear(v);
    }
    SNP_ASSERT(!b->dead);
    uint32_t gen = blk_watched(v, b) ? BLK_HOT_WATCHED : (uint32_t)v->mem->code_written;
    *blk_hot_slot(v->blk_hot, b->pc) = (struct blk_hot){
        .pc = b->pc, .gen = gen, .size = b->size,
        .icount = b->icount, .bits = b->bits, .ends_in_shadow = b->ends_in_shadow, .b = b};
}


/* Rebuilds the table at twice the size, freeing the dead blocks (so no
 * blk_hot slot may keep pointing at one). */
static void blk_grow(struct vcpu *v)
{
    blk_hot_clear(v);
    struct blk **old = v->blk_tab;
    size_t oldcap = v->blk_cap;
    v->blk_cap = oldcap ? oldcap * 2 : 1024;
    v->blk_tab = calloc(v->blk_cap, sizeof(*v->blk_tab));
    SNP_ASSERT(v->blk_tab);
    v->blk_n = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i] && !old[i]->dead)
            blk_insert(v, old[i]);
        else if (old[i]) {
            free(old[i]->offs);
            free(old[i]->bytes);
            free(old[i]);
        }
    free(old);
}

static void blk_insert(struct vcpu *v, struct blk *b)
{
    if ((v->blk_n + 1) * 2 > v->blk_cap)
        blk_grow(v);
    size_t i = blk_hash(b->pc, b->size, v->blk_cap);
    while (v->blk_tab[i])
        i = (i + 1) & (v->blk_cap - 1);
    v->blk_tab[i] = b;
    v->blk_n++;
}

int blk_insn_index(const struct blk *b, uint64_t va)
{
    if (va < b->pc || va >= b->pc + b->size)
        return -1;
    uint16_t off = (uint16_t)(va - b->pc);
    for (int i = 0; i < b->icount; i++)
        if (b->offs[i] == off)
            return i;
    return -1;
}

/* ---- Intercept table (open addressing, key va) ---------------------------- */

struct icpt *icpt_find(struct vcpu *v, uint64_t va)
{
    if (!v->icpt_cap)
        return NULL;
    for (size_t i = (size_t)(va * 0x9E3779B97F4A7C15ull) & (v->icpt_cap - 1);;
         i = (i + 1) & (v->icpt_cap - 1)) {
        struct icpt *c = &v->icpt_tab[i];
        if (!c->va && !c->kind)
            return NULL;
        if (c->va == va)
            return c;
    }
}

static struct icpt *icpt_slot(struct vcpu *v, uint64_t va)
{
    struct icpt *c = icpt_find(v, va);
    if (c)
        return c;
    if ((v->icpt_n + 1) * 2 > v->icpt_cap) {
        struct icpt *old = v->icpt_tab;
        size_t oldcap = v->icpt_cap;
        v->icpt_cap = oldcap ? oldcap * 2 : 256;
        v->icpt_tab = calloc(v->icpt_cap, sizeof(*v->icpt_tab));
        SNP_ASSERT(v->icpt_tab);
        v->icpt_n = 0;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].kind)
                *icpt_slot(v, old[i].va) = old[i];
        free(old);
    }
    size_t i = (size_t)(va * 0x9E3779B97F4A7C15ull) & (v->icpt_cap - 1);
    while (v->icpt_tab[i].kind)
        i = (i + 1) & (v->icpt_cap - 1);
    v->icpt_n++;
    v->icpt_tab[i].va = va;
    return &v->icpt_tab[i];
}

/* ---- Classification ------------------------------------------------------- */

/* Legacy prefixes before the opcode: operand size, address size and REP. */
static void scan_prefixes(const uint8_t *p, size_t len, bool *opsz16, bool *addr32, bool *rep)
{
    *opsz16 = *addr32 = *rep = false;
    for (size_t i = 0; i < len; i++) {
        switch (p[i]) {
        case 0x66: *opsz16 = true; break;
        case 0x67: *addr32 = true; break;
        case 0xF3: case 0xF2: *rep = true; break;
        case 0x26: case 0x2E: case 0x36: case 0x3E: case 0x64: case 0x65: case 0xF0: break;
        default: return;
        }
    }
}

/* Under SEV-ES these raise #VC instead of running (docs/sev-snp-facts.md 5.1); in plain
 * mode Unicorn's instruction hooks serve them and DR7 is the engine's. */
static enum icpt_kind classify_es(const cs_insn *in)
{
    switch (in->id) {
    case X86_INS_CPUID: return IK_CPUID;
    case X86_INS_RDTSC: return IK_RDTSC;
    case X86_INS_RDTSCP: return IK_RDTSCP;
    case X86_INS_IN: return IK_IN;
    case X86_INS_OUT: return IK_OUT;
    case X86_INS_MOV:
        if (!strncmp(in->op_str, "dr7,", 4))
            return IK_DR7_WR;
        if (strstr(in->op_str, ", dr7"))
            return IK_DR7_RD;
        return IK_NONE;
    default: return IK_NONE;
    }
}

static enum icpt_kind classify(unsigned id)
{
    switch (id) {
    case X86_INS_RDMSR: return IK_RDMSR;
    case X86_INS_WRMSR: return IK_WRMSR;
    case X86_INS_RDPMC: return IK_RDPMC;
    case X86_INS_HLT: return IK_HLT;
    case X86_INS_MONITOR: return IK_MONITOR;
    case X86_INS_MWAIT: return IK_MWAIT;
    case X86_INS_WBINVD: return IK_WBINVD;
    case X86_INS_INVD: return IK_INVD;
    case X86_INS_INSB: case X86_INS_INSW: case X86_INS_INSD: return IK_INS;
    case X86_INS_OUTSB: case X86_INS_OUTSW: case X86_INS_OUTSD: return IK_OUTS;
    case X86_INS_IRET: case X86_INS_IRETD: case X86_INS_IRETQ: return IK_IRET;
    case X86_INS_LJMP: case X86_INS_LCALL: case X86_INS_RETF: case X86_INS_RETFQ:
    case X86_INS_SYSENTER: case X86_INS_SYSEXIT: case X86_INS_RSM: return IK_FAR;
    case X86_INS_SYSCALL: return IK_SYSCALL;
    case X86_INS_SYSRET: return IK_SYSRET;
    case X86_INS_RDRAND: case X86_INS_RDSEED: return IK_RDRAND;
    default: return IK_NONE;
    }
}

/* RDPID r (F3 0F C7 /7, mod 3; SDM vol. 2 "RDPID"): Capstone 4 knows no
 * RDPID and decodes these bytes as RDSEED with a REP prefix, and Unicorn 2.1.4
 * raises #UD for them, so the model performs it (priv.c). The destination is
 * ModRM.rm extended by REX.B. */
static bool is_rdpid(const cs_insn *in, uint8_t *gpr)
{
    bool f3 = false;
    size_t i = 0;
    for (; i < in->size && (in->bytes[i] == 0xF3 || in->bytes[i] == 0x66 ||
                            in->bytes[i] == 0x67 || in->bytes[i] == 0xF2); i++)
        f3 |= in->bytes[i] == 0xF3;
    uint8_t rex = i < in->size && (in->bytes[i] & 0xF0) == 0x40 ? in->bytes[i++] : 0;
    if (in->id != X86_INS_RDSEED || !f3 || i + 3 > in->size || in->bytes[i] != 0x0F ||
        in->bytes[i + 1] != 0xC7)
        return false;
    uint8_t modrm = in->bytes[i + 2];
    if ((modrm >> 6) != 3 || ((modrm >> 3) & 7) != 7)
        return false;
    *gpr = (uint8_t)((modrm & 7) | ((rex & 1) ? 8 : 0));
    return true;
}

/* MOV to or from CRn (0F 22 /r, 0F 20 /r): the ModRM reg field (REX.R, or
 * LOCK for CR8 on AMD: APM vol. 3 "MOV CRn") is the CR, r/m (REX.B) the GPR.
 * XXX(model): Capstone 4 does not decode the LOCK form at all, so a LOCK MOV
 * CR0 never gets here and runs as the engine decides. */
static bool mov_cr(const cs_insn *in, uint8_t *cr, uint8_t *gpr, bool *to_cr)
{
    size_t i = 0;
    bool lock = false;
    uint8_t rex = 0;
    for (; i < in->size; i++) {
        uint8_t b = in->bytes[i];
        if (b == 0xF0)
            lock = true;
        else if (b != 0x66 && b != 0x67 && b != 0xF2 && b != 0xF3 && b != 0x2E && b != 0x36 &&
                 b != 0x3E && b != 0x26 && b != 0x64 && b != 0x65)
            break;
    }
    if (i < in->size && (in->bytes[i] & 0xF0) == 0x40)
        rex = in->bytes[i++];
    if (i + 3 > in->size || in->bytes[i] != 0x0F || (in->bytes[i + 1] & ~2u) != 0x20)
        return false;
    uint8_t modrm = in->bytes[i + 2];
    *to_cr = in->bytes[i + 1] == 0x22;
    *cr = (uint8_t)(((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0) | (lock ? 8 : 0));
    *gpr = (uint8_t)((modrm & 7) | ((rex & 1) ? 8 : 0));
    return true;
}

/* Which MOV CRn the model sees: every CR8 access (Unicorn has no APIC
 * behind CR8, so the model answers it: SDM 10.8.6.1; test_unicorn.c), and
 * writes to the other CRs, which Unicorn performs unchecked (ctlreg.c). */
static enum icpt_kind classify_mov_cr(const cs_insn *in)
{
    uint8_t cr, gpr;
    bool to_cr;
    if (in->id != X86_INS_MOV || !mov_cr(in, &cr, &gpr, &to_cr))
        return IK_NONE;
    if (cr == 8)
        return to_cr ? IK_CR8_WR : IK_CR8_RD;
    return to_cr ? IK_MOV_CR : IK_NONE;
}

/* Installs the exact-address hook for an intercept; true if newly installed. */
static bool icpt_add(struct vcpu *v, const cs_insn *in, enum icpt_kind kind)
{
    struct icpt *c = icpt_slot(v, in->address);
    if (c->live && c->kind == kind)
        return false;
    if (c->live)
        uc_hook_del(v->uc, c->hook);
    bool opsz16, addr32, rep;
    scan_prefixes(in->bytes, in->size, &opsz16, &addr32, &rep);
    c->kind = kind;
    c->len = (uint8_t)in->size;
    c->rep = rep;
    /* 0x66/0x67 toggle the mode's default operand and address size. */
    unsigned bits = v->code_bits, dflt_op = bits == 16 ? 2 : 4;
    c->addr_size = bits == 64 ? (addr32 ? 4 : 8) : (addr32 != (bits == 16)) ? 2 : 4;
    c->opsize = (in->id == X86_INS_INSB || in->id == X86_INS_OUTSB) ? 1 : (uint8_t)(opsz16 ? 6 - dflt_op : dflt_op);
    c->port = -1;
    bool to_cr;
    if (kind == IK_MOV_CR || kind == IK_CR8_RD || kind == IK_CR8_WR)
        mov_cr(in, &c->cr, &c->gpr, &to_cr);
    if (kind == IK_RDRAND) {
        /* [66] [REX] 0F C7 /6 or /7 with a register ModRM: r/m (REX.B) is the
         * destination, REX.W makes it 64-bit. */
        uint8_t modrm = in->bytes[in->size - 1], rex = 0;
        for (size_t i = 0; i + 3 < in->size; i++)
            if ((in->bytes[i] & 0xF0) == 0x40 && bits == 64)
                rex = in->bytes[i];
        c->gpr = (uint8_t)((modrm & 7) | (rex & 1 ? 8 : 0));
        if (rex & 8)
            c->opsize = 8;
    }
    if (kind == IK_RDPID)
        is_rdpid(in, &c->gpr);
    /* SYSRET with REX.W returns to 64-bit mode (48 0F 07). */
    c->rex_w = kind == IK_SYSRET && in->size >= 3 && (in->bytes[in->size - 3] & 0xF8) == 0x48;
    if (kind == IK_IN || kind == IK_OUT) {
        /* E4/E5/E6/E7 take an imm8 port, EC/ED/EE/EF use DX; the even ones
         * move a byte (SDM "IN", "OUT"). */
        size_t op = 0;
        while (op < in->size && (in->bytes[op] == 0x66 || in->bytes[op] == 0x67 ||
                                 (in->bytes[op] & 0xF0) == 0x40))
            op++;
        uint8_t opc = op < in->size ? in->bytes[op] : 0;
        c->opsize = (uint8_t)((opc & 1) ? (opsz16 ? 6 - dflt_op : dflt_op) : 1);
        if ((opc & 0xF8) == 0xE0 && op + 1 < in->size)
            c->port = in->bytes[op + 1];
    }
    UC_CHECK(uc_hook_add(v->uc, &c->hook, UC_HOOK_CODE, (void *)on_icpt, v, in->address,
                         in->address));
    c->live = true;
    return true;
}

/* Drops the TLB entries of every engine, so that the next store to a page
 * that just turned CLEAN comes back through the TLB-fill hook. */
static void flush_all_tlbs(struct cpu_shared *s)
{
    for (unsigned i = 0; i < s->nvcpus; i++)
        UC_CHECK(uc_ctl_flush_tlb(s->vcpus[i]->uc));
}

/* The page now holds decoded code. Only a page that held none changes state. */
static void mark_code_page(struct vcpu *v, uint64_t pfn)
{
    struct cpu_shared *s = v->shared;
    if (pfn >= s->npages || s->code[pfn] != MEM_CODE_NONE)
        return;
    s->code[pfn] = MEM_CODE_CLEAN;
    flush_all_tlbs(s);
}

/* Guest-physical page of va for a code fetch (no A/D side effects). */
static uint64_t code_gpa(struct vcpu *v, uint64_t va)
{
    struct pg_result r;
    if (pg_walk(v, va, PG_FETCH, vcpu_cpl(v) == 3 ? PG_USER : PG_SUPER, false, &r) < 0)
        return UINT64_MAX;
    return r.gpa & MEM_PAGE_MASK;
}

struct blk *blk_decode(struct vcpu *v, uint64_t pc, uint32_t size, bool *restart)
{
    *restart = false;
    uint8_t *buf = malloc(size ? size : 1);
    SNP_ASSERT(buf);
    struct blk *b = calloc(1, sizeof(*b));
    SNP_ASSERT(b);
    b->pc = pc;
    b->size = size;
    b->bits = (uint8_t)v->code_bits;
    b->page_gpa[0] = code_gpa(v, pc);
    b->page_gpa[1] = size ? code_gpa(v, pc + size - 1) : b->page_gpa[0];
    for (int i = 0; i < 2; i++)
        b->pfn[i] = b->page_gpa[i] < v->mem->size ? b->page_gpa[i] >> MEM_PAGE_SHIFT
                                                   : v->shared->npages;
    uint32_t pf;
    uint64_t fva;
    /* Read back as the fetch was made: user code at CPL 3 is a user access
     * (SMAP does not apply to fetches; SDM vol. 3 4.6). */
    bool readable = lin_read(v, pc, buf, size, LIN_FETCH, &pf, &fva) == 0;
    SNP_ASSERT(readable); /* Unicorn just fetched and translated these bytes */
    b->bytes = buf;

    cs_insn *insns = NULL;
    size_t n = cs_disasm(v->cs, buf, size, pc, 0, &insns);
    size_t decoded = 0;
    for (size_t i = 0; i < n; i++)
        decoded += insns[i].size;
    /* Bytes Capstone does not know (VMGEXIT, PVALIDATE...) end the block as one
     * more instruction: Unicorn's translator stops at an invalid opcode. */
    size_t extra = decoded < size ? 1 : 0;
    b->icount = (uint16_t)(n + extra);
    b->offs = malloc((b->icount + 1) * sizeof(*b->offs));
    SNP_ASSERT(b->offs);
    for (size_t i = 0; i < n; i++) {
        b->offs[i] = (uint16_t)(insns[i].address - pc);
        /* Capstone 4 decodes RDPID (F3 0F C7 /7) as RDSEED with a REP prefix,
         * so RDPID is recognised before the id is classified. */
        uint8_t gpr;
        enum icpt_kind k = is_rdpid(&insns[i], &gpr) ? IK_RDPID : classify(insns[i].id);
        if (k == IK_NONE)
            k = classify_mov_cr(&insns[i]);
        if (k == IK_NONE && v->sev_es)
            k = classify_es(&insns[i]);
        if (k != IK_NONE && icpt_add(v, &insns[i], k))
            *restart = true;
    }
    if (extra)
        b->offs[n] = (uint16_t)decoded;
    b->offs[b->icount] = (uint16_t)size;
    if (n && !extra) {
        const cs_insn *last = &insns[n - 1];
        b->ends_in_int = true;
        switch (last->id) {
        case X86_INS_INT: b->int_vector = last->bytes[last->size - 1]; break;
        case X86_INS_INT3: b->int_vector = X86_BP; break;
        case X86_INS_INTO: b->int_vector = X86_OF; break;
        case X86_INS_INT1: b->int_vector = X86_DB; break;
        default: b->ends_in_int = false;
        }
        /* QEMU ends a block after STI and MOV/POP SS (interrupt shadow). */
        b->ends_in_shadow = last->id == X86_INS_STI ||
                            (last->id == X86_INS_MOV && !strncmp(last->op_str, "ss,", 3));
    }
    cs_free(insns, n);

    for (int i = 0; i < 2; i++)
        mark_code_page(v, b->pfn[i]);
    for (int i = 0; i < 2; i++)
        b->seen[i] = v->shared->code[b->pfn[i]];
    blk_insert(v, b);
    v->stats.blocks_decoded++;
    return b;
}

/* ---- Self-modifying code -------------------------------------------------- */

/* Guest RAM behind the block's byte at offset off. */
static const uint8_t *blk_ram(const struct vcpu *v, const struct blk *b, uint32_t off)
{
    uint64_t first = MEM_PAGE_SIZE - (b->pc & (MEM_PAGE_SIZE - 1));
    if (off < first)
        return v->mem->ram + b->page_gpa[0] + (b->pc & (MEM_PAGE_SIZE - 1)) + off;
    return v->mem->ram + b->page_gpa[1] + (off - first);
}

/* Whether [off, off+len) of the block still holds the decoded bytes. */
static bool blk_same(const struct vcpu *v, const struct blk *b, uint32_t off, uint32_t len)
{
    uint64_t first = MEM_PAGE_SIZE - (b->pc & (MEM_PAGE_SIZE - 1));
    for (uint32_t i = off; i < off + len; i++) {
        /* A part outside RAM (MMIO) is never WRITTEN: nothing to compare. */
        uint64_t gpa = i < first ? b->page_gpa[0] : b->page_gpa[1];
        if (gpa < v->mem->size && *blk_ram(v, b, i) != b->bytes[i])
            return false;
    }
    return true;
}

static bool blk_unchanged(const struct vcpu *v, const struct blk *b)
{
    uint64_t first = MEM_PAGE_SIZE - (b->pc & (MEM_PAGE_SIZE - 1));
    if (b->size <= first && b->page_gpa[0] < v->mem->size)
        return !memcmp(blk_ram(v, b, 0), b->bytes, b->size);
    return blk_same(v, b, 0, b->size);
}

/* b's bytes were just found unchanged: a WRITTEN page of it is re-armed
 * (CLEAN again, its writable TLB entries dropped everywhere), so that b and
 * the page's other blocks, each compared once more, run uncompared until the
 * next store to it; and b remembers the pages' states it was checked at. */
static void blk_checked(struct vcpu *v, struct blk *b)
{
    bool rearmed = false;
    for (int i = 0; i < 2; i++)
        if (b->pfn[i] < v->shared->npages && (i == 0 || b->pfn[1] != b->pfn[0]))
            rearmed |= mem_code_rearm(v->mem, b->pfn[i]);
    if (rearmed)
        flush_all_tlbs(v->shared);
    for (int i = 0; i < 2; i++)
        b->seen[i] = v->shared->code[b->pfn[i]];
}

bool blk_stale(struct vcpu *v, struct blk *b)
{
    if (blk_unchanged(v, b)) {
        blk_checked(v, b);
        return false;
    }
    /* An intercept whose own bytes still hold the instruction stays: another
     * live block may contain it. The others go with the block. */
    for (size_t i = 0; i < v->icpt_cap; i++) {
        struct icpt *c = &v->icpt_tab[i];
        if (c->live && c->va >= b->pc && c->va < b->pc + b->size &&
            !blk_same(v, b, (uint32_t)(c->va - b->pc),
                      (uint32_t)(c->va + c->len <= b->pc + b->size ? c->len
                                                                   : b->pc + b->size - c->va))) {
            uc_hook_del(v->uc, c->hook);
            c->live = false;
        }
    }
    b->dead = true;
    struct blk_hot *h = v->blk_hot ? blk_hot_slot(v->blk_hot, b->pc) : NULL;
    if (h && h->b == b)
        h->pc = BLK_HOT_NONE;
    v->stats.smc_redecodes++;
    return true;
}

void decode_free(struct vcpu *v)
{
    for (size_t i = 0; i < v->blk_cap; i++)
        if (v->blk_tab[i]) {
            free(v->blk_tab[i]->offs);
            free(v->blk_tab[i]->bytes);
            free(v->blk_tab[i]);
        }
    free(v->blk_tab);
    free(v->icpt_tab);
    free(v->blk_hot);
    v->blk_hot = NULL;
    v->blk_tab = NULL;
    v->icpt_tab = NULL;
    v->blk_cap = v->icpt_cap = 0;
}
