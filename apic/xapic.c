/* SPDX-License-Identifier: MIT */
/*
 * The xAPIC register page (see apic.h): which 16-byte slots of the 4 KiB MMIO
 * page at IA32_APIC_BASE are registers, which bits a store keeps, and how a
 * load or store of any size lands on them (Intel SDM vol. 3 section 10.4.1
 * and Table 10-1; AMD APM vol. 2 section 16.3.2 and Table 16-2). What differs
 * from the x2APIC MSRs (apic.c's table): no #GP anywhere, reserved bits are
 * ignored and an access to a reserved offset sets ESR bit 7 "illegal register
 * address" (SDM 10.5.3); ID is 8 bits in 31:24; LDR and DFR are software's
 * (flat or cluster model, SDM 10.6.2.2); APR and RRD exist; ICR is two 32-bit
 * registers and the write to ICR_LOW sends (SDM 10.6.1); there is no
 * SELF_IPI. Nothing here talks to the host: the fabric performs the writes.
 */
#include "apic.h"

#define ROW(off)          [(off) >> 4]
#define R(nm)             {.name = nm, .readable = true}
#define RW(nm, mask)      {.name = nm, .readable = true, .writable = true, .wmask = mask}
#define W(nm)             {.name = nm, .writable = true, .wmask = 0xFFFFFFFFu}
#define R8(base, nm)                                                                               \
    ROW(base + 0x00) = R(nm "0"), ROW(base + 0x10) = R(nm "1"), ROW(base + 0x20) = R(nm "2"),      \
               ROW(base + 0x30) = R(nm "3"), ROW(base + 0x40) = R(nm "4"),                         \
               ROW(base + 0x50) = R(nm "5"), ROW(base + 0x60) = R(nm "6"), ROW(base + 0x70) = R(nm "7")

/*
 * Reserved (every other slot): 0x000, 0x010, 0x040-0x070, 0x290-0x2F0 (LVT
 * CMCI is Intel's; this APIC has six LVTs, LVR[23:16] = 5), 0x3A0-0x3D0,
 * 0x3F0 (SELF_IPI is x2APIC only) and everything from 0x400 (LVR bit 31 = 0:
 * no AMD extended register space).
 * The ID register is read/write in xAPIC mode, as AMD APM vol. 2 16.3.3 lists
 * it (SDM 10.4.6: whether software may change it is model specific; KVM
 * allows it): physical destinations then match the written 8-bit ID, and two
 * APICs given the same ID both accept a message to it. Entering x2APIC mode
 * restores the initial ID (SDM 10.12.5.1: the x2APIC ID is the initial one).
 */
static const struct xapic_reg_desc xapic_regs[APIC_PAGE_SIZE >> 4] = {
    ROW(APIC_ID) = RW("ID", 0xFF000000u),
    ROW(APIC_LVR) = R("VERSION"),
    ROW(APIC_TPR) = RW("TPR", 0xFFu),
    ROW(APIC_APR) = R("APR"),
    ROW(APIC_PPR) = R("PPR"),
    ROW(APIC_EOI) = W("EOI"),
    ROW(APIC_RRD) = R("RRD"),
    ROW(APIC_LDR) = RW("LDR", 0xFF000000u),
    ROW(APIC_DFR) = RW("DFR", APIC_DFR_MODEL_MASK),
    ROW(APIC_SPIV) = RW("SPIV", 0x3FFu),
    R8(APIC_ISR, "ISR"),
    R8(APIC_TMR, "TMR"),
    R8(APIC_IRR, "IRR"),
    ROW(APIC_ESR) = RW("ESR", 0),
    /* Bits 7:0, 10:8, 11, 14, 15, 19:18; delivery status (12) is read-only. */
    ROW(APIC_ICR_LOW) = RW("ICR_LOW", 0x000CCFFFu),
    ROW(APIC_ICR_HIGH) = RW("ICR_HIGH", 0xFF000000u),
    ROW(APIC_LVTT) = RW("LVTT", 0x700FFu),
    ROW(APIC_LVTTHMR) = RW("LVTTHMR", 0x107FFu),
    ROW(APIC_LVTPC) = RW("LVTPC", 0x107FFu),
    ROW(APIC_LVT0) = RW("LVT0", 0x1A7FFu),
    ROW(APIC_LVT1) = RW("LVT1", 0x1A7FFu),
    ROW(APIC_LVTERR) = RW("LVTERR", 0x100FFu),
    ROW(APIC_TMICT) = RW("TMICT", 0xFFFFFFFFu),
    ROW(APIC_TMCCT) = R("TMCCT"),
    ROW(APIC_TDCR) = RW("TDCR", 0xBu),
};

const struct xapic_reg_desc *xapic_reg_lookup(unsigned off)
{
    if (off >= APIC_PAGE_SIZE)
        return NULL;
    const struct xapic_reg_desc *r = &xapic_regs[off >> 4];
    return r->name ? r : NULL;
}

enum xapic_access xapic_read(const struct apic *a, unsigned off, unsigned size, uint64_t now,
                             uint64_t *val)
{
    const struct xapic_reg_desc *r = xapic_reg_lookup(off);
    unsigned byte = off & 0xFu;
    *val = 0;
    if (!r)
        return XAPIC_ILLEGAL;
    /* EOI is write-only and bytes 4-15 of a slot hold nothing: they read 0. */
    if (!r->readable || byte >= 4)
        return XAPIC_DONE;
    uint64_t v = (uint32_t)apic_reg_read(a, off & ~0xFu, now) >> (8 * byte);
    *val = size >= 8 ? v : v & ((1ull << (8 * size)) - 1);
    return XAPIC_DONE;
}

enum xapic_access xapic_write_check(unsigned off, unsigned size, uint64_t val, unsigned *reg,
                                    uint32_t *v32)
{
    const struct xapic_reg_desc *r = xapic_reg_lookup(off);
    if (!r)
        return XAPIC_ILLEGAL;
    if ((off & 0xFu) || size != 4 || !r->writable)
        return XAPIC_DONE;
    uint32_t v = (uint32_t)val & r->wmask;
    /* Timer mode 3 is reserved (SDM Figure 10-8); in x2APIC mode it is a #GP,
     * here the store is dropped. XXX(model): what silicon stores is undefined. */
    if (off == APIC_LVTT &&
        ((v & APIC_LVT_TIMER_MASK) >> APIC_LVT_TIMER_SHIFT) == LAPIC_TIMER_RESERVED)
        return XAPIC_DONE;
    if (off == APIC_DFR)
        v |= ~APIC_DFR_MODEL_MASK; /* bits 27:0 read as 1 */
    *reg = off;
    *v32 = v;
    return XAPIC_WRITE;
}

uint64_t xapic_icr(uint32_t low, uint32_t high)
{
    uint32_t dest = high >> APIC_XAPIC_ID_SHIFT;
    if (dest == APIC_XAPIC_BROADCAST)
        dest = APIC_DEST_BROADCAST;
    return (uint64_t)dest << APIC_ICR_DEST_SHIFT | low;
}
