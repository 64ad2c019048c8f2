/* SPDX-License-Identifier: MIT */
/*
 * A guest that plays the L1 of nested SNP (docs/psp.md): it finds the PSP
 * through the ACPI ASPT (RSDP from the boot info, XSDT, ASPT's three register
 * structures), programs the PSP's completion interrupt through ACPI CmdResp
 * (PART1, PART2, PART3, IRQ_EN) for each of physical/logical and
 * fixed/lowest-priority delivery at a different vCPU and vector, and takes
 * each completion there. It checks that IRQ_EN off sends nothing and leaves
 * INTSTS set, and that re-programming moves the interrupt. Then, as an SNP
 * host (plain mode with psp.hardware_isolation), it runs SNP_INIT,
 * PLATFORM_STATUS, makes pages Pre-Guest with RMPUPDATE (a 2 MiB page split
 * by PSMASH first), launches them through LAUNCH_START/UPDATE/FINISH taking
 * a completion interrupt for each command, and prints the launch digest
 * SNP_HV_REPORT_REQ reads back. Without hardware isolation RMPUPDATE and
 * PSMASH must be #UD. 4 vCPUs; needs `"psp": {"enable": true}`.
 */
#include <sdk/sdk.h>

#define CMD_SNP_INIT          0x081u
#define CMD_PLATFORM_STATUS   0x083u
#define CMD_DF_FLUSH          0x084u
#define CMD_PAGE_RECLAIM      0x0C7u
#define CMD_ACTIVATE          0x091u
#define CMD_GCTX_CREATE       0x093u
#define CMD_HV_REPORT_REQ     0x096u
#define CMD_LAUNCH_START      0x0A0u
#define CMD_LAUNCH_UPDATE     0x0A1u
#define CMD_LAUNCH_FINISH     0x0A2u

#define ACPI_PART1  0x82u
#define ACPI_PART2  0x83u
#define ACPI_PART3  0x84u
#define ACPI_IRQ_EN 0x85u

#define VEC_LAUNCH  0x60
#define L2_ASID     7
#define L2_PAGES    3

/* Register addresses from the ASPT. */
static volatile uint32_t *feature, *inten, *intsts, *cmdresp, *buf_lo, *buf_hi, *acpi_cmdresp;
static uint8_t irq_id;

static volatile uint32_t got_cpu[256], got_count[256];

static void psp_handler(struct sdk_frame *f)
{
    uint8_t v = (uint8_t)f->vector;
    got_cpu[v] = sdk_cpu();
    got_count[v]++;
    x2apic_eoi();
}

/* ---- ACPI: RSDP -> XSDT -> ASPT ----------------------------------------------------------- */

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static bool checksum_ok(const uint8_t *p, uint32_t len)
{
    uint8_t s = 0;
    for (uint32_t i = 0; i < len; i++)
        s = (uint8_t)(s + p[i]);
    return s == 0;
}

static volatile uint32_t *reg(uint64_t pa, uint64_t base, volatile uint8_t *map)
{
    GUEST_ASSERT(pa >= base && pa - base < 4096 && pa % 4 == 0);
    return (volatile uint32_t *)(map + (pa - base));
}

