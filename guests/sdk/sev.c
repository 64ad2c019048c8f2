/* SPDX-License-Identifier: MIT */
/*
 * SEV-ES / SNP detection, the per-vCPU GHCB and the two ways of talking to the
 * hypervisor (sev.h). The order at boot is Linux's: the IDT with the #VC
 * handler is loaded first (boot.c), then CPUID 0x8000001F and SEV_STATUS tell
 * the mode (under SEV-ES the CPUIDs already raise #VC, which the handler
 * answers through the GHCB MSR protocol while there is no GHCB), then the
 * GHCB protocol version is negotiated (SEV_INFO), the hypervisor's features
 * read, and the vCPU's GHCB registered (SNP: REG_GPA, which must echo the
 * GFN) and written to the GHCB MSR. Only then may anything else be
 * intercepted; the console is the first (an OUT).
 */
#include <sdk/sdk.h>

static unsigned sev_mode;
static uint64_t sev_status;
static unsigned cbit_pos;
static unsigned ghcb_version;
static uint64_t hv_features;
static uint64_t jump_table_gpa;
volatile uint8_t sdk_nmi_complete_on_iret;

#define GHCB_MSR_INFO(v)  ((v) & GHCB_MSR_INFO_MASK)
#define GHCB_MSR_DATA(v)  ((v) >> 12)

static inline uint64_t ghcb_msr_read(void) { return rdmsr(MSR_SEV_ES_GHCB); }
static inline void ghcb_msr_write(uint64_t v) { wrmsr(MSR_SEV_ES_GHCB, v); }

unsigned sdk_sev_mode(void) { return sev_mode; }
uint64_t sdk_sev_status(void) { return sev_status; }
unsigned sdk_cbit_pos(void) { return cbit_pos; }
uint64_t sdk_cbit_mask(void) { return cbit_pos ? 1ull << cbit_pos : 0; }
unsigned sdk_ghcb_version(void) { return ghcb_version; }
uint64_t sdk_hv_features(void) { return hv_features; }
uint64_t sdk_ap_jump_table(void) { return jump_table_gpa; }

const char *sdk_mode_name(unsigned mode)
{
    switch (mode) {
    case SNP_MODE_PLAIN: return "plain";
    case SNP_MODE_SEV_ES: return "sev-es";
    case SNP_MODE_SNP: return "snp";
    default: return "?";
    }
}

/* ---- GHCB get / put ------------------------------------------------------------------ */

static void copy_page(void *dst, const void *src)
{
    uint64_t *d = dst;
    const uint64_t *s = src;
    for (unsigned i = 0; i < SDK_PAGE_SIZE / 8; i++)
        d[i] = s[i];
}

struct ghcb *sdk_ghcb_get(struct sdk_ghcb_state *st)
{
    struct sdk_percpu *p = this_cpu();

    st->flags = irq_save();
    st->depth = __atomic_fetch_add(&p->ghcb_depth, 1, __ATOMIC_SEQ_CST);
    st->ghcb = p->ghcb;
    if (st->depth) {
        /* Interrupted a user (only an NMI can): save what it has in flight. */
        if (st->depth > SDK_GHCB_BACKUPS || (st->ghcb && !p->ghcb_backup[st->depth - 1]))
            sdk_sev_terminate(SEV_TERM_SET_GEN, SDK_TERM_GEN_REQ);
        st->saved_msr = ghcb_msr_read();
        p->ghcb_nested++;
        if (st->ghcb)
            copy_page(p->ghcb_backup[st->depth - 1], st->ghcb);
    }
    if (st->ghcb)
        ghcb_invalidate(st->ghcb);
    return st->ghcb;
}

void sdk_ghcb_put(struct sdk_ghcb_state *st)
{
    struct sdk_percpu *p = this_cpu();

    if (st->depth) {
        if (st->ghcb)
            copy_page(st->ghcb, p->ghcb_backup[st->depth - 1]);
        ghcb_msr_write(st->saved_msr);
    } else if (st->ghcb) {
        ghcb_invalidate(st->ghcb);
    }
    __atomic_fetch_sub(&p->ghcb_depth, 1, __ATOMIC_SEQ_CST);
    irq_restore(st->flags);
}

