/* SPDX-License-Identifier: MIT */
/*
 * x2APIC register semantics on a 4 KiB register page (see apic.h): the MSR
 * table that decides every #GP (Intel SDM vol. 3 section 10.12.1.2 Table 10-6,
 * 10.12.1.3 "Reserved Bit Checking"), reset contents (10.4.7.1, 10.12.5.1),
 * priorities (PPR, 10.8.3.1), acceptance, acknowledge and EOI (10.8.4, 10.8.5),
 * software disable (10.4.7.2), the error register (10.5.3), IA32_APIC_BASE
 * transitions between disabled, xAPIC and x2APIC mode (10.12.5), ICR validity
 * (Table 10-3; AMD APM vol. 2 section 16.5) and destination matching in both
 * modes (10.6.2, 10.12.9, 10.12.10). The xAPIC MMIO page is xapic.c. Nothing here talks to the host:
 * functions return what the fabric must do (kick, broadcast an EOI, send).
 */
#include "apic.h"

#include "snpref/base.h"

/* ---- The x2APIC MSR table ----------------------------------------------------- */

#define ROW(off)    [(off) >> 4]
#define RO(nm, why) {.name = nm, .readable = true, .notes = why}
#define RW(nm, mask, ign, why)                                                                     \
    {.name = nm, .readable = true, .writable = true, .wmask = mask, .ignored = ign, .notes = why}
#define WO(nm, mask, why) {.name = nm, .writable = true, .wmask = mask, .notes = why}
#define RO8(base, nm, why)                                                                         \
    ROW(base + 0x00) = RO(nm "0", why), ROW(base + 0x10) = RO(nm "1", why),                        \
               ROW(base + 0x20) = RO(nm "2", why), ROW(base + 0x30) = RO(nm "3", why),             \
               ROW(base + 0x40) = RO(nm "4", why), ROW(base + 0x50) = RO(nm "5", why),             \
               ROW(base + 0x60) = RO(nm "6", why), ROW(base + 0x70) = RO(nm "7", why)

#define LVT_DS  APIC_LVT_DS
#define LVT_RIR APIC_LVT_REMOTE_IRR

/*
 * Every MSR 0x800-0x8FF not listed raises #GP on any access: 0x800/0x801,
 * 0x804-0x807, APR 0x809, RRD 0x80C, DFR 0x80E (no DFR in x2APIC), LVT CMCI
 * 0x82F (AMD has none), ICR2 0x831 (ICR is one 64-bit MSR), 0x83A-0x83D and
 * everything from 0x840 (SDM Table 10-6). Bits 63:32 are reserved everywhere
 * but in ICR. `ignored` lists read-only status bits (delivery status, remote
 * IRR) that read as 0 here, so a read-modify-write of an LVT never faults.
 */
