/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the PSP model's commands (model/psp/psp.c, psp_launch.c; fact
 * sheet 8.1, 8.4): every command's success and failure codes (order of
 * commands, handles, guest policy against the platform, ASIDs, the Pre-Guest
 * RMP state LAUNCH_UPDATE needs, addresses, page sizes, reserved fields,
 * malformed CPUID pages, the ID block), and what each page type does to the
 * page and to its RMP entry. The launch digest has its own suite,
 * test_psp_digest.c; the harness is test_psp_harness.h.
 */
#include "test_psp_harness.h"
#include "ck_run.h"

/* ---- Command order and handles ------------------------------------------------------------- */

START_TEST(gctx_create_hands_out_distinct_handles_in_the_init_state)
{
    uint64_t a = create(), b = create();
    ck_assert_uint_ne(a, 0);
    ck_assert_uint_ne(a, b);
    ck_assert_int_eq(info(a).state, PSP_GSTATE_INIT);
    ck_assert_uint_eq(info(a).asid, 0);
    ck_assert_uint_eq(decommission(a), SEV_RET_SUCCESS);
    ck_assert_uint_ne(create(), a); /* handles are not reused */
}
END_TEST

START_TEST(every_command_on_an_unknown_or_decommissioned_handle_is_invalid_guest)
{
    uint64_t h = launched(ASID);
    ck_assert_uint_eq(decommission(h), SEV_RET_SUCCESS);
    uint64_t bad[] = {h, 0, 999};
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_uint_eq(start(bad[i], POLICY), SEV_RET_INVALID_GUEST);
        ck_assert_uint_eq(activate(bad[i], ASID), SEV_RET_INVALID_GUEST);
        ck_assert_uint_eq(update(bad[i], 0x10000, SNP_PAGE_TYPE_NORMAL), SEV_RET_INVALID_GUEST);
        ck_assert_uint_eq(finish(bad[i], 0, 0, 0), SEV_RET_INVALID_GUEST);
        ck_assert_uint_eq(decommission(bad[i]), SEV_RET_INVALID_GUEST);
    }
    ck_assert_str_eq(psp_status_name(SEV_RET_INVALID_GUEST), "INVALID_GUEST");
}
END_TEST

START_TEST(an_unknown_command_or_a_missing_buffer_is_refused)
{
    struct psp_snp_addr a = {0};
    ck_assert_uint_eq(psp_command(psp, 0x0B0 /* SNP_DBG_DECRYPT */, &a, 0), SEV_RET_INVALID_COMMAND);
    ck_assert_str_ne(psp_why(psp), "");
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_GCTX_CREATE, NULL, 0), SEV_RET_INVALID_PARAM);
    create();
    ck_assert_str_eq(psp_why(psp), "");
}
END_TEST

START_TEST(launch_start_twice_is_invalid_guest_state)
{
    uint64_t h = create();
    ck_assert_uint_eq(start(h, POLICY), SEV_RET_SUCCESS);
    ck_assert_int_eq(info(h).state, PSP_GSTATE_LAUNCH);
    ck_assert_uint_eq(start(h, POLICY), SEV_RET_INVALID_GUEST_STATE);
}
END_TEST

START_TEST(activate_needs_a_started_launch_and_happens_once)
{
    uint64_t h = create();
    ck_assert_uint_eq(activate(h, ASID), SEV_RET_INVALID_GUEST_STATE);
    ck_assert_uint_eq(start(h, POLICY), SEV_RET_SUCCESS);
    ck_assert_uint_eq(activate(h, ASID), SEV_RET_SUCCESS);
    ck_assert_uint_eq(info(h).asid, ASID);
    ck_assert_uint_eq(activate(h, ASID + 1), SEV_RET_INVALID_GUEST_STATE);
    ck_assert_uint_eq(info(h).asid, ASID);
}
END_TEST

START_TEST(activate_refuses_asid_zero_asids_past_the_limit_and_asids_in_use)
{
    uint64_t a = launched(ASID), b = create();
    ck_assert_uint_eq(start(b, POLICY), SEV_RET_SUCCESS);
    ck_assert_uint_eq(activate(b, 0), SEV_RET_INVALID_ASID);
    ck_assert_uint_eq(activate(b, 1024), SEV_RET_INVALID_ASID);
    ck_assert_uint_eq(activate(b, ASID), SEV_RET_ASID_OWNED);
    ck_assert_uint_eq(info(b).asid, 0);
    ck_assert_uint_eq(decommission(a), SEV_RET_SUCCESS); /* frees the ASID after DF_FLUSH */
    ck_assert_uint_eq(activate(b, ASID), SEV_RET_DFFLUSH_REQUIRED);
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_DF_FLUSH, NULL, 0), SEV_RET_SUCCESS);
    ck_assert_uint_eq(activate(b, ASID), SEV_RET_SUCCESS);
    uint64_t c = create();
    ck_assert_uint_eq(start(c, POLICY), SEV_RET_SUCCESS);
    ck_assert_uint_eq(activate(c, 1023), SEV_RET_SUCCESS);
}
END_TEST

