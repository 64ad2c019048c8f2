/* SPDX-License-Identifier: MIT */
/*
 * SEV-ES / SEV-SNP architectural layouts and constants, shared unchanged by
 * the model (host C) and the freestanding guest SDK, like abi.h: the VMSA
 * (Linux `struct sev_es_save_area`), the VMCB control area, the GHCB, the GHCB
 * MSR protocol, NAE exit codes and error codes, page-state-change structures,
 * SEV_FEATURES / SEV_STATUS bits. Every number comes from the architecture
 * fact sheet (docs/sev-snp-facts.md, sections 1-5, 10) with the public source
 * it cites; the offsets are asserted by tests/unit/test_layout.c against that
 * file's tables and the sizes the Linux kernel's build checks use.
 */
#ifndef SNPREF_SEV_H
#define SNPREF_SEV_H

#include <stdint.h>

/* ---- MSRs (docs/sev-snp-facts.md 1, 4.2, 7.1, 11) ------------------------------------------- */
#define MSR_SEV_ES_GHCB   0xC0010130u
#define MSR_SEV_STATUS    0xC0010131u
#define MSR_SAVIC_CONTROL 0xC0010138u
#define MSR_GUEST_TSC_FREQ 0xC0010134u

/* SEV_STATUS bits: 0 SEV, 1 SEV-ES, 2 SNP; bits [63:2] mirror SEV_FEATURES [61:0]. */
#define SEV_STATUS_SEV      (1ull << 0)
#define SEV_STATUS_SEV_ES   (1ull << 1)
#define SEV_STATUS_SNP      (1ull << 2)
#define SEV_STATUS_SECURE_AVIC (1ull << 18) /* SEV_FEATURES bit 16 */

/* SEV_FEATURES (VMSA+0x3B0) bits (docs/sev-snp-facts.md table 1). */
#define SEV_FEAT_SNP_ACTIVE         (1ull << 0)
#define SEV_FEAT_VTOM               (1ull << 1)
#define SEV_FEAT_REFLECT_VC         (1ull << 2)
#define SEV_FEAT_RESTRICTED_INJ     (1ull << 3)
#define SEV_FEAT_ALTERNATE_INJ      (1ull << 4)
#define SEV_FEAT_DEBUG_SWAP         (1ull << 5)
#define SEV_FEAT_SECURE_TSC         (1ull << 9)
#define SEV_FEAT_SECURE_AVIC        (1ull << 16)
#define SEV_FEAT_IBPB_ON_ENTRY      (1ull << 21)
#define SEV_FEAT_INT_INJ_MODES      (SEV_FEAT_RESTRICTED_INJ | SEV_FEAT_ALTERNATE_INJ)

/* CPUID Fn8000_001F EAX bits (docs/sev-snp-facts.md 1). */
#define CPUID_8000001F_SEV     (1u << 1)
#define CPUID_8000001F_SEV_ES  (1u << 3)
#define CPUID_8000001F_SNP     (1u << 4)
#define CPUID_8000001F_SAVIC   (1u << 26)

/* ---- VMSA (docs/sev-snp-facts.md 2; Linux struct sev_es_save_area, 1648 bytes) --------------- */
struct vmcb_seg {
    uint16_t selector;
    uint16_t attrib;
    uint32_t limit;
    uint64_t base;
};