static const struct apic_reg_desc apic_regs[256] = {
    ROW(APIC_ID) = RO("ID", "x2APIC ID, all 32 bits"),
    ROW(APIC_LVR) = RO("VERSION", "0x00050015: version 0x15, 6 LVTs, no directed EOI"),
    ROW(APIC_TPR) = RW("TPR", 0xFF, 0, "task priority; write recomputes PPR"),
    ROW(APIC_PPR) = RO("PPR", "processor priority (SDM 10.8.3.1)"),
    ROW(APIC_EOI) = WO("EOI", 0, "only 0 may be written (SDM 10.12.1.2)"),
    ROW(APIC_LDR) = RO("LDR", "x2APIC logical ID, derived from the ID (SDM 10.12.10.2)"),
    ROW(APIC_SPIV) =
        RW("SPIV", 0x3FF, 0,
           "vector, software enable (8), AMD FCC (9); no EOI-broadcast suppression (12)"),
    RO8(APIC_ISR, "ISR", "in-service"),
    RO8(APIC_TMR, "TMR", "trigger mode"),
    RO8(APIC_IRR, "IRR", "interrupt request"),
    ROW(APIC_ESR) = RW("ESR", 0, 0, "write 0 latches the errors seen since the last write"),
    ROW(APIC_ICR) = RW("ICR", APIC_ICR_WRITABLE, 0,
                       "64-bit; the write sends; bits 12, 13, 16, 17, 31:20 reserved"),
    ROW(APIC_LVTT) = RW("LVTT", 0x700FF, LVT_DS, "vector, mask, mode 18:17 (3 reserved)"),
    ROW(APIC_LVTTHMR) = RW("LVTTHMR", 0x107FF, LVT_DS, "vector, delivery mode, mask"),
    ROW(APIC_LVTPC) = RW("LVTPC", 0x107FF, LVT_DS, "vector, delivery mode, mask"),
    ROW(APIC_LVT0) = RW("LVT0", 0x1A7FF, LVT_DS | LVT_RIR, "vector, mode, polarity, trigger, mask"),
    ROW(APIC_LVT1) = RW("LVT1", 0x1A7FF, LVT_DS | LVT_RIR, "vector, mode, polarity, trigger, mask"),
    ROW(APIC_LVTERR) = RW("LVTERR", 0x100FF, LVT_DS, "vector, mask"),
    ROW(APIC_TMICT) = RW("TMICT", 0xFFFFFFFF, 0, "initial count; the write (re)starts the count"),
    ROW(APIC_TMCCT) = RO("TMCCT", "current count, computed from simulated time"),
    ROW(APIC_TDCR) = RW("TDCR", 0xB, 0, "divide configuration, bits 0, 1, 3"),
    ROW(APIC_SELF_IPI) = WO("SELF_IPI", 0xFF, "fixed, edge IPI to self (SDM 10.12.11)"),
};

const struct apic_reg_desc *apic_reg_lookup(uint32_t msr)
{
    if (msr < APIC_MSR_BASE || msr > APIC_MSR_LAST)
        return NULL;
    const struct apic_reg_desc *r = &apic_regs[msr - APIC_MSR_BASE];
    return r->name ? r : NULL;
}

enum fab_access apic_msr_check(uint32_t msr, bool write, uint64_t val)
{
    const struct apic_reg_desc *r = apic_reg_lookup(msr);
    if (!r)
        return FAB_GP;
    if (!write)
        return r->readable ? FAB_OK : FAB_GP;
    if (!r->writable || (val & ~(r->wmask | r->ignored)))
        return FAB_GP;
    /* Timer mode 3 is reserved (SDM Figure 10-8): a reserved encoding, so #GP. */
    if (msr == APIC_MSR(APIC_LVTT) &&
        ((val & APIC_LVT_TIMER_MASK) >> APIC_LVT_TIMER_SHIFT) == LAPIC_TIMER_RESERVED)
        return FAB_GP;
    return FAB_OK;
}

/* ---- Page helpers ----------------------------------------------------------- */

int apic_find_highest_vec(const uint8_t *page, unsigned base)
{
    for (int i = 7; i >= 0; i--) {
        uint32_t w = __apic_get_reg(page, base + (unsigned)i * 0x10);
        if (w)
            return i * 32 + 31 - __builtin_clz(w);
    }
    return -1;
}

uint64_t apic_get_icr(const struct apic *a)
{
    return (uint64_t)apic_get_reg(a, APIC_ICR2) << 32 | apic_get_reg(a, APIC_ICR);
}

void apic_set_icr(struct apic *a, uint64_t icr)
{
    apic_set_reg(a, APIC_ICR, (uint32_t)icr);
    apic_set_reg(a, APIC_ICR2, (uint32_t)(icr >> 32));
}

uint32_t apic_x2apic_ldr(uint32_t id)
{
    return ((id >> 4) & 0xFFFFu) << 16 | 1u << (id & 0xFu);
}

/* ---- Reset ------------------------------------------------------------------ */

static const unsigned apic_lvts[] = {APIC_LVTT, APIC_LVTTHMR, APIC_LVTPC,
                                     APIC_LVT0, APIC_LVT1,    APIC_LVTERR};

