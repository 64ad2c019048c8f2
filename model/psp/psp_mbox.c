/* SPDX-License-Identifier: MIT */
/*
 * The PSP's MMIO face (psp_mbox.h, docs/psp.md): the global registers, the
 * SEV mailbox and the ACPI CmdResp register.
 *
 * The mailbox as Linux drives it (drivers/crypto/ccp/sev-dev.c
 * __sev_do_cmd_locked, sev_wait_cmd_ioc, sev_irq_handler): write the buffer's
 * address to CMDBUFF_ADDR_LO/HI, then CMDRESP = cmd << 16 | IOC; the firmware
 * sets CMDRESP bit 31 with the status in bits 15:0 and INTSTS bit 1
 * (CMD_COMPLETE), which the driver clears by writing it back (write one to
 * clear). The model's firmware answers at once, within the CMDRESP write: a
 * poll finds the response at its first read, an interrupt is raised before
 * the writing instruction retires.
 *
 * The interrupt: raised at completion when the write asked for it (IOC),
 * INTEN has CMD_COMPLETE, and ACPI CmdResp has programmed (PART1..3) and
 * enabled (IRQ_EN) it; otherwise none, and INTSTS keeps the bit. It is an
 * edge: enabling later does not send a completion already past.
 */
#include "psp_mbox.h"

#include <string.h>

#include "snpref/base.h"
#include "trace.h"

void psp_mbox_init(struct psp_mbox *m, struct psp *psp, uint64_t base, uint8_t irq_id,
                   const struct psp_mbox_host *host, struct trc *trace)
{
    memset(m, 0, sizeof(*m));
    SNP_ASSERT(base % PSP_MBOX_SIZE == 0 && irq_id <= 63);
    m->psp = psp;
    m->base = base;
    m->irq_id = irq_id;
    m->host = *host;
    m->trace = trace;
}

bool psp_mbox_claims(const struct psp_mbox *m, uint64_t gpa, unsigned size)
{
    return gpa >= m->base && gpa - m->base < PSP_MBOX_SIZE && gpa - m->base + size <= PSP_MBOX_SIZE;
}

static uint64_t now(const struct psp_mbox *m, int vcpu) { return m->host.now(m->host.ctx, vcpu); }

static void maybe_raise(struct psp_mbox *m, int vcpu)
{
    if (!(m->inten & m->intsts & PSP_INT_CMD_COMPLETE) || !m->irq_valid || !m->irq_enabled)
        return;
    m->raised++;
    TRC(m->trace, psp_irq, now(m, vcpu), vcpu, m->irq.dest, m->irq.logical ? "logical" : "physical",
        m->irq.lowest ? "lowest" : "fixed", m->irq.vector);
    m->host.raise(m->host.ctx, &m->irq);
}

static void mailbox_command(struct psp_mbox *m, int vcpu, uint32_t val)
{
    uint32_t cmd = (val >> PSP_CMDRESP_CMD_SHIFT) & PSP_CMDRESP_CMD_MASK;
    uint64_t buf = (uint64_t)m->buf_hi << 32 | m->buf_lo;
    uint32_t st = psp_command_at(m->psp, PSP_CLIENT_MBOX, cmd, buf, now(m, vcpu));
    m->cmdresp = PSP_CMDRESP_RESP | (val & ~(PSP_CMDRESP_RESP | PSP_CMDRESP_STS_MASK)) |
                 (st & PSP_CMDRESP_STS_MASK);
    m->intsts |= PSP_INT_CMD_COMPLETE;
    bool ioc = val & PSP_CMDRESP_IOC;
    TRC(m->trace, psp_cmd, now(m, vcpu), vcpu, cmd, buf, psp_status_name(st), ioc);
    if (ioc)
        maybe_raise(m, vcpu);
}