struct sev_vmsa {
    struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 0x000 */
    uint64_t pl0_ssp, pl1_ssp, pl2_ssp, pl3_ssp;                    /* 0x0A0 */
    uint64_t u_cet;                                                 /* 0x0C0 */
    uint8_t reserved_0xc8[2];
    uint8_t vmpl;                                                   /* 0x0CA */
    uint8_t cpl;                                                    /* 0x0CB */
    uint8_t reserved_0xcc[4];
    uint64_t efer;                                                  /* 0x0D0 */
    uint8_t reserved_0xd8[104];
    uint64_t xss;                                                   /* 0x140 */
    uint64_t cr4, cr3, cr0, dr7, dr6, rflags, rip;                  /* 0x148..0x178 */
    uint64_t dr0, dr1, dr2, dr3;                                    /* 0x180 */
    uint64_t dr0_addr_mask, dr1_addr_mask, dr2_addr_mask, dr3_addr_mask; /* 0x1A0 */
    uint8_t reserved_0x1c0[24];
    uint64_t rsp;                                                   /* 0x1D8 */
    uint64_t s_cet, ssp, isst_addr;                                 /* 0x1E0 */
    uint64_t rax;                                                   /* 0x1F8 */
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base;            /* 0x200 */
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;               /* 0x228 */
    uint64_t cr2;                                                   /* 0x240 */
    uint8_t reserved_0x248[32];
    uint64_t g_pat, dbgctl, br_from, br_to, last_excp_from, last_excp_to; /* 0x268 */
    uint8_t reserved_0x298[72];
    uint64_t spec_ctrl;                                             /* 0x2E0 */
    uint32_t pkru, tsc_aux;                                         /* 0x2E8 */
    uint64_t tsc_scale, tsc_offset;                                 /* 0x2F0 */
    uint64_t reserved_0x300;
    uint64_t rcx, rdx, rbx;                                         /* 0x308 */
    uint64_t secure_avic_control; /* 0x320: Linux reserved; openvmm (docs/sev-snp-facts.md 12.3) */
    uint64_t rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15;   /* 0x328 */
    uint8_t reserved_0x380[16];
    uint64_t guest_exit_info_1, guest_exit_info_2, guest_exit_int_info, guest_nrip; /* 0x390 */
    uint64_t sev_features;                                          /* 0x3B0 */
    uint64_t vintr_ctrl;                                            /* 0x3B8 */
    uint64_t guest_exit_code;                                       /* 0x3C0 */
    uint64_t virtual_tom;                                           /* 0x3C8 */
    uint64_t tlb_id, pcpu_id;                                       /* 0x3D0 */
    uint64_t event_inj;                                             /* 0x3E0 */
    uint64_t xcr0;                                                  /* 0x3E8 */
    uint8_t reserved_0x3f0[16];
    uint64_t x87_dp;                                                /* 0x400 */
    uint32_t mxcsr;                                                 /* 0x408 */
    uint16_t x87_ftw, x87_fsw, x87_fcw, x87_fop, x87_ds, x87_cs;    /* 0x40C */
    uint64_t x87_rip;                                               /* 0x418 */
    uint8_t fpreg_x87[80];                                          /* 0x420 */
    uint8_t fpreg_xmm[256];                                         /* 0x470 */
    uint8_t fpreg_ymm[256];                                         /* 0x570 */
} __attribute__((packed));
_Static_assert(sizeof(struct sev_vmsa) == 0x670, "VMSA is 1648 bytes (Linux build check)");

/* ST(i) in fpreg_x87 as KVM's sev_es_sync_vmsa lays it out: bytes 0-7 of each
 * register in an 8 x 8-byte area, bytes 8-9 in an 8 x 2-byte area after it
 * (not ten packed bytes per register). */
static inline void sev_vmsa_x87_put(struct sev_vmsa *a, unsigned i, const unsigned char st[10])
{
    __builtin_memcpy(a->fpreg_x87 + 8 * i, st, 8);
    a->fpreg_x87[64 + 2 * i] = st[8];
    a->fpreg_x87[64 + 2 * i + 1] = st[9];
}
static inline void sev_vmsa_x87_get(const struct sev_vmsa *a, unsigned i, unsigned char st[10])
{
    __builtin_memcpy(st, a->fpreg_x87 + 8 * i, 8);
    st[8] = a->fpreg_x87[64 + 2 * i];
    st[9] = a->fpreg_x87[64 + 2 * i + 1];
}

/* vintr_ctrl bits (docs/sev-snp-facts.md 2, openvmm SevVirtualInterruptControl). */
#define VINTR_V_GIF          (1ull << 9)
#define VINTR_V_NMI          (1ull << 11)
#define VINTR_V_NMI_MASK     (1ull << 12)
#define VINTR_V_NMI_ENABLE   (1ull << 26)
#define VINTR_GUEST_BUSY     (1ull << 63)

/* The GPA the launch digest records for VMSA pages (docs/sev-snp-facts.md 8.2). */
#define SNP_VMSA_MEASURE_GPA 0x0000FFFFFFFFF000ull

