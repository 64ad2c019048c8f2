/* SPDX-License-Identifier: MIT */
/*
 * The SDK's Secure AVIC driver (docs/sev-snp-facts.md section 7), shaped like Linux's
 * arch/x86/kernel/apic/x2apic_savic.c. When the VM has Secure AVIC (SEV_STATUS
 * bit 18, `--apic savic`) every vCPU, at boot, writes its APIC ID into a
 * private backing page, registers the page with the hypervisor (NAE
 * 0x8000001A) and enables Secure AVIC in SAVIC_CONTROL. From then on
 * x2apic_read()/x2apic_write() (x2apic.h) go through the driver:
 *  - most registers are read from and written to the page directly;
 *  - TPR, EOI of an edge vector and SELF_IPI use WRMSR, which the hardware
 *    accelerates (no exit);
 *  - the timer and LVT registers are the hypervisor's: forwarded with the MSR
 *    NAE event (exit 0x7C);
 *  - an IPI sets the vector in each target's page (or NMI_REQUEST), then the
 *    ICR goes to the hypervisor so that it rings the targets' doorbells;
 *  - EOI of a level vector clears ISR in the page and forwards the EOI, so
 *    the hypervisor can broadcast it;
 *  - vectors the hypervisor delivers (devices, the LAPIC timer, LVTs) are
 *    allowed in ALLOWED_IRR as they are programmed; IPI vectors are not.
 * A raw RDMSR/WRMSR that the hardware does not accelerate raises #VC 0x402 or
 * 0x401; the SDK's #VC handler completes it through the same driver.
 */
#ifndef SDK_SAVIC_H
#define SDK_SAVIC_H

#include <stdbool.h>
#include <stdint.h>

struct sdk_frame;
struct sdk_percpu;

/* The VM has Secure AVIC: SEV_STATUS bit 18 and the savic fabric. */
bool sdk_savic_active(void);
/* This vCPU runs with Secure AVIC enabled. */
bool sdk_savic_on(void);
/* vCPU cpu's backing page (NULL before the SDK gave it one). */
void *sdk_savic_page(unsigned cpu);

/* BSP at boot, once the allocator works: a backing page per vCPU. */
void sdk_savic_prepare(void);
/* Each vCPU at boot: ID into its page, REGISTER, SAVIC_CONTROL (terminates
 * with reason set 1 code 12 on a refusal, as Linux does). No-op without Secure AVIC. */
void sdk_savic_cpu_init(struct sdk_percpu *p);
/* This vCPU: SAVIC_CONTROL 0, then UNREGISTER (the kexec order of the Linux
 * series); afterwards the APIC is the hypervisor's again. Returns the NAE
 * answer (0 ok); *prev gets the page the hypervisor had. */
uint32_t sdk_savic_teardown(uint64_t *prev);

/* Whether vCPUs that boot from now on enable Secure AVIC (default true).
 * false models a following kernel that knows nothing of Secure AVIC, booted
 * on the same vCPUs after a teardown (the kexec case of the Linux series). */
void sdk_savic_set_boot_enable(bool enable);

/* The backing-page NAE itself (tests): target is an APIC ID or
 * SVM_VMGEXIT_SAVIC_SELF. Returns SW_EXITINFO1[31:0]; *info2 = SW_EXITINFO2. */
uint32_t sdk_savic_register(uint64_t target, uint64_t gpa, uint64_t *info2);
uint32_t sdk_savic_unregister(uint64_t target, uint64_t *prev, uint64_t *info2);

/* Allows (or blocks) vector in ALLOWED_IRR of every vCPU's page, now and for
 * pages set up later. For vectors the hypervisor delivers. No-op without Secure AVIC. */
void sdk_savic_allow_vector(uint8_t vector, bool allow);

/* The driver's register access (x2apic_read/x2apic_write call these while
 * this vCPU has Secure AVIC on). */
uint64_t sdk_savic_read(uint32_t msr);
void sdk_savic_write(uint32_t msr, uint64_t val);

/* The MSR NAE event (exit 0x7C) for an APIC register: what the driver
 * forwards to the hypervisor. */
uint64_t sdk_savic_hv_read(uint32_t msr);
void sdk_savic_hv_write(uint32_t msr, uint64_t val);

/* #VC 0x401 (AVIC_INCOMPLETE_IPI) and 0x402 (AVIC_UNACCELERATED_ACCESS):
 * completes the access; false if the frame is no such #VC the driver can
 * complete (the #VC handler then fails the guest). */
bool sdk_savic_vc(struct sdk_frame *f);

#endif
