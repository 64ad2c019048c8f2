/* SPDX-License-Identifier: MIT */
/*
 * SEV-ES and SEV-SNP in the guest SDK: the boot path a Linux guest takes
 * (docs/guest-abi.md "SEV-ES and SNP"; docs/sev-snp-facts.md sections 1, 4, 5, 6.3,
 * 10). Layouts and architectural constants come from <snpref/sev.h>, shared
 * with the model; this header adds the guest's side:
 *
 *  - detection (CPUID 0x8000001F, SEV_STATUS) and the per-vCPU GHCB, set up by
 *    the SDK before the first intercepted instruction (sev.c);
 *  - GHCB access (get/put with a per-vCPU backup for an NMI that arrives while
 *    the GHCB is in use, as Linux's __sev_get_ghcb), the full-GHCB call and
 *    the GHCB MSR protocol (sev.c);
 *  - the #VC handler (vc.c), installed on vector 29 by default;
 *  - PVALIDATE, RMPADJUST and page-state changes, page acceptance by the
 *    allocator, shared pages (snp.c);
 *  - AP start: AP_CREATION under SNP, the AP jump table and AP_HLT_LOOP under
 *    SEV-ES (sev_smp.c).
 *
 * In plain mode every query answers "no SEV" and nothing here is used.
 */
#ifndef SDK_SEV_H
#define SDK_SEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <snpref/abi.h>
#include <snpref/sev.h>
#include <sdk/idt.h>

/* SVM exit codes (the #VC error codes), IOIO and EVENTINJ encodings: snpref/sev.h. */

/* Termination reasons (docs/sev-snp-facts.md 4.2; Linux sev-common.h names, SDK_ prefix). */
#define SDK_TERM_GEN_REQ            0   /* set 0: general request */
#define SDK_TERM_PROT_UNSUPPORTED   1   /* set 0: GHCB protocol version unsupported */
#define SDK_TERM_SNP_UNSUPPORTED    2   /* set 0: SNP unsupported */
#define SDK_TERM_REGISTER           0   /* set 1: GHCB registration */
#define SDK_TERM_PSC                1   /* set 1: page-state change */
#define SDK_TERM_PVALIDATE          2   /* set 1: PVALIDATE */

/* PVALIDATE / RMPADJUST return codes in EAX (docs/sev-snp-facts.md 6.3). */
#define SDK_RMP_OK               0
#define SDK_RMP_FAIL_INPUT       1
#define SDK_RMP_FAIL_PERMISSION  2
#define SDK_RMP_FAIL_INUSE       3
#define SDK_RMP_FAIL_SIZEMISMATCH 6
#define SDK_RMP_PAGE_4K 0
#define SDK_RMP_PAGE_2M 1

/* ---- Detection ---------------------------------------------------------------------- */

/* SNP_MODE_PLAIN / SNP_MODE_SEV_ES / SNP_MODE_SNP, as detected at boot. */
unsigned sdk_sev_mode(void);
static inline bool sdk_sev_es_active(void) { return sdk_sev_mode() != SNP_MODE_PLAIN; }
static inline bool sdk_snp_active(void) { return sdk_sev_mode() == SNP_MODE_SNP; }
const char *sdk_mode_name(unsigned mode);   /* "plain", "sev-es", "snp" */
uint64_t sdk_sev_status(void);              /* SEV_STATUS (0 in plain mode) */
unsigned sdk_cbit_pos(void);                /* C-bit position (0 in plain mode) */
uint64_t sdk_cbit_mask(void);               /* 1 << C-bit, 0 in plain mode */
unsigned sdk_ghcb_version(void);            /* negotiated GHCB protocol version */
uint64_t sdk_hv_features(void);             /* MSR-protocol HV features (version 2) */

/* ---- GHCB access ---------------------------------------------------------------------- */

