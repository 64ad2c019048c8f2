/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the reference hypervisor's MSR table (model/hv/msr.c) and
 * the default CPUID it agrees with (model/hv/hv.c; docs/config.md "The
 * default CPUID"). A vCPU slot over a real engine (for TSC_AUX, which the
 * engine holds) and a system with only what the table reads: the config's
 * CPUID overrides, the APIC IDs and the SEV state.
 *
 * The sweeps walk every row: its reset value reads back, every bit of its
 * writable mask can be written, every ignored bit keeps its value and every
 * other bit raises #GP. The named tests pin the values from the sources
 * (APM vol. 2, the PPR, the SDM, KVM) independently of the table.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ck_run.h"
#include "config.h"
#include "cpu.h"
#include "hv.h"
#include "machine.h"
#include "mem.h"
#include "msr.h"

#define BIT(n) (1ull << (n))

static struct mem g_mem;
static struct cpu_shared *g_cs;
static struct system g_sys;
static struct sev g_sev;
static struct slot g_s;
static uint32_t g_ids[1];
static const struct vcpu_cb g_cb;

static void setup(void)
{
    char err[128];
    memset(&g_sys, 0, sizeof(g_sys));
    config_defaults(&g_sys.cfg);
    g_sys.cfg.vcpus = 1;
    g_sys.n = 1;
    g_sys.apic_ids = g_ids;
    ck_assert_int_eq(mem_init(&g_mem, 2u << 20, err, sizeof(err)), 0);
    g_cs = cpu_shared_create(&g_mem);
    struct vcpu_config vc = {.index = 0, .mem = &g_mem, .shared = g_cs, .cb = &g_cb,
                             .mmio_end = 4ull << 30};
    g_s = (struct slot){.sys = &g_sys, .idx = 0};
    g_s.cpu = vcpu_create(&vc, err, sizeof(err));
    ck_assert_msg(g_s.cpu, "%s", err);
    hv_msr_reset(&g_s);
}

static void teardown(void)
{
    vcpu_destroy(g_s.cpu);
    cpu_shared_destroy(g_cs);
    mem_destroy(&g_mem);
}

static enum msr_result rd(uint32_t msr, uint64_t *v) { return hv_msr_table_access(&g_s, msr, false, v); }
static enum msr_result wr(uint32_t msr, uint64_t v) { return hv_msr_table_access(&g_s, msr, true, &v); }
static uint64_t rdv(uint32_t msr)
{
    uint64_t v = 0xDEAD;
    ck_assert_msg(rd(msr, &v) == MSR_OK, "RDMSR %#x faulted", msr);
    return v;
}

static void override(uint32_t leaf, uint32_t sub, uint32_t eax, uint32_t ebx, uint32_t ecx, uint32_t edx)
{
    struct cpuid_entry *e = &g_sys.cfg.cpuid[g_sys.cfg.ncpuid++];
    *e = (struct cpuid_entry){leaf, sub, false, eax, ebx, ecx, edx};
}

static uint32_t cpuid(uint32_t leaf, uint32_t sub, int reg)
{
    uint32_t r[4];
    hv_cpuid_lookup(&g_sys, 0, leaf, sub, r);
    return r[reg];
}

static bool row_present(const struct msr_def *d) { return !d->present || d->present(&g_sys, 0); }
static uint64_t row_wmask(const struct msr_def *d) { return d->mask ? d->mask(&g_sys, 0) : d->wmask; }
static bool row_writable(const struct msr_def *d)
{
    return row_present(d) && !(d->flags & MSR_RO) && d->store != MSR_CONST;
}

/* ---- Sweeps over the table --------------------------------------------------------- */

START_TEST(every_msr_in_the_table_reads_its_reset_value)
{
    size_t n;
    const struct msr_def *t = hv_msr_table(&n);
    ck_assert_uint_gt(n, 20);
    for (size_t r = 0; r < n; r++)
        for (unsigned i = 0; i < t[r].count; i++) {
            uint32_t msr = t[r].msr + i;
            uint64_t v = 0xDEAD;
            enum msr_result got = rd(msr, &v);
            ck_assert_ptr_eq(hv_msr_find(msr), &t[r]);
            if (!row_present(&t[r]) || (t[r].flags & MSR_WO)) {
                ck_assert_msg(got == MSR_GP, "%s (%#x): read must #GP", t[r].name, msr);
                continue;
            }
            ck_assert_msg(got == MSR_OK, "%s (%#x) faulted", t[r].name, msr);
            uint64_t want = t[r].store == MSR_CONST ? t[r].value(&g_sys, 0) : t[r].reset;
            ck_assert_msg(v == want, "%s (%#x): %#llx, reset %#llx", t[r].name, msr,
                          (unsigned long long)v, (unsigned long long)want);
        }
}
END_TEST

