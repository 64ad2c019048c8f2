/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the PSP's platform state machine and its mailbox face
 * (model/psp/psp_platform.c; docs/psp.md): SNP_INIT / SNP_INIT_EX,
 * SNP_PLATFORM_STATUS, SNP_DF_FLUSH, SNP_PAGE_RECLAIM; command buffers taken
 * from RAM (psp_command_at) with every bad input answering the ABI status and
 * changing nothing; the two callers (hypervisor and mailbox) multiplexed onto
 * one firmware state; and a launch through the mailbox measuring the same
 * digest as the hypervisor's direct launch of the same pages.
 */
#include "test_psp_harness.h"
#include "ck_run.h"

#define BUF 0x40000ull   /* a command buffer page in RAM */
#define STATUS 0x41000ull

/* A command as the L1 issues it: buffer written to RAM at BUF, then the mailbox. */
static uint32_t mbox(uint32_t cmd, const void *buf, size_t len)
{
    if (len)
        ck_assert(mem_write(&ram, BUF, buf, len));
    return psp_command_at(psp, PSP_CLIENT_MBOX, cmd, BUF, NOW);
}

static void fw_page(uint64_t spa)
{
    struct rmp_state st = {.assigned = true, .size = RMP_4K, .immutable = true, .asid = 0};
    ck_assert_int_eq(rmp_update(rmp, spa, &st), RMP_OK);
}

static struct psp_snp_status status_of(enum psp_client c)
{
    struct psp_snp_platform_status_buf b = {STATUS};
    if (c == PSP_CLIENT_HV) {
        ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_PLATFORM_STATUS, &b, NOW), SEV_RET_SUCCESS);
    } else {
        ck_assert(mem_write(&ram, BUF, &b, sizeof(b)));
        ck_assert_uint_eq(psp_command_at(psp, c, SEV_CMD_SNP_PLATFORM_STATUS, BUF, NOW),
                          SEV_RET_SUCCESS);
    }
    struct psp_snp_status s;
    ck_assert(mem_read(&ram, STATUS, &s, sizeof(s)));
    return s;
}

static void fresh_psp(void)
{
    psp_destroy(psp);
    struct psp_config cfg;
    psp_config_default(&cfg);
    psp = psp_create(&ram, rmp, trc, &cfg);
    ck_assert_ptr_nonnull(psp);
}

/* ---- The platform state machine ------------------------------------------------------------- */

START_TEST(the_platform_starts_uninit_and_refuses_guest_commands_until_snp_init)
{
    fresh_psp();
    ck_assert_int_eq(psp_platform_state(psp), PSP_PSTATE_UNINIT);
    struct psp_snp_addr a = {0};
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_GCTX_CREATE, &a, NOW),
                      SEV_RET_INVALID_PLATFORM_STATE);
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_DF_FLUSH, NULL, NOW),
                      SEV_RET_INVALID_PLATFORM_STATE);
    /* Before INIT the status page may be the hypervisor's own. */
    struct psp_snp_status s = status_of(PSP_CLIENT_HV);
    ck_assert_uint_eq(s.state, PSP_PSTATE_UNINIT);
    ck_assert_uint_eq(s.api_major, 1);
    ck_assert_uint_eq(s.api_minor, 55);
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_INIT, NULL, NOW), SEV_RET_SUCCESS);
    ck_assert_int_eq(psp_platform_state(psp), PSP_PSTATE_INIT);
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_INIT, NULL, NOW),
                      SEV_RET_INVALID_PLATFORM_STATE);
    ck_assert_str_eq(psp_status_name(SEV_RET_INVALID_PLATFORM_STATE), "INVALID_PLATFORM_STATE");
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_GCTX_CREATE, &a, NOW), SEV_RET_SUCCESS);
}
END_TEST

START_TEST(platform_status_after_init_needs_a_firmware_page_and_counts_guests)
{
    struct psp_snp_platform_status_buf b = {STATUS};
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_PLATFORM_STATUS, &b, NOW),
                      SEV_RET_INVALID_PAGE_STATE);
    b.status_paddr = STATUS + 8;
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_PLATFORM_STATUS, &b, NOW),
                      SEV_RET_INVALID_ADDRESS);
    b.status_paddr = RAM;
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_PLATFORM_STATUS, &b, NOW),
                      SEV_RET_INVALID_ADDRESS);
    fw_page(STATUS);
    create();
    create();
    struct psp_snp_status s = status_of(PSP_CLIENT_HV);
    ck_assert_uint_eq(s.state, PSP_PSTATE_INIT);
    ck_assert_uint_eq(s.rmp_flags & PSP_STATUS_RMP_INITIALIZED, PSP_STATUS_RMP_INITIALIZED);
    ck_assert_uint_eq(s.guest_count, 2);
}
END_TEST

