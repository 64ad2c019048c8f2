/* SPDX-License-Identifier: MIT */
/*
 * Check suite for the PSP's MMIO face (model/psp/psp_mbox.c; docs/psp.md):
 * the registers as the Linux ccp driver and the ACPI PSP patches use them
 * (offsets from openvmm, bits from psp-dev.h and drivers/hv/psp.c), the ACPI
 * CmdResp sequence and its statuses, and when the completion interrupt is
 * sent: only with IOC, INTEN and IRQ_EN, to the destination the last PART3
 * programmed, with INTSTS write-one-to-clear and left set when nothing is sent.
 */
#include "test_psp_harness.h"
#include "ck_run.h"
#include "psp_mbox.h"

#define BASE   0xFEB00000ull
#define IRQ_ID 5u
#define CMDBUF 0x40000ull

static struct psp_mbox mb;
static struct psp_mbox_irq got[16];
static unsigned ngot;

static uint64_t h_now(void *ctx, int vcpu)
{
    (void)ctx, (void)vcpu;
    return NOW;
}

static void h_raise(void *ctx, const struct psp_mbox_irq *irq)
{
    (void)ctx;
    ck_assert_uint_lt(ngot, 16);
    got[ngot++] = *irq;
}

static void mb_setup(void)
{
    setup();
    /* The L1 owns this PSP view; the harness's SNP_INIT was the hypervisor's. */
    const struct psp_mbox_host h = {NULL, h_now, h_raise};
    psp_mbox_init(&mb, psp, BASE, IRQ_ID, &h, trc);
    ngot = 0;
}

static void wr(uint64_t off, uint32_t v) { psp_mbox_write(&mb, 0, off, 4, v); }
static uint32_t rd(uint64_t off) { return psp_mbox_read(&mb, 0, off, 4); }

/* One ACPI CmdResp command; returns its status (bits 30:26) after checking bit 31. */
static uint32_t acpi(uint32_t cmd, uint16_t data)
{
    wr(PSP_REG_ACPI_CMDRESP, cmd << 16 | data);
    uint32_t r = rd(PSP_REG_ACPI_CMDRESP);
    ck_assert(r & PSP_ACPI_RESPONSE);
    return (r >> 26) & 0x1F;
}

/* The patches' sequence: PART1, PART2, PART3 (vector | modes | IRQ id). */
static uint32_t program(uint32_t apic_id, uint8_t vector, bool logical, bool lowest)
{
    ck_assert_uint_eq(acpi(PSP_ACPI_CMD_PART1, (uint16_t)apic_id), PSP_ACPI_ST_SUCCESS);
    ck_assert_uint_eq(acpi(PSP_ACPI_CMD_PART2, (uint16_t)(apic_id >> 16)), PSP_ACPI_ST_SUCCESS);
    uint16_t p3 = (uint16_t)(vector | (lowest ? PSP_ACPI_PART3_LOWEST : 0) |
                             (logical ? PSP_ACPI_PART3_LOGICAL : 0) | IRQ_ID << 10);
    return acpi(PSP_ACPI_CMD_PART3, p3);
}

static uint32_t irq_en(bool on) { return acpi(PSP_ACPI_CMD_IRQ_EN, (uint16_t)(on | IRQ_ID << 10)); }

/* A mailbox command as sev-dev.c issues it; returns CMDRESP after. */
static uint32_t command(uint32_t cmd, bool ioc)
{
    wr(PSP_REG_CMDBUFF_LO, (uint32_t)CMDBUF);
    wr(PSP_REG_CMDBUFF_HI, (uint32_t)(CMDBUF >> 32));
    wr(PSP_REG_CMDRESP, cmd << 16 | (ioc ? PSP_CMDRESP_IOC : 0));
    return rd(PSP_REG_CMDRESP);
}

START_TEST(the_registers_sit_at_the_openvmm_offsets_and_feature_says_sev)
{
    ck_assert(psp_mbox_claims(&mb, BASE, 4));
    ck_assert(psp_mbox_claims(&mb, BASE + 0xFFC, 4));
    ck_assert(!psp_mbox_claims(&mb, BASE + 0xFFE, 4));
    ck_assert(!psp_mbox_claims(&mb, BASE - 4, 4));
    ck_assert_uint_eq(rd(PSP_REG_FEATURE), PSP_FEATURE_SEV);
    wr(PSP_REG_FEATURE, 0);
    ck_assert_uint_eq(rd(PSP_REG_FEATURE), PSP_FEATURE_SEV); /* read-only */
    wr(PSP_REG_CMDBUFF_LO, 0x12345678);
    wr(PSP_REG_CMDBUFF_HI, 0x9);
    ck_assert_uint_eq(rd(PSP_REG_CMDBUFF_LO), 0x12345678);
    ck_assert_uint_eq(rd(PSP_REG_CMDBUFF_HI), 0x9);
    ck_assert_uint_eq(rd(0x100), 0xFFFFFFFFu);                 /* nothing there */
    ck_assert_uint_eq(psp_mbox_read(&mb, 0, PSP_REG_FEATURE, 2), 0xFFFFFFFFu); /* 32-bit only */
    wr(PSP_REG_INTEN, 0xFFFFFFFFu);   /* Linux enables with -1 */
    ck_assert_uint_eq(rd(PSP_REG_INTEN), PSP_INT_CMD_COMPLETE);
}
END_TEST

