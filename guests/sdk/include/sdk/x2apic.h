/* SPDX-License-Identifier: MIT */
/*
 * x2APIC driver: every register is an MSR at 0x800 + (xAPIC offset >> 4),
 * reached with RDMSR/WRMSR (intercepted and emulated by the model's reference
 * hypervisor in plain mode), or through the Secure AVIC driver (savic.h). Register names follow the Intel SDM / AMD APM.
 * Writes never set reserved bits: the model raises #GP for those, as hardware
 * does, and a test that wants that #GP uses sdk_try_wrmsr() explicitly.
 */
#ifndef SDK_X2APIC_H
#define SDK_X2APIC_H

#include <stdbool.h>
#include <stdint.h>
#include <sdk/x86.h>

#define X2APIC_MSR(off)   (0x800u + ((off) >> 4))
#define APIC_ID           X2APIC_MSR(0x020)   /* 0x802 */
#define APIC_LVR          X2APIC_MSR(0x030)   /* 0x803 */
#define APIC_TPR          X2APIC_MSR(0x080)   /* 0x808 */
#define APIC_PPR          X2APIC_MSR(0x0A0)   /* 0x80A */
#define APIC_EOI          X2APIC_MSR(0x0B0)   /* 0x80B */
#define APIC_LDR          X2APIC_MSR(0x0D0)   /* 0x80D */
#define APIC_SPIV         X2APIC_MSR(0x0F0)   /* 0x80F */
#define APIC_ISR(n)       (X2APIC_MSR(0x100) + (n))  /* 0x810..0x817 */
#define APIC_TMR(n)       (X2APIC_MSR(0x180) + (n))  /* 0x818..0x81F */
#define APIC_IRR(n)       (X2APIC_MSR(0x200) + (n))  /* 0x820..0x827 */
#define APIC_ESR          X2APIC_MSR(0x280)   /* 0x828 */
#define APIC_ICR          X2APIC_MSR(0x300)   /* 0x830, 64-bit in x2APIC mode */
#define APIC_LVTT         X2APIC_MSR(0x320)   /* 0x832 */
#define APIC_LVTTHMR      X2APIC_MSR(0x330)   /* 0x833 */
#define APIC_LVTPC        X2APIC_MSR(0x340)   /* 0x834 */
#define APIC_LVT0         X2APIC_MSR(0x350)   /* 0x835 */
#define APIC_LVT1         X2APIC_MSR(0x360)   /* 0x836 */
#define APIC_LVTERR       X2APIC_MSR(0x370)   /* 0x837 */
#define APIC_TMICT        X2APIC_MSR(0x380)   /* 0x838 */
#define APIC_TMCCT        X2APIC_MSR(0x390)   /* 0x839 */
#define APIC_TDCR         X2APIC_MSR(0x3E0)   /* 0x83E */
#define APIC_SELF_IPI     X2APIC_MSR(0x3F0)   /* 0x83F */

#define APIC_SPIV_ENABLE  (1u << 8)

/* ICR fields. */
#define APIC_DM_FIXED     (0u << 8)
#define APIC_DM_LOWEST    (1u << 8)
#define APIC_DM_SMI       (2u << 8)
#define APIC_DM_NMI       (4u << 8)
#define APIC_DM_INIT      (5u << 8)
#define APIC_DM_SIPI      (6u << 8)
#define APIC_DEST_LOGICAL (1u << 11)
#define APIC_LEVEL_ASSERT (1u << 14)
#define APIC_TRIG_LEVEL   (1u << 15)
#define APIC_SH_NONE      (0u << 18)
#define APIC_SH_SELF      (1u << 18)
#define APIC_SH_ALL       (2u << 18)   /* all including self */
#define APIC_SH_OTHERS    (3u << 18)   /* all excluding self */
#define APIC_BROADCAST    0xFFFFFFFFu

/* LVT fields. */
#define APIC_LVT_MASKED   (1u << 16)
#define APIC_LVT_LEVEL    (1u << 15)