void apic_init(struct apic *a, uint8_t *page, uint32_t id, bool bsp, enum apic_mode power_on)
{
    SNP_ASSERT(power_on == APIC_MODE_XAPIC || power_on == APIC_MODE_X2APIC);
    memset(a, 0, sizeof(*a));
    a->regs = page;
    a->id = id;
    a->base_msr = bsp ? APIC_BASE_BSP : 0;
    a->base_addr_mask = APIC_BASE_ADDR_MASK;
    a->power_on_mode = power_on;
    a->xapic_capable = power_on == APIC_MODE_XAPIC;
    a->x2apic_capable = true;
    apic_reset(a, false);
}

/* ID, LDR and DFR in the format of the current mode: x2APIC's 32-bit ID and
 * derived LDR (SDM 10.12.10.2), or xAPIC's 8-bit ID in 31:24, LDR 0 and DFR
 * flat (SDM 10.4.6, 10.6.2.2), which a disabled APIC also takes: the only way
 * on from there is xAPIC mode. */
static void apic_load_ids(struct apic *a)
{
    if (apic_x2apic_mode(a)) {
        apic_set_reg(a, APIC_ID, a->id);
        apic_set_reg(a, APIC_LDR, apic_x2apic_ldr(a->id));
        apic_set_reg(a, APIC_DFR, 0); /* no DFR in x2APIC mode */
        return;
    }
    apic_set_reg(a, APIC_ID, (a->id & 0xFFu) << APIC_XAPIC_ID_SHIFT);
    apic_set_reg(a, APIC_LDR, 0);
    apic_set_reg(a, APIC_DFR, APIC_DFR_FLAT);
}

void apic_reset(struct apic *a, bool init_only)
{
    if (!init_only)
        a->base_msr = (a->base_msr & APIC_BASE_BSP) | APIC_BASE_ADDR_DEFAULT | APIC_BASE_EN |
                      (a->power_on_mode == APIC_MODE_X2APIC ? APIC_BASE_EXTD : 0);
    /* The whole page: a Secure AVIC fabric that keeps extra fields on it restores
     * them itself. */
    memset(a->regs, 0, APIC_PAGE_SIZE);
    apic_load_ids(a);
    apic_set_reg(a, APIC_LVR, APIC_LVR_VALUE);
    apic_set_reg(a, APIC_SPIV, 0xFF);
    for (size_t i = 0; i < ARRAY_SIZE(apic_lvts); i++)
        apic_set_reg(a, apic_lvts[i], APIC_LVT_MASKED);
    a->highest_isr_cache = -1;
    a->esr_pending = 0;
    a->nmi_pending = a->smi_pending = a->init_pending = false;
    a->sipi_pending = a->extint_pending = false;
    a->sipi_vector = a->extint_vector = 0;
    memset(&a->timer, 0, sizeof(a->timer));
    lapic_timer_stop(&a->timer);
}

/* ---- Priorities ----------------------------------------------------------------- */

int apic_find_highest_irr(const struct apic *a)
{
    return apic_find_highest_vec(a->regs, APIC_IRR);
}

int apic_find_highest_isr(struct apic *a)
{
    if (a->highest_isr_cache != -1)
        return a->highest_isr_cache;
    a->highest_isr_cache = apic_find_highest_vec(a->regs, APIC_ISR);
    return a->highest_isr_cache;
}

uint32_t apic_compute_ppr(uint32_t tpr, int isrv)
{
    uint32_t isr_class = isrv > 0 ? (uint32_t)isrv & 0xF0u : 0;
    return (tpr & 0xF0u) >= isr_class ? tpr & 0xFFu : isr_class;
}

bool apic_update_ppr(struct apic *a)
{
    uint32_t old = apic_get_reg(a, APIC_PPR);
    uint32_t ppr = apic_compute_ppr(apic_get_reg(a, APIC_TPR), apic_find_highest_isr(a));
    apic_set_reg(a, APIC_PPR, ppr);
    return ppr < old;
}

int apic_highest_deliverable(struct apic *a)
{
    int irr = apic_find_highest_irr(a);
    if (irr < 0)
        return -1;
    /* Recomputed rather than read, so a page someone else wrote cannot lie. */
    uint32_t ppr = apic_compute_ppr(apic_get_reg(a, APIC_TPR), apic_find_highest_isr(a));
    return ((uint32_t)irr & 0xF0u) > (ppr & 0xF0u) ? irr : -1;
}