START_TEST(a_mailbox_command_answers_in_cmdresp_and_sets_intsts_until_written_back)
{
    uint32_t r = command(SEV_CMD_SNP_INIT, false);
    ck_assert(r & PSP_CMDRESP_RESP);
    ck_assert_uint_eq(r & PSP_CMDRESP_STS_MASK, SEV_RET_SUCCESS);
    ck_assert_int_eq(psp_client_state(psp, PSP_CLIENT_MBOX), PSP_PSTATE_INIT);
    ck_assert_uint_eq(rd(PSP_REG_INTSTS), PSP_INT_CMD_COMPLETE);
    wr(PSP_REG_INTSTS, 0);                       /* writing 0 clears nothing */
    ck_assert_uint_eq(rd(PSP_REG_INTSTS), PSP_INT_CMD_COMPLETE);
    wr(PSP_REG_INTSTS, PSP_INT_CMD_COMPLETE);    /* write one to clear */
    ck_assert_uint_eq(rd(PSP_REG_INTSTS), 0);
    r = command(SEV_CMD_SNP_INIT, false);
    ck_assert_uint_eq(r & PSP_CMDRESP_STS_MASK, SEV_RET_INVALID_PLATFORM_STATE);
    r = command(0x3FF, false);
    ck_assert_uint_eq(r & PSP_CMDRESP_STS_MASK, SEV_RET_INVALID_COMMAND);
    ck_assert_uint_eq(ngot, 0);
}
END_TEST

START_TEST(the_acpi_cmdresp_sequence_checks_order_irq_id_and_vector)
{
    ck_assert_uint_eq(acpi(0x86, 0), PSP_ACPI_ST_INVALID_CMD);
    /* PART3 before PART1 and PART2. */
    ck_assert_uint_eq(acpi(PSP_ACPI_CMD_PART3, 0x40 | IRQ_ID << 10), PSP_ACPI_ST_INVALID_FW_STATE);
    ck_assert_uint_eq(acpi(PSP_ACPI_CMD_PART1, 1), PSP_ACPI_ST_SUCCESS);
    ck_assert_uint_eq(acpi(PSP_ACPI_CMD_PART2, 0), PSP_ACPI_ST_SUCCESS);
    ck_assert_uint_eq(acpi(PSP_ACPI_CMD_PART3, 0x40 | (IRQ_ID + 1) << 10), PSP_ACPI_ST_INVALID_PARAM);
    ck_assert_uint_eq(acpi(PSP_ACPI_CMD_PART3, 0x0E | IRQ_ID << 10), PSP_ACPI_ST_INVALID_PARAM);
    ck_assert_uint_eq(acpi(PSP_ACPI_CMD_PART3, 0x40 | IRQ_ID << 10), PSP_ACPI_ST_SUCCESS);
    ck_assert(mb.irq_valid);
    ck_assert_uint_eq(mb.irq.dest, 1);
    ck_assert_uint_eq(mb.irq.vector, 0x40);
    /* A second PART3 needs a fresh PART1/PART2. */
    ck_assert_uint_eq(acpi(PSP_ACPI_CMD_PART3, 0x41 | IRQ_ID << 10), PSP_ACPI_ST_INVALID_FW_STATE);
    ck_assert_uint_eq(acpi(PSP_ACPI_CMD_IRQ_EN, 1 | (IRQ_ID + 1) << 10), PSP_ACPI_ST_INVALID_PARAM);
    ck_assert_uint_eq(acpi(PSP_ACPI_CMD_IRQ_EN, 3 | IRQ_ID << 10), PSP_ACPI_ST_INVALID_PARAM);
    ck_assert_uint_eq(irq_en(true), PSP_ACPI_ST_SUCCESS);
    ck_assert(mb.irq_enabled);
    /* The response keeps the command id and data (bits 25:0). */
    ck_assert_uint_eq(rd(PSP_REG_ACPI_CMDRESP) & 0x3FFFFFF, PSP_ACPI_CMD_IRQ_EN << 16 | 1 | IRQ_ID << 10);
}
END_TEST

/* The four destination / delivery combinations, with a 32-bit APIC ID. */
static const struct psp_mbox_irq combos[] = {
    {0x00000003, 0x41, false, false},
    {0x00010002, 0x52, true, false},
    {0x00000001, 0x63, false, true},
    {0x00000004, 0x74, true, true},
};

