/* SPDX-License-Identifier: MIT */
/*
 * Trigger mode and the TMR (SDM 10.8.4-10.8.5). With the irqdev line in level
 * mode the vector's TMR bit is set in its handler; an EOI while the line is
 * still asserted is broadcast to the device, which sends the message again (a
 * second handler entry); deasserting before the EOI ends it. In edge mode TMR
 * is clear and one message goes per 0->1 edge. A fixed IPI sent through the ICR
 * with the level trigger bit sets TMR for its vector; an edge one clears it.
 */
#include <sdk/sdk.h>

#define LEVEL_VEC 0x60
#define EDGE_VEC  0x61
#define IPI_VEC   0x62
#define QUIET_US  100

static volatile uint32_t calls;
static volatile bool tmr_seen[4], isr_seen[4];

static void record(uint8_t v)
{
    if (calls < 4) {
        tmr_seen[calls] = x2apic_tmr(v);
        isr_seen[calls] = x2apic_isr(v);
    }
    calls++;
}

static void level_handler(struct sdk_frame *f)
{
    record((uint8_t)f->vector);
    if (calls == 2)
        irqdev_set_line(false);         /* deassert first: this EOI must not re-send */
    x2apic_eoi();                       /* first call: line still asserted -> re-sent */
}

static void plain_handler(struct sdk_frame *f)
{
    record((uint8_t)f->vector);
    x2apic_eoi();
}

static void quiet(void)
{
    sti();
    sdk_delay_us(QUIET_US);
    cli();
}

static void test_level_line(uint32_t me)
{
    calls = 0;
    irqdev_config(me, LEVEL_VEC, APIC_DM_FIXED, true);
    irqdev_reset_count();
    irqdev_set_line(true);
    SDK_HALT_UNTIL(calls == 2);
    quiet();
    GUEST_ASSERT_EQ(calls, 2);
    GUEST_ASSERT_EQ(irqdev_count(), 2);
    GUEST_ASSERT_EQ(irqdev_line() & 1, 0);
    for (unsigned i = 0; i < 2; i++) {
        GUEST_ASSERT(tmr_seen[i]);
        GUEST_ASSERT(isr_seen[i]);
    }
    printf("level_tmr: level line: TMR set in the handler, EOI while asserted re-delivered, "
           "deassert then EOI did not (%u messages)\n", irqdev_count());
}

static void test_edge_line(uint32_t me)
{
    calls = 0;
    irqdev_config(me, EDGE_VEC, APIC_DM_FIXED, false);
    irqdev_reset_count();
    irqdev_set_line(true);
    SDK_HALT_UNTIL(calls == 1);
    quiet();
    GUEST_ASSERT_EQ(calls, 1);
    GUEST_ASSERT(!tmr_seen[0]);
    GUEST_ASSERT(isr_seen[0]);
    irqdev_set_line(false);
    quiet();
    GUEST_ASSERT_EQ(irqdev_count(), 1);
    irqdev_set_line(true);
    SDK_HALT_UNTIL(calls == 2);
    irqdev_set_line(false);
    quiet();
    GUEST_ASSERT_EQ(calls, 2);
    GUEST_ASSERT_EQ(irqdev_count(), 2);
    printf("level_tmr: edge line: TMR clear, one message per rising edge\n");
}

static void test_icr_trigger(uint32_t me)
{
    calls = 0;
    x2apic_icr(APIC_DM_FIXED | APIC_LEVEL_ASSERT | APIC_TRIG_LEVEL | IPI_VEC, me);
    SDK_HALT_UNTIL(calls == 1);
    cli();
    GUEST_ASSERT(tmr_seen[0]);
    x2apic_icr(APIC_DM_FIXED | APIC_LEVEL_ASSERT | IPI_VEC, me);
    SDK_HALT_UNTIL(calls == 2);
    cli();
    GUEST_ASSERT(!tmr_seen[1]);
    printf("level_tmr: ICR level-triggered fixed IPI set TMR, edge IPI cleared it\n");
}

int main(void)
{
    uint32_t me = x2apic_id();

    sdk_set_handler(LEVEL_VEC, level_handler);
    sdk_set_handler(EDGE_VEC, plain_handler);
    sdk_set_handler(IPI_VEC, plain_handler);
    test_level_line(me);
    test_edge_line(me);
    test_icr_trigger(me);
    GUEST_ASSERT_EQ(x2apic_highest_isr(), -1);
    GUEST_ASSERT_EQ(x2apic_highest_irr(), -1);
    printf("level_tmr: PASS\n");
    return 0;
}