/* Calls fn for every bit b of every MSR of every writable row, the bits of
 * the row's writable mask (inside) or the others; returns the calls. */
typedef void bit_fn(const struct msr_def *d, uint32_t msr, unsigned b, unsigned *count);
static unsigned each_bit(bool inside, bit_fn *fn, unsigned *count)
{
    size_t n;
    const struct msr_def *t = hv_msr_table(&n);
    unsigned calls = 0;
    for (size_t r = 0; r < n; r++) {
        if (!row_writable(&t[r]))
            continue;
        uint64_t w = row_wmask(&t[r]);
        for (unsigned i = 0; i < t[r].count; i++)
            for (unsigned b = 0; b < 64; b++)
                if (!(w & BIT(b)) == !inside) {
                    fn(&t[r], t[r].msr + i, b, count);
                    calls++;
                }
    }
    return calls;
}

/* A writable bit flipped alone reads back; for the MTRRs' type fields a valid
 * type (WB) is kept in the type bytes. */
static void flip_writable(const struct msr_def *d, uint32_t msr, unsigned b, unsigned *count)
{
    uint64_t w = row_wmask(d), base = d->flags & MSR_WO ? 0 : rdv(msr);
    uint64_t v = base ^ BIT(b);
    if (d->valid && !d->valid(v))
        v = (v & ~0xFFull) | (0x0606060606060606ull & w & 0xFF);
    if (d->valid && !d->valid(v))
        v = (v & ~w) | (0x0606060606060606ull & w);
    ck_assert_msg(wr(msr, v) == MSR_OK, "%s (%#x) bit %u: #GP", d->name, msr, b);
    if (!(d->flags & MSR_WO))
        ck_assert_msg(rdv(msr) == v, "%s (%#x) bit %u: read %#llx, wrote %#llx", d->name, msr, b,
                      (unsigned long long)rdv(msr), (unsigned long long)v);
    (*count)++;
}

START_TEST(every_writable_bit_of_every_msr_reads_back_what_was_written)
{
    unsigned checked = 0;
    ck_assert_uint_eq(each_bit(true, flip_writable, &checked), checked);
    ck_assert_uint_gt(checked, 500);
}
END_TEST

/* Outside the writable mask: an ignored bit keeps what it read (counted in
 * count[1]), any other bit raises #GP (count[0]) and leaves the register as it was. */
static void flip_fixed(const struct msr_def *d, uint32_t msr, unsigned b, unsigned *count)
{
    uint64_t before = d->flags & MSR_WO ? 0 : rdv(msr);
    enum msr_result got = wr(msr, before ^ BIT(b));
    if (d->imask & BIT(b)) {
        ck_assert_msg(got == MSR_OK, "%s bit %u: ignored bit faulted", d->name, b);
        count[1]++;
    } else {
        ck_assert_msg(got == MSR_GP, "%s (%#x) bit %u: no #GP", d->name, msr, b);
        count[0]++;
    }
    if (!(d->flags & MSR_WO))
        ck_assert_msg(rdv(msr) == before, "%s bit %u changed", d->name, b);
}

START_TEST(every_bit_outside_the_mask_is_ignored_or_raises_gp_as_its_row_says)
{
    unsigned count[2] = {0, 0};
    ck_assert_uint_eq(each_bit(false, flip_fixed, count), count[0] + count[1]);
    ck_assert_uint_gt(count[0], 900); /* the sweep ran over the reserved bits and the ignored ones */
    ck_assert_uint_gt(count[1], 60);
}
END_TEST