START_TEST(a_completion_with_ioc_sends_the_programmed_interrupt)
{
    const struct psp_mbox_irq *c = &combos[_i];
    wr(PSP_REG_INTEN, PSP_INT_CMD_COMPLETE);
    ck_assert_uint_eq(program(c->dest, c->vector, c->logical, c->lowest), PSP_ACPI_ST_SUCCESS);
    ck_assert_uint_eq(irq_en(true), PSP_ACPI_ST_SUCCESS);
    command(SEV_CMD_SNP_INIT, true);
    ck_assert_uint_eq(ngot, 1);
    ck_assert_uint_eq(got[0].dest, c->dest);
    ck_assert_uint_eq(got[0].vector, c->vector);
    ck_assert_int_eq(got[0].logical, c->logical);
    ck_assert_int_eq(got[0].lowest, c->lowest);
    command(SEV_CMD_SNP_INIT, false);   /* no IOC: polled, no interrupt */
    ck_assert_uint_eq(ngot, 1);
}
END_TEST

START_TEST(irq_en_off_or_inten_clear_sends_nothing_and_leaves_intsts_set)
{
    ck_assert_uint_eq(program(0, 0x40, false, false), PSP_ACPI_ST_SUCCESS);
    wr(PSP_REG_INTEN, PSP_INT_CMD_COMPLETE);
    command(SEV_CMD_SNP_INIT, true);              /* programmed but never enabled */
    ck_assert_uint_eq(ngot, 0);
    ck_assert_uint_eq(rd(PSP_REG_INTSTS), PSP_INT_CMD_COMPLETE);
    ck_assert_uint_eq(irq_en(true), PSP_ACPI_ST_SUCCESS);
    ck_assert_uint_eq(ngot, 0);                   /* an edge: the past completion is not resent */
    ck_assert_uint_eq(irq_en(false), PSP_ACPI_ST_SUCCESS);
    wr(PSP_REG_INTSTS, PSP_INT_CMD_COMPLETE);
    command(SEV_CMD_SNP_DF_FLUSH, true);
    ck_assert_uint_eq(ngot, 0);
    ck_assert_uint_eq(rd(PSP_REG_INTSTS), PSP_INT_CMD_COMPLETE);
    ck_assert_uint_eq(irq_en(true), PSP_ACPI_ST_SUCCESS);
    wr(PSP_REG_INTEN, 0);
    wr(PSP_REG_INTSTS, PSP_INT_CMD_COMPLETE);
    command(SEV_CMD_SNP_DF_FLUSH, true);
    ck_assert_uint_eq(ngot, 0);
    ck_assert_uint_eq(rd(PSP_REG_INTSTS), PSP_INT_CMD_COMPLETE);
    wr(PSP_REG_INTEN, PSP_INT_CMD_COMPLETE);
    wr(PSP_REG_INTSTS, PSP_INT_CMD_COMPLETE);
    command(SEV_CMD_SNP_DF_FLUSH, true);
    ck_assert_uint_eq(ngot, 1);
}
END_TEST

START_TEST(reprogramming_between_two_commands_moves_the_interrupt)
{
    wr(PSP_REG_INTEN, PSP_INT_CMD_COMPLETE);
    ck_assert_uint_eq(irq_en(true), PSP_ACPI_ST_SUCCESS);
    ck_assert_uint_eq(program(1, 0x40, false, false), PSP_ACPI_ST_SUCCESS);
    command(SEV_CMD_SNP_INIT, true);
    wr(PSP_REG_INTSTS, PSP_INT_CMD_COMPLETE);
    ck_assert_uint_eq(program(2, 0x50, false, false), PSP_ACPI_ST_SUCCESS);
    command(SEV_CMD_SNP_DF_FLUSH, true);
    ck_assert_uint_eq(ngot, 2);
    ck_assert_uint_eq(got[0].dest, 1);
    ck_assert_uint_eq(got[0].vector, 0x40);
    ck_assert_uint_eq(got[1].dest, 2);
    ck_assert_uint_eq(got[1].vector, 0x50);
}
END_TEST

static Suite *mbox_suite(void)
{
    Suite *s = suite_create("psp_mbox");
    TCase *tc = tcase_create("mbox");
    tcase_add_checked_fixture(tc, mb_setup, teardown);
    suite_add_tcase(s, tc);
    tcase_add_test(tc, the_registers_sit_at_the_openvmm_offsets_and_feature_says_sev);
    tcase_add_test(tc, a_mailbox_command_answers_in_cmdresp_and_sets_intsts_until_written_back);
    tcase_add_test(tc, the_acpi_cmdresp_sequence_checks_order_irq_id_and_vector);
    tcase_add_loop_test(tc, a_completion_with_ioc_sends_the_programmed_interrupt, 0, N(combos));
    tcase_add_test(tc, irq_en_off_or_inten_clear_sends_nothing_and_leaves_intsts_set);
    tcase_add_test(tc, reprogramming_between_two_commands_moves_the_interrupt);
    return s;
}

int main(void)
{
    return ck_run(mbox_suite(), CK_RUN_FORK);
}