#define SDK_SPURIOUS_VECTOR 0xFF

/* Every register access of the SDK goes through these: RDMSR/WRMSR, or the
 * Secure AVIC driver (savic.h) while this vCPU has Secure AVIC on. */
uint64_t x2apic_read(uint32_t msr);
void x2apic_write(uint32_t msr, uint64_t v);

/* Software-enables the APIC with the given spurious vector (SPIV bit 8). */
void x2apic_enable(uint8_t spurious_vector);
void x2apic_disable(void);

static inline uint32_t x2apic_id(void) { return (uint32_t)x2apic_read(APIC_ID); }
static inline uint32_t x2apic_ldr(void) { return (uint32_t)x2apic_read(APIC_LDR); }
static inline void x2apic_eoi(void) { x2apic_write(APIC_EOI, 0); }
static inline void x2apic_set_tpr(uint8_t tpr) { x2apic_write(APIC_TPR, tpr); }
static inline uint8_t x2apic_tpr(void) { return (uint8_t)x2apic_read(APIC_TPR); }
static inline uint8_t x2apic_ppr(void) { return (uint8_t)x2apic_read(APIC_PPR); }

/* The logical ID hardware derives from an x2APIC ID: cluster in 31:16, one bit in 15:0. */
static inline uint32_t x2apic_logical_id(uint32_t apic_id)
{
    return ((apic_id >> 4) << 16) | (1u << (apic_id & 0xF));
}

/* One bit of the 256-bit ISR / TMR / IRR (eight 32-bit registers each). */
static inline bool x2apic_isr(uint8_t v) { return (x2apic_read(APIC_ISR(v >> 5)) >> (v & 31)) & 1; }
static inline bool x2apic_tmr(uint8_t v) { return (x2apic_read(APIC_TMR(v >> 5)) >> (v & 31)) & 1; }
static inline bool x2apic_irr(uint8_t v) { return (x2apic_read(APIC_IRR(v >> 5)) >> (v & 31)) & 1; }

/* Highest set vector of ISR or IRR, -1 if none. */
int x2apic_highest_isr(void);
int x2apic_highest_irr(void);

/* Raw ICR write: low 32 bits (vector, mode, flags, shorthand), destination. */
static inline void x2apic_icr(uint32_t low, uint32_t dest)
{
    x2apic_write(APIC_ICR, ((uint64_t)dest << 32) | low);
}

/* Fixed edge IPI to one physical APIC ID. */
static inline void x2apic_send_ipi(uint32_t apic_id, uint8_t vector)
{
    x2apic_icr(APIC_DM_FIXED | APIC_LEVEL_ASSERT | vector, apic_id);
}

/* Shorthand IPI (APIC_SH_SELF / ALL / OTHERS) with a delivery mode. */
static inline void x2apic_send_shorthand(uint32_t shorthand, uint32_t mode, uint8_t vector)
{
    x2apic_icr(shorthand | mode | APIC_LEVEL_ASSERT | vector, 0);
}

/* NMI, INIT (assert; x2APIC has no INIT level de-assert) and SIPI to one physical APIC ID. */
static inline void x2apic_send_nmi(uint32_t apic_id)
{
    x2apic_icr(APIC_DM_NMI | APIC_LEVEL_ASSERT, apic_id);
}

static inline void x2apic_send_init(uint32_t apic_id)
{
    x2apic_icr(APIC_DM_INIT | APIC_LEVEL_ASSERT, apic_id);
}

static inline void x2apic_send_sipi(uint32_t apic_id, uint8_t page)
{
    x2apic_icr(APIC_DM_SIPI | APIC_LEVEL_ASSERT | page, apic_id);
}

/* SELF_IPI register: a fixed edge interrupt to this APIC only. */
static inline void x2apic_self_ipi(uint8_t vector) { x2apic_write(APIC_SELF_IPI, vector); }

#endif