START_TEST(a_read_only_msr_raises_gp_even_when_written_with_its_own_value)
{
    size_t n;
    const struct msr_def *t = hv_msr_table(&n);
    unsigned checked = 0;
    for (size_t r = 0; r < n; r++)
        for (unsigned i = 0; i < t[r].count && row_present(&t[r]) && !row_writable(&t[r]); i++) {
            uint64_t v = rdv(t[r].msr + i);
            ck_assert_msg(wr(t[r].msr + i, v) == MSR_GP, "%s accepted a write", t[r].name);
            ck_assert_uint_eq(rdv(t[r].msr + i), v);
            checked++;
        }
    ck_assert_uint_ge(checked, 4); /* PATCH_LEVEL, MTRRcap, MCG_CAP, SYSCFG */
}
END_TEST

START_TEST(msrs_the_model_does_not_know_raise_gp)
{
    /* PerfCtrExtCore's counters, TSC_ADJUST, FEAT_CTL (Intel), a KVM
     * paravirtual MSR, SEV_STATUS outside SEV, arbitrary numbers. */
    static const uint32_t unknown[] = {0xC0010200, 0xC001020B, 0x3B, 0x3A, 0x4B564D00,
                                       0xC0010131, 0x8F, 0x12345678, 0xFFFFFFFF, 0x1A0,
                                       0xC0011020, 0x400, 0x47F, 0x17B};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        uint64_t v = 0;
        ck_assert_msg(!hv_msr_access(&g_s, unknown[i], false, &v), "RDMSR %#x answered", unknown[i]);
        v = 0;
        ck_assert_msg(!hv_msr_access(&g_s, unknown[i], true, &v), "WRMSR %#x answered", unknown[i]);
    }
}
END_TEST

/* ---- Values from the sources -------------------------------------------------------- */

START_TEST(hwcr_reads_tscfreqsel_and_keeps_it_when_a_write_clears_it)
{
    /* PPR MSRC001_0015[24] read-only 1 (Linux bsp_init_amd's P0 check). */
    ck_assert_uint_eq(rdv(0xC0010015), BIT(24));
    ck_assert_int_eq(wr(0xC0010015, 0), MSR_OK);
    ck_assert_uint_eq(rdv(0xC0010015), BIT(24));
    /* McStatusWrEn is the guest's; FFDIS (Linux's K8 msr_set_bit) is dropped. */
    ck_assert_int_eq(wr(0xC0010015, BIT(24) | BIT(18) | BIT(6)), MSR_OK);
    ck_assert_uint_eq(rdv(0xC0010015), BIT(24) | BIT(18));
    ck_assert_int_eq(wr(0xC0010015, BIT(24) | BIT(30)), MSR_GP); /* IRPerfEn: no IRPERF */
}
END_TEST

START_TEST(perf_counters_are_48_bits_wide_and_rdpmc_reads_the_four_legacy_ones)
{
    for (unsigned i = 0; i < 4; i++)
        ck_assert_int_eq(wr(0xC0010004 + i, 0xFFFF123456789AB0ull + i), MSR_OK);
    for (unsigned i = 0; i < 4; i++) {
        uint64_t v = 0;
        ck_assert_uint_eq(rdv(0xC0010004 + i), 0x123456789AB0ull + i);
        ck_assert(hv_msr_rdpmc(&g_s, i, &v));
        ck_assert_uint_eq(v, 0x123456789AB0ull + i);
    }
    uint64_t v;
    ck_assert(!hv_msr_rdpmc(&g_s, 4, &v)); /* PerfCtrExtCore is off */
    ck_assert(!hv_msr_rdpmc(&g_s, 5, &v));
    ck_assert(!hv_msr_rdpmc(&g_s, 0x80000000u, &v));
    ck_assert_uint_eq(cpuid(0x80000001, 0, 2) & BIT(23), 0);
}
END_TEST

START_TEST(perf_event_select_reserved_bits_raise_gp_and_the_event_bits_stick)
{
    /* Linux's perf check_hw_exists() value: event 0x76 with USR OS INT EN. */
    ck_assert_int_eq(wr(0xC0010000, 0x530076), MSR_OK);
    ck_assert_uint_eq(rdv(0xC0010000), 0x530076);
    ck_assert_int_eq(wr(0xC0010001, 0xF00000000ull | 0xFF), MSR_OK); /* EventSelect[11:8] */
    static const unsigned reserved[] = {19, 21, 36, 40, 41, 63};
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        ck_assert_msg(wr(0xC0010002, BIT(reserved[i])) == MSR_GP, "bit %u", reserved[i]);
}
END_TEST