uint64_t sdk_ghcb_gpa(void) { return this_cpu()->ghcb_gpa; }

struct ghcb *sdk_ghcb_of(unsigned cpu) { return sdk_percpu[cpu].ghcb; }

void sdk_ghcb_vmgexit_raw(struct ghcb *g)
{
    ghcb_msr_write((uint64_t)(uintptr_t)g);
    vmgexit();
}

uint32_t sdk_ghcb_call(struct ghcb *g, uint64_t exit_code, uint64_t info1, uint64_t info2)
{
    g->protocol_version = (uint16_t)ghcb_version;
    g->ghcb_usage = GHCB_DEFAULT_USAGE;
    GHCB_SET(g, sw_exit_code, exit_code);
    GHCB_SET(g, sw_exit_info_1, info1);
    GHCB_SET(g, sw_exit_info_2, info2);
    sdk_ghcb_vmgexit_raw(g);
    return (uint32_t)g->save.sw_exit_info_1;
}

/* ---- MSR protocol --------------------------------------------------------------------- */

uint64_t sdk_ghcb_msr_call(uint64_t val)
{
    struct sdk_ghcb_state st;
    sdk_ghcb_get(&st);
    ghcb_msr_write(val);
    vmgexit();
    uint64_t r = ghcb_msr_read();
    sdk_ghcb_put(&st);
    return r;
}

uint64_t sdk_msr_sev_info(void)
{
    return sdk_ghcb_msr_call(GHCB_MSR_SEV_INFO_REQ);
}

bool sdk_msr_cpuid(uint32_t fn, unsigned reg, uint32_t *out)
{
    uint64_t v = sdk_ghcb_msr_call(((uint64_t)fn << 32) | ((uint64_t)(reg & 3) << 30) |
                                   GHCB_MSR_CPUID_REQ);
    if (GHCB_MSR_INFO(v) != GHCB_MSR_CPUID_RESP)
        return false;
    *out = (uint32_t)(v >> 32);
    return true;
}

bool sdk_msr_hv_features(uint64_t *features)
{
    uint64_t v = sdk_ghcb_msr_call(GHCB_MSR_HV_FT_REQ);
    if (GHCB_MSR_INFO(v) != GHCB_MSR_HV_FT_RESP)
        return false;
    *features = GHCB_MSR_DATA(v);
    return true;
}

bool sdk_msr_pref_gpa(uint64_t *gfn)
{
    uint64_t v = sdk_ghcb_msr_call(GHCB_MSR_PREF_GPA_REQ);
    if (GHCB_MSR_INFO(v) != GHCB_MSR_PREF_GPA_RESP)
        return false;
    *gfn = GHCB_MSR_DATA(v);
    return true;
}

bool sdk_msr_register_gpa(uint64_t gfn)
{
    uint64_t v = sdk_ghcb_msr_call((gfn << 12) | GHCB_MSR_REG_GPA_REQ);
    return GHCB_MSR_INFO(v) == GHCB_MSR_REG_GPA_RESP && GHCB_MSR_DATA(v) == gfn;
}

uint64_t sdk_msr_psc(uint64_t gpa, unsigned op)
{
    uint64_t req = ((uint64_t)(op & 0xF) << 52) | (((gpa >> 12) & 0xFFFFFFFFFFull) << 12) |
                   GHCB_MSR_PSC_REQ;
    uint64_t v = sdk_ghcb_msr_call(req);
    if (GHCB_MSR_INFO(v) != GHCB_MSR_PSC_RESP)
        return ~0ull;
    return v >> 32;
}

uint64_t sdk_msr_ap_reset_hold(void)
{
    uint64_t v = sdk_ghcb_msr_call(GHCB_MSR_AP_RESET_HOLD_REQ);
    if (GHCB_MSR_INFO(v) != GHCB_MSR_AP_RESET_HOLD_RESP)
        return 0;
    return GHCB_MSR_DATA(v);
}

