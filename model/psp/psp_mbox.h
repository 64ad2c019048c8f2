/* SPDX-License-Identifier: MIT */
/*
 * The PSP as a device (docs/psp.md): the page of MMIO registers an SNP-host
 * VM finds through the ACPI ASPT table, as Hyper-V exposes the AMD Secure
 * Processor to such a VM. Three global registers (feature, interrupt enable,
 * interrupt status), the SEV mailbox (CMDRESP, CMDBUFF_ADDR_LO/HI) and the
 * ACPI CmdResp register that programs the completion interrupt.
 *
 * Offsets: microsoft/openvmm's PSP stub (vm/devices/chipset psp.rs; docs/
 * sev-snp-facts.md 9, S13). Mailbox protocol: Linux drivers/crypto/ccp
 * (psp-dev.h PSP_CMDRESP_*, PSP_CMD_COMPLETE; sev-dev.c __sev_do_cmd_locked).
 * ACPI CmdResp: J. Piotrowski's "ACPI PSP" patches (drivers/hv/psp.c; S18).
 *
 * Behind the registers is the one PSP model (psp.h) the reference hypervisor
 * also calls; the mailbox is its PSP_CLIENT_MBOX caller. The device raises
 * its interrupt through its host (model/psp_dev.c puts it on the fabric as a
 * device message); it knows nothing of vCPUs.
 */
#ifndef SNPREF_PSP_MBOX_H
#define SNPREF_PSP_MBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "psp.h"

struct trc;

#define PSP_MBOX_BASE_DEFAULT 0xFEB00000ull /* openvmm PSP_MMIO_ADDRESS */
#define PSP_MBOX_SIZE         0x1000ull     /* Linux acpi_parse_aspt: all in one page */

/* Register offsets from the base (openvmm psp.rs reg::*). */
#define PSP_REG_FEATURE      0x00
#define PSP_REG_INTEN        0x04
#define PSP_REG_INTSTS       0x08
#define PSP_REG_CMDRESP      0x10
#define PSP_REG_CMDBUFF_LO   0x14
#define PSP_REG_CMDBUFF_HI   0x18
#define PSP_REG_ACPI_CMDRESP 0x20

/* FEATURE: Linux psp-dev.h PSP_CAPABILITY_SEV. */
#define PSP_FEATURE_SEV (1u << 0)
/* INTEN / INTSTS: Linux psp-dev.h PSP_CMD_COMPLETE (SEV_CMD_COMPLETE). */
#define PSP_INT_CMD_COMPLETE (1u << 1)

/* CMDRESP: Linux psp-dev.h / sev-dev.h. */
#define PSP_CMDRESP_IOC       (1u << 0)
#define PSP_CMDRESP_CMD_SHIFT 16
#define PSP_CMDRESP_CMD_MASK  0x3FFu          /* bits 25:16 */
#define PSP_CMDRESP_RESP      (1u << 31)
#define PSP_CMDRESP_STS_MASK  0xFFFFu

/* ACPI CmdResp (drivers/hv/psp.c): data 15:0, command id 25:16, status
 * 30:26, response 31. */
#define PSP_ACPI_CMDID_SHIFT   16
#define PSP_ACPI_STATUS_SHIFT  26
#define PSP_ACPI_RESPONSE      (1u << 31)
#define PSP_ACPI_CMD_PART1     0x82u  /* APIC ID bits 15:0 */
#define PSP_ACPI_CMD_PART2     0x83u  /* APIC ID bits 31:16 */
#define PSP_ACPI_CMD_PART3     0x84u  /* vector, modes, mailbox IRQ id */
#define PSP_ACPI_CMD_IRQ_EN    0x85u  /* enable, mailbox IRQ id */
/* PART3 data: [7:0] vector, [9] logical destination, [15:10] mailbox IRQ
 * id. Bit 8 is left open by the patches (they send fixed delivery only); the
 * model reads it as the message type, 1 = lowest priority, where an MSI data
 * word keeps the delivery mode's low bit (Intel SDM 11.11.2): docs/psp.md. */
#define PSP_ACPI_PART3_LOWEST  (1u << 8)
#define PSP_ACPI_PART3_LOGICAL (1u << 9)
#define PSP_ACPI_IRQID_SHIFT   10
#define PSP_ACPI_IRQ_EN_BIT    (1u << 0)
/* ASP_CMD_STATUS (drivers/hv/psp.c). */
#define PSP_ACPI_ST_SUCCESS          0x00u
#define PSP_ACPI_ST_INVALID_CMD      0x01u
#define PSP_ACPI_ST_INVALID_PARAM    0x02u
#define PSP_ACPI_ST_INVALID_FW_STATE 0x03u

/* The interrupt the ACPI CmdResp sequence programmed. */
struct psp_mbox_irq {
    uint32_t dest;            /* APIC ID (PART2 << 16 | PART1) */
    uint8_t vector;
    bool logical;
    bool lowest;              /* lowest-priority rather than fixed delivery */
};

struct psp_mbox_host {
    void *ctx;
    uint64_t (*now)(void *ctx, int vcpu);
    /* Send the completion interrupt (edge, from a device, no remapping). */
    void (*raise)(void *ctx, const struct psp_mbox_irq *irq);
};

struct psp_mbox {
    struct psp *psp;
    struct psp_mbox_host host;
    struct trc *trace;        /* may be NULL */
    uint64_t base;
    uint8_t irq_id;           /* the ASPT's mailbox IRQ id: PART3 / IRQ_EN must name it */
    uint32_t inten, intsts, cmdresp, buf_lo, buf_hi, acpi_cmdresp;
    uint16_t part1, part2;
    unsigned parts;           /* bit 0 PART1, bit 1 PART2 seen since the last PART3 */
    bool irq_valid;           /* a PART3 completed */
    bool irq_enabled;         /* IRQ_EN with bit 0 */
    struct psp_mbox_irq irq;
    uint64_t raised;          /* interrupts sent (tests) */
};

void psp_mbox_init(struct psp_mbox *m, struct psp *psp, uint64_t base, uint8_t irq_id,
                   const struct psp_mbox_host *host, struct trc *trace);
/* Whether the access lies in the device's page. */
bool psp_mbox_claims(const struct psp_mbox *m, uint64_t gpa, unsigned size);
/* A 32-bit register access (others read all ones and are ignored, as a
 * register the ASPT does not list). vcpu: the accessing vCPU (time). */
uint32_t psp_mbox_read(struct psp_mbox *m, int vcpu, uint64_t off, unsigned size);
void psp_mbox_write(struct psp_mbox *m, int vcpu, uint64_t off, unsigned size, uint32_t val);

#endif
