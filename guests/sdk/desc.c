/* SPDX-License-Identifier: MIT */
/*
 * Descriptor tables: the shared IDT (256 64-bit interrupt gates into isr.S)
 * and each vCPU's own GDT and 64-bit TSS (RSP0 and IST1..3 stacks). The GDT
 * keeps the loader's selectors (docs/guest-abi.md) so nothing changes meaning
 * when it is switched, and adds the TSS at 0x28. Layouts: Intel SDM vol. 3
 * 3.4.5, 6.14.1 (64-bit IDT gate), 7.7 (64-bit TSS); AMD APM vol. 2 4.8, 12.2.5.
 */
#include <sdk/sdk.h>

void sdk_idt_init(void);
void sdk_cpu_setup(struct sdk_percpu *p);
void sdk_gdt_fill(struct sdk_percpu *p);

#define IDT_GATE_INTR 0x8Eull   /* P=1, DPL=0, type 0xE (64-bit interrupt gate) */

extern const char sdk_isr_stubs[];

static uint64_t idt[256 * 2] __attribute__((aligned(16)));

/* Default IST use, as Linux: #DF, NMI and #MC must run on a known-good stack. */
static unsigned default_ist(unsigned v)
{
    switch (v) {
    case X86_DF: return 1;
    case X86_NMI: return 2;
    case X86_MC: return 3;
    default: return 0;
    }
}

static void set_gate(unsigned v, uint64_t target, unsigned ist)
{
    idt[2 * v] = (target & 0xFFFFull) | ((uint64_t)SDK_SEL_CODE << 16) |
                 ((uint64_t)(ist & 7) << 32) | (IDT_GATE_INTR << 40) |
                 (((target >> 16) & 0xFFFFull) << 48);
    idt[2 * v + 1] = target >> 32;
}

void sdk_idt_init(void)
{
    for (unsigned v = 0; v < 256; v++)
        set_gate(v, (uint64_t)(uintptr_t)(sdk_isr_stubs + 16 * v), default_ist(v));
}

void sdk_idt_load(void)
{
    struct x86_dtr d = { .limit = sizeof(idt) - 1, .base = (uint64_t)(uintptr_t)idt };
    lidt(&d);
}

void sdk_set_ist(unsigned vector, unsigned ist)
{
    if (vector > 255 || ist > SDK_IST_STACKS)
        sdk_fail(SDK_EXIT_ASSERT, "sdk_set_ist(%u, %u): bad vector or IST", vector, ist);
    uint64_t lo = idt[2 * vector] & ~(7ull << 32);
    WRITE_ONCE(idt[2 * vector], lo | ((uint64_t)ist << 32));
}

uint64_t sdk_ist_base(unsigned n) { return this_cpu()->stack_base[n]; }
uint64_t sdk_ist_top(unsigned n) { return this_cpu()->stack_base[n] + SDK_STACK_SIZE; }

static uint64_t tss_desc_low(uint64_t base, uint32_t limit)
{
    return (limit & 0xFFFFull) | ((base & 0xFFFFFFull) << 16) | (0x89ull << 40) |
           ((uint64_t)((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFFull) << 56);
}

/* The loader's four segments (docs/guest-abi.md); also the GDT an SNP AP's VMSA names. */
void sdk_gdt_fill(struct sdk_percpu *p)
{
    p->gdt[0] = 0;
    p->gdt[1] = 0x00AF9A000000FFFFull;  /* 0x08: 64-bit code, DPL 0 */
    p->gdt[2] = 0x00CF92000000FFFFull;  /* 0x10: data, DPL 0 */
    p->gdt[3] = 0x00AFFA000000FFFFull;  /* 0x18: 64-bit code, DPL 3 */
    p->gdt[4] = 0x00CFF2000000FFFFull;  /* 0x20: data, DPL 3 */
}

/*
 * Rebuilt from scratch every time: a restarted AP (INIT + SIPI) would get #GP
 * from LTR on a descriptor its previous life left marked busy.
 */
void sdk_cpu_setup(struct sdk_percpu *p)
{
    uint64_t tss = (uint64_t)(uintptr_t)&p->tss;

    sdk_gdt_fill(p);
    p->gdt[5] = tss_desc_low(tss, sizeof(p->tss) - 1);
    p->gdt[6] = tss >> 32;

    memset(&p->tss, 0, sizeof(p->tss));
    p->tss.rsp[0] = p->stack_base[0] + SDK_STACK_SIZE;
    for (unsigned i = 0; i < SDK_IST_STACKS; i++)
        p->tss.ist[i] = p->stack_base[1 + i] + SDK_STACK_SIZE;
    p->tss.iomap_base = sizeof(p->tss);   /* no I/O bitmap */

    struct x86_dtr d = { .limit = sizeof(p->gdt) - 1, .base = (uint64_t)(uintptr_t)p->gdt };
    lgdt(&d);
    /* Reload CS with a far return and the data selectors; GS is left alone
     * because loading it would reset the GS base that points at p. */
    __asm__ volatile("pushq %[cs]\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "movw %[ds], %%ax\n\t"
                     "movw %%ax, %%ds\n\t"
                     "movw %%ax, %%es\n\t"
                     "movw %%ax, %%ss\n\t"
                     "movw %%ax, %%fs\n\t"
                     : : [cs] "i"(SDK_SEL_CODE), [ds] "i"(SDK_SEL_DATA) : "rax", "memory");
    ltr(SDK_SEL_TSS);
}