static void find_psp(void)
{
    const uint8_t *rsdp = (const uint8_t *)sdk_bootinfo->acpi_rsdp;
    GUEST_ASSERT(rsdp != NULL);
    GUEST_ASSERT(!memcmp(rsdp, "RSD PTR ", 8) && checksum_ok(rsdp, 20) && checksum_ok(rsdp, 36));
    const uint8_t *xsdt = (const uint8_t *)rd64(rsdp + 24);
    GUEST_ASSERT(!memcmp(xsdt, "XSDT", 4) && checksum_ok(xsdt, rd32(xsdt + 4)));
    const uint8_t *aspt = NULL;
    for (uint32_t off = 36; off < rd32(xsdt + 4); off += 8) {
        const uint8_t *t = (const uint8_t *)rd64(xsdt + off);
        if (!memcmp(t, "ASPT", 4))
            aspt = t;
    }
    GUEST_ASSERT(aspt != NULL);
    uint32_t len = rd32(aspt + 4);
    GUEST_ASSERT(checksum_ok(aspt, len) && aspt[8] == 1); /* revision ASPT_REVISION_ID */
    uint64_t r[7] = {0};
    unsigned seen = 0;
    /* As drivers/hv's acpi_parse_aspt walks it: {type, length} structures. */
    for (uint32_t off = 40; off + 4 <= len; off += rd16(aspt + off + 2)) {
        const uint8_t *e = aspt + off;
        GUEST_ASSERT(rd16(e + 2) >= 4 && off + rd16(e + 2) <= len);
        if (rd16(e) == 0)
            r[0] = rd64(e + 8), r[1] = rd64(e + 16), r[2] = rd64(e + 24), seen |= 1;
        else if (rd16(e) == 1)
            irq_id = e[4], r[3] = rd64(e + 8), r[4] = rd64(e + 16), r[5] = rd64(e + 24), seen |= 2;
        else if (rd16(e) == 2)
            r[6] = rd64(e + 8), seen |= 4;
    }
    GUEST_ASSERT_EQ(seen, 7);
    GUEST_ASSERT_EQ(rd32(aspt + 36), 3);
    uint64_t base = r[0] & ~0xFFFull;
    volatile uint8_t *map = sdk_map_mmio(base, SDK_PAGE_SIZE);
    feature = reg(r[0], base, map), inten = reg(r[1], base, map), intsts = reg(r[2], base, map);
    cmdresp = reg(r[3], base, map), buf_lo = reg(r[4], base, map), buf_hi = reg(r[5], base, map);
    acpi_cmdresp = reg(r[6], base, map);
    printf("snp_host: ASPT at 0x%lx: PSP page 0x%lx, mailbox IRQ id %u, feature 0x%x\n",
           (uint64_t)aspt, base, irq_id, *feature);
}

/* ---- ACPI CmdResp ------------------------------------------------------------------------- */

static uint32_t acpi_cmd(uint32_t id, uint16_t data)
{
    *acpi_cmdresp = id << 16 | data;
    uint32_t r;
    GUEST_ASSERT(SDK_WAIT_FOR((r = *acpi_cmdresp) & (1u << 31), 10000)); /* 10 ms, as Linux */
    return (r >> 26) & 0x1F;
}

/* The patches' sequence; bit 8 of PART3 is the model's lowest-priority bit (docs/psp.md). */
static void program_irq(uint32_t dest, uint8_t vector, bool logical, bool lowest)
{
    GUEST_ASSERT_EQ(acpi_cmd(ACPI_PART1, (uint16_t)dest), 0);
    GUEST_ASSERT_EQ(acpi_cmd(ACPI_PART2, (uint16_t)(dest >> 16)), 0);
    uint16_t p3 = (uint16_t)(vector | (lowest ? 1u << 8 : 0) | (logical ? 1u << 9 : 0) |
                             (uint16_t)irq_id << 10);
    GUEST_ASSERT_EQ(acpi_cmd(ACPI_PART3, p3), 0);
}

static void irq_enable(bool on)
{
    GUEST_ASSERT_EQ(acpi_cmd(ACPI_IRQ_EN, (uint16_t)((on ? 1u : 0u) | (uint16_t)irq_id << 10)), 0);
}

/* ---- The SEV mailbox ---------------------------------------------------------------------- */

static uint8_t *cmdbuf;      /* one page the firmware may read (hypervisor-owned / shared) */
static uint64_t cmdbuf_pa;

static uint64_t pa_of(const void *va)
{
    uint64_t pa;
    bool enc;
    GUEST_ASSERT(sdk_virt_to_phys((uintptr_t)va, &pa, &enc));
    return pa;
}

/* Writes the buffer and the command; with ioc the caller waits for the interrupt. */
static uint32_t issue(uint32_t cmd, const void *buf, size_t len, bool ioc)
{
    if (len)
        memcpy(cmdbuf, buf, len);
    *buf_lo = (uint32_t)cmdbuf_pa;
    *buf_hi = (uint32_t)(cmdbuf_pa >> 32);
    *cmdresp = cmd << 16 | (ioc ? 1u : 0u);
    uint32_t r;
    GUEST_ASSERT(SDK_WAIT_FOR((r = *cmdresp) & (1u << 31), 100000));
    return r & 0xFFFF;
}