START_TEST(launch_update_needs_a_started_activated_unfinished_launch)
{
    fill_page(0x10000);
    pre_guest(0x10000, ASID);
    uint64_t h = create();
    ck_assert_uint_eq(update(h, 0x10000, SNP_PAGE_TYPE_NORMAL), SEV_RET_INVALID_GUEST_STATE);
    ck_assert_uint_eq(start(h, POLICY), SEV_RET_SUCCESS);
    ck_assert_uint_eq(update(h, 0x10000, SNP_PAGE_TYPE_NORMAL), SEV_RET_INACTIVE);
    expect_pre_guest_untouched(0x10000);
    ck_assert_uint_eq(activate(h, ASID), SEV_RET_SUCCESS);
    ck_assert_uint_eq(finish(h, 0, 0, 0), SEV_RET_SUCCESS);
    ck_assert_int_eq(info(h).state, PSP_GSTATE_RUNNING);
    ck_assert_uint_eq(update(h, 0x10000, SNP_PAGE_TYPE_NORMAL), SEV_RET_INVALID_GUEST_STATE);
    expect_pre_guest_untouched(0x10000);
    ck_assert_uint_eq(info(h).pages_measured, 0);
}
END_TEST

START_TEST(launch_finish_needs_a_started_activated_launch_and_happens_once)
{
    uint64_t h = create();
    ck_assert_uint_eq(finish(h, 0, 0, 0), SEV_RET_INVALID_GUEST_STATE);
    ck_assert_uint_eq(start(h, POLICY), SEV_RET_SUCCESS);
    ck_assert_uint_eq(finish(h, 0, 0, 0), SEV_RET_INACTIVE);
    ck_assert_uint_eq(activate(h, ASID), SEV_RET_SUCCESS);
    ck_assert_uint_eq(finish(h, 0, 0, 0), SEV_RET_SUCCESS);
    ck_assert_uint_eq(finish(h, 0, 0, 0), SEV_RET_INVALID_GUEST_STATE);
    ck_assert_uint_eq(start(h, POLICY), SEV_RET_INVALID_GUEST_STATE);
    flush_trace();
    ck_assert_uint_eq(nfinish, 1);
}
END_TEST

START_TEST(the_psp_holds_64_contexts_and_a_decommission_frees_one)
{
    uint64_t first = create();
    for (unsigned i = 1; i < 64; i++)
        create();
    struct psp_snp_addr a = {0};
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_GCTX_CREATE, &a, 0), SEV_RET_RESOURCE_LIMIT);
    ck_assert_uint_eq(decommission(first), SEV_RET_SUCCESS);
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_GCTX_CREATE, &a, 0), SEV_RET_SUCCESS);
}
END_TEST

/* ---- Policy ------------------------------------------------------------------------------- */

START_TEST(launch_start_refuses_each_must_be_zero_policy_bit)
{
    uint64_t h = create();
    unsigned bit = 26 + (unsigned)_i;
    ck_assert_uint_eq(start(h, POLICY | (1ull << bit)), SEV_RET_POLICY_FAILURE);
    ck_assert_int_eq(info(h).state, PSP_GSTATE_INIT);
    ck_assert_uint_eq(start(h, POLICY), SEV_RET_SUCCESS); /* the failure changed nothing */
}
END_TEST

static const struct policy_case {
    uint64_t policy;
    bool smt, rapl_dis, ct_hiding, aes256;
    uint32_t want;
} policy_cases[] = {
    {0x30000, false, false, false, true, SEV_RET_SUCCESS},
    {0xB0000, false, false, false, true, SEV_RET_SUCCESS},   /* + DEBUG (QEMU example) */
    {0x20000, false, false, false, true, SEV_RET_SUCCESS},   /* no SMT, platform without SMT */
    {0x10000, false, false, false, true, SEV_RET_POLICY_FAILURE}, /* bit 17 clear */
    {0x00000, false, false, false, true, SEV_RET_POLICY_FAILURE},
    {0x20000, true, false, false, true, SEV_RET_POLICY_FAILURE},  /* SMT on, not allowed */
    {0x30000, true, false, false, true, SEV_RET_SUCCESS},
    {0x30000 | 0x0137, false, false, false, true, SEV_RET_SUCCESS},  /* ABI 1.55 = firmware */
    {0x30000 | 0x0138, false, false, false, true, SEV_RET_POLICY_FAILURE}, /* ABI 1.56 */
    {0x30000 | 0x0200, false, false, false, true, SEV_RET_POLICY_FAILURE}, /* ABI 2.0 */
    {0x30000 | SNP_POLICY_RAPL_DIS, false, false, false, true, SEV_RET_POLICY_FAILURE},
    {0x30000 | SNP_POLICY_RAPL_DIS, false, true, false, true, SEV_RET_SUCCESS},
    {0x30000 | SNP_POLICY_CIPHERTEXT_HIDING, false, false, false, true, SEV_RET_POLICY_FAILURE},
    {0x30000 | SNP_POLICY_CIPHERTEXT_HIDING, false, false, true, true, SEV_RET_SUCCESS},
    {0x30000 | SNP_POLICY_MEM_AES_256_XTS, false, false, false, false, SEV_RET_POLICY_FAILURE},
    {0x30000 | SNP_POLICY_MEM_AES_256_XTS, false, false, false, true, SEV_RET_SUCCESS},
    {0x30000 | SNP_POLICY_MIGRATE_MA | SNP_POLICY_SINGLE_SOCKET | SNP_POLICY_CXL_ALLOW |
         SNP_POLICY_PAGE_SWAP_DISABLE,
     false, false, false, true, SEV_RET_SUCCESS},
};

START_TEST(launch_start_checks_each_policy_field_against_the_platform)
{
    const struct policy_case *pc = &policy_cases[_i];
    struct psp_config cfg;
    psp_config_default(&cfg);
    cfg.smt_enabled = pc->smt;
    cfg.rapl_disabled = pc->rapl_dis;
    cfg.ciphertext_hiding = pc->ct_hiding;
    cfg.aes_256_xts = pc->aes256;
    make_psp(&cfg);
    uint64_t h = create();
    ck_assert_msg(start(h, pc->policy) == pc->want, "policy 0x%llx: %s (%s)",
                  (unsigned long long)pc->policy, psp_status_name(start(h, pc->policy)),
                  psp_why(psp));
    if (pc->want == SEV_RET_SUCCESS)
        ck_assert_uint_eq(info(h).policy, pc->policy);
}
END_TEST