/* ---- VMCB control area (docs/sev-snp-facts.md 3: first 0x400 bytes of the VMCB) -------------- */
struct vmcb_control {
    uint32_t intercepts[6];            /* 0x000 */
    uint8_t reserved_0x18[36];
    uint16_t pause_filter_thresh;      /* 0x03C */
    uint16_t pause_filter_count;       /* 0x03E */
    uint64_t iopm_base_pa;             /* 0x040 */
    uint64_t msrpm_base_pa;            /* 0x048 */
    uint64_t tsc_offset;               /* 0x050 */
    uint32_t asid;                     /* 0x058 */
    uint8_t tlb_ctl;                   /* 0x05C */
    uint8_t erap_ctl;                  /* 0x05D */
    uint8_t reserved_0x5e[2];
    uint32_t int_ctl;                  /* 0x060 */
    uint32_t int_vector;               /* 0x064 */
    uint32_t int_state;                /* 0x068 */
    uint8_t reserved_0x6c[4];
    uint64_t exit_code;                /* 0x070 */
    uint64_t exit_info_1;              /* 0x078 */
    uint64_t exit_info_2;              /* 0x080 */
    uint32_t exit_int_info;            /* 0x088 */
    uint32_t exit_int_info_err;        /* 0x08C */
    uint64_t misc_ctl;                 /* 0x090 */
    uint64_t avic_vapic_bar;           /* 0x098 */
    uint64_t ghcb_gpa;                 /* 0x0A0 */
    uint32_t event_inj;                /* 0x0A8 */
    uint32_t event_inj_err;            /* 0x0AC */
    uint64_t nested_cr3;               /* 0x0B0 */
    uint64_t misc_ctl2;                /* 0x0B8 */
    uint32_t clean;                    /* 0x0C0 */
    uint32_t reserved_0xc4;
    uint64_t next_rip;                 /* 0x0C8 */
    uint8_t insn_len;                  /* 0x0D0 */
    uint8_t insn_bytes[15];            /* 0x0D1 */
    uint64_t avic_backing_page;        /* 0x0E0 */
    uint8_t reserved_0xe8[8];
    uint64_t avic_logical_id;          /* 0x0F0 */
    uint64_t avic_physical_id;         /* 0x0F8 */
    uint8_t reserved_0x100[8];
    uint64_t vmsa_pa;                  /* 0x108 */
    uint8_t reserved_0x110[16];
    uint16_t bus_lock_counter;         /* 0x120 */
    uint8_t reserved_0x122[18];
    uint8_t update_irr;                /* 0x134: Secure AVIC (docs/sev-snp-facts.md 3) */
    uint8_t reserved_0x135[3];
    uint64_t allowed_sev_features;     /* 0x138 */
    uint64_t guest_sev_features;       /* 0x140 */
    uint8_t reserved_0x148[8];
    uint32_t requested_irr[8];         /* 0x150: Secure AVIC */
    uint8_t reserved_0x170[0x3E0 - 0x170];
    uint8_t reserved_sw[32];           /* 0x3E0 */
} __attribute__((packed));
_Static_assert(sizeof(struct vmcb_control) == 1024, "VMCB control area is 1024 bytes");

#define SVM_MISC_ENABLE_NP     (1ull << 0)
#define SVM_MISC_ENABLE_SEV    (1ull << 1)
#define SVM_MISC_ENABLE_SEV_ES (1ull << 2)

/* ---- GHCB (docs/sev-snp-facts.md 4.1) -------------------------------------------------------- */
struct ghcb_save_area {
    uint8_t reserved_0x0[203];
    uint8_t cpl;                       /* 0x0CB */
    uint8_t reserved_0xcc[116];
    uint64_t xss;                      /* 0x140 */
    uint8_t reserved_0x148[24];
    uint64_t dr7;                      /* 0x160 */
    uint8_t reserved_0x168[16];
    uint64_t rip;                      /* 0x178 */
    uint8_t reserved_0x180[88];
    uint64_t rsp;                      /* 0x1D8 */
    uint8_t reserved_0x1e0[24];
    uint64_t rax;                      /* 0x1F8 */
    uint8_t reserved_0x200[264];
    uint64_t rcx, rdx, rbx;            /* 0x308 */
    uint8_t reserved_0x320[8];
    uint64_t rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15; /* 0x328 */
    uint8_t reserved_0x380[16];
    uint64_t sw_exit_code;             /* 0x390 */
    uint64_t sw_exit_info_1;           /* 0x398 */
    uint64_t sw_exit_info_2;           /* 0x3A0 */
    uint64_t sw_scratch;               /* 0x3A8 */
    uint8_t reserved_0x3b0[56];
    uint64_t xcr0;                     /* 0x3E8 */
    uint8_t valid_bitmap[16];          /* 0x3F0 */
    uint64_t x87_state_gpa;            /* 0x400 */
} __attribute__((packed));
_Static_assert(sizeof(struct ghcb_save_area) == 1032, "GHCB save area is 1032 bytes");