void sdk_sev_terminate(unsigned set, unsigned code)
{
    if (!(sev_status & SEV_STATUS_SEV_ES))
        sdk_exit(SDK_EXIT_SETUP);          /* plain mode has no GHCB MSR */
    uint64_t v = GHCB_MSR_TERM_REQ | ((uint64_t)(set & 0xF) << 12) | ((uint64_t)(code & 0xFF) << 16);
    cli();
    for (;;) {
        ghcb_msr_write(v);
        vmgexit();
    }
}

/* ---- NAE helpers ------------------------------------------------------------------------ */

uint32_t sdk_nae_hv_features(uint64_t *features)
{
    struct sdk_ghcb_state st;
    struct ghcb *g = sdk_ghcb_get(&st);
    uint32_t rc = sdk_ghcb_call(g, SVM_VMGEXIT_HV_FEATURES, 0, 0);
    *features = g->save.sw_exit_info_2;
    sdk_ghcb_put(&st);
    return rc;
}

uint32_t sdk_ap_jump_table_set(uint64_t gpa)
{
    struct sdk_ghcb_state st;
    struct ghcb *g = sdk_ghcb_get(&st);
    uint32_t rc = sdk_ghcb_call(g, SVM_VMGEXIT_AP_JUMP_TABLE, SVM_VMGEXIT_SET_AP_JUMP_TABLE, gpa);
    sdk_ghcb_put(&st);
    return rc;
}

uint32_t sdk_ap_jump_table_get(uint64_t *gpa)
{
    struct sdk_ghcb_state st;
    struct ghcb *g = sdk_ghcb_get(&st);
    uint32_t rc = sdk_ghcb_call(g, SVM_VMGEXIT_AP_JUMP_TABLE, SVM_VMGEXIT_GET_AP_JUMP_TABLE, 0);
    *gpa = g->save.sw_exit_info_2;
    sdk_ghcb_put(&st);
    return rc;
}

/*
 * Called by isr.S at the end of every NMI under SEV-ES/SNP, after the frame has
 * left the NMI's IST stack: the NMI the hypervisor injects once it sees this
 * can then nest safely. The answer is not checked: there is nothing an NMI
 * handler could do about a refusal, and the next NMI shows whether it worked.
 */
void sdk_sev_nmi_complete(void)
{
    struct sdk_ghcb_state st;
    struct ghcb *g = sdk_ghcb_get(&st);
    if (g)
        sdk_ghcb_call(g, SVM_VMGEXIT_NMI_COMPLETE, 0, 0);
    sdk_ghcb_put(&st);
}

/* ---- Boot ------------------------------------------------------------------------------- */

void sdk_sev_cpu_init(struct sdk_percpu *p)
{
    if (!sdk_sev_es_active())
        return;
    struct ghcb *g = (struct ghcb *)(uintptr_t)(sdk_bootinfo->ghcb_base +
                                                (uint64_t)p->index * SDK_PAGE_SIZE);
    uint64_t gpa = (uint64_t)(uintptr_t)g;

    /* A restarted vCPU may have died holding its GHCB. */
    p->ghcb = 0;
    p->ghcb_depth = 0;
    memset(g, 0, sizeof(*g));
    if (sdk_snp_active() && !sdk_msr_register_gpa(gpa >> 12))
        sdk_sev_terminate(SEV_TERM_SET_LINUX, SDK_TERM_REGISTER);
    ghcb_msr_write(gpa);
    p->ghcb_gpa = gpa;
    barrier();
    p->ghcb = g;
}