START_TEST(launch_start_refuses_reserved_flags_and_migration_agents)
{
    uint64_t h = create();
    struct psp_snp_launch_start c = {.gctx_paddr = h, .policy = POLICY, .flags = 1u << 2};
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_LAUNCH_START, &c, 0), SEV_RET_INVALID_PARAM);
    c.flags = PSP_LAUNCH_START_MA_EN;
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_LAUNCH_START, &c, 0), SEV_RET_UNSUPPORTED);
    c.flags = PSP_LAUNCH_START_IMI_EN;
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_LAUNCH_START, &c, 0), SEV_RET_UNSUPPORTED);
    ck_assert_int_eq(info(h).state, PSP_GSTATE_INIT);
}
END_TEST

/* ---- LAUNCH_UPDATE: the page and its RMP entry ---------------------------------------------- */

/* A failed update leaves digest, count, page bytes and RMP entry as they were. */
static void expect_refused(uint64_t h, uint64_t spa, uint32_t rc, uint32_t want)
{
    ck_assert_msg(rc == want, "%s, want %s (%s)", psp_status_name(rc), psp_status_name(want),
                  psp_why(psp));
    ck_assert_str_ne(psp_why(psp), "");
    static const uint8_t zeros[48];
    ck_assert_mem_eq(info(h).digest, zeros, 48);
    ck_assert_uint_eq(info(h).pages_measured, 0);
    if (mem_contains(&ram, spa, PG)) {
        uint8_t want_page[PG];
        gen_page(spa, want_page);
        ck_assert_mem_eq(mem_ptr(&ram, spa, PG), want_page, PG);
    }
    flush_trace();
    ck_assert_uint_eq(nev, 0);
}

START_TEST(update_of_an_unassigned_page_is_invalid_page_state)
{
    uint64_t h = launched(ASID);
    fill_page(0x10000);
    expect_refused(h, 0x10000, update(h, 0x10000, SNP_PAGE_TYPE_NORMAL),
                   SEV_RET_INVALID_PAGE_STATE);
    ck_assert(!entry(0x10000).assigned);
}
END_TEST

START_TEST(update_of_a_page_assigned_at_another_gpa_is_invalid_page_state)
{
    uint64_t h = launched(ASID);
    fill_page(0x10000);
    pre_guest_sized(0x10000, ASID, 0x20000, RMP_4K);
    expect_refused(h, 0x10000, update(h, 0x10000, SNP_PAGE_TYPE_NORMAL),
                   SEV_RET_INVALID_PAGE_STATE);
    expect_pre_guest_untouched(0x10000);
}
END_TEST

START_TEST(only_a_vmsa_may_be_assigned_at_the_vmsa_measurement_gpa)
{
    uint64_t h = launched(ASID);
    fill_page(0x10000);
    pre_guest_sized(0x10000, ASID, SNP_VMSA_MEASURE_GPA, RMP_4K);
    expect_refused(h, 0x10000, update(h, 0x10000, SNP_PAGE_TYPE_NORMAL),
                   SEV_RET_INVALID_PAGE_STATE);
    ck_assert_uint_eq(update(h, 0x10000, SNP_PAGE_TYPE_VMSA), SEV_RET_SUCCESS);
}
END_TEST

START_TEST(update_of_a_page_of_another_asid_is_invalid_page_owner)
{
    uint64_t h = launched(ASID);
    fill_page(0x10000);
    pre_guest(0x10000, ASID + 1);
    expect_refused(h, 0x10000, update(h, 0x10000, SNP_PAGE_TYPE_NORMAL),
                   SEV_RET_INVALID_PAGE_OWNER);
    expect_pre_guest_untouched(0x10000);
}
END_TEST

START_TEST(update_of_a_mutable_or_already_validated_page_is_invalid_page_state)
{
    uint64_t h = launched(ASID);
    fill_page(0x10000);
    struct rmp_state st = {.gpa = 0x10000, .assigned = true, .size = RMP_4K, .asid = ASID};
    ck_assert_int_eq(rmp_update(rmp, 0x10000, &st), RMP_OK); /* not immutable */
    expect_refused(h, 0x10000, update(h, 0x10000, SNP_PAGE_TYPE_NORMAL),
                   SEV_RET_INVALID_PAGE_STATE);
    fill_page(0x11000);
    pre_guest(0x11000, ASID);
    ck_assert_uint_eq(update(h, 0x11000, SNP_PAGE_TYPE_NORMAL), SEV_RET_SUCCESS);
    ck_assert_uint_eq(update(h, 0x11000, SNP_PAGE_TYPE_NORMAL), SEV_RET_INVALID_PAGE_STATE);
    ck_assert_uint_eq(info(h).pages_measured, 1);
}
END_TEST

START_TEST(update_outside_ram_or_off_alignment_is_invalid_address)
{
    uint64_t h = launched(ASID);
    expect_refused(h, RAM, update(h, RAM, SNP_PAGE_TYPE_NORMAL), SEV_RET_INVALID_ADDRESS);
    expect_refused(h, ~0ull & ~0xFFFull, update(h, ~0ull & ~0xFFFull, SNP_PAGE_TYPE_NORMAL),
                   SEV_RET_INVALID_ADDRESS);
    fill_page(0x10000);
    pre_guest(0x10000, ASID);
    expect_refused(h, 0x10000, update(h, 0x10800, SNP_PAGE_TYPE_NORMAL),
                   SEV_RET_INVALID_ADDRESS);
    expect_refused(h, 0x10000, update_p(h, 0x10000, SNP_PAGE_TYPE_NORMAL, true, 0),
                   SEV_RET_INVALID_ADDRESS); /* not 2 MiB aligned */
    expect_refused(h, RAM, update_p(h, RAM, SNP_PAGE_TYPE_NORMAL, true, 0),
                   SEV_RET_INVALID_ADDRESS);
}
END_TEST