START_TEST(syscfg_reports_the_encryption_bits_of_the_mode_and_refuses_writes)
{
    ck_assert_uint_eq(rdv(0xC0010010), BIT(18));
    g_sys.sev = &g_sev;
    g_sev.snp = false;
    ck_assert_uint_eq(rdv(0xC0010010), BIT(18) | BIT(23));
    g_sev.snp = true;
    ck_assert_uint_eq(rdv(0xC0010010), BIT(18) | BIT(23) | BIT(24) | BIT(25));
    ck_assert_int_eq(wr(0xC0010010, rdv(0xC0010010)), MSR_GP);
    g_sys.sev = NULL;
}
END_TEST

START_TEST(vm_cr_reads_svm_disabled_and_locked_and_ignores_writes_to_them)
{
    ck_assert_uint_eq(rdv(0xC0010114), 0x18);
    ck_assert_int_eq(wr(0xC0010114, 0), MSR_OK);
    ck_assert_uint_eq(rdv(0xC0010114), 0x18);
    ck_assert_int_eq(wr(0xC0010114, 0x1F), MSR_OK);
    ck_assert_uint_eq(rdv(0xC0010114), 0x1F);
    ck_assert_int_eq(wr(0xC0010114, BIT(5)), MSR_GP);
    ck_assert_uint_eq(cpuid(0x80000001, 0, 2) & BIT(2), 0); /* no SVM reported */
}
END_TEST

START_TEST(spec_ctrl_and_pred_cmd_follow_the_cpuid_bits)
{
    /* Default: IBPB IBRS STIBP SSBD (0x80000008 EBX 12, 14, 15, 24). */
    ck_assert_int_eq(wr(0x48, 0x7), MSR_OK);
    ck_assert_uint_eq(rdv(0x48), 0x7);
    ck_assert_int_eq(wr(0x48, BIT(7)), MSR_GP); /* PSFD not reported */
    ck_assert_int_eq(wr(0x49, BIT(0)), MSR_OK);
    ck_assert_int_eq(wr(0x49, BIT(7)), MSR_OK);  /* SBPB: Linux's SRSO microcode probe */
    ck_assert_int_eq(wr(0x49, BIT(1)), MSR_GP);
    uint64_t v;
    ck_assert_int_eq(rd(0x49, &v), MSR_GP);        /* write-only */
    ck_assert_int_eq(wr(0x48, 0), MSR_OK);
    /* Only SSBD reported, and no SBPB: */
    override(0x80000008, 0, 0x3030, BIT(24), 0, 0);
    override(0x80000021, 0, 0, 0, 0, 0);
    ck_assert_int_eq(wr(0x48, BIT(0)), MSR_GP);
    ck_assert_int_eq(wr(0x48, BIT(2)), MSR_OK);
    ck_assert_int_eq(wr(0x49, BIT(0)), MSR_GP);    /* no IBPB: no PRED_CMD */
    g_sys.cfg.ncpuid = 0;
    override(0x80000021, 0, 0, 0, 0, 0);
    ck_assert_int_eq(wr(0x49, BIT(7)), MSR_GP);
    g_sys.cfg.ncpuid = 0;
    override(0x80000008, 0, 0x3030, 0, 0, 0);
    ck_assert_int_eq(rd(0x48, &v), MSR_GP);
}
END_TEST

START_TEST(arch_capabilities_exists_only_when_cpuid_reports_it)
{
    uint64_t v;
    ck_assert_uint_eq(cpuid(7, 0, 3) & BIT(29), 0);
    ck_assert_int_eq(rd(0x10A, &v), MSR_GP);
    override(7, 0, 0, BIT(7) | BIT(20), 0, (uint32_t)BIT(29));
    ck_assert_uint_eq(rdv(0x10A) & (BIT(0) | BIT(5)), BIT(0) | BIT(5)); /* RDCL_NO, MDS_NO */
    ck_assert_int_eq(wr(0x10A, 0), MSR_GP);
}
END_TEST