START_TEST(snp_init_ex_checks_its_fields_and_limits_the_asids)
{
    fresh_psp();
    struct psp_snp_init_ex c = {.flags = 1u << 4};
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_INIT_EX, &c, NOW), SEV_RET_INVALID_PARAM);
    c = (struct psp_snp_init_ex){.flags = PSP_INIT_EX_LIST_PADDR_EN};
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_INIT_EX, &c, NOW), SEV_RET_UNSUPPORTED);
    c = (struct psp_snp_init_ex){.flags = PSP_INIT_EX_RAPL_DIS};
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_INIT_EX, &c, NOW), SEV_RET_INVALID_PARAM);
    c = (struct psp_snp_init_ex){.max_snp_asid = 1024};
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_INIT_EX, &c, NOW), SEV_RET_INVALID_PARAM);
    ck_assert_int_eq(psp_platform_state(psp), PSP_PSTATE_UNINIT); /* nothing changed */
    c = (struct psp_snp_init_ex){.flags = PSP_INIT_EX_INIT_RMP, .max_snp_asid = 8};
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_INIT_EX, &c, NOW), SEV_RET_SUCCESS);
    uint64_t h = create();
    ck_assert_uint_eq(start(h, POLICY), SEV_RET_SUCCESS);
    ck_assert_uint_eq(activate(h, 9), SEV_RET_INVALID_ASID);
    ck_assert_uint_eq(activate(h, 8), SEV_RET_SUCCESS);
}
END_TEST

START_TEST(page_reclaim_turns_a_firmware_page_back_into_one_rmpupdate_can_free)
{
    struct psp_snp_page_reclaim r = {STATUS};
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_PAGE_RECLAIM, &r, NOW),
                      SEV_RET_INVALID_PAGE_STATE);
    fw_page(STATUS);
    struct rmp_state shared = {0};
    ck_assert_int_eq(rmp_update(rmp, STATUS, &shared), RMP_FAIL_PERMISSION); /* immutable */
    r.paddr = STATUS | PSP_RECLAIM_2M;
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_PAGE_RECLAIM, &r, NOW),
                      SEV_RET_INVALID_ADDRESS);
    r.paddr = STATUS;
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_PAGE_RECLAIM, &r, NOW), SEV_RET_SUCCESS);
    struct rmp_entry e = entry(STATUS);
    ck_assert(e.assigned && !e.immutable && e.asid == 0);
    ck_assert_int_eq(rmp_update(rmp, STATUS, &shared), RMP_OK);
    ck_assert(!entry(STATUS).assigned);
}
END_TEST

START_TEST(df_flush_releases_every_decommissioned_asid)
{
    uint64_t a = launched(ASID), b = launched(ASID + 1);
    ck_assert_uint_eq(decommission(a), SEV_RET_SUCCESS);
    ck_assert_uint_eq(decommission(b), SEV_RET_SUCCESS);
    uint64_t c = create();
    ck_assert_uint_eq(start(c, POLICY), SEV_RET_SUCCESS);
    ck_assert_uint_eq(activate(c, ASID + 1), SEV_RET_DFFLUSH_REQUIRED);
    ck_assert_str_eq(psp_status_name(SEV_RET_DFFLUSH_REQUIRED), "DFFLUSH_REQUIRED");
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_DF_FLUSH, NULL, NOW), SEV_RET_SUCCESS);
    ck_assert_uint_eq(activate(c, ASID + 1), SEV_RET_SUCCESS);
}
END_TEST

/* ---- Two callers, one PSP ----------------------------------------------------------------- */