START_TEST(a_page_size_that_differs_from_the_rmp_entry_is_invalid_page_size)
{
    uint64_t h = launched(ASID);
    for (unsigned j = 0; j < 512; j++)
        fill_page(2 * MIB + j * PG);
    pre_guest_sized(2 * MIB, ASID, 2 * MIB, RMP_2M);
    expect_refused(h, 2 * MIB, update(h, 2 * MIB, SNP_PAGE_TYPE_NORMAL),
                   SEV_RET_INVALID_PAGE_SIZE);
    expect_refused(h, 2 * MIB + PG, update(h, 2 * MIB + PG, SNP_PAGE_TYPE_NORMAL),
                   SEV_RET_INVALID_PAGE_SIZE);
    for (unsigned j = 0; j < 512; j++)
        fill_page(4 * MIB + j * PG);
    pre_guest(4 * MIB, ASID); /* 4 KiB entries under a 2 MiB command */
    expect_refused(h, 4 * MIB, update_p(h, 4 * MIB, SNP_PAGE_TYPE_NORMAL, true, 0),
                   SEV_RET_INVALID_PAGE_SIZE);
}
END_TEST

static const struct {
    uint32_t flags, reserved_0xc, perms, reserved_0x1c;
} bad_params[] = {
    {PSP_UPDATE_TYPE(0), 0, 0, 0},                          /* no type */
    {PSP_UPDATE_TYPE(7), 0, 0, 0},                          /* undefined type */
    {PSP_UPDATE_TYPE(1) | PSP_UPDATE_IMI, 0, 0, 0},         /* IMI page */
    {PSP_UPDATE_TYPE(1) | (1u << 5), 0, 0, 0},              /* reserved flag */
    {PSP_UPDATE_TYPE(1) | (1u << 31), 0, 0, 0},
    {PSP_UPDATE_TYPE(1), 1, 0, 0},                          /* reserved dword */
    {PSP_UPDATE_TYPE(1), 0, 0, 1},
    {PSP_UPDATE_TYPE(1), 0, 0x01, 0},                       /* perms [7:0] reserved */
    {PSP_UPDATE_TYPE(1), 0, PSP_UPDATE_PERMS(0x10, 0, 0), 0}, /* undefined perm bits */
    {PSP_UPDATE_TYPE(1), 0, PSP_UPDATE_PERMS(0, 0, 0x80), 0},
    {PSP_UPDATE_TYPE(2) | PSP_UPDATE_PAGE_2M, 0, 0, 0},     /* 2 MiB VMSA */
    {PSP_UPDATE_TYPE(5) | PSP_UPDATE_PAGE_2M, 0, 0, 0},     /* 2 MiB secrets */
    {PSP_UPDATE_TYPE(6) | PSP_UPDATE_PAGE_2M, 0, 0, 0},     /* 2 MiB CPUID */
};

START_TEST(malformed_launch_update_buffers_are_invalid_param)
{
    uint64_t h = launched(ASID);
    uint64_t spa = bad_params[_i].flags & PSP_UPDATE_PAGE_2M ? 2 * MIB : 0x10000;
    fill_page(spa);
    pre_guest_sized(spa, ASID, spa, spa == 0x10000 ? RMP_4K : RMP_2M);
    struct psp_snp_launch_update c = {
        .gctx_paddr = h,
        .flags = bad_params[_i].flags,
        .reserved_0xc = bad_params[_i].reserved_0xc,
        .address = spa,
        .perms = bad_params[_i].perms,
        .reserved_0x1c = bad_params[_i].reserved_0x1c,
    };
    expect_refused(h, spa, psp_command(psp, SEV_CMD_SNP_LAUNCH_UPDATE, &c, 0),
                   SEV_RET_INVALID_PARAM);
    expect_pre_guest_untouched(spa);
}
END_TEST

/* ---- LAUNCH_UPDATE: what each page type does -------------------------------------------- */

static void expect_guest_valid(uint64_t spa, bool vmsa)
{
    struct rmp_entry e = entry(spa);
    ck_assert(e.assigned);
    ck_assert(e.validated);
    ck_assert(!e.immutable);
    ck_assert_int_eq(e.vmsa, vmsa);
    ck_assert_uint_eq(e.asid, ASID);
}

START_TEST(a_normal_page_keeps_its_bytes_and_becomes_validated)
{
    uint64_t h = launched(ASID);
    fill_page(0x10000);
    pre_guest(0x10000, ASID);
    ck_assert_uint_eq(update(h, 0x10000, SNP_PAGE_TYPE_NORMAL), SEV_RET_SUCCESS);
    uint8_t want[PG];
    gen_page(0x10000, want);
    ck_assert_mem_eq(mem_ptr(&ram, 0x10000, PG), want, PG);
    expect_guest_valid(0x10000, false);
    ck_assert_uint_eq(entry(0x10000).gpa, 0x10000);
    ck_assert_uint_eq(entry(0x10000).perms[1], 0);
}
END_TEST