#define GHCB_SHARED_BUF_SIZE 2032

struct ghcb {
    struct ghcb_save_area save;        /* 0x000 */
    uint8_t reserved_save[2048 - sizeof(struct ghcb_save_area)];
    uint8_t shared_buffer[GHCB_SHARED_BUF_SIZE]; /* 0x800 */
    uint8_t reserved_0xff0[10];
    uint16_t protocol_version;         /* 0xFFA */
    uint32_t ghcb_usage;               /* 0xFFC */
} __attribute__((packed));
_Static_assert(sizeof(struct ghcb) == 4096, "GHCB is one page");

/* Valid-bitmap bit of a save-area field: its qword index (offset / 8). */
#define GHCB_BIT(field) (__builtin_offsetof(struct ghcb_save_area, field) / 8)

#define GHCB_PROTOCOL_MIN 1
#define GHCB_PROTOCOL_MAX 2
#define GHCB_DEFAULT_USAGE 0

/* SW_EXITINFO1 answers and SW_EXITINFO2 reasons (docs/sev-snp-facts.md 4, S22, S3). */
#define GHCB_HV_RESP_NO_ACTION        0
#define GHCB_HV_RESP_ISSUE_EXCEPTION  1
#define GHCB_HV_RESP_MALFORMED_INPUT  2
#define GHCB_ERR_NOT_REGISTERED       1
#define GHCB_ERR_INVALID_USAGE        2
#define GHCB_ERR_INVALID_SCRATCH_AREA 3
#define GHCB_ERR_MISSING_INPUT        4
#define GHCB_ERR_INVALID_INPUT        5
#define GHCB_ERR_INVALID_EVENT        6

/* Scratch areas outside the GHCB: at most 16 pages (KVM GHCB_SCRATCH_AREA_LIMIT). */
#define GHCB_SCRATCH_AREA_LIMIT (16ull * 4096)

/* ---- GHCB MSR protocol (docs/sev-snp-facts.md 4.2) ------------------------------------------- */
#define GHCB_MSR_INFO_MASK        0xFFFull
#define GHCB_MSR_SEV_INFO_RESP    0x001
#define GHCB_MSR_SEV_INFO_REQ     0x002
#define GHCB_MSR_CPUID_REQ        0x004
#define GHCB_MSR_CPUID_RESP       0x005
#define GHCB_MSR_AP_RESET_HOLD_REQ  0x006
#define GHCB_MSR_AP_RESET_HOLD_RESP 0x007
#define GHCB_MSR_PREF_GPA_REQ     0x010
#define GHCB_MSR_PREF_GPA_RESP    0x011
#define GHCB_MSR_REG_GPA_REQ      0x012
#define GHCB_MSR_REG_GPA_RESP     0x013
#define GHCB_MSR_PSC_REQ          0x014
#define GHCB_MSR_PSC_RESP         0x015
#define GHCB_MSR_HV_FT_REQ        0x080
#define GHCB_MSR_HV_FT_RESP       0x081
#define GHCB_MSR_TERM_REQ         0x100

#define GHCB_MSR_PREF_GPA_NONE    0xFFFFFFFFFFFFFull
#define GHCB_MSR_PSC_OP_PRIVATE   1
#define GHCB_MSR_PSC_OP_SHARED    2
#define GHCB_MSR_PSC_RESP_ERROR   (1ull << 63)

/* SEV_INFO data: [63:48] max protocol, [47:32] min, [31:24] C-bit. */
#define GHCB_MSR_SEV_INFO(max, min, cbit)                                                       \
    (((uint64_t)(max) << 48) | ((uint64_t)(min) << 32) | ((uint64_t)(cbit) << 24) |             \
     GHCB_MSR_SEV_INFO_RESP)

/* Hypervisor features (MSR 0x081 data, NAE 0x8000FFFD). */
#define GHCB_HV_FT_SNP               (1ull << 0)
#define GHCB_HV_FT_SNP_AP_CREATION   (1ull << 1)

/* Termination reasons (docs/sev-snp-facts.md 4.2). */
#define SEV_TERM_SET_GEN   0
#define SEV_TERM_SET_LINUX 1
#define GHCB_TERM_SAVIC_FAIL 12

