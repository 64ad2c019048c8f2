/* SPDX-License-Identifier: MIT */
/*
 * C side of the entry points (start.S): the bootstrap vCPU checks the boot
 * info, builds the shared IDT, allocates every vCPU's RSP0/IST stacks, sets
 * itself up and runs main(); an AP sets itself up from the same per-CPU slot
 * and runs ap_main(). Per-CPU setup is idempotent, because INIT + SIPI can
 * restart an AP that was already running (tests/init_sipi.c). Under SEV-ES and
 * SNP each vCPU sets up its GHCB (sev.c) before anything it does is
 * intercepted: right after the IDT on the BSP, first thing on an AP.
 */
#include <sdk/sdk.h>

struct sdk_percpu sdk_percpu[SDK_MAX_CPUS];
const struct snp_bootinfo *sdk_bootinfo;

void sdk_bsp_entry(const struct snp_bootinfo *bi, uint64_t index, uint64_t rsp, uint64_t rflags)
    __attribute__((noreturn));
void sdk_ap_entry(const struct snp_bootinfo *bi, uint64_t index, uint64_t rsp, uint64_t rflags)
    __attribute__((noreturn));
void sdk_idt_init(void);
void sdk_cpu_setup(struct sdk_percpu *p);
void sdk_irq_init(void);

/* GS base first: the console, asserts and handlers all find their vCPU through it. */
static struct sdk_percpu *percpu_early(unsigned index, uint64_t rsp, uint64_t rflags)
{
    struct sdk_percpu *p = &sdk_percpu[index];

    p->self = p;
    p->index = index;
    p->entry_rsp = rsp;
    p->entry_rflags = rflags;
    p->try_rip = 0;
    p->ex_vector = -1;
    p->call_fn = 0;
    wrmsr(MSR_IA32_GS_BASE, (uint64_t)(uintptr_t)p);
    return p;
}

/* Common to BSP and APs once the IDT exists and the stacks are allocated. */
static void cpu_bringup(struct sdk_percpu *p)
{
    sdk_idt_load();
    sdk_cpu_setup(p);
    sdk_savic_cpu_init(p);          /* Secure AVIC: the backing page is the APIC from here */
    x2apic_enable(SDK_SPURIOUS_VECTOR);
    p->apic_id = x2apic_id();
    if (p->apic_id != sdk_bootinfo->apic_id[p->index])
        sdk_fail(SDK_EXIT_SETUP, "cpu %u: APIC ID %u, boot info says %u", p->index,
                 p->apic_id, sdk_bootinfo->apic_id[p->index]);
}

static void check_bootinfo(const struct snp_bootinfo *bi)
{
    if (bi->magic != SNP_BOOTINFO_MAGIC || bi->version != SNP_BOOTINFO_VERSION)
        sdk_fail(SDK_EXIT_SETUP, "boot info at %p: magic 0x%x version %u, want 0x%x version %u",
                 (const void *)bi, bi->magic, bi->version, SNP_BOOTINFO_MAGIC,
                 SNP_BOOTINFO_VERSION);
    if (bi->vcpu_count == 0 || bi->vcpu_count > SDK_MAX_CPUS)
        sdk_fail(SDK_EXIT_SETUP, "boot info: vcpu_count %u", bi->vcpu_count);
    if (bi->tsc_hz == 0 || bi->apic_timer_hz == 0)
        sdk_fail(SDK_EXIT_SETUP, "boot info: tsc_hz %lu apic_timer_hz %lu", bi->tsc_hz,
                 bi->apic_timer_hz);
}

void sdk_bsp_entry(const struct snp_bootinfo *bi, uint64_t index, uint64_t rsp, uint64_t rflags)
{
    sdk_bootinfo = bi;
    struct sdk_percpu *p = percpu_early(0, rsp, rflags);
    sdk_idt_init();
    sdk_idt_load();                 /* from here a fault is reported, not a triple fault */
    sdk_sev_init(bi);               /* SEV-ES/SNP: the GHCB, before anything is intercepted */
    if (index != 0)
        sdk_fail(SDK_EXIT_SETUP, "_start entered with RSI = %lu, want 0", index);
    check_bootinfo(bi);
    for (unsigned i = 0; i < bi->vcpu_count; i++) {
        uint8_t *stacks = sdk_alloc_pages((1 + SDK_IST_STACKS) * SDK_STACK_SIZE / SDK_PAGE_SIZE);
        for (unsigned s = 0; s <= SDK_IST_STACKS; s++)
            sdk_percpu[i].stack_base[s] = (uint64_t)(uintptr_t)(stacks + s * SDK_STACK_SIZE);
    }
    sdk_sev_late_init();
    sdk_savic_prepare();
    sdk_irq_init();
    cpu_bringup(p);
    p->boot_count++;
    p->online = 1;
    sdk_exit((uint32_t)main());
}

void sdk_ap_entry(const struct snp_bootinfo *bi, uint64_t index, uint64_t rsp, uint64_t rflags)
{
    /* The BSP published sdk_bootinfo before sending SIPI; an unknown index cannot be reported. */
    if (bi != sdk_bootinfo || index == 0 || index >= sdk_bootinfo->vcpu_count)
        for (;;)
            __asm__ volatile("cli; hlt");
    struct sdk_percpu *p = percpu_early((unsigned)index, rsp, rflags);
    sdk_sev_cpu_init(p);            /* SEV-ES/SNP: this vCPU's GHCB before its first #VC */
    cpu_bringup(p);
    atomic_inc(&p->boot_count);
    atomic_store(&p->online, 1u);
    ap_main((unsigned)index);
    sdk_ap_idle();
}