/* ---- Accept, acknowledge, EOI -------------------------------------------------- */

enum apic_accept apic_accept_fixed(struct apic *a, uint8_t vec, bool level)
{
    /* A disabled APIC drops the message before looking at it (SDM 10.4.7.2). */
    if (!apic_hw_enabled(a) || !apic_sw_enabled(a))
        return APIC_DROPPED;
    if (vec < 16) {
        apic_esr_raise(a, APIC_ESR_RECV_ILLEGAL);
        return APIC_ILLEGAL_VECTOR;
    }
    apic_vec_set(a->regs, APIC_IRR, vec);
    if (level)
        apic_vec_set(a->regs, APIC_TMR, vec);
    else
        apic_vec_clear(a->regs, APIC_TMR, vec);
    return APIC_ACCEPTED;
}

void apic_ack_fixed(struct apic *a, uint8_t vec)
{
    SNP_ASSERT(apic_vec_test(a->regs, APIC_IRR, vec));
    apic_vec_clear(a->regs, APIC_IRR, vec);
    apic_vec_set(a->regs, APIC_ISR, vec);
    /* Keep the cache exact: a known maximum can only grow; unknown stays unknown. */
    if (a->highest_isr_cache != -1 && vec > a->highest_isr_cache)
        a->highest_isr_cache = vec;
    apic_update_ppr(a);
}

int apic_eoi(struct apic *a, bool *level)
{
    int vec = apic_find_highest_isr(a);
    *level = false;
    if (vec < 0)
        return -1;
    apic_vec_clear(a->regs, APIC_ISR, (unsigned)vec);
    a->highest_isr_cache = -1;
    *level = apic_vec_test(a->regs, APIC_TMR, (unsigned)vec);
    apic_update_ppr(a);
    return vec;
}

/* ---- Plain register writes ---------------------------------------------------- */

bool apic_set_tpr(struct apic *a, uint32_t tpr)
{
    apic_set_reg(a, APIC_TPR, tpr & 0xFFu);
    return apic_update_ppr(a);
}

void apic_set_spiv(struct apic *a, uint32_t v)
{
    apic_set_reg(a, APIC_SPIV, v);
    if (v & APIC_SPIV_APIC_ENABLED)
        return; /* re-enabling leaves the LVTs masked until software unmasks them */
    for (size_t i = 0; i < ARRAY_SIZE(apic_lvts); i++)
        apic_set_reg(a, apic_lvts[i], apic_get_reg(a, apic_lvts[i]) | APIC_LVT_MASKED);
}

void apic_set_lvt(struct apic *a, unsigned off, uint32_t v)
{
    if (!apic_sw_enabled(a))
        v |= APIC_LVT_MASKED;
    apic_set_reg(a, off, v);
}

void apic_esr_raise(struct apic *a, uint32_t bits)
{
    a->esr_pending |= bits;
}

void apic_esr_latch(struct apic *a)
{
    apic_set_reg(a, APIC_ESR, a->esr_pending);
    a->esr_pending = 0;
}

uint32_t apic_compute_apr(const struct apic *a)
{
    uint32_t tpr = apic_get_reg(a, APIC_TPR);
    int irrv = apic_find_highest_irr(a), isrv = apic_find_highest_vec(a->regs, APIC_ISR);
    uint32_t tpr_c = tpr & 0xF0u, irr_c = irrv > 0 ? (uint32_t)irrv & 0xF0u : 0;
    uint32_t isr_c = isrv > 0 ? (uint32_t)isrv & 0xF0u : 0;
    if (tpr_c >= irr_c && tpr_c > isr_c)
        return tpr & 0xFFu;
    uint32_t hi = tpr_c > irr_c ? tpr_c : irr_c;
    return hi > isr_c ? hi : isr_c;
}