/* Valid bitmap: one bit per qword of the save area (GHCB_BIT(field) = offset / 8). */
static inline void ghcb_mark_valid(struct ghcb *g, unsigned bit)
{
    g->save.valid_bitmap[bit / 8] |= (uint8_t)(1u << (bit % 8));
}
static inline void ghcb_clear_valid(struct ghcb *g, unsigned bit)
{
    g->save.valid_bitmap[bit / 8] &= (uint8_t)~(1u << (bit % 8));
}
static inline bool ghcb_test_valid(const struct ghcb *g, unsigned bit)
{
    return (g->save.valid_bitmap[bit / 8] >> (bit % 8)) & 1;
}
/* Sets a save-area field and its valid bit: GHCB_SET(g, rax, v). */
#define GHCB_SET(g, field, v)                                                 \
    do {                                                                      \
        (g)->save.field = (v);                                                \
        ghcb_mark_valid((g), GHCB_BIT(field));                                \
    } while (0)
#define GHCB_VALID(g, field) ghcb_test_valid((g), GHCB_BIT(field))

/* Zeroes sw_exit_code and the valid bitmap (Linux vc_ghcb_invalidate). */
static inline void ghcb_invalidate(struct ghcb *g)
{
    g->save.sw_exit_code = 0;
    for (unsigned i = 0; i < sizeof(g->save.valid_bitmap); i++)
        g->save.valid_bitmap[i] = 0;
}

/* VMGEXIT = rep; vmmcall (F3 0F 01 D9). */
static inline void vmgexit(void)
{
    __asm__ volatile(".byte 0xf3, 0x0f, 0x01, 0xd9" ::: "memory");
}

/*
 * Taking this vCPU's GHCB: disables interrupts and returns it invalidated. A
 * user interrupted by an NMI whose handler needs the GHCB too (a #VC in the
 * handler, NMI_COMPLETE) is not disturbed: the nested user saves the page and
 * the GHCB MSR into a per-vCPU backup and restores both in put (Linux keeps one
 * backup; the SDK has SDK_GHCB_BACKUPS levels). Also guards the GHCB MSR for
 * the MSR protocol, which the helpers below do through get/put.
 */
#define SDK_GHCB_BACKUPS 3
struct sdk_ghcb_state {
    struct ghcb *ghcb;
    uint64_t flags;
    uint32_t depth;          /* 0: sole user */
    uint64_t saved_msr;
};
struct ghcb *sdk_ghcb_get(struct sdk_ghcb_state *st);
void sdk_ghcb_put(struct sdk_ghcb_state *st);
uint64_t sdk_ghcb_gpa(void);                 /* this vCPU's GHCB GPA */
/* How often a GHCB user on cpu found the GHCB taken and went through a backup. */
static inline uint32_t sdk_ghcb_nested_count(unsigned cpu) { return sdk_percpu[cpu].ghcb_nested; }
struct ghcb *sdk_ghcb_of(unsigned cpu);

/*
 * A full-GHCB VMGEXIT: sets protocol_version, ghcb_usage 0, sw_exit_code,
 * sw_exit_info_1/2 with their valid bits, writes the GHCB GPA to the GHCB MSR
 * and executes VMGEXIT. Returns SW_EXITINFO1[31:0]: 0 done, 1 the hypervisor
 * asks for an exception (SW_EXITINFO2, EVENTINJ format), 2 malformed request
 * (SW_EXITINFO2 = GHCB_ERR_*).
 */
uint32_t sdk_ghcb_call(struct ghcb *g, uint64_t exit_code, uint64_t info1, uint64_t info2);
/* Only the GHCB MSR write and VMGEXIT: the caller built the GHCB (malformed requests). */
void sdk_ghcb_vmgexit_raw(struct ghcb *g);

/* ---- GHCB MSR protocol (docs/sev-snp-facts.md 4.2) ------------------------------------------- */