START_TEST(a_zero_page_is_zeroed_by_the_firmware)
{
    uint64_t h = launched(ASID);
    fill_page(0x10000);
    pre_guest(0x10000, ASID);
    ck_assert_uint_eq(update(h, 0x10000, SNP_PAGE_TYPE_ZERO), SEV_RET_SUCCESS);
    static const uint8_t zeros[PG];
    ck_assert_mem_eq(mem_ptr(&ram, 0x10000, PG), zeros, PG);
    expect_guest_valid(0x10000, false);
}
END_TEST

START_TEST(an_unmeasured_page_keeps_its_bytes_which_do_not_enter_the_digest)
{
    uint64_t h = launched(ASID);
    fill_page(0x10000);
    pre_guest(0x10000, ASID);
    ck_assert_uint_eq(update(h, 0x10000, SNP_PAGE_TYPE_UNMEASURED), SEV_RET_SUCCESS);
    uint8_t want[PG];
    gen_page(0x10000, want);
    ck_assert_mem_eq(mem_ptr(&ram, 0x10000, PG), want, PG);
    expect_guest_valid(0x10000, false);
    static const uint8_t zeros[48];
    uint8_t ld[48] = {0};
    ref_extend(ld, SNP_PAGE_TYPE_UNMEASURED, zeros, 0x10000, 0, 0, 0);
    ck_assert_mem_eq(info(h).digest, ld, 48);
}
END_TEST

/* SNP_LAUNCH_START as Linux's psp-sev.h lays it out today, built as raw
 * bytes (48: gctx 0x00, policy 0x08, ma_gctx 0x10, flags 0x18,
 * desired_tsc_khz 0x1C, gosvw 0x20): the PSP takes gosvw from 0x20 (it
 * reaches the secrets page) and a desired TSC rate is no reserved field. */
START_TEST(launch_start_reads_the_48_byte_linux_layout_with_desired_tsc_khz_at_0x1c)
{
    uint64_t h = create();
    uint8_t raw[48] = {0};
    uint64_t policy = POLICY;
    memcpy(raw + 0x00, &h, 8);
    memcpy(raw + 0x08, &policy, 8);
    uint32_t khz = 2000000;
    memcpy(raw + 0x1C, &khz, 4);
    for (unsigned i = 0; i < 16; i++)
        raw[0x20 + i] = (uint8_t)(0xA0 + i);
    struct psp_snp_launch_start c;
    ck_assert_uint_eq(sizeof(c), sizeof(raw));
    memcpy(&c, raw, sizeof(raw));
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_LAUNCH_START, &c, 0), SEV_RET_SUCCESS);
    ck_assert_uint_eq(activate(h, ASID), SEV_RET_SUCCESS);
    fill_page(0x14000);
    pre_guest(0x14000, ASID);
    ck_assert_uint_eq(update(h, 0x14000, SNP_PAGE_TYPE_SECRETS), SEV_RET_SUCCESS);
    const struct snp_secrets_page *sp = mem_ptr(&ram, 0x14000, PG);
    ck_assert_mem_eq(sp->gosvw, raw + 0x20, 16);
}
END_TEST

START_TEST(the_secrets_page_is_filled_with_version_fms_gosvw_and_four_vmpcks)
{
    uint64_t h = create();
    struct psp_snp_launch_start s = {.gctx_paddr = h, .policy = POLICY};
    for (unsigned i = 0; i < 16; i++)
        s.gosvw[i] = (uint8_t)(0xC0 + i);
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_LAUNCH_START, &s, 0), SEV_RET_SUCCESS);
    ck_assert_uint_eq(activate(h, ASID), SEV_RET_SUCCESS);
    fill_page(0x14000);
    pre_guest(0x14000, ASID);
    ck_assert_uint_eq(update(h, 0x14000, SNP_PAGE_TYPE_SECRETS), SEV_RET_SUCCESS);
    const struct snp_secrets_page *sp = mem_ptr(&ram, 0x14000, PG);
    ck_assert_uint_eq(sp->version, PSP_SECRETS_VERSION);
    ck_assert_uint_eq(sp->imien, 0);
    ck_assert_uint_eq(sp->fms, 0x00A00F11);
    ck_assert_mem_eq(sp->gosvw, s.gosvw, 16);
    static const uint8_t zeros[PG];
    for (unsigned i = 0; i < 4; i++) {
        ck_assert_mem_ne(sp->vmpck[i], zeros, SNP_VMPCK_SIZE);
        for (unsigned j = 0; j < i; j++)
            ck_assert_mem_ne(sp->vmpck[i], sp->vmpck[j], SNP_VMPCK_SIZE);
    }
    ck_assert_mem_eq(&sp->os_area, zeros, sizeof(sp->os_area));
    ck_assert_mem_eq(sp->vmsa_tweak_bitmap, zeros, sizeof(sp->vmsa_tweak_bitmap));
    ck_assert_mem_eq(sp->reserved_0x164, zeros, sizeof(sp->reserved_0x164));
    expect_guest_valid(0x14000, false);
}
END_TEST

/* The secrets page of a fresh PSP with this seed, first guest. */
static void secrets_with_seed(uint64_t seed, uint8_t out[4][SNP_VMPCK_SIZE])
{
    struct psp_config cfg;
    psp_config_default(&cfg);
    cfg.seed = seed;
    make_psp(&cfg);
    struct rmp_state none = {.size = RMP_4K};
    ck_assert_int_eq(rmp_update(rmp, 0x14000, &none), RMP_OK);
    uint64_t h = launched(ASID);
    pre_guest(0x14000, ASID);
    ck_assert_uint_eq(update(h, 0x14000, SNP_PAGE_TYPE_SECRETS), SEV_RET_SUCCESS);
    memcpy(out, ((struct snp_secrets_page *)mem_ptr(&ram, 0x14000, PG))->vmpck,
           4 * SNP_VMPCK_SIZE);
    ck_assert_uint_eq(decommission(h), SEV_RET_SUCCESS);
    /* the firmware-validated page goes back to the hypervisor for the next round */
    struct rmp_entry e = entry(0x14000);
    memset(&e, 0, sizeof(e));
    rmp_fw_set(rmp, 0x14000, &e);
}