/* One ACPI CmdResp command: the status it answers with (ASP_CMD_STATUS). */
static uint32_t acpi_command(struct psp_mbox *m, uint32_t cmd, uint16_t data)
{
    unsigned id = data >> PSP_ACPI_IRQID_SHIFT;
    switch (cmd) {
    case PSP_ACPI_CMD_PART1:
        m->part1 = data;
        m->parts |= 1;
        return PSP_ACPI_ST_SUCCESS;
    case PSP_ACPI_CMD_PART2:
        m->part2 = data;
        m->parts |= 2;
        return PSP_ACPI_ST_SUCCESS;
    case PSP_ACPI_CMD_PART3:
        /* UNCERTAIN: the checks are the model's (a vector below 16 cannot be
         * delivered fixed, SDM 11.5.2; the IRQ id must be the ASPT's). */
        if (id != m->irq_id || (data & 0xFF) < 16)
            return PSP_ACPI_ST_INVALID_PARAM;
        if (m->parts != 3)
            return PSP_ACPI_ST_INVALID_FW_STATE; /* PART1 and PART2 come first */
        m->irq = (struct psp_mbox_irq){(uint32_t)m->part2 << 16 | m->part1, (uint8_t)data,
                                       (data & PSP_ACPI_PART3_LOGICAL) != 0,
                                       (data & PSP_ACPI_PART3_LOWEST) != 0};
        m->irq_valid = true;
        m->parts = 0;
        return PSP_ACPI_ST_SUCCESS;
    case PSP_ACPI_CMD_IRQ_EN:
        if (id != m->irq_id || (data & 0x3FEu))
            return PSP_ACPI_ST_INVALID_PARAM;
        m->irq_enabled = data & PSP_ACPI_IRQ_EN_BIT;
        return PSP_ACPI_ST_SUCCESS;
    default:
        return PSP_ACPI_ST_INVALID_CMD;
    }
}

static const char *acpi_name(uint32_t cmd)
{
    static const char *const names[] = {"PART1", "PART2", "PART3", "IRQ_EN"};
    return cmd >= PSP_ACPI_CMD_PART1 && cmd <= PSP_ACPI_CMD_IRQ_EN
               ? names[cmd - PSP_ACPI_CMD_PART1]
               : "unknown";
}

static void acpi_cmdresp(struct psp_mbox *m, int vcpu, uint32_t val)
{
    uint32_t cmd = (val >> PSP_ACPI_CMDID_SHIFT) & 0x3FFu;
    uint16_t data = (uint16_t)val;
    uint32_t st = acpi_command(m, cmd, data);
    m->acpi_cmdresp = PSP_ACPI_RESPONSE | st << PSP_ACPI_STATUS_SHIFT |
                      cmd << PSP_ACPI_CMDID_SHIFT | data;
    TRC(m->trace, psp_acpi, now(m, vcpu), vcpu, acpi_name(cmd), data, st);
}

uint32_t psp_mbox_read(struct psp_mbox *m, int vcpu, uint64_t off, unsigned size)
{
    (void)vcpu;
    if (size != 4 || off % 4)
        return ~0u;
    switch (off) {
    case PSP_REG_FEATURE:
        return PSP_FEATURE_SEV;
    case PSP_REG_INTEN:
        return m->inten;
    case PSP_REG_INTSTS:
        return m->intsts;
    case PSP_REG_CMDRESP:
        return m->cmdresp;
    case PSP_REG_CMDBUFF_LO:
        return m->buf_lo;
    case PSP_REG_CMDBUFF_HI:
        return m->buf_hi;
    case PSP_REG_ACPI_CMDRESP:
        return m->acpi_cmdresp;
    default:
        return ~0u;
    }
}

void psp_mbox_write(struct psp_mbox *m, int vcpu, uint64_t off, unsigned size, uint32_t val)
{
    if (size != 4 || off % 4)
        return;
    switch (off) {
    case PSP_REG_INTEN:
        m->inten = val & PSP_INT_CMD_COMPLETE; /* the one source the model has */
        break;
    case PSP_REG_INTSTS:
        m->intsts &= ~val; /* write one to clear */
        break;
    case PSP_REG_CMDRESP:
        mailbox_command(m, vcpu, val);
        break;
    case PSP_REG_CMDBUFF_LO:
        m->buf_lo = val;
        break;
    case PSP_REG_CMDBUFF_HI:
        m->buf_hi = val;
        break;
    case PSP_REG_ACPI_CMDRESP:
        acpi_cmdresp(m, vcpu, val);
        break;
    default:
        break; /* FEATURE is read-only; the rest of the page is nothing */
    }
}