START_TEST(the_mailbox_caller_has_its_own_init_view_and_its_own_contexts)
{
    /* The hypervisor initialised the platform (setup); the L1's view is UNINIT. */
    ck_assert_int_eq(psp_client_state(psp, PSP_CLIENT_MBOX), PSP_PSTATE_UNINIT);
    struct psp_snp_addr a = {0};
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_GCTX_CREATE, &a, sizeof(a)), SEV_RET_INVALID_PLATFORM_STATE);
    ck_assert_uint_eq(status_of(PSP_CLIENT_MBOX).state, PSP_PSTATE_UNINIT);
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_INIT, NULL, 0), SEV_RET_SUCCESS);
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_INIT, NULL, 0), SEV_RET_INVALID_PLATFORM_STATE);
    uint64_t hv = launched(ASID);
    /* The hypervisor's context is not the L1's to use, nor is its ASID. */
    struct psp_snp_launch_start ls = {.gctx_paddr = hv, .policy = POLICY};
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_LAUNCH_START, &ls, sizeof(ls)), SEV_RET_INVALID_GUEST);
    struct psp_snp_addr d = {hv};
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_DECOMMISSION, &d, sizeof(d)), SEV_RET_INVALID_GUEST);
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_GCTX_CREATE, &a, sizeof(a)), SEV_RET_SUCCESS);
    ck_assert(mem_read(&ram, BUF, &a, sizeof(a)));  /* the handle written back */
    ck_assert_uint_ne(a.gctx_paddr, hv);
    ls.gctx_paddr = a.gctx_paddr;
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_LAUNCH_START, &ls, sizeof(ls)), SEV_RET_SUCCESS);
    struct psp_snp_activate act = {a.gctx_paddr, ASID};
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_ACTIVATE, &act, sizeof(act)), SEV_RET_ASID_OWNED);
    act.asid = ASID + 1;
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_ACTIVATE, &act, sizeof(act)), SEV_RET_SUCCESS);
    /* Each sees its own guests. */
    fw_page(STATUS);
    ck_assert_uint_eq(status_of(PSP_CLIENT_MBOX).guest_count, 1);
    ck_assert_uint_eq(status_of(PSP_CLIENT_HV).guest_count, 1);
    ck_assert_int_eq(info(hv).state, PSP_GSTATE_LAUNCH); /* untouched by the L1 */
}
END_TEST

/* ---- Bad mailbox input: the ABI's status, nothing changed -------------------------------- */

static const struct bad_mbox {
    const char *what;
    uint32_t cmd;
    uint64_t buf;        /* where the buffer is said to be */
    bool assign_buf;     /* the buffer's page assigned to a guest first */
    bool init;           /* the L1 ran SNP_INIT first */
    uint32_t status;
} bad_mbox[] = {
    {"buffer not 8-byte aligned", SEV_CMD_SNP_GCTX_CREATE, BUF + 4, false, true,
     SEV_RET_INVALID_ADDRESS},
    {"buffer crossing a page", SEV_CMD_SNP_LAUNCH_START, BUF + PG - 16, false, true,
     SEV_RET_INVALID_ADDRESS},
    {"buffer beyond RAM", SEV_CMD_SNP_GCTX_CREATE, RAM, false, true, SEV_RET_INVALID_ADDRESS},
    {"buffer far beyond RAM", SEV_CMD_SNP_GCTX_CREATE, 0xFEB00000ull, false, true,
     SEV_RET_INVALID_ADDRESS},
    {"buffer in a guest-assigned page", SEV_CMD_SNP_GCTX_CREATE, BUF, true, true,
     SEV_RET_INVALID_PAGE_STATE},
    {"unknown command id", 0x3FF, BUF, false, true, SEV_RET_INVALID_COMMAND},
    {"SEV (not SNP) command id", 0x001, BUF, false, true, SEV_RET_INVALID_COMMAND},
    {"GCTX_CREATE before SNP_INIT", SEV_CMD_SNP_GCTX_CREATE, BUF, false, false,
     SEV_RET_INVALID_PLATFORM_STATE},
    {"DF_FLUSH before SNP_INIT", SEV_CMD_SNP_DF_FLUSH, 0, false, false,
     SEV_RET_INVALID_PLATFORM_STATE},
};

START_TEST(bad_mailbox_input_returns_the_abi_status_and_changes_nothing)
{
    const struct bad_mbox *b = &bad_mbox[_i];
    if (b->init)
        ck_assert_uint_eq(mbox(SEV_CMD_SNP_INIT, NULL, 0), SEV_RET_SUCCESS);
    if (b->assign_buf)
        pre_guest(BUF, ASID);
    uint8_t before[64];
    ck_assert(mem_read(&ram, BUF, before, sizeof(before)));
    uint32_t rc = psp_command_at(psp, PSP_CLIENT_MBOX, b->cmd, b->buf, NOW);
    ck_assert_msg(rc == b->status, "%s: %s, expected %s", b->what, psp_status_name(rc),
                  psp_status_name(b->status));
    ck_assert_str_ne(psp_why(psp), "");
    uint8_t after[64];
    ck_assert(mem_read(&ram, BUF, after, sizeof(after)));
    ck_assert_mem_eq(before, after, sizeof(before));
    fw_page(STATUS);
    ck_assert_uint_eq(status_of(PSP_CLIENT_HV).guest_count, 0);
}
END_TEST