START_TEST(vmpcks_are_reproducible_from_the_seed_and_differ_across_seeds)
{
    uint8_t a[4][SNP_VMPCK_SIZE], b[4][SNP_VMPCK_SIZE], c[4][SNP_VMPCK_SIZE];
    secrets_with_seed(7, a);
    secrets_with_seed(7, b);
    secrets_with_seed(8, c);
    ck_assert_mem_eq(a, b, sizeof(a));
    ck_assert_mem_ne(a, c, sizeof(a));
}
END_TEST

START_TEST(two_guests_of_one_psp_get_different_vmpcks)
{
    uint64_t a = launched(ASID), b = launched(ASID + 1);
    pre_guest(0x14000, ASID);
    pre_guest(0x19000, ASID + 1);
    ck_assert_uint_eq(update(a, 0x14000, SNP_PAGE_TYPE_SECRETS), SEV_RET_SUCCESS);
    ck_assert_uint_eq(update(b, 0x19000, SNP_PAGE_TYPE_SECRETS), SEV_RET_SUCCESS);
    const struct snp_secrets_page *sa = mem_ptr(&ram, 0x14000, PG);
    const struct snp_secrets_page *sb = mem_ptr(&ram, 0x19000, PG);
    for (unsigned i = 0; i < 4; i++)
        ck_assert_mem_ne(sa->vmpck[i], sb->vmpck[i], SNP_VMPCK_SIZE);
}
END_TEST

START_TEST(a_well_formed_cpuid_page_is_kept_and_validated)
{
    uint64_t h = launched(ASID);
    build_cpuid(mem_ptr(&ram, 0x15000, PG));
    struct psp_cpuid_page want;
    build_cpuid(&want);
    pre_guest(0x15000, ASID);
    ck_assert_uint_eq(update(h, 0x15000, SNP_PAGE_TYPE_CPUID), SEV_RET_SUCCESS);
    ck_assert_mem_eq(mem_ptr(&ram, 0x15000, PG), &want, PG);
    expect_guest_valid(0x15000, false);
}
END_TEST

START_TEST(a_cpuid_page_with_64_entries_is_accepted)
{
    uint64_t h = launched(ASID);
    struct psp_cpuid_page *t = mem_ptr(&ram, 0x15000, PG);
    memset(t, 0, PG);
    t->count = 64;
    for (unsigned i = 0; i < 64; i++)
        t->fn[i].eax_in = 0x80000000u + i;
    pre_guest(0x15000, ASID);
    ck_assert_uint_eq(update(h, 0x15000, SNP_PAGE_TYPE_CPUID), SEV_RET_SUCCESS);
}
END_TEST

static void break_count(struct psp_cpuid_page *t) { t->count = 65; }
static void break_hdr_rsvd1(struct psp_cpuid_page *t) { t->reserved_0x4 = 1; }
static void break_hdr_rsvd2(struct psp_cpuid_page *t) { t->reserved_0x8 = 1ull << 63; }
static void break_fn_rsvd(struct psp_cpuid_page *t) { t->fn[2].reserved = 1; }
static void break_duplicate(struct psp_cpuid_page *t) { t->fn[2].xcr0_in = 1; }

static void (*const cpuid_breakers[])(struct psp_cpuid_page *) = {
    break_count, break_hdr_rsvd1, break_hdr_rsvd2, break_fn_rsvd, break_duplicate,
};

START_TEST(a_malformed_cpuid_page_fails_the_command_and_stays_pre_guest)
{
    uint64_t h = launched(ASID);
    struct psp_cpuid_page *t = mem_ptr(&ram, 0x15000, PG);
    build_cpuid(t);
    cpuid_breakers[_i](t);
    struct psp_cpuid_page before = *t;
    pre_guest(0x15000, ASID);
    uint32_t rc = update(h, 0x15000, SNP_PAGE_TYPE_CPUID);
    ck_assert_msg(rc == SEV_RET_INVALID_PARAM, "%s", psp_status_name(rc));
    ck_assert_mem_eq(t, &before, PG);
    expect_pre_guest_untouched(0x15000);
    ck_assert_uint_eq(info(h).pages_measured, 0);
}
END_TEST

START_TEST(a_vmsa_page_gets_the_rmp_vmsa_bit_and_keeps_its_assigned_gpa)
{
    uint64_t h = launched(ASID);
    build_vmsa(mem_ptr(&ram, 0x17000, PG), 0);
    build_vmsa(mem_ptr(&ram, 0x18000, PG), 1);
    pre_guest_sized(0x17000, ASID, SNP_VMSA_MEASURE_GPA, RMP_4K);
    pre_guest(0x18000, ASID);
    ck_assert_uint_eq(update(h, 0x17000, SNP_PAGE_TYPE_VMSA), SEV_RET_SUCCESS);
    ck_assert_uint_eq(update(h, 0x18000, SNP_PAGE_TYPE_VMSA), SEV_RET_SUCCESS);
    expect_guest_valid(0x17000, true);
    expect_guest_valid(0x18000, true);
    ck_assert_uint_eq(entry(0x17000).gpa, SNP_VMSA_MEASURE_GPA);
    ck_assert_uint_eq(entry(0x18000).gpa, 0x18000);
    uint8_t want[PG]; /* the firmware measures a VMSA, it does not change it */
    build_vmsa(want, 1);
    ck_assert_mem_eq(mem_ptr(&ram, 0x18000, PG), want, PG);
}
END_TEST

