/* SPDX-License-Identifier: MIT */
/*
 * The guest ABI of snpref (docs/guest-abi.md): the boot-info block the loader
 * hands every vCPU in RDI, and the model's fixed I/O ports. Shared, unchanged,
 * by the model (host C) and the freestanding guest SDK, so it holds only
 * fixed-width types and no host headers.
 */
#ifndef SNPREF_ABI_H
#define SNPREF_ABI_H

#include <stdint.h>

#define SNP_BOOTINFO_MAGIC   0x42504e53u /* "SNPB" */
#define SNP_BOOTINFO_VERSION 1u
#define SNP_MAX_VCPUS        256u

/* I/O ports the reference hypervisor owns. */
#define SNP_PORT_COM1      0x3F8 /* 16550 data register: bytes go to the console */
#define SNP_PORT_COM1_LSR  0x3FD /* line status: THRE and TEMT (0x60) while nothing was received */
#define SNP_PORT_EXIT      0xF4  /* 32-bit write ends the run with that status */
#define SNP_PORT_POST      0x80  /* POST code: traced; a marker for a hostile config */
/*
 * Test interrupt device ("irqdev"): a line-based interrupt source that sends
 * MSI-style messages through the fabric, so that level-triggered delivery, TMR
 * and EOI broadcast can be exercised. Registers (32-bit, OUT/IN):
 *   +0 DEST    destination APIC ID (bit 31: logical destination)
 *   +4 VECTOR  [7:0] vector, [10:8] delivery mode, bit 15 level-triggered
 *   +8 LINE    write 1 to assert, 0 to deassert; read: bit0 asserted, bit1 pending re-send
 *   +12 COUNT  read: messages sent so far; write: reset to 0
 * An edge line sends one message per 0->1 write. A level line sends one message
 * when asserted and, while still asserted, another each time an EOI for its
 * vector is broadcast (how an IOAPIC re-raises a level interrupt).
 */
#define SNP_PORT_IRQDEV      0x500
#define SNP_IRQDEV_DEST      0x0
#define SNP_IRQDEV_VECTOR    0x4
#define SNP_IRQDEV_LINE      0x8
#define SNP_IRQDEV_COUNT     0xC

/*
 * MMIO test device ("mmiodev"), one 4 KiB page of guest-physical MMIO space:
 *   +0x000 SIG   64-bit read-only: SNP_MMIODEV_SIGNATURE
 *   +0x008..0xFF8 64-bit read/write scratch registers (reads return what was
 *                 written, 0 at reset); accesses of 1, 2, 4 or 8 bytes
 * Under SEV-ES/SNP an access raises #VC (error code 0x400, NPF) and the guest
 * completes it with the MMIO_READ / MMIO_WRITE NAE events.
 */
#define SNP_MMIODEV_BASE      0xF0000000ull
#define SNP_MMIODEV_SIGNATURE 0x5645444F494D4D53ull /* "SMMIODEV" */

enum snp_mode { SNP_MODE_PLAIN = 0, SNP_MODE_SEV_ES = 1, SNP_MODE_SNP = 2 };
/* The APIC interface the guest programs: the architectural x2APIC/xAPIC
 * (whichever fabric models it), or Secure AVIC. 15 is reserved (older
 * models reported fabrics they did not know by name so). */
enum snp_fabric_id { SNP_FABRIC_EMULATED = 0, SNP_FABRIC_SAVIC = 1, SNP_FABRIC_OTHER = 15 };
/* bootinfo.fabric_caps: the hardware delivers fixed edge IPIs to other
 * vCPUs' backing pages itself, so a WRMSR of such an ICR needs no #VC. */
#define SNP_FABRIC_CAP_XIPI (1ull << 0)

/*
 * Boot-info block: one per system, read-only by convention, at the
 * guest-physical address the loader puts in RDI of every vCPU (RSI holds the
 * vCPU's index). All addresses are guest-physical; RAM is identity-mapped.
 */
struct snp_bootinfo {
    uint32_t magic;              /* SNP_BOOTINFO_MAGIC */
    uint32_t version;            /* SNP_BOOTINFO_VERSION */
    uint32_t vcpu_count;
    uint32_t mode;               /* enum snp_mode */
    uint32_t fabric;             /* enum snp_fabric_id */
    uint32_t cbit_pos;           /* C-bit position (0 in plain mode) */
    uint64_t ram_size;           /* bytes of RAM starting at GPA 0 */
    uint64_t core_hz;            /* simulated core clock */
    uint64_t tsc_hz;             /* RDTSC rate */
    uint64_t apic_timer_hz;      /* LAPIC timer input clock before the divider */
    uint64_t free_start;         /* first byte the guest may use freely (after its image) */
    uint64_t free_end;           /* end of free RAM; the loader's region starts here */
    uint64_t page_table_root;    /* CR3 the loader built (identity map of RAM) */
    uint64_t ghcb_base;          /* suggested per-vCPU GHCB pages: ghcb_base + i * 4096 */
    uint64_t backing_base;       /* suggested per-vCPU APIC backing pages: backing_base + i * 4096 */
    uint64_t stack_top_base;     /* boot stack of vCPU i ends at stack_top_base - i * stack_size */
    uint64_t stack_size;
    /* SNP: pages the launch measured with their special types, and the BSP's
     * VMSA (docs/guest-abi.md "SEV-ES and SNP"); 0 in other modes. */
    uint64_t secrets_page;
    uint64_t cpuid_page;
    uint64_t launch_vmsa;
    uint64_t sev_status;         /* SEV_STATUS the vCPUs see (0 in plain mode) */
    /* SNP_FABRIC_CAP_*: what the fabric's hardware does that a driver may
     * rely on (docs/guest-abi.md "Secure AVIC"). */
    uint64_t fabric_caps;
    uint64_t acpi_rsdp;          /* the ACPI tables' RSDP (with a PSP device: its ASPT), 0: none */
    uint64_t reserved[2];
    uint32_t apic_id[SNP_MAX_VCPUS]; /* APIC ID of vCPU i */
};

#endif