START_TEST(mca_has_no_banks_and_disappears_without_the_cpuid_bit)
{
    ck_assert_uint_ne(cpuid(1, 0, 3) & BIT(14), 0);
    ck_assert_uint_ne(cpuid(1, 0, 3) & BIT(7), 0);
    ck_assert_uint_eq(rdv(0x179), 0);
    ck_assert_int_eq(wr(0x17A, 0x7), MSR_OK);
    ck_assert_int_eq(wr(0x17A, 0x8), MSR_GP);
    uint64_t v;
    ck_assert_int_eq(rd(0x17B, &v), MSR_GP); /* no MCG_CTL_P */
    ck_assert_int_eq(rd(0x400, &v), MSR_GP); /* no MC0 */
    override(1, 0, 0x00A00F11, 0, 0, 0x178BFBFF & ~(uint32_t)BIT(14));
    ck_assert_int_eq(rd(0x179, &v), MSR_GP);
    ck_assert_int_eq(rd(0x17A, &v), MSR_GP);
}
END_TEST

START_TEST(mtrrs_refuse_reserved_types_and_address_bits_above_maxphyaddr)
{
    ck_assert_uint_eq(rdv(0xFE), 0x508);
    ck_assert_uint_eq(rdv(0x2FF), 0);                   /* RESET: disabled */
    ck_assert_int_eq(wr(0x2FF, 0xC06), MSR_OK);
    ck_assert_int_eq(wr(0x2FF, 0xC02), MSR_GP);         /* type 2 reserved */
    ck_assert_int_eq(wr(0x2FF, 0xC07), MSR_GP);
    ck_assert_int_eq(wr(0x2FF, BIT(9) | 6), MSR_GP);    /* bit 9 reserved */
    ck_assert_int_eq(wr(0x250, 0x0606060606060606ull), MSR_OK);
    ck_assert_int_eq(wr(0x250, 0x0606060606060603ull), MSR_GP);
    ck_assert_int_eq(wr(0x26F, 0x0500000000000000ull), MSR_OK);
    ck_assert_int_eq(wr(0x26F, 0x0300000000000000ull), MSR_GP);
    ck_assert_int_eq(wr(0x201, BIT(47) | BIT(11)), MSR_OK); /* MAXPHYADDR 48 */
    ck_assert_int_eq(wr(0x201, BIT(48) | BIT(11)), MSR_GP);
    ck_assert_int_eq(wr(0x200, 0x80000000ull | 1), MSR_OK);
    ck_assert_int_eq(wr(0x200, 0x80000000ull | 3), MSR_GP);
    ck_assert_int_eq(wr(0x200, BIT(8)), MSR_GP);
}
END_TEST

START_TEST(a_kernel_boot_finds_the_mtrrs_enabled_with_write_back_as_firmware_leaves_them)
{
    g_sys.kernel_boot = true;
    hv_msr_reset(&g_s);
    ck_assert_uint_eq(rdv(0x2FF), BIT(11) | 6);
    g_sys.kernel_boot = false;
}
END_TEST

START_TEST(tsc_aux_keeps_its_low_half_in_the_engine_and_refuses_the_high_half)
{
    ck_assert_int_eq(wr(0xC0000103, 0xABCD0042), MSR_OK);
    uint64_t v = 0;
    ck_assert(vcpu_msr_get(g_s.cpu, 0xC0000103, &v));
    ck_assert_uint_eq(v, 0xABCD0042);
    ck_assert_int_eq(wr(0xC0000103, BIT(32)), MSR_GP);
    ck_assert_uint_eq(rdv(0xC0000103), 0xABCD0042);
}
END_TEST

START_TEST(de_cfg_takes_lfence_serializing_and_nb_cfg_keeps_only_extended_cf8)
{
    ck_assert_uint_eq(rdv(0xC0011029), 0);
    ck_assert_int_eq(wr(0xC0011029, BIT(1)), MSR_OK);
    ck_assert_uint_eq(rdv(0xC0011029), BIT(1));
    ck_assert_int_eq(wr(0xC0011029, BIT(9)), MSR_GP);
    ck_assert_int_eq(wr(0xC001001F, BIT(46) | BIT(54) | 1), MSR_OK);
    ck_assert_uint_eq(rdv(0xC001001F), BIT(46));
}
END_TEST