START_TEST(a_2mib_page_is_measured_as_512_pages_and_stays_one_2mib_rmp_entry)
{
    uint64_t h = launched(ASID);
    for (unsigned j = 0; j < 512; j++)
        fill_page(2 * MIB + j * PG);
    pre_guest_sized(2 * MIB, ASID, 2 * MIB, RMP_2M);
    ck_assert_uint_eq(update_p(h, 2 * MIB, SNP_PAGE_TYPE_ZERO, true, 0), SEV_RET_SUCCESS);
    ck_assert_uint_eq(info(h).pages_measured, 512);
    struct rmp_entry e = entry(2 * MIB + 511 * PG);
    ck_assert_int_eq(e.size, RMP_2M);
    expect_guest_valid(2 * MIB, false);
    static const uint8_t zeros[PG];
    for (unsigned j = 0; j < 512; j++)
        ck_assert_mem_eq(mem_ptr(&ram, 2 * MIB + j * PG, PG), zeros, PG);
    uint8_t ld[48] = {0};
    for (unsigned j = 0; j < 512; j++)
        ref_extend(ld, SNP_PAGE_TYPE_ZERO, zeros, 2 * MIB + j * PG, 0, 0, 0);
    ck_assert_mem_eq(info(h).digest, ld, 48);
}
END_TEST

/* ---- LAUNCH_FINISH and the ID block ------------------------------------------------------ */

#define BLK  0x30000ull
#define AUTH 0x31000ull

static void write_id_block(uint64_t h, uint32_t version, uint64_t policy, bool good_ld)
{
    struct psp_id_block *b = mem_ptr(&ram, BLK, sizeof(*b));
    memset(b, 0, sizeof(*b));
    memcpy(b->ld, info(h).digest, 48);
    if (!good_ld)
        b->ld[47] ^= 1;
    memset(b->family_id, 0x11, 16);
    memset(b->image_id, 0x22, 16);
    b->version = version;
    b->guest_svn = 3;
    b->policy = policy;
    struct psp_id_auth *a = mem_ptr(&ram, AUTH, sizeof(*a));
    memset(a, 0, sizeof(*a));
    a->id_key_algo = PSP_ID_ALGO_ECDSA_P384_SHA384;
    a->auth_key_algo = PSP_ID_ALGO_ECDSA_P384_SHA384;
}

static uint64_t launched_with_a_page(void)
{
    uint64_t h = launched(ASID);
    fill_page(0x10000);
    pre_guest(0x10000, ASID);
    ck_assert_uint_eq(update(h, 0x10000, SNP_PAGE_TYPE_NORMAL), SEV_RET_SUCCESS);
    return h;
}

START_TEST(finish_accepts_an_id_block_with_the_launch_digest_and_policy)
{
    uint64_t h = launched_with_a_page();
    write_id_block(h, 1, POLICY, true);
    ck_assert_uint_eq(finish(h, PSP_FINISH_ID_BLOCK_EN | PSP_FINISH_AUTH_KEY_EN, BLK, AUTH),
                      SEV_RET_SUCCESS);
    struct psp_guest_info gi = info(h);
    ck_assert_int_eq(gi.state, PSP_GSTATE_RUNNING);
    ck_assert(gi.id_block_en);
    ck_assert_uint_eq(gi.id_block.guest_svn, 3);
    ck_assert_uint_eq(gi.id_block.family_id[0], 0x11);
    ck_assert_uint_eq(gi.host_data[31], 0xAB);
    flush_trace();
    char d[PSP_DIGEST_HEX_SIZE];
    psp_digest_hex(gi.digest, d);
    ck_assert_str_eq(finish_digest, d);
}
END_TEST

static const struct {
    uint32_t version;
    uint64_t policy;
    bool good_ld;
    uint32_t id_key_algo, auth_key_algo;
    uint64_t flags, blk, auth;
    uint32_t want;
} bad_finish[] = {
    {1, POLICY, false, 1, 1, PSP_FINISH_ID_BLOCK_EN, BLK, AUTH, SEV_RET_BAD_MEASUREMENT},
    {1, POLICY | SNP_POLICY_DEBUG, true, 1, 1, PSP_FINISH_ID_BLOCK_EN, BLK, AUTH,
     SEV_RET_POLICY_FAILURE},
    {2, POLICY, true, 1, 1, PSP_FINISH_ID_BLOCK_EN, BLK, AUTH, SEV_RET_INVALID_PARAM},
    {1, POLICY, true, 2, 1, PSP_FINISH_ID_BLOCK_EN, BLK, AUTH, SEV_RET_INVALID_PARAM},
    {1, POLICY, true, 1, 0, PSP_FINISH_ID_BLOCK_EN | PSP_FINISH_AUTH_KEY_EN, BLK, AUTH,
     SEV_RET_INVALID_PARAM},
    {1, POLICY, true, 1, 1, PSP_FINISH_ID_BLOCK_EN, RAM - 16, AUTH, SEV_RET_INVALID_ADDRESS},
    {1, POLICY, true, 1, 1, PSP_FINISH_ID_BLOCK_EN, BLK, RAM - PG + 8, SEV_RET_INVALID_ADDRESS},
    {1, POLICY, true, 1, 1, PSP_FINISH_AUTH_KEY_EN, BLK, AUTH, SEV_RET_INVALID_PARAM},
    {1, POLICY, true, 1, 1, 1ull << 3, BLK, AUTH, SEV_RET_INVALID_PARAM},
    {1, POLICY, true, 1, 1, 1ull << 63, BLK, AUTH, SEV_RET_INVALID_PARAM},
};