/* A command whose completion interrupt (VEC_LAUNCH at this vCPU) is awaited in HLT. */
static uint32_t command(uint32_t cmd, void *buf, size_t len)
{
    uint32_t before = got_count[VEC_LAUNCH];
    cli();
    uint32_t st = issue(cmd, buf, len, true);
    SDK_HALT_UNTIL(got_count[VEC_LAUNCH] == before + 1);
    GUEST_ASSERT_EQ(got_cpu[VEC_LAUNCH], sdk_cpu());
    GUEST_ASSERT(*intsts & 2);
    *intsts = 2; /* write one to clear, as sev_irq_handler does */
    GUEST_ASSERT_EQ(*intsts & 2, 0);
    if (len)
        memcpy(buf, cmdbuf, len);
    return st;
}

/* ---- Interrupt destinations --------------------------------------------------------------- */

struct combo {
    unsigned cpu;
    uint8_t vector;
    bool logical, lowest;
};

static const struct combo combos[] = {
    {1, 0x41, false, false},
    {2, 0x42, true, false},
    {3, 0x43, false, true},
    {0, 0x44, true, true},
};

/* One command with IOC; the interrupt must reach c->cpu at c->vector. */
static void take_at(const struct combo *c)
{
    uint32_t apic = sdk_apic_id_of(c->cpu);
    program_irq(c->logical ? x2apic_logical_id(apic) : apic, c->vector, c->logical, c->lowest);
    uint32_t before = got_count[c->vector];
    cli();
    GUEST_ASSERT_EQ(issue(CMD_DF_FLUSH, NULL, 0, true), 0);
    if (c->cpu == sdk_cpu())
        SDK_HALT_UNTIL(got_count[c->vector] == before + 1);
    else
        GUEST_ASSERT(SDK_WAIT_FOR(got_count[c->vector] == before + 1, 100000));
    sti();
    GUEST_ASSERT_EQ(got_cpu[c->vector], c->cpu);
    *intsts = 2;
    printf("snp_host: %s %s completion: vector 0x%x at vCPU %u\n",
           c->logical ? "logical" : "physical", c->lowest ? "lowest-priority" : "fixed",
           c->vector, got_cpu[c->vector]);
}

static void test_interrupts(void)
{
    for (unsigned i = 0; i < sizeof(combos) / sizeof(combos[0]); i++)
        take_at(&combos[i]);   /* each re-programs: the interrupt moves */

    /* IRQ_EN off: the completion sends nothing and INTSTS stays set. */
    irq_enable(false);
    uint32_t before = got_count[combos[0].vector];
    program_irq(sdk_apic_id_of(combos[0].cpu), combos[0].vector, false, false);
    GUEST_ASSERT_EQ(issue(CMD_DF_FLUSH, NULL, 0, true), 0);
    sti();
    sdk_delay_us(200);
    GUEST_ASSERT_EQ(got_count[combos[0].vector], before);
    GUEST_ASSERT(*intsts & 2);
    printf("snp_host: IRQ_EN off: no interrupt, INTSTS 0x%x kept\n", *intsts);
    *intsts = 2;
    irq_enable(true);
    take_at(&combos[0]);
}

/* ---- The SNP host ------------------------------------------------------------------------- */

struct rmp_state {
    uint64_t gpa;
    uint8_t assigned, pagesize, immutable, rsvd;
    uint32_t asid;
} __attribute__((packed));

static int try_rmpupdate(uint64_t spa, const struct rmp_state *st, uint64_t *rax)
{
    uint64_t a = spa;
    __asm__ volatile(ASM_TRY("1f") ".byte 0xF2, 0x0F, 0x01, 0xFE\n1:"
                     : "+a"(a) : "c"(st) : "memory");
    *rax = a;
    return sdk_ex_vector();
}

static int try_psmash(uint64_t spa, uint64_t *rax)
{
    uint64_t a = spa;
    __asm__ volatile(ASM_TRY("1f") ".byte 0xF3, 0x0F, 0x01, 0xFF\n1:" : "+a"(a) : : "memory");
    *rax = a;
    return sdk_ex_vector();
}

static void rmpupdate(uint64_t spa, uint64_t gpa, bool assigned, bool immutable, uint32_t asid,
                      bool is_2m)
{
    struct rmp_state st = {gpa, assigned, is_2m, immutable, 0, asid};
    uint64_t rc;
    GUEST_ASSERT_EQ(try_rmpupdate(spa, &st, &rc), -1);
    GUEST_ASSERT_EQ(rc, 0);
}

/* The page pattern the test recomputes: byte j of page i. */
static uint8_t pattern(unsigned i, unsigned j) { return (uint8_t)(i * 31u + j * 7u + 0x5Au); }