uint64_t apic_reg_read(const struct apic *a, unsigned off, uint64_t now)
{
    bool x2 = apic_x2apic_mode(a);
    switch (off) {
    case APIC_ID:
        return x2 ? a->id : apic_get_reg(a, APIC_ID);
    case APIC_LDR:
        return x2 ? apic_x2apic_ldr(a->id) : apic_get_reg(a, APIC_LDR);
    case APIC_ICR:
        return x2 ? apic_get_icr(a) : apic_get_reg(a, APIC_ICR);
    case APIC_APR:
        return apic_compute_apr(a);
    case APIC_TMCCT:
        /* TSC-deadline mode does not use the count registers (SDM 10.5.4.1). */
        if (apic_timer_mode(a) == LAPIC_TIMER_TSC_DEADLINE)
            return 0;
        return lapic_timer_current(&a->timer, apic_timer_mode(a) == LAPIC_TIMER_PERIODIC, now);
    default:
        return apic_get_reg(a, off);
    }
}

/* ---- IA32_APIC_BASE --------------------------------------------------------------- */

/*
 * Transitions (SDM 10.12.5.1, Figure 10-27; KVM's kvm_apic_set_base makes the
 * same checks): disabled <-> xAPIC, xAPIC -> x2APIC and x2APIC -> disabled are
 * allowed; x2APIC -> xAPIC (only through disabled), disabled -> x2APIC (only
 * through xAPIC) and EN = 0 with EXTD = 1 (the invalid mode) raise #GP, and so
 * does a reserved bit: 7:0, 9 and MAXPHYADDR..63 (SDM Figure 10-26). The base
 * may move in any mode (kvm-unit-tests' apic test relocates it).
 * Model choices: the BSP flag may only be written back unchanged; an APIC
 * without xAPIC mode (xapic_capable false: an x2APIC-only fabric) rejects
 * disabled -> xAPIC, so it stays off until a power-on reset; one without
 * x2APIC mode (x2apic_capable false: CPUID.1:ECX[21] clear) rejects xAPIC ->
 * x2APIC (SDM 10.12.1: EXTD is then reserved).
 */
enum apic_base_change apic_base_check(const struct apic *a, uint64_t val)
{
    const uint64_t mode = APIC_BASE_EN | APIC_BASE_EXTD;
    if (val & ~(mode | a->base_addr_mask | APIC_BASE_BSP))
        return APIC_BASE_GP;
    if ((val & APIC_BASE_BSP) != (a->base_msr & APIC_BASE_BSP))
        return APIC_BASE_GP;
    uint64_t cur = a->base_msr & mode, next = val & mode;
    if (next == cur)
        return APIC_BASE_SAME_MODE;
    if (next == 0)
        return APIC_BASE_DISABLE;
    if (next == APIC_BASE_EN && cur == 0 && a->xapic_capable)
        return APIC_BASE_TO_XAPIC;
    if (next == mode && cur == APIC_BASE_EN && a->x2apic_capable)
        return APIC_BASE_TO_X2APIC;
    return APIC_BASE_GP;
}

void apic_base_apply(struct apic *a, enum apic_base_change c, uint64_t val)
{
    SNP_ASSERT(c != APIC_BASE_GP);
    a->base_msr = val;
    switch (c) {
    case APIC_BASE_DISABLE:
        /* Disabling loses the APIC state (SDM 10.4.3: as after power-up). */
        apic_reset(a, true);
        break;
    case APIC_BASE_TO_X2APIC:
        /* The ID and LDR take their x2APIC values; the other registers keep
         * theirs (SDM 10.12.5.1). */
        apic_load_ids(a);
        break;
    default:
        break; /* disabled -> xAPIC: the disable already reset the page */
    }
}

/* ---- ICR and destinations ----------------------------------------------------------- */

struct apic_icr apic_icr_decode(uint64_t icr)
{
    return (struct apic_icr){
        .vector = (uint8_t)icr,
        .mode = (enum apic_dm)((icr >> APIC_ICR_DM_SHIFT) & 7u),
        .logical = (icr & APIC_ICR_DEST_LOGICAL) != 0,
        .level_assert = (icr & APIC_ICR_LEVEL_ASSERT) != 0,
        .trigger_level = (icr & APIC_ICR_TRIGGER_LEVEL) != 0,
        .shorthand = (enum apic_sh)((icr >> APIC_ICR_SH_SHIFT) & 3u),
        .dest = (uint32_t)(icr >> APIC_ICR_DEST_SHIFT),
    };
}