/* Writes val to the GHCB MSR, VMGEXIT, returns the MSR (guarded by get/put). */
uint64_t sdk_ghcb_msr_call(uint64_t val);
uint64_t sdk_msr_sev_info(void);                       /* the raw 0x001 response */
/* CPUID register reg (0 EAX .. 3 EDX) of fn (subleaf 0); false on a bad response. */
bool sdk_msr_cpuid(uint32_t fn, unsigned reg, uint32_t *out);
bool sdk_msr_hv_features(uint64_t *features);
bool sdk_msr_pref_gpa(uint64_t *gfn);                  /* GHCB_MSR_PREF_GPA_NONE: none */
bool sdk_msr_register_gpa(uint64_t gfn);               /* true if the response echoes gfn */
/* One 4 KiB page to private/shared (GHCB_MSR_PSC_OP_*); returns the response's error field
 * (0 ok), or ~0 for a malformed response. */
uint64_t sdk_msr_psc(uint64_t gpa, unsigned op);
/* AP reset hold: returns the response's result (0 = woken without SIPI). */
uint64_t sdk_msr_ap_reset_hold(void);
/* Termination request: the run ends (status 80) with reason set / code printed. */
void sdk_sev_terminate(unsigned set, unsigned code) __attribute__((noreturn));

/* ---- NAE helpers ----------------------------------------------------------------------- */

uint32_t sdk_nae_hv_features(uint64_t *features);      /* 0x8000FFFD */
uint32_t sdk_ap_jump_table_set(uint64_t gpa);           /* 0x80000005 SET */
uint32_t sdk_ap_jump_table_get(uint64_t *gpa);          /* 0x80000005 GET */
void sdk_sev_nmi_complete(void);                        /* 0x80000003 */

/* ---- #VC ------------------------------------------------------------------------------- */

/*
 * The SDK's #VC handler (installed on vector 29 unless the guest replaces it;
 * a guest handler may call it to chain). Emulates CPUID, IOIO, MSR, MMIO (NPF),
 * DR7 read/write, WBINVD, RDTSC, RDTSCP, RDPMC, MONITOR, MWAIT, VMMCALL
 * through the GHCB; forwards #DB (0x41) and #AC (0x51) to the guest's own
 * handlers; refuses INVD. An exception the hypervisor asks for (#GP, #UD) is
 * dispatched to the guest's handler for it. Anything else: if an ASM_TRY is
 * armed on the faulting instruction the fault is recorded there (vector 29,
 * error code = exit code; e.g. 0x404 PAGE_NOT_VALIDATED), else the SDK prints
 * what it saw and asks the hypervisor to terminate the guest.
 */
void sdk_vc_handler(struct sdk_frame *f);
/* #VC exceptions this vCPU took with that error code (the codes above; others share one count). */
uint32_t sdk_vc_count(uint64_t exit_code);
/* The DR7 value last written on this vCPU (Linux's per-CPU shadow). */
uint64_t sdk_dr7_shadow(void);
/* Asserts this vCPU took n #VCs with code since before = sdk_vc_count(code) (none in plain mode). */
#define GUEST_ASSERT_VC(code, before, n) \
    GUEST_ASSERT_EQ(sdk_vc_count(code) - (before), sdk_sev_es_active() ? (n) : 0)

/* ---- SNP memory (docs/sev-snp-facts.md 6.3, 4.3) --------------------------------------------- */

/* PVALIDATE (F2 0F 01 FF): returns EAX; *unchanged = CF (the validated bit already had it). */
int sdk_pvalidate(uintptr_t va, unsigned size, bool validate, bool *unchanged);
/* RMPADJUST (F3 0F 01 FE): attrs [7:0] target VMPL, [11:8] permissions, bit 16 VMSA. */
int sdk_rmpadjust(uintptr_t va, unsigned size, uint64_t attrs);
/* The PSC NAE on n entries (PSC_ENTRY()); loops until the hypervisor processed all.
 * Returns 0, the SW_EXITINFO2 error, or ~0 if the call itself failed. */