/* The guest state machine through the mailbox: out of order is INVALID_GUEST_STATE. */
START_TEST(launch_update_before_start_through_the_mailbox_is_invalid_guest_state)
{
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_INIT, NULL, 0), SEV_RET_SUCCESS);
    struct psp_snp_addr a = {0};
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_GCTX_CREATE, &a, sizeof(a)), SEV_RET_SUCCESS);
    ck_assert(mem_read(&ram, BUF, &a, sizeof(a)));
    fill_page(0x10000);
    pre_guest(0x10000, ASID);
    struct psp_snp_launch_update u = {.gctx_paddr = a.gctx_paddr,
                                      .flags = PSP_UPDATE_TYPE(SNP_PAGE_TYPE_NORMAL),
                                      .address = 0x10000};
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_LAUNCH_UPDATE, &u, sizeof(u)), SEV_RET_INVALID_GUEST_STATE);
    expect_pre_guest_untouched(0x10000);
    struct psp_snp_launch_finish f = {.gctx_paddr = a.gctx_paddr};
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_LAUNCH_FINISH, &f, sizeof(f)), SEV_RET_INVALID_GUEST_STATE);
    /* An RMP violation: the page belongs to another ASID than the guest's. */
    struct psp_snp_launch_start ls = {.gctx_paddr = a.gctx_paddr, .policy = POLICY};
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_LAUNCH_START, &ls, sizeof(ls)), SEV_RET_SUCCESS);
    struct psp_snp_activate act = {a.gctx_paddr, ASID + 1};
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_ACTIVATE, &act, sizeof(act)), SEV_RET_SUCCESS);
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_LAUNCH_UPDATE, &u, sizeof(u)), SEV_RET_INVALID_PAGE_OWNER);
    expect_pre_guest_untouched(0x10000);
}
END_TEST

/* ---- The same pages, the same digest ------------------------------------------------------- */

/* cmd as caller c: the hypervisor hands the struct over, the L1 its RAM copy. */
static uint32_t cmd_as(enum psp_client c, uint32_t cmd, void *buf, size_t len)
{
    if (c == PSP_CLIENT_HV)
        return psp_command(psp, cmd, buf, NOW);
    uint32_t rc = mbox(cmd, buf, len);
    ck_assert(mem_read(&ram, BUF, buf, len));
    return rc;
}

/* Launches the same 3 normal pages, a zero page and a VMSA as caller c. */
static void launch_as(enum psp_client c, uint32_t asid, uint8_t digest[PSP_DIGEST_SIZE])
{
    static const struct {
        uint64_t spa;
        unsigned type;
    } pages[] = {{0x10000, SNP_PAGE_TYPE_NORMAL}, {0x11000, SNP_PAGE_TYPE_NORMAL},
                 {0x12000, SNP_PAGE_TYPE_NORMAL}, {0x13000, SNP_PAGE_TYPE_ZERO},
                 {0x14000, SNP_PAGE_TYPE_VMSA}};
    struct psp_snp_addr a = {0};
    ck_assert_uint_eq(cmd_as(c, SEV_CMD_SNP_GCTX_CREATE, &a, sizeof(a)), SEV_RET_SUCCESS);
    struct psp_snp_launch_start ls = {.gctx_paddr = a.gctx_paddr, .policy = POLICY};
    ck_assert_uint_eq(cmd_as(c, SEV_CMD_SNP_LAUNCH_START, &ls, sizeof(ls)), SEV_RET_SUCCESS);
    struct psp_snp_activate act = {a.gctx_paddr, asid};
    ck_assert_uint_eq(cmd_as(c, SEV_CMD_SNP_ACTIVATE, &act, sizeof(act)), SEV_RET_SUCCESS);
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        struct rmp_state shared = {0};
        ck_assert_int_eq(rmp_update(rmp, pages[i].spa, &shared), RMP_OK);
        fill_page(pages[i].spa);
        uint64_t gpa = pages[i].type == SNP_PAGE_TYPE_VMSA ? SNP_VMSA_MEASURE_GPA : pages[i].spa;
        pre_guest_sized(pages[i].spa, asid, gpa, RMP_4K);
        struct psp_snp_launch_update u = {.gctx_paddr = a.gctx_paddr,
                                          .flags = PSP_UPDATE_TYPE(pages[i].type),
                                          .address = pages[i].spa};
        ck_assert_uint_eq(cmd_as(c, SEV_CMD_SNP_LAUNCH_UPDATE, &u, sizeof(u)), SEV_RET_SUCCESS);
    }
    struct psp_snp_launch_finish f = {.gctx_paddr = a.gctx_paddr};
    ck_assert_uint_eq(cmd_as(c, SEV_CMD_SNP_LAUNCH_FINISH, &f, sizeof(f)), SEV_RET_SUCCESS);
    struct psp_guest_info gi;
    ck_assert(psp_guest(psp, a.gctx_paddr, &gi));
    ck_assert_int_eq(gi.state, PSP_GSTATE_RUNNING);
    memcpy(digest, gi.digest, PSP_DIGEST_SIZE);
}