uint64_t apic_icr_encode(const struct apic_icr *d)
{
    return (uint64_t)d->vector | (uint64_t)((unsigned)d->mode & 7u) << APIC_ICR_DM_SHIFT |
           (d->logical ? APIC_ICR_DEST_LOGICAL : 0) |
           (d->level_assert ? APIC_ICR_LEVEL_ASSERT : 0) |
           (d->trigger_level ? APIC_ICR_TRIGGER_LEVEL : 0) |
           (uint64_t)((unsigned)d->shorthand & 3u) << APIC_ICR_SH_SHIFT |
           (uint64_t)d->dest << APIC_ICR_DEST_SHIFT;
}

/*
 * - Delivery mode 3 (xAPIC "remote read") does not exist in x2APIC (SDM 10.12.9,
 *   Figure 10-28 marks it reserved): no message.
 * - INIT with trigger = level and level = de-assert is the "INIT level
 *   de-assert" message, which x2APIC does not support (SDM 10.12.9): no message.
 * - Shorthands self and all-including-self are valid only with fixed delivery
 *   (SDM Table 10-3 "Invalid" for lowest, NMI, INIT, SMI, start-up; AMD APM
 *   vol. 2 section 16.5, valid ICR combinations: these modes only with a
 *   destination or all-excluding-self). The behaviour is undefined; the model
 *   sends nothing and logs no error, because ESR bit 5 is defined for illegal
 *   vectors only (SDM 10.5.3). ExtINT falls in the same class.
 *   XXX(model): KVM delivers a self-NMI sent this way; silicon may too.
 * - Fixed and lowest priority with a vector 0-15: "send illegal vector" (SDM
 *   10.5.2, 10.5.3), nothing sent.
 * - The trigger bit is honoured for fixed and lowest priority (AMD APM: fixed,
 *   level, assert is a valid combination; KVM does the same), although SDM
 *   Table 10-3 note 2 says Pentium 4 and later send such IPIs as edge.
 */
enum apic_icr_action apic_icr_check(const struct apic_icr *d)
{
    if ((unsigned)d->mode == 3)
        return APIC_ICR_IGNORE;
    if (d->mode == APIC_DM_INIT && d->trigger_level && !d->level_assert)
        return APIC_ICR_IGNORE;
    if ((d->shorthand == APIC_SH_SELF || d->shorthand == APIC_SH_ALL) && d->mode != APIC_DM_FIXED)
        return APIC_ICR_IGNORE;
    if ((d->mode == APIC_DM_FIXED || d->mode == APIC_DM_LOWEST) && d->vector < 16)
        return APIC_ICR_SEND_ILLEGAL;
    return APIC_ICR_SEND;
}

/* xAPIC logical destination (SDM 10.6.2.2): flat model, any common bit of
 * the 8-bit MDA and LDR[31:24]; cluster model, the same cluster in the high
 * nibbles and a common bit in the low ones. 0xFF reaches every APIC. */
static bool apic_match_xapic_logical(const struct apic *a, uint32_t dest)
{
    uint32_t mda = dest & 0xFFu, lid = apic_get_reg(a, APIC_LDR) >> 24;
    if (mda == APIC_XAPIC_BROADCAST)
        return true;
    if ((apic_get_reg(a, APIC_DFR) & APIC_DFR_MODEL_MASK) == APIC_DFR_MODEL_MASK)
        return (mda & lid) != 0;
    return (mda >> 4) == (lid >> 4) && (mda & lid & 0xFu) != 0;
}

bool apic_match_dest(const struct apic *a, uint32_t dest, bool logical)
{
    if (dest == APIC_DEST_BROADCAST)
        return true;
    if (!apic_x2apic_mode(a)) {
        if (logical)
            return dest <= 0xFFu && apic_match_xapic_logical(a, dest);
        return dest == APIC_XAPIC_BROADCAST || dest == apic_get_reg(a, APIC_ID) >> APIC_XAPIC_ID_SHIFT;
    }
    if (!logical)
        return a->id == dest;
    /* Cluster model: same cluster (31:16), and a common bit in 15:0. */
    uint32_t ldr = apic_x2apic_ldr(a->id);
    return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xFFFFu) != 0;
}