/* ---- SVM exit codes: a VM exit's, and under SEV-ES the #VC error code (docs/sev-snp-facts.md 5.1;
 * Linux uapi asm/svm.h) --------------------------------------------------------------- */
#define SVM_EXIT_READ_CR8      0x008ull
#define SVM_EXIT_WRITE_CR8     0x018ull
#define SVM_EXIT_CR_MOV        (1ull << 63) /* EXITINFO1 of a MOV CRn exit; bits 3:0 the GPR */
#define SVM_EXIT_READ_DR7      0x027ull
#define SVM_EXIT_WRITE_DR7     0x037ull
#define SVM_EXIT_EXCP_BASE     0x040ull /* + vector: an intercepted exception */
#define SVM_EXIT_EXCP_DB       0x041ull
#define SVM_EXIT_EXCP_AC       0x051ull
#define SVM_EXIT_INTR          0x060ull
#define SVM_EXIT_NMI           0x061ull
#define SVM_EXIT_RDTSC         0x06Eull
#define SVM_EXIT_RDPMC         0x06Full
#define SVM_EXIT_CPUID         0x072ull
#define SVM_EXIT_IRET          0x074ull
#define SVM_EXIT_INVD          0x076ull
#define SVM_EXIT_HLT           0x078ull
#define SVM_EXIT_IOIO          0x07Bull
#define SVM_EXIT_MSR           0x07Cull
#define SVM_EXIT_SHUTDOWN      0x07Full
#define SVM_EXIT_VMMCALL       0x081ull
#define SVM_EXIT_RDTSCP        0x087ull
#define SVM_EXIT_WBINVD        0x089ull
#define SVM_EXIT_MONITOR       0x08Aull
#define SVM_EXIT_MWAIT         0x08Bull
#define SVM_EXIT_NPF           0x400ull
#define SVM_EXIT_AVIC_INCOMPLETE_IPI       0x401ull /* Secure AVIC (docs/sev-snp-facts.md 7.4) */
#define SVM_EXIT_AVIC_UNACCELERATED_ACCESS 0x402ull
#define SVM_EXIT_VMGEXIT       0x403ull

/* IOIO EXITINFO1 / SW_EXITINFO1 (APM vol. 2 15.10.2; docs/sev-snp-facts.md 5.1). */
#define SVM_IOIO_TYPE_IN    (1u << 0)
#define SVM_IOIO_STR        (1u << 2)
#define SVM_IOIO_REP        (1u << 3)
#define SVM_IOIO_SZ8        (1u << 4)
#define SVM_IOIO_SZ16       (1u << 5)
#define SVM_IOIO_SZ32       (1u << 6)
#define SVM_IOIO_A16        (1u << 7)
#define SVM_IOIO_A32        (1u << 8)
#define SVM_IOIO_A64        (1u << 9)
#define SVM_IOIO_SEG_SHIFT  10
#define SVM_IOIO_SEG_ES     (0u << SVM_IOIO_SEG_SHIFT)
#define SVM_IOIO_SEG_DS     (3u << SVM_IOIO_SEG_SHIFT)
#define SVM_IOIO_PORT_SHIFT 16

/* EVENTINJ / EXITINTINFO, and SW_EXITINFO2 when SW_EXITINFO1 is 1 (docs/sev-snp-facts.md 2, 11;
 * Linux asm/svm.h SVM_EVTINJ_*). */
#define SVM_EVTINJ_VEC_MASK    0xFFull
#define SVM_EVTINJ_TYPE_SHIFT  8
#define SVM_EVTINJ_TYPE_MASK   (7ull << SVM_EVTINJ_TYPE_SHIFT)
#define SVM_EVTINJ_TYPE_EXEPT  (3ull << SVM_EVTINJ_TYPE_SHIFT)
#define SVM_EVTINJ_VALID_ERR   (1ull << 11) /* error code valid */
#define SVM_EVTINJ_VALID       (1ull << 31)
#define SVM_EVTINJ_ERR_SHIFT   32

/* EVENTINJ's TYPE field (APM vol. 2 15.20). */
enum evtinj_type { EVTINJ_INTR = 0, EVTINJ_NMI = 2, EVTINJ_EXCEPT = 3, EVTINJ_SOFT = 4 };

