/* SPDX-License-Identifier: MIT */
/*
 * Nesting and EOI order (SDM 10.8.4-10.8.5). Part 1: the 0x40 handler sends
 * itself 0x80 and 0x30 and re-enables interrupts: 0x80 nests at once (class 8
 * above PPR class 4), 0x30 waits; both ISR bits are visible while nested, each
 * EOI retires its own vector and 0x30 arrives after the outer IRET. Part 2:
 * EOI always retires the highest in-service vector: the nested 0x90 returns
 * without EOI, so the 0x50 handler's first EOI retires 0x90, which lets a
 * pending 0x60 (class 6, above 5) nest before the second EOI retires 0x50.
 */
#include <sdk/sdk.h>

static volatile uint16_t events[16];   /* vector, | 0x100 for handler exit */
static volatile unsigned nevents;

static void log_event(uint64_t vector, bool exit)
{
    if (nevents < 16)
        events[nevents] = (uint16_t)(vector | (exit ? 0x100 : 0));
    nevents++;
}

static void check_isr(const uint8_t *set, unsigned n)
{
    uint32_t want[8] = { 0 };
    for (unsigned i = 0; i < n; i++)
        want[set[i] >> 5] |= 1u << (set[i] & 31);
    for (unsigned i = 0; i < 8; i++)
        GUEST_ASSERT_EQ(rdmsr(APIC_ISR(i)), want[i]);
}

/* Part 1 */
static void h40(struct sdk_frame *f)
{
    log_event(f->vector, false);
    check_isr((const uint8_t[]){ 0x40 }, 1);
    GUEST_ASSERT_EQ(x2apic_ppr(), 0x40);
    x2apic_self_ipi(0x80);
    x2apic_self_ipi(0x30);
    sti_nop_cli();                           /* 0x80 nests here, 0x30 may not */
    GUEST_ASSERT_EQ(nevents, 3);
    check_isr((const uint8_t[]){ 0x40 }, 1);
    GUEST_ASSERT(x2apic_irr(0x30));
    log_event(f->vector, true);
    x2apic_eoi();
    check_isr(0, 0);
}

static void h80(struct sdk_frame *f)
{
    log_event(f->vector, false);
    check_isr((const uint8_t[]){ 0x40, 0x80 }, 2);
    GUEST_ASSERT_EQ(x2apic_highest_isr(), 0x80);
    GUEST_ASSERT_EQ(x2apic_ppr(), 0x80);
    x2apic_eoi();
    check_isr((const uint8_t[]){ 0x40 }, 1);
    GUEST_ASSERT_EQ(x2apic_ppr(), 0x40);
    log_event(f->vector, true);
}

static void h30(struct sdk_frame *f)
{
    log_event(f->vector, false);
    check_isr((const uint8_t[]){ 0x30 }, 1);
    x2apic_eoi();
    log_event(f->vector, true);
}

/* Part 2 */
static void h50(struct sdk_frame *f)
{
    log_event(f->vector, false);
    x2apic_self_ipi(0x90);
    sti_nop_cli();                           /* 0x90 nests and returns without EOI */
    check_isr((const uint8_t[]){ 0x50, 0x90 }, 2);
    GUEST_ASSERT_EQ(x2apic_ppr(), 0x90);
    x2apic_self_ipi(0x60);
    sti_nop_cli();                           /* class 6 is below PPR class 9: stays in IRR */
    GUEST_ASSERT(x2apic_irr(0x60));
    x2apic_eoi();                            /* retires 0x90, the highest, not 0x50 */
    check_isr((const uint8_t[]){ 0x50 }, 1);
    GUEST_ASSERT_EQ(x2apic_ppr(), 0x50);
    sti_nop_cli();                           /* now 0x60 nests */
    GUEST_ASSERT(!x2apic_irr(0x60));
    check_isr((const uint8_t[]){ 0x50 }, 1);
    x2apic_eoi();                            /* retires 0x50 */
    check_isr(0, 0);
    log_event(f->vector, true);
}

static void h90(struct sdk_frame *f)
{
    log_event(f->vector, false);
    log_event(f->vector, true);              /* no EOI on purpose */
}

static void h60(struct sdk_frame *f)
{
    log_event(f->vector, false);
    check_isr((const uint8_t[]){ 0x50, 0x60 }, 2);
    x2apic_eoi();
    log_event(f->vector, true);
}

static void check_events(const char *what, const uint16_t *want, unsigned n)
{
    GUEST_ASSERT_EQ(nevents, n);
    for (unsigned i = 0; i < n; i++) {
        printf("eoi_nested: %s: %s 0x%x\n", what, events[i] & 0x100 ? "leave" : "enter",
               events[i] & 0xFF);
        GUEST_ASSERT_EQ(events[i], want[i]);
    }
    nevents = 0;
}

int main(void)
{
    sdk_set_handler(0x40, h40);
    sdk_set_handler(0x80, h80);
    sdk_set_handler(0x30, h30);
    sdk_set_handler(0x50, h50);
    sdk_set_handler(0x90, h90);
    sdk_set_handler(0x60, h60);

    x2apic_self_ipi(0x40);
    sti_nop_cli();
    static const uint16_t part1[] = { 0x40, 0x80, 0x180, 0x140, 0x30, 0x130 };
    check_events("nesting", part1, 6);

    x2apic_self_ipi(0x50);
    sti_nop_cli();
    static const uint16_t part2[] = { 0x50, 0x90, 0x190, 0x60, 0x160, 0x150 };
    check_events("EOI order", part2, 6);

    GUEST_ASSERT_EQ(x2apic_highest_irr(), -1);
    GUEST_ASSERT_EQ(x2apic_highest_isr(), -1);
    GUEST_ASSERT_EQ(x2apic_ppr(), 0);
    printf("eoi_nested: PASS\n");
    return 0;
}
