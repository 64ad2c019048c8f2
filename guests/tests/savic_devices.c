/* SPDX-License-Identifier: MIT */
/*
 * Secure AVIC and the interrupts the hypervisor delivers (docs/sev-snp-facts.md 7.3): it
 * has no EVENTINJ, only REQUESTED_IRR, which VMRUN merges into the page's IRR
 * as far as the guest's ALLOWED_IRR lets it. Checked: a device vector the
 * driver allowed arrives; a device vector the guest blocked is dropped (the
 * default `savic.blocked_vectors`); the LAPIC timer, programmed through the
 * hypervisor (LVTT and TMICT are forwarded MSR writes), arrives through
 * REQUESTED_IRR. 1 vCPU; `--mode snp --apic savic` only.
 */
#include <sdk/sdk.h>

#define VEC_ALLOWED 0x71
#define VEC_BLOCKED 0x72
#define VEC_TIMER   0x73

static volatile uint32_t got[256];

static void handler(struct sdk_frame *f)
{
    got[(uint8_t)f->vector]++;
    x2apic_eoi();
}

static void pulse(void)
{
    irqdev_set_line(true);
    irqdev_set_line(false);
}

int main(void)
{
    uint32_t me = x2apic_id();
    GUEST_ASSERT(sdk_savic_on());
    sdk_set_handler(VEC_ALLOWED, handler);
    sdk_set_handler(VEC_BLOCKED, handler);
    sdk_set_handler(VEC_TIMER, handler);

    irqdev_config(me, VEC_ALLOWED, APIC_DM_FIXED, false); /* allows the vector */
    pulse();
    SDK_HALT_UNTIL(got[VEC_ALLOWED] == 1);
    printf("savic_devices: allowed device vector 0x%x arrived\n", VEC_ALLOWED);

    irqdev_config(me, VEC_BLOCKED, APIC_DM_FIXED, false);
    sdk_savic_allow_vector(VEC_BLOCKED, false);
    pulse();
    sti();
    sdk_delay_us(200);
    cli();
    GUEST_ASSERT_EQ(got[VEC_BLOCKED], 0);
    sdk_savic_allow_vector(VEC_BLOCKED, true);
    sdk_delay_us(200);
    GUEST_ASSERT_EQ(got[VEC_BLOCKED], 0); /* dropped, not held */
    printf("savic_devices: blocked device vector 0x%x was dropped\n", VEC_BLOCKED);

    lapic_timer_oneshot(VEC_TIMER, lapic_us_to_count(50, 1), 1);
    SDK_HALT_UNTIL(got[VEC_TIMER] == 1);
    printf("savic_devices: the hypervisor's LAPIC timer delivered 0x%x\n", VEC_TIMER);
    printf("savic_devices: PASS\n");
    return 0;
}