static void platform_status(uint8_t *page)
{
    uint64_t b[1] = {pa_of(page)};
    GUEST_ASSERT_EQ(command(CMD_PLATFORM_STATUS, b, sizeof(b)), 0);
    printf("snp_host: PLATFORM_STATUS: API %u.%u, state %u, guests %u\n", page[0], page[1], page[2],
           rd32(page + 12));
}

static uint8_t *fw;  /* the status page */

/* SNP_INIT and PLATFORM_STATUS, each completion taken as an interrupt at the BSP. */
static void host_init(void)
{
    fw = sdk_alloc_pages(1);
    /* Before SNP_INIT the status page may be the host's own. */
    platform_status(fw);
    GUEST_ASSERT_EQ(fw[2], 0);
    GUEST_ASSERT_EQ(command(CMD_SNP_INIT, NULL, 0), 0);
    GUEST_ASSERT_EQ(command(CMD_SNP_INIT, NULL, 0), 0x01); /* INVALID_PLATFORM_STATE */
    /* Now it must be firmware-owned: refused, then given to the firmware. */
    uint64_t b[1] = {pa_of(fw)};
    GUEST_ASSERT_EQ(command(CMD_PLATFORM_STATUS, b, 8), 0x1A); /* INVALID_PAGE_STATE */
    rmpupdate(pa_of(fw), 0, true, true, 0, false);
    platform_status(fw);
    GUEST_ASSERT_EQ(fw[2], 1);
}

static void host_launch(void)
{
    program_irq(sdk_apic_id_of(0), VEC_LAUNCH, false, false);

    /* The L2's image: 2 MiB-aligned page, made 2 MiB private then PSMASHed. */
    uint8_t *img = sdk_alloc_pages_aligned(512, 2ull << 20);
    uint64_t img_pa = pa_of(img);
    for (unsigned i = 0; i < L2_PAGES; i++)
        for (unsigned j = 0; j < SDK_PAGE_SIZE; j++)
            img[i * SDK_PAGE_SIZE + j] = pattern(i, j);
    rmpupdate(img_pa, img_pa, true, false, L2_ASID, true);
    uint64_t rc;
    GUEST_ASSERT_EQ(try_psmash(img_pa, &rc), -1);
    GUEST_ASSERT_EQ(rc, 0);
    for (unsigned i = 0; i < 512; i++)           /* back to the host, 4 KiB each */
        rmpupdate(img_pa + i * SDK_PAGE_SIZE, 0, false, false, 0, false);

    uint64_t gctx[1] = {0};
    GUEST_ASSERT_EQ(command(CMD_GCTX_CREATE, gctx, sizeof(gctx)), 0);
    struct {
        uint64_t gctx, policy, ma;
        uint32_t flags;
        uint8_t gosvw[16];
    } __attribute__((packed)) ls = {gctx[0], 0x30000, 0, 0, {0}};
    GUEST_ASSERT_EQ(command(CMD_LAUNCH_START, &ls, sizeof(ls)), 0);
    struct {
        uint64_t gctx;
        uint32_t asid;
    } __attribute__((packed)) act = {gctx[0], L2_ASID};
    GUEST_ASSERT_EQ(command(CMD_ACTIVATE, &act, sizeof(act)), 0);
    for (unsigned i = 0; i < L2_PAGES; i++) {
        uint64_t pa = img_pa + i * SDK_PAGE_SIZE;
        rmpupdate(pa, pa, true, true, L2_ASID, false);   /* Pre-Guest, as KVM does */
        struct {
            uint64_t gctx;
            uint32_t flags, rsvd;
            uint64_t address;
            uint32_t perms, rsvd2;
        } __attribute__((packed)) up = {gctx[0], 1u << 1 /* NORMAL */, 0, pa, 0, 0};
        GUEST_ASSERT_EQ(command(CMD_LAUNCH_UPDATE, &up, sizeof(up)), 0);
        printf("snp_host: launched page %u at gpa 0x%lx\n", i, pa);
    }
    struct {
        uint64_t gctx, id_block, id_auth, flags;
        uint8_t host_data[32];
    } __attribute__((packed)) fin = {gctx[0], 0, 0, 0, {0}};
    GUEST_ASSERT_EQ(command(CMD_LAUNCH_FINISH, &fin, sizeof(fin)), 0);

    /* The report the firmware gives its host: MEASUREMENT at 0x90 of the report. */
    uint8_t *rsp = sdk_alloc_pages(1);
    rmpupdate(pa_of(rsp), 0, true, true, 0, false);
    struct {
        uint64_t rsp;
        uint32_t key_sel, rsvd;
        uint64_t gctx;
    } __attribute__((packed)) rq = {pa_of(rsp), 0, 0, gctx[0]};
    GUEST_ASSERT_EQ(command(CMD_HV_REPORT_REQ, &rq, sizeof(rq)), 0);
    GUEST_ASSERT_EQ(rd32(rsp), 0);
    GUEST_ASSERT_EQ(rd32(rsp + 4), 0x4A0);
    printf("snp_host: digest ");
    for (unsigned i = 0; i < 48; i++)
        printf("%02x", rsp[32 + 0x90 + i]);
    printf("\n");

    /* The firmware pages come back through SNP_PAGE_RECLAIM, then RMPUPDATE. */
    uint64_t rec[1] = {pa_of(fw)};
    GUEST_ASSERT_EQ(command(CMD_PAGE_RECLAIM, rec, sizeof(rec)), 0);
    rmpupdate(pa_of(fw), 0, false, false, 0, false);
    printf("snp_host: status page reclaimed\n");
}