START_TEST(msr_state_is_per_vcpu)
{
    struct slot other = {.sys = &g_sys, .idx = 0};
    hv_msr_reset(&other);
    ck_assert_int_eq(wr(0xC0010004, 77), MSR_OK);
    uint64_t v = 1;
    ck_assert_int_eq(hv_msr_table_access(&other, 0xC0010004, false, &v), MSR_OK);
    ck_assert_uint_eq(v, 0);
}
END_TEST

/* ---- The default CPUID -------------------------------------------------------------- */

START_TEST(default_cpuid_is_a_family_19h_epyc_with_invariant_tsc_and_tsc_deadline)
{
    uint32_t eax = cpuid(1, 0, 0);
    unsigned family = ((eax >> 8) & 0xF) + ((eax >> 20) & 0xFF), model = ((eax >> 16) & 0xF) << 4 | ((eax >> 4) & 0xF);
    ck_assert_uint_eq(family, 0x19);
    ck_assert_uint_eq(model, 0x01);
    ck_assert_uint_ne(cpuid(1, 0, 2) & BIT(24), 0);          /* TSC-deadline */
    ck_assert_uint_ne(cpuid(0x80000007, 0, 3) & BIT(8), 0);  /* invariant TSC */
    ck_assert_uint_ne(cpuid(1, 0, 3) & BIT(12), 0);          /* MTRR, which msr.c models */
    char brand[49] = {0};
    for (unsigned l = 0; l < 3; l++)
        for (int r = 0; r < 4; r++) {
            uint32_t v = cpuid(0x80000002 + l, 0, r);
            memcpy(brand + 16 * l + 4 * r, &v, 4);
        }
    ck_assert_str_eq(brand, "AMD EPYC-Milan Processor (snpref model)");
    ck_assert_uint_ge(cpuid(0x80000000, 0, 0), 0x80000021);
    uint32_t e21 = cpuid(0x80000021, 0, 0);
    ck_assert_uint_eq(e21 & (BIT(27) | BIT(28)), BIT(27) | BIT(28)); /* SBPB, IBPB_BRTYPE */
}
END_TEST

/* IA32_TSC_ADJUST (SDM vol. 3 17.17.3), through hv_msr_access as a guest
 * RDMSR/WRMSR reaches it; the vCPU is mid-quantum so the TSC is its clock. */
static bool acc(uint32_t msr, bool write, uint64_t *v) { return hv_msr_access(&g_s, msr, write, v); }

START_TEST(tsc_adjust_raises_gp_unless_cpuid_announces_it)
{
    uint64_t v = 0;
    ck_assert_uint_eq(cpuid(7, 0, 1) & 2u, 0); /* off by default, as on AMD parts */
    ck_assert(!acc(0x3B, false, &v));
    ck_assert(!acc(0x3B, true, &v));
    char err[256];
    ck_assert_int_eq(cpufeat_parse("+tsc-adjust", &g_sys.cfg.features, err, sizeof(err)), 0);
    ck_assert_uint_eq(cpuid(7, 0, 1) & 2u, 2u);
    ck_assert(acc(0x3B, false, &v));
    ck_assert_uint_eq(v, 0);
}
END_TEST

START_TEST(tsc_adjust_and_the_tsc_move_together_as_the_sdm_says)
{
    char err[256];
    ck_assert_int_eq(cpufeat_parse("+tsc-adjust", &g_sys.cfg.features, err, sizeof(err)), 0);
    g_s.in_quantum = true;
    g_s.t0 = 1000000; /* the clock stands still: no instruction retires here */
    uint64_t tsc0 = 0, v = 5000;
    ck_assert(acc(0x10, false, &tsc0));
    /* A write of X to TSC_ADJUST adds X - old to the TSC. */
    ck_assert(acc(0x3B, true, &v));
    uint64_t tsc1 = 0;
    ck_assert(acc(0x10, false, &tsc1));
    ck_assert_uint_eq(tsc1, tsc0 + 5000);
    /* A write to the TSC adds the same change to TSC_ADJUST. */
    v = tsc1 - 3000;
    ck_assert(acc(0x10, true, &v));
    ck_assert(acc(0x3B, false, &v));
    ck_assert_uint_eq(v, 2000);
    /* Negative adjustments wrap as 64-bit values. */
    v = (uint64_t)-7;
    ck_assert(acc(0x3B, true, &v));
    ck_assert(acc(0x10, false, &tsc1));
    ck_assert_uint_eq(tsc1, tsc0 - 7);
}
END_TEST