void sdk_sev_init(const struct snp_bootinfo *bi)
{
    uint32_t r[4];
    uint32_t sev_eax = 0, sev_ebx = 0;

    cpuid_count(0x80000000u, 0, r);
    if (r[0] >= 0x8000001Fu) {
        cpuid_count(0x8000001Fu, 0, r);
        sev_eax = r[0];
        sev_ebx = r[1];
    }
    if (sev_eax & CPUID_8000001F_SEV) {
        sev_status = rdmsr(MSR_SEV_STATUS);
        /* An SEV-capable host (docs/psp.md: an SNP host) is no SEV guest:
         * its memory is not encrypted, so no C-bit. */
        if (sev_status & SEV_STATUS_SEV)
            cbit_pos = sev_ebx & 0x3F;
    }
    if (sev_status & SEV_STATUS_SNP)
        sev_mode = SNP_MODE_SNP;
    else if (sev_status & SEV_STATUS_SEV_ES)
        sev_mode = SNP_MODE_SEV_ES;
    else
        sev_mode = SNP_MODE_PLAIN;

    bool bi_ok = bi->magic == SNP_BOOTINFO_MAGIC && bi->version == SNP_BOOTINFO_VERSION;
    unsigned info_cbit = 0;
    if (sev_mode != SNP_MODE_PLAIN) {
        if (!bi_ok)       /* no GHCB address: nothing can be printed */
            sdk_sev_terminate(SEV_TERM_SET_GEN, SDK_TERM_GEN_REQ);
        uint64_t info = sdk_msr_sev_info();
        unsigned max = (unsigned)(info >> 48), min = (unsigned)((info >> 32) & 0xFFFF);
        info_cbit = (unsigned)((info >> 24) & 0xFF);
        if (GHCB_MSR_INFO(info) != GHCB_MSR_SEV_INFO_RESP || max < GHCB_PROTOCOL_MIN ||
            min > GHCB_PROTOCOL_MAX)
            sdk_sev_terminate(SEV_TERM_SET_GEN, SDK_TERM_PROT_UNSUPPORTED);
        ghcb_version = max < GHCB_PROTOCOL_MAX ? max : GHCB_PROTOCOL_MAX;
        if (sev_mode == SNP_MODE_SNP && ghcb_version < 2)
            sdk_sev_terminate(SEV_TERM_SET_GEN, SDK_TERM_SNP_UNSUPPORTED);
        if (ghcb_version >= 2 && !sdk_msr_hv_features(&hv_features))
            sdk_sev_terminate(SEV_TERM_SET_GEN, SDK_TERM_PROT_UNSUPPORTED);
        if (sev_mode == SNP_MODE_SNP && !(hv_features & GHCB_HV_FT_SNP))
            sdk_sev_terminate(SEV_TERM_SET_GEN, SDK_TERM_SNP_UNSUPPORTED);
        sdk_nmi_complete_on_iret = 1;
        sdk_sev_cpu_init(&sdk_percpu[0]);
        /* From here on a #VC has a GHCB: the console works. */
    }
    if (!bi_ok)
        return;             /* check_bootinfo() reports it */
    if (bi->mode != sev_mode || bi->sev_status != sev_status || bi->cbit_pos != cbit_pos ||
        (sev_mode != SNP_MODE_PLAIN && info_cbit != cbit_pos))
        sdk_fail(SDK_EXIT_SETUP,
                 "SEV detection: CPUID 0x8000001F eax 0x%x ebx 0x%x, SEV_STATUS 0x%lx -> %s, "
                 "C-bit %u (SEV_INFO %u); boot info: mode %u (%s), sev_status 0x%lx, cbit_pos %u",
                 sev_eax, sev_ebx, sev_status, sdk_mode_name(sev_mode), cbit_pos, info_cbit,
                 bi->mode, sdk_mode_name(bi->mode), bi->sev_status, bi->cbit_pos);
}

void sdk_sev_late_init(void)
{
    if (!sdk_sev_es_active())
        return;
    for (unsigned i = 0; i < sdk_cpu_count(); i++)
        for (unsigned b = 0; b < SDK_GHCB_BACKUPS; b++)
            sdk_percpu[i].ghcb_backup[b] = sdk_alloc_pages(1);
    if (sdk_sev_mode() == SNP_MODE_SEV_ES) {
        /* The AP jump table: a parked AP continues at the entry in its first u64. */
        uint64_t *table = sdk_alloc_pages(1);
        memset(table, 0, SDK_PAGE_SIZE);
        table[0] = (uint64_t)(uintptr_t)sdk_ap_start;
        jump_table_gpa = (uint64_t)(uintptr_t)table;
        if (sdk_ap_jump_table_set(jump_table_gpa) != 0)
            sdk_fail(SDK_EXIT_SETUP, "AP_JUMP_TABLE SET 0x%lx refused", jump_table_gpa);
    }
}