START_TEST(a_launch_through_the_mailbox_measures_what_the_hypervisor_launch_measures)
{
    uint8_t hv[PSP_DIGEST_SIZE], l1[PSP_DIGEST_SIZE], zero[PSP_DIGEST_SIZE] = {0};
    launch_as(PSP_CLIENT_HV, ASID, hv);
    /* The pages go back to the hypervisor (the first guest is done with them). */
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_INIT, NULL, 0), SEV_RET_SUCCESS);
    launch_as(PSP_CLIENT_MBOX, ASID + 1, l1);
    ck_assert_mem_ne(hv, zero, PSP_DIGEST_SIZE);
    ck_assert_mem_eq(hv, l1, PSP_DIGEST_SIZE);
}
END_TEST

START_TEST(hv_report_req_gives_the_caller_its_running_guests_measurement)
{
    uint8_t l1[PSP_DIGEST_SIZE];
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_INIT, NULL, 0), SEV_RET_SUCCESS);
    struct psp_snp_addr a = {0};
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_GCTX_CREATE, &a, sizeof(a)), SEV_RET_SUCCESS);
    ck_assert(mem_read(&ram, BUF, &a, sizeof(a)));
    struct psp_snp_hv_report_req rq = {.rsp_paddr = STATUS, .gctx_paddr = a.gctx_paddr};
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_HV_REPORT_REQ, &rq, sizeof(rq)), SEV_RET_INVALID_GUEST_STATE);
    launch_as(PSP_CLIENT_MBOX, ASID, l1);
    /* The launched guest's handle is the next one; ask for it. */
    rq.gctx_paddr = a.gctx_paddr + 1;
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_HV_REPORT_REQ, &rq, sizeof(rq)), SEV_RET_INVALID_PAGE_STATE);
    fw_page(STATUS);
    rq.key_sel = 3;
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_HV_REPORT_REQ, &rq, sizeof(rq)), SEV_RET_INVALID_PARAM);
    rq.key_sel = 0;
    ck_assert_uint_eq(mbox(SEV_CMD_SNP_HV_REPORT_REQ, &rq, sizeof(rq)), SEV_RET_SUCCESS);
    uint8_t rsp[32 + 0x4A0];
    ck_assert(mem_read(&ram, STATUS, rsp, sizeof(rsp)));
    uint32_t status, size;
    memcpy(&status, rsp, 4);
    memcpy(&size, rsp + 4, 4);
    ck_assert_uint_eq(status, 0);
    ck_assert_uint_eq(size, 0x4A0);
    ck_assert_mem_eq(rsp + 32 + 0x90, l1, PSP_DIGEST_SIZE); /* MEASUREMENT at 0x90 */
    /* The hypervisor may not ask for the L1's guest. */
    ck_assert_uint_eq(psp_command(psp, SEV_CMD_SNP_HV_REPORT_REQ, &rq, NOW), SEV_RET_INVALID_GUEST);
}
END_TEST

static Suite *platform_suite(void)
{
    Suite *s = suite_create("psp_platform");
    TCase *tc = tcase(s, "platform");
    tcase_add_test(tc, the_platform_starts_uninit_and_refuses_guest_commands_until_snp_init);
    tcase_add_test(tc, platform_status_after_init_needs_a_firmware_page_and_counts_guests);
    tcase_add_test(tc, snp_init_ex_checks_its_fields_and_limits_the_asids);
    tcase_add_test(tc, page_reclaim_turns_a_firmware_page_back_into_one_rmpupdate_can_free);
    tcase_add_test(tc, df_flush_releases_every_decommissioned_asid);
    tc = tcase(s, "mailbox");
    tcase_add_test(tc, the_mailbox_caller_has_its_own_init_view_and_its_own_contexts);
    tcase_add_loop_test(tc, bad_mailbox_input_returns_the_abi_status_and_changes_nothing, 0,
                        (int)(sizeof(bad_mbox) / sizeof(bad_mbox[0])));
    tcase_add_test(tc, launch_update_before_start_through_the_mailbox_is_invalid_guest_state);
    tcase_add_test(tc, a_launch_through_the_mailbox_measures_what_the_hypervisor_launch_measures);
    tcase_add_test(tc, hv_report_req_gives_the_caller_its_running_guests_measurement);
    return s;
}

int main(void)
{
    return ck_run(platform_suite(), CK_RUN_FORK);
}