#define EVTINJ(vector, type)                                                                       \
    (SVM_EVTINJ_VALID | ((uint64_t)(type) << SVM_EVTINJ_TYPE_SHIFT) | ((vector) & 0xFFu))
#define EVTINJ_ERR(vector, error)                                                                  \
    (EVTINJ(vector, EVTINJ_EXCEPT) | SVM_EVTINJ_VALID_ERR |                                       \
     ((uint64_t)(uint32_t)(error) << SVM_EVTINJ_ERR_SHIFT))

/* ---- NAE exit codes (docs/sev-snp-facts.md 5) ------------------------------------------------ */
#define SVM_VMGEXIT_MMIO_READ        0x80000001ull
#define SVM_VMGEXIT_MMIO_WRITE       0x80000002ull
#define SVM_VMGEXIT_NMI_COMPLETE     0x80000003ull
#define SVM_VMGEXIT_AP_HLT_LOOP      0x80000004ull
#define SVM_VMGEXIT_AP_JUMP_TABLE    0x80000005ull
#define SVM_VMGEXIT_PSC              0x80000010ull
#define SVM_VMGEXIT_GUEST_REQUEST    0x80000011ull
#define SVM_VMGEXIT_EXT_GUEST_REQUEST 0x80000012ull
#define SVM_VMGEXIT_AP_CREATION      0x80000013ull
#define SVM_VMGEXIT_SAVIC            0x8000001Aull
#define SVM_VMGEXIT_SAVIC_REGISTER   0 /* exit_info_1; RAX target (~0 self), RBX the page */
#define SVM_VMGEXIT_SAVIC_UNREGISTER 1 /* RBX returns the page */
#define SVM_VMGEXIT_SAVIC_SELF       0xFFFFFFFFFFFFFFFFull
#define SVM_VMGEXIT_HV_FEATURES      0x8000FFFDull
#define SVM_VMGEXIT_TERM_REQUEST     0x8000FFFEull
#define SVM_VMGEXIT_UNSUPPORTED      0x8000FFFFull

#define SVM_EXIT_VMGEXIT_BUSY        ((uint64_t)-2) /* VMEXIT_BUSY (docs/sev-snp-facts.md 5.1) */
#define SVM_EXIT_PAGE_NOT_VALIDATED  0x404ull

/* AP_JUMP_TABLE exit_info_1 */
#define SVM_VMGEXIT_SET_AP_JUMP_TABLE 0
#define SVM_VMGEXIT_GET_AP_JUMP_TABLE 1

/* AP_CREATION requests (low 32 bits of exit_info_1; APIC ID in [63:32], VMPL at bit 16). */
#define SVM_VMGEXIT_AP_CREATE_ON_INIT 0
#define SVM_VMGEXIT_AP_CREATE         1
#define SVM_VMGEXIT_AP_DESTROY        2

/* ---- Page-state change (docs/sev-snp-facts.md 4.3) ------------------------------------------- */
struct psc_hdr {
    uint16_t cur_entry;
    uint16_t end_entry;   /* inclusive */
    uint32_t reserved;
} __attribute__((packed));

/* An entry: [11:0] cur_page, [51:12] GFN, [55:52] operation, bit 56 page size. */
#define PSC_ENTRY(gfn, op, size2m) \
    (((uint64_t)(gfn) << 12) | ((uint64_t)(op) << 52) | ((uint64_t)(size2m) << 56))
#define PSC_ENTRY_CUR_PAGE(e) ((e) & 0xFFFull)
#define PSC_ENTRY_GFN(e)      (((e) >> 12) & 0xFFFFFFFFFFull)
#define PSC_ENTRY_OP(e)       (((e) >> 52) & 0xFull)
#define PSC_ENTRY_2M(e)       (((e) >> 56) & 1ull)
#define PSC_OP_PRIVATE 1
#define PSC_OP_SHARED  2
#define PSC_OP_PSMASH  3
#define PSC_OP_UNSMASH 4
#define VMGEXIT_PSC_MAX_COUNT 253
/* SW_EXITINFO2 answers of the PSC NAE. */
#define PSC_ERR_INVALID_HDR   ((1ull << 32) | 1)
#define PSC_ERR_INVALID_ENTRY ((1ull << 32) | 2)
#define PSC_ERR_GENERIC       (0x100ull << 32)

/* RMPADJUST attributes (docs/sev-snp-facts.md 6.3). */
#define RMPADJUST_VMSA_PAGE_BIT (1ull << 16)

#endif