START_TEST(finish_refuses_a_wrong_id_block_and_stays_in_the_launch)
{
    uint64_t h = launched_with_a_page();
    write_id_block(h, bad_finish[_i].version, bad_finish[_i].policy, bad_finish[_i].good_ld);
    struct psp_id_auth *a = mem_ptr(&ram, AUTH, sizeof(*a));
    a->id_key_algo = bad_finish[_i].id_key_algo;
    a->auth_key_algo = bad_finish[_i].auth_key_algo;
    uint32_t rc = finish(h, bad_finish[_i].flags, bad_finish[_i].blk, bad_finish[_i].auth);
    ck_assert_msg(rc == bad_finish[_i].want, "%s (%s)", psp_status_name(rc), psp_why(psp));
    ck_assert_int_eq(info(h).state, PSP_GSTATE_LAUNCH);
    flush_trace();
    ck_assert_uint_eq(nfinish, 0);
    /* the hypervisor may retry with a right one */
    write_id_block(h, 1, POLICY, true);
    ck_assert_uint_eq(finish(h, PSP_FINISH_ID_BLOCK_EN, BLK, AUTH), SEV_RET_SUCCESS);
}
END_TEST

START_TEST(finish_without_an_id_block_ignores_the_id_addresses)
{
    uint64_t h = launched_with_a_page();
    ck_assert_uint_eq(finish(h, PSP_FINISH_VCEK_DISABLED, ~0ull, ~0ull), SEV_RET_SUCCESS);
    ck_assert(!info(h).id_block_en);
}
END_TEST

static Suite *psp_suite(void)
{
    Suite *s = suite_create("psp");
    TCase *tc = tcase(s, "order");
    tcase_add_test(tc, gctx_create_hands_out_distinct_handles_in_the_init_state);
    tcase_add_test(tc, every_command_on_an_unknown_or_decommissioned_handle_is_invalid_guest);
    tcase_add_test(tc, an_unknown_command_or_a_missing_buffer_is_refused);
    tcase_add_test(tc, launch_start_twice_is_invalid_guest_state);
    tcase_add_test(tc, activate_needs_a_started_launch_and_happens_once);
    tcase_add_test(tc, activate_refuses_asid_zero_asids_past_the_limit_and_asids_in_use);
    tcase_add_test(tc, launch_update_needs_a_started_activated_unfinished_launch);
    tcase_add_test(tc, launch_finish_needs_a_started_activated_launch_and_happens_once);
    tcase_add_test(tc, the_psp_holds_64_contexts_and_a_decommission_frees_one);

    tc = tcase(s, "policy");
    tcase_add_loop_test(tc, launch_start_refuses_each_must_be_zero_policy_bit, 0, 64 - 26);
    tcase_add_loop_test(tc, launch_start_checks_each_policy_field_against_the_platform, 0,
                        N(policy_cases));
    tcase_add_test(tc, launch_start_refuses_reserved_flags_and_migration_agents);

    tc = tcase(s, "update checks");
    tcase_add_test(tc, update_of_an_unassigned_page_is_invalid_page_state);
    tcase_add_test(tc, update_of_a_page_assigned_at_another_gpa_is_invalid_page_state);
    tcase_add_test(tc, only_a_vmsa_may_be_assigned_at_the_vmsa_measurement_gpa);
    tcase_add_test(tc, update_of_a_page_of_another_asid_is_invalid_page_owner);
    tcase_add_test(tc, update_of_a_mutable_or_already_validated_page_is_invalid_page_state);
    tcase_add_test(tc, update_outside_ram_or_off_alignment_is_invalid_address);
    tcase_add_test(tc, a_page_size_that_differs_from_the_rmp_entry_is_invalid_page_size);
    tcase_add_loop_test(tc, malformed_launch_update_buffers_are_invalid_param, 0, N(bad_params));

    tc = tcase(s, "page types");
    tcase_add_test(tc, a_normal_page_keeps_its_bytes_and_becomes_validated);
    tcase_add_test(tc, a_zero_page_is_zeroed_by_the_firmware);
    tcase_add_test(tc, an_unmeasured_page_keeps_its_bytes_which_do_not_enter_the_digest);
    tcase_add_test(tc, the_secrets_page_is_filled_with_version_fms_gosvw_and_four_vmpcks);
    tcase_add_test(tc, launch_start_reads_the_48_byte_linux_layout_with_desired_tsc_khz_at_0x1c);
    tcase_add_test(tc, vmpcks_are_reproducible_from_the_seed_and_differ_across_seeds);
    tcase_add_test(tc, two_guests_of_one_psp_get_different_vmpcks);
    tcase_add_test(tc, a_well_formed_cpuid_page_is_kept_and_validated);
    tcase_add_test(tc, a_cpuid_page_with_64_entries_is_accepted);
    tcase_add_loop_test(tc, a_malformed_cpuid_page_fails_the_command_and_stays_pre_guest, 0,
                        N(cpuid_breakers));
    tcase_add_test(tc, a_vmsa_page_gets_the_rmp_vmsa_bit_and_keeps_its_assigned_gpa);
    tcase_add_test(tc, a_2mib_page_is_measured_as_512_pages_and_stays_one_2mib_rmp_entry);

    tc = tcase(s, "finish");
    tcase_add_test(tc, finish_accepts_an_id_block_with_the_launch_digest_and_policy);
    tcase_add_loop_test(tc, finish_refuses_a_wrong_id_block_and_stays_in_the_launch, 0,
                        N(bad_finish));
    tcase_add_test(tc, finish_without_an_id_block_ignores_the_id_addresses);
    return s;
}

int main(void)
{
    return ck_run(psp_suite(), CK_RUN_FORK);
}