uint64_t sdk_psc_nae(const uint64_t *entries, unsigned n);
/* [gpa, +npages) to private (PSC, then PVALIDATE; 2 MiB entries where aligned, falling
 * back to 4 KiB on FAIL_SIZEMISMATCH) or shared (PVALIDATE rescind, then PSC). One page:
 * MSR protocol; more: the NAE. Returns 0 or a nonzero error (already printed). */
int sdk_snp_accept(uint64_t gpa, size_t npages);
int sdk_snp_unaccept(uint64_t gpa, size_t npages);

/*
 * Pages for buffers the hypervisor writes, mapped C=0 (4 KiB PTEs, splitting a
 * 2 MiB mapping) and zeroed. SNP: taken from the top of free RAM, never
 * accepted, so they are hypervisor-owned already. SEV-ES: ordinary pages with
 * C cleared. Plain: ordinary pages.
 */
void *sdk_alloc_shared_pages(size_t npages);
/* Turns allocated (private) pages shared / back private: PTE C-bit, PVALIDATE, PSC. */
void sdk_make_shared(void *va, size_t npages);
void sdk_make_private(void *va, size_t npages);
/* SNP: pages from the top of free RAM in their launch state (hypervisor-owned,
 * mapped C=1: touching them before sdk_snp_accept() is an RMP fault). */
void *sdk_alloc_pages_unaccepted(size_t npages);

/* ---- APs (sev_smp.c) ---------------------------------------------------------------- */

/* SNP: AP_CREATION for cpu with a fresh VMSA (request: SVM_VMGEXIT_AP_CREATE or
 * _CREATE_ON_INIT). Returns SW_EXITINFO1[31:0] (0 = accepted; *info2 gets
 * SW_EXITINFO2); on failure the VMSA bit is cleared and the page freed. */
uint32_t sdk_snp_ap_create(unsigned cpu, unsigned request, uint64_t *info2);
/* The same, with RAX = the VMSA's SEV_FEATURES ^ rax_xor (to test the check). */
uint32_t sdk_snp_ap_create_rax(unsigned cpu, unsigned request, uint64_t rax_xor, uint64_t *info2);
uint32_t sdk_snp_ap_destroy(unsigned cpu, uint64_t *info2);
/* The raw NAE, for tests of the hypervisor's checks. */
uint32_t sdk_snp_ap_creation(uint32_t apic_id, unsigned request, uint64_t vmsa_gpa,
                             uint64_t sev_features, uint64_t *info2);
/* Fills a VMSA page with the SDK's 64-bit AP entry state for cpu (guest ABI). */
void sdk_snp_vmsa_init(struct sev_vmsa *vmsa, unsigned cpu);
/* RMPADJUST the page to (not) be a VMSA: target VMPL1, bit 16. */
int sdk_snp_set_vmsa(void *page, bool vmsa);

/*
 * SEV-ES: parks this AP (online = 0): AP_HLT_LOOP (or the MSR protocol's AP
 * reset hold if msr_protocol) until a SIPI wakes it, then continues at the
 * 64-bit entry the AP jump table names, on its boot stack, RDI = boot info,
 * RSI = index (the SDK sets the table to sdk_ap_start at boot).
 */
void sdk_sev_ap_park(bool msr_protocol) __attribute__((noreturn));
/* The GPA of the SDK's AP jump table page (its first u64 is the entry). */
uint64_t sdk_ap_jump_table(void);
/* Entry for a jump table: the SDK's AP entry point. */
extern const char sdk_ap_start[];

/* ---- Internal (boot.c, isr.S) -------------------------------------------------------- */
void sdk_sev_init(const struct snp_bootinfo *bi);      /* BSP, before anything intercepted */
void sdk_sev_late_init(void);                          /* BSP, once the allocator works */
void sdk_sev_cpu_init(struct sdk_percpu *p);           /* every vCPU, before its first #VC */
/* isr.S sends NMI_COMPLETE at the end of every NMI while this is set (SEV-ES/SNP:
 * set at boot). A test may clear it to send NMI_COMPLETE itself (sev_nmi.c). */
extern volatile uint8_t sdk_nmi_complete_on_iret;

#endif
