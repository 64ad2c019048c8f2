/* SPDX-License-Identifier: MIT */
/*
 * The local APIC's modes on vCPU 0 (SDM 10.4.3, 10.12.5): from the x2APIC
 * entry state, the illegal direct steps raise #GP (x2APIC -> xAPIC, disabled
 * -> x2APIC), disabling clears CPUID.1:EDX[9] and makes the x2APIC MSRs #GP,
 * and xAPIC mode puts the registers on the MMIO page at 0xFEE00000 (8-bit ID
 * in 31:24, flat logical destinations, ICR as ICR_HIGH then ICR_LOW). An IPI
 * sent through the xAPIC ICR reaches vCPU 1 (still in x2APIC mode) and, by a
 * logical flat destination, vCPU 0 itself; CR8 reads and writes TPR[7:4].
 * Then xAPIC -> x2APIC: the MMIO page is no longer the APIC (reads all ones),
 * the x2APIC ID and LDR are back, and an x2APIC IPI still reaches vCPU 1.
 * Written for 2 vCPUs.
 */
#include <sdk/sdk.h>

#define MSR_APIC_BASE   0x1Bu
#define BASE_X2APIC     0xFEE00D00ull /* BSP | EXTD | EN */
#define BASE_XAPIC      0xFEE00900ull /* BSP | EN */
#define BASE_DISABLED   0xFEE00100ull /* BSP */
#define CPUID_1_EDX_APIC (1u << 9)

/* xAPIC page offsets (SDM Table 10-1). */
#define XA_ID      0x020
#define XA_LVR     0x030
#define XA_TPR     0x080
#define XA_EOI     0x0B0
#define XA_LDR     0x0D0
#define XA_DFR     0x0E0
#define XA_SPIV    0x0F0
#define XA_ICR_LOW 0x300
#define XA_ICR_HI  0x310

#define VEC_TO_AP   0x61
#define VEC_LOGICAL 0x62
#define VEC_X2APIC  0x63
#define WAIT_US     20000

static volatile uint32_t *xa;          /* the MMIO page, mapped uncached */
static volatile bool cpu0_xapic;       /* vCPU 0's handler EOIs through MMIO */
static volatile uint32_t got[2][3];

static uint32_t xa_rd(unsigned off) { return xa[off / 4]; }
static void xa_wr(unsigned off, uint32_t v) { xa[off / 4] = v; }

static void handler(struct sdk_frame *f)
{
    unsigned cpu = sdk_cpu();
    atomic_inc(&got[cpu][f->vector - VEC_TO_AP]);
    if (cpu == 0 && cpu0_xapic)
        xa_wr(XA_EOI, 0);
    else
        x2apic_eoi();
}

static bool cpuid_apic_bit(void)
{
    uint32_t r[4];
    cpuid_count(1, 0, r);
    return (r[3] & CPUID_1_EDX_APIC) != 0;
}

static uint64_t read_cr8(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr8, %0" : "=r"(v));
    return v;
}

static void write_cr8(uint64_t v) { __asm__ volatile("mov %0, %%cr8" : : "r"(v) : "memory"); }

static void to_xapic(void)
{
    uint64_t v;
    GUEST_ASSERT_EQ(rdmsr(MSR_APIC_BASE), BASE_X2APIC);
    GUEST_ASSERT(cpuid_apic_bit());
    GUEST_ASSERT_EQ(sdk_try_wrmsr(MSR_APIC_BASE, BASE_XAPIC), X86_GP);
    printf("xapic_mode: x2APIC -> xAPIC directly raises #GP\n");

    wrmsr(MSR_APIC_BASE, BASE_DISABLED);
    GUEST_ASSERT(!cpuid_apic_bit());
    GUEST_ASSERT_EQ(sdk_try_rdmsr(APIC_LVR, &v), X86_GP);
    GUEST_ASSERT_EQ(sdk_try_wrmsr(MSR_APIC_BASE, BASE_X2APIC), X86_GP);
    printf("xapic_mode: disabled: CPUID.1:EDX[9] = 0, x2APIC MSRs and -> x2APIC raise #GP\n");

    wrmsr(MSR_APIC_BASE, BASE_XAPIC);
    GUEST_ASSERT(cpuid_apic_bit());
    GUEST_ASSERT_EQ(sdk_try_rdmsr(APIC_LVR, &v), X86_GP);
    cpu0_xapic = true;
    GUEST_ASSERT_EQ(xa_rd(XA_ID), sdk_apic_id_of(0) << 24);
    GUEST_ASSERT_EQ(xa_rd(XA_LVR), 0x00050015u);
    GUEST_ASSERT_EQ(xa_rd(XA_DFR), 0xFFFFFFFFu);
    GUEST_ASSERT_EQ(xa_rd(XA_LDR), 0);
    GUEST_ASSERT_EQ(xa_rd(XA_SPIV), 0xFF); /* disabling reset the APIC */
    printf("xapic_mode: xAPIC: CPUID.1:EDX[9] = 1, ID 0x%x and version 0x%x on the MMIO page\n",
           xa_rd(XA_ID), xa_rd(XA_LVR));
}