START_TEST(cpu_features_set_and_clear_named_cpuid_bits_left_to_right)
{
    char err[256];
    struct cpu_features *f = &g_sys.cfg.features;
    ck_assert_uint_eq(cpuid(1, 0, 2) >> 21 & 1, 1);
    ck_assert_int_eq(cpufeat_parse("-x2apic,+tsc-deadline", f, err, sizeof(err)), 0);
    ck_assert_uint_eq(cpuid(1, 0, 2) >> 21 & 1, 0);
    ck_assert_uint_eq(cpuid(1, 0x55, 2) >> 21 & 1, 0); /* leaf 1 ignores ECX */
    ck_assert_uint_eq(cpuid(1, 0, 2) >> 24 & 1, 1);
    ck_assert_int_eq(cpufeat_parse("max,-rdpid", f, err, sizeof(err)), 0);
    ck_assert_uint_eq(cpuid(7, 0, 2) >> 22 & 1, 0);
    ck_assert_uint_eq(cpuid(7, 1, 1) & 2u, 0); /* leaf 7 edits hit subleaf 0 only */
    ck_assert_uint_eq(cpuid(7, 0, 1) & 2u, 2u);
    ck_assert_int_eq(cpufeat_parse("max", f, err, sizeof(err)), 0);
    ck_assert_uint_eq(cpuid(7, 0, 2) >> 22 & 1, 1);
    ck_assert_int_eq(cpufeat_parse("+x2apic,+nosuch", f, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "'nosuch'") && strstr(err, "tsc-adjust"), "%s", err);
    ck_assert_int_eq(cpufeat_parse("x2apic", f, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "+NAME"), "%s", err);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("hv_msr");
    TCase *tc = tcase_create("table");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, every_msr_in_the_table_reads_its_reset_value);
    tcase_add_test(tc, every_writable_bit_of_every_msr_reads_back_what_was_written);
    tcase_add_test(tc, every_bit_outside_the_mask_is_ignored_or_raises_gp_as_its_row_says);
    tcase_add_test(tc, a_read_only_msr_raises_gp_even_when_written_with_its_own_value);
    tcase_add_test(tc, msrs_the_model_does_not_know_raise_gp);
    tcase_add_test(tc, hwcr_reads_tscfreqsel_and_keeps_it_when_a_write_clears_it);
    tcase_add_test(tc, perf_counters_are_48_bits_wide_and_rdpmc_reads_the_four_legacy_ones);
    tcase_add_test(tc, perf_event_select_reserved_bits_raise_gp_and_the_event_bits_stick);
    tcase_add_test(tc, syscfg_reports_the_encryption_bits_of_the_mode_and_refuses_writes);
    tcase_add_test(tc, vm_cr_reads_svm_disabled_and_locked_and_ignores_writes_to_them);
    tcase_add_test(tc, spec_ctrl_and_pred_cmd_follow_the_cpuid_bits);
    tcase_add_test(tc, arch_capabilities_exists_only_when_cpuid_reports_it);
    tcase_add_test(tc, mca_has_no_banks_and_disappears_without_the_cpuid_bit);
    tcase_add_test(tc, mtrrs_refuse_reserved_types_and_address_bits_above_maxphyaddr);
    tcase_add_test(tc, a_kernel_boot_finds_the_mtrrs_enabled_with_write_back_as_firmware_leaves_them);
    tcase_add_test(tc, tsc_aux_keeps_its_low_half_in_the_engine_and_refuses_the_high_half);
    tcase_add_test(tc, de_cfg_takes_lfence_serializing_and_nb_cfg_keeps_only_extended_cf8);
    tcase_add_test(tc, msr_state_is_per_vcpu);
    tcase_add_test(tc, default_cpuid_is_a_family_19h_epyc_with_invariant_tsc_and_tsc_deadline);
    tcase_add_test(tc, tsc_adjust_raises_gp_unless_cpuid_announces_it);
    tcase_add_test(tc, tsc_adjust_and_the_tsc_move_together_as_the_sdm_says);
    tcase_add_test(tc, cpu_features_set_and_clear_named_cpuid_bits_left_to_right);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ck_run(suite(), CK_RUN_FORK); }
