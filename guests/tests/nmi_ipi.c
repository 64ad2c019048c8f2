/* SPDX-License-Identifier: MIT */
/*
 * NMIs sent as IPIs (ICR delivery mode 4) and NMI blocking (SDM 6.7.1, AMD APM
 * 8.2.4): an NMI is delivered through vector 2 even with IF=0, on its IST
 * stack, sets no ISR bit and needs no EOI; while its handler runs, further NMIs
 * are held until IRET and at most one is held (a third collapses into it).
 * Checked: NMI to another vCPU; NMI to self with IF=0; an NMI to self sent
 * inside the handler runs only after IRET; a second NMI sent to a vCPU busy in
 * its handler is held until that handler returns; two extra NMIs during the
 * handler give one more entry, not two. Needs 2 vCPUs.
 */
#include <sdk/sdk.h>

enum action { ACT_NONE, ACT_SELF_NMI, ACT_HOLD, ACT_TWO_SELF_NMIS };

struct nmi_cpu {
    volatile uint32_t count, depth, max_depth;
    volatile uint32_t action_at;     /* the entry (count value) that runs `action` */
    volatile enum action action;
    volatile uint32_t holding, release;
    volatile uint32_t order[8];      /* entry number at each enter (odd) / leave (even) slot */
    volatile uint32_t norder;
};

static struct nmi_cpu nmi[2];

static void note(struct nmi_cpu *c, uint32_t v)
{
    if (c->norder < 8)
        c->order[c->norder] = v;
    c->norder++;
}

static void nmi_handler(struct sdk_frame *f)
{
    (void)f;
    unsigned me = sdk_cpu();
    struct nmi_cpu *c = &nmi[me];
    uint64_t rsp = read_rsp();

    c->depth++;
    if (c->depth > c->max_depth)
        c->max_depth = c->depth;
    GUEST_ASSERT_EQ(c->depth, 1);
    GUEST_ASSERT(rsp >= sdk_ist_base(2) && rsp < sdk_ist_top(2));
    GUEST_ASSERT_EQ(x2apic_highest_isr(), -1);
    uint32_t n = ++c->count;
    note(c, n);

    if (c->action_at == n) {
        switch (c->action) {
        case ACT_SELF_NMI:
            x2apic_send_nmi(x2apic_id());
            sdk_delay_us(20);
            GUEST_ASSERT_EQ(c->count, n);        /* held: no re-entry before IRET */
            break;
        case ACT_TWO_SELF_NMIS:
            x2apic_send_nmi(x2apic_id());
            x2apic_send_nmi(x2apic_id());
            sdk_delay_us(20);
            GUEST_ASSERT_EQ(c->count, n);
            break;
        case ACT_HOLD:
            c->holding = 1;
            GUEST_WAIT_FOR(c->release, 100000);
            GUEST_ASSERT_EQ(c->count, n);
            break;
        default:
            break;
        }
    }
    note(c, n | 0x100);
    c->depth--;
}

static void print_order(unsigned cpu)
{
    struct nmi_cpu *c = &nmi[cpu];
    char line[160];
    int len = snprintf(line, sizeof(line), "nmi_ipi: cpu%u NMI handler order:", cpu);
    for (unsigned i = 0; i < c->norder && i < 8; i++)
        len += snprintf(line + len, sizeof(line) - (size_t)len, " %s%u",
                        c->order[i] & 0x100 ? "leave" : "enter", c->order[i] & 0xFF);
    printf("%s\n", line);
    c->norder = 0;
}

static void expect_sequential(unsigned cpu, uint32_t first, uint32_t last)
{
    struct nmi_cpu *c = &nmi[cpu];
    unsigned k = 0, entries = c->norder;
    print_order(cpu);
    GUEST_ASSERT_EQ(entries, 2 * (last - first + 1));
    for (uint32_t n = first; n <= last; n++) {
        GUEST_ASSERT_EQ(c->order[k++], n);
        GUEST_ASSERT_EQ(c->order[k++], n | 0x100);
    }
}

int main(void)
{
    if (sdk_cpu_count() < 2)
        sdk_fail(SDK_EXIT_SETUP, "nmi_ipi needs 2 vCPUs, has %u", sdk_cpu_count());
    sdk_set_handler(X86_NMI, nmi_handler);
    sdk_start_aps();
    uint32_t me = x2apic_id(), other = sdk_apic_id_of(1);

    x2apic_send_nmi(other);
    GUEST_WAIT_FOR(nmi[1].count == 1, 20000);
    expect_sequential(1, 1, 1);
    printf("nmi_ipi: NMI to cpu1 taken\n");

    GUEST_ASSERT(!irqs_enabled());
    x2apic_send_nmi(me);
    GUEST_WAIT_FOR(nmi[0].count == 1, 20000);
    expect_sequential(0, 1, 1);
    printf("nmi_ipi: NMI to self taken with IF=0\n");

    nmi[0].action = ACT_SELF_NMI;
    nmi[0].action_at = 2;
    x2apic_send_nmi(me);
    GUEST_WAIT_FOR(nmi[0].count == 3, 20000);
    expect_sequential(0, 2, 3);
    printf("nmi_ipi: NMI sent from the NMI handler ran after its IRET\n");

    nmi[1].action = ACT_HOLD;
    nmi[1].action_at = 2;
    x2apic_send_nmi(other);
    GUEST_WAIT_FOR(nmi[1].holding, 20000);
    x2apic_send_nmi(other);
    sdk_delay_us(50);
    GUEST_ASSERT_EQ(nmi[1].count, 2);
    nmi[1].release = 1;
    GUEST_WAIT_FOR(nmi[1].count == 3, 20000);
    expect_sequential(1, 2, 3);
    printf("nmi_ipi: second NMI to busy cpu1 held until its IRET\n");

    nmi[0].action = ACT_TWO_SELF_NMIS;
    nmi[0].action_at = 4;
    x2apic_send_nmi(me);
    GUEST_WAIT_FOR(nmi[0].count >= 5, 20000);
    sdk_delay_us(100);
    GUEST_ASSERT_EQ(nmi[0].count, 5);
    expect_sequential(0, 4, 5);
    printf("nmi_ipi: two NMIs during the handler gave one more entry\n");

    sdk_delay_us(500);                              /* nothing more may arrive late */
    GUEST_ASSERT_EQ(nmi[0].count, 5);
    GUEST_ASSERT_EQ(nmi[1].count, 3);
    GUEST_ASSERT_EQ(nmi[0].max_depth, 1);
    GUEST_ASSERT_EQ(nmi[1].max_depth, 1);
    printf("nmi_ipi: PASS\n");
    return 0;
}