static void in_xapic(void)
{
    xa_wr(XA_SPIV, 0x1FF);
    xa_wr(XA_TPR, 0x20);
    GUEST_ASSERT_EQ(read_cr8(), 2);
    write_cr8(5);
    GUEST_ASSERT_EQ(xa_rd(XA_TPR), 0x50);
    write_cr8(0);
    GUEST_ASSERT_EQ(xa_rd(XA_TPR), 0);
    printf("xapic_mode: CR8 reads and writes TPR[7:4]\n");

    xa_wr(XA_ICR_HI, sdk_apic_id_of(1) << 24);
    xa_wr(XA_ICR_LOW, APIC_DM_FIXED | APIC_LEVEL_ASSERT | VEC_TO_AP);
    GUEST_WAIT_FOR(got[1][0] == 1, WAIT_US);
    GUEST_ASSERT_EQ(xa_rd(XA_ICR_LOW) & (1u << 12), 0); /* delivery status: idle */
    printf("xapic_mode: an IPI through ICR_HIGH/ICR_LOW reached vCPU 1\n");

    xa_wr(XA_LDR, 0x01000000u);
    xa_wr(XA_ICR_HI, 0x01000000u);
    xa_wr(XA_ICR_LOW, APIC_DEST_LOGICAL | APIC_LEVEL_ASSERT | VEC_LOGICAL);
    GUEST_WAIT_FOR(got[0][1] == 1, WAIT_US);
    GUEST_ASSERT_EQ(got[1][1], 0);
    printf("xapic_mode: a flat logical IPI to MDA 0x01 reached vCPU 0 only\n");
}

static void to_x2apic(void)
{
    xa_wr(XA_TPR, 0x10);
    cli();
    wrmsr(MSR_APIC_BASE, BASE_X2APIC);
    cpu0_xapic = false;
    sti();
    GUEST_ASSERT_EQ(xa_rd(XA_LVR), 0xFFFFFFFFu); /* not the APIC any more */
    GUEST_ASSERT_EQ(x2apic_read(APIC_ID), sdk_apic_id_of(0));
    GUEST_ASSERT_EQ(x2apic_read(APIC_LDR), x2apic_logical_id(sdk_apic_id_of(0)));
    GUEST_ASSERT_EQ(x2apic_read(APIC_TPR), 0x10); /* kept across the switch */
    GUEST_ASSERT_EQ(read_cr8(), 1);
    x2apic_set_tpr(0);
    x2apic_send_ipi(sdk_apic_id_of(1), VEC_X2APIC);
    GUEST_WAIT_FOR(got[1][2] == 1, WAIT_US);
    printf("xapic_mode: xAPIC -> x2APIC: MMIO reads all ones, x2APIC ID and LDR back, "
           "IPI reached vCPU 1\n");
}

int main(void)
{
    if (sdk_cpu_count() < 2)
        sdk_fail(SDK_EXIT_SETUP, "xapic_mode needs 2 vCPUs (--vcpus 2), has %u",
                 sdk_cpu_count());
    for (unsigned v = VEC_TO_AP; v <= VEC_X2APIC; v++)
        sdk_set_handler(v, handler);
    sdk_start_aps();
    xa = (volatile uint32_t *)sdk_map_mmio(0xFEE00000ull, SDK_PAGE_SIZE);
    sti();
    to_xapic();
    in_xapic();
    to_x2apic();
    printf("xapic_mode: PASS\n");
    return 0;
}
