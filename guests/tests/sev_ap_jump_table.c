/* SPDX-License-Identifier: MIT */
/*
 * SEV-ES AP start and parking (docs/guest-abi.md "Application processors";
 * docs/sev-snp-facts.md 5.2, 4.2, 10.2): every vCPU has a launch VMSA, so the first SIPI
 * starts cpu1 at the ELF entry with RSI = 1; later an AP parks itself in
 * AP_HLT_LOOP (or the MSR protocol's AP reset hold) and continues, at the next
 * SIPI, where the AP jump table says.
 *  1. AP_JUMP_TABLE GET returns what the SDK SET at boot, whose entry is
 *     sdk_ap_start;
 *  2. the first INIT/SIPI starts cpu1 from its launch VMSA;
 *  3. cpu1 parks with AP_HLT_LOOP; a fixed IPI does not release it;
 *  4. the guest SETs a jump table of its own (entry: a stub that counts and
 *     goes on to sdk_ap_start); INIT/SIPI wakes cpu1, which comes back
 *     through the stub with its boot stack and RSI = 1;
 *  5. cpu1 parks with the MSR protocol's AP reset hold; INIT/SIPI again.
 */
#include <sdk/sdk.h>

#define QUIET_US 1000
enum { CMD_RUN, CMD_PARK_NAE, CMD_PARK_MSR };

static volatile uint64_t heartbeat;
static volatile uint32_t cmd, ipis;
volatile uint32_t custom_entries;
static uint64_t custom_table[512] __attribute__((aligned(4096)));

/* The custom jump-table entry: count, then the SDK's AP entry (RDI/RSI/RSP kept). */
__asm__(".text\n"
        ".globl custom_ap_entry\n"
        "custom_ap_entry:\n\t"
        "lock incl custom_entries(%rip)\n\t"
        "jmp sdk_ap_start\n");
extern const char custom_ap_entry[];

void ap_main(unsigned cpu)
{
    (void)cpu;
    for (;;) {
        heartbeat++;
        uint32_t c = cmd;
        if (c != CMD_RUN) {
            cmd = CMD_RUN;
            sdk_sev_ap_park(c == CMD_PARK_MSR);
        }
        cpu_relax();
    }
}

static void ipi_handler(struct sdk_frame *f)
{
    (void)f;
    ipis++;
    x2apic_eoi();
}

static bool running(void)
{
    uint64_t h = heartbeat;
    return SDK_WAIT_FOR(heartbeat != h, QUIET_US);
}

static void check_entry(uint32_t boots)
{
    const struct sdk_percpu *p = sdk_percpu_of(1);
    GUEST_ASSERT_EQ(sdk_ap_boot_count(1), boots);
    GUEST_ASSERT_EQ(p->index, 1);
    GUEST_ASSERT_EQ(p->entry_rsp, sdk_bootinfo->stack_top_base - sdk_bootinfo->stack_size);
    GUEST_ASSERT_EQ(p->entry_rflags & X86_RFLAGS_IF, 0);
}

static void park(uint32_t how)
{
    cmd = how;
    GUEST_WAIT_FOR(!sdk_percpu_of(1)->online, 20000);
    sdk_delay_us(QUIET_US);
    GUEST_ASSERT(!running());
}

int main(void)
{
    uint64_t gpa = 0;

    printf("sev_ap_jump_table: mode %s\n", sdk_mode_name(sdk_sev_mode()));
    GUEST_ASSERT_EQ(sdk_sev_mode(), SNP_MODE_SEV_ES);
    if (sdk_cpu_count() < 2)
        sdk_fail(SDK_EXIT_SETUP, "sev_ap_jump_table needs 2 vCPUs, has %u", sdk_cpu_count());
    sdk_set_handler(0x50, ipi_handler);

    GUEST_ASSERT_EQ(sdk_ap_jump_table_get(&gpa), 0);
    GUEST_ASSERT_EQ(gpa, sdk_ap_jump_table());
    GUEST_ASSERT_EQ(*(volatile uint64_t *)(uintptr_t)gpa, (uintptr_t)sdk_ap_start);
    printf("sev_ap_jump_table: 1. GET: table 0x%lx, entry 0x%lx (sdk_ap_start)\n", gpa,
           *(volatile uint64_t *)(uintptr_t)gpa);

    GUEST_ASSERT(!running());
    GUEST_ASSERT(sdk_start_ap(1));
    check_entry(1);
    GUEST_ASSERT(running());
    printf("sev_ap_jump_table: 2. first SIPI started cpu1 from its launch VMSA\n");

    park(CMD_PARK_NAE);
    x2apic_send_ipi(sdk_apic_id_of(1), 0x50);
    sdk_delay_us(QUIET_US);
    GUEST_ASSERT(!running());
    GUEST_ASSERT_EQ(sdk_ap_boot_count(1), 1);
    printf("sev_ap_jump_table: 3. cpu1 parked in AP_HLT_LOOP; a fixed IPI left it there\n");

    custom_table[0] = (uintptr_t)custom_ap_entry;
    GUEST_ASSERT_EQ(sdk_ap_jump_table_set((uintptr_t)custom_table), 0);
    GUEST_ASSERT_EQ(sdk_ap_jump_table_get(&gpa), 0);
    GUEST_ASSERT_EQ(gpa, (uintptr_t)custom_table);
    GUEST_ASSERT(sdk_start_ap(1));
    check_entry(2);
    GUEST_ASSERT_EQ(custom_entries, 1);
    GUEST_ASSERT(running());
    printf("sev_ap_jump_table: 4. SET a new table; INIT/SIPI woke cpu1, back through it\n");

    park(CMD_PARK_MSR);
    GUEST_ASSERT(sdk_start_ap(1));
    check_entry(3);
    GUEST_ASSERT_EQ(custom_entries, 2);
    GUEST_ASSERT(running());
    printf("sev_ap_jump_table: 5. AP reset hold (MSR protocol) and SIPI: back again\n");

    GUEST_ASSERT_EQ(sdk_ap_jump_table_set(sdk_ap_jump_table()), 0);
    printf("sev_ap_jump_table: PASS (cpu1 took %u fixed IPIs after waking)\n", ipis);
    return 0;
}