/*
 * The one PSP behind L0 and this guest (docs/psp.md "Multiplexing"): under
 * SNP this guest is itself L0's guest, whose ASID (sev.asid, 1 by default)
 * L0's launch holds, so the firmware refuses it to this guest's context.
 */
static void shared_asids(void)
{
    uint64_t gctx[1] = {0};
    GUEST_ASSERT_EQ(issue(CMD_GCTX_CREATE, gctx, sizeof(gctx), false), 0);
    memcpy(gctx, cmdbuf, sizeof(gctx));
    struct {
        uint64_t gctx, policy, ma;
        uint32_t flags;
        uint8_t gosvw[16];
    } __attribute__((packed)) ls = {gctx[0], 0x30000, 0, 0, {0}};
    GUEST_ASSERT_EQ(issue(CMD_LAUNCH_START, &ls, sizeof(ls), false), 0);
    struct {
        uint64_t gctx;
        uint32_t asid;
    } __attribute__((packed)) act = {gctx[0], 1};
    uint32_t st = issue(CMD_ACTIVATE, &act, sizeof(act), false);
    GUEST_ASSERT_EQ(st, sdk_snp_active() ? 0x0C /* ASID_OWNED */ : 0);
    printf("snp_host: SNP_ACTIVATE of ASID 1: status 0x%x\n", st);
    *intsts = 2;
}

static void no_host_rights(void)
{
    struct rmp_state st = {0};
    uint64_t rc;
    GUEST_ASSERT_EQ(try_rmpupdate(0x200000, &st, &rc), X86_UD);
    GUEST_ASSERT_EQ(try_psmash(0x200000, &rc), X86_UD);
    printf("snp_host: RMPUPDATE and PSMASH are #UD without hardware isolation\n");
}

int main(void)
{
    GUEST_ASSERT(sdk_cpu_count() >= 4);
    for (unsigned i = 0; i < sizeof(combos) / sizeof(combos[0]); i++) {
        sdk_set_handler(combos[i].vector, psp_handler);
        sdk_savic_allow_vector(combos[i].vector, true);
    }
    sdk_set_handler(VEC_LAUNCH, psp_handler);
    sdk_savic_allow_vector(VEC_LAUNCH, true);
    sdk_start_aps();
    find_psp();
    cmdbuf = sdk_sev_es_active() ? sdk_alloc_shared_pages(1) : sdk_alloc_pages(1);
    cmdbuf_pa = pa_of(cmdbuf);
    uint32_t r[4];
    cpuid_count(0x8000001F, 0, r);
    bool host = !sdk_sev_es_active() && (r[0] & (1u << 4));
    *inten = 0xFFFFFFFFu; /* psp_init: enable */
    GUEST_ASSERT_EQ(*inten, 2);
    irq_enable(true);
    if (host) {
        /* The commands' completions come to the BSP. */
        program_irq(sdk_apic_id_of(0), VEC_LAUNCH, false, false);
        host_init();
    } else {
        GUEST_ASSERT_EQ(issue(CMD_SNP_INIT, NULL, 0, false), 0); /* polled */
        *intsts = 2;
    }
    test_interrupts();
    if (host) {
        host_launch();
    } else {
        shared_asids();
        no_host_rights();
    }
    printf("snp_host: PASS\n");
    return 0;
}
