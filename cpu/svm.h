/* SPDX-License-Identifier: MIT */
/*
 * SVM exit codes and exit-information encodings the model uses as the common
 * language of intercepts: the reference hypervisor sees an intercepted
 * instruction as the VM exit it would cause, and under SEV-ES the same code is
 * the #VC error code (fact sheet section 5.1; Linux uapi asm/svm.h).
 */
#ifndef SNPREF_SVM_H
#define SNPREF_SVM_H

#define SVM_EXIT_READ_DR7      0x027
#define SVM_EXIT_WRITE_DR7     0x037
#define SVM_EXIT_EXCP_BASE     0x040
#define SVM_EXIT_INTR          0x060
#define SVM_EXIT_NMI           0x061
#define SVM_EXIT_RDTSC         0x06e
#define SVM_EXIT_RDPMC         0x06f
#define SVM_EXIT_CPUID         0x072
#define SVM_EXIT_IRET          0x074
#define SVM_EXIT_INVD          0x076
#define SVM_EXIT_HLT           0x078
#define SVM_EXIT_IOIO          0x07b
#define SVM_EXIT_MSR           0x07c
#define SVM_EXIT_SHUTDOWN      0x07f
#define SVM_EXIT_VMMCALL       0x081
#define SVM_EXIT_RDTSCP        0x087
#define SVM_EXIT_WBINVD        0x089
#define SVM_EXIT_MONITOR       0x08a
#define SVM_EXIT_MWAIT         0x08b
#define SVM_EXIT_NPF           0x400
#define SVM_EXIT_AVIC_INCOMPLETE_IPI       0x401
#define SVM_EXIT_AVIC_UNACCELERATED_ACCESS 0x402
#define SVM_EXIT_VMGEXIT       0x403

/* IOIO EXITINFO1 (APM vol. 2 15.10.2; fact sheet 5.1). */
#define SVM_IOIO_TYPE_IN   (1u << 0)
#define SVM_IOIO_STR       (1u << 2)
#define SVM_IOIO_REP       (1u << 3)
#define SVM_IOIO_SZ8       (1u << 4)
#define SVM_IOIO_SZ16      (1u << 5)
#define SVM_IOIO_SZ32      (1u << 6)
#define SVM_IOIO_A16       (1u << 7)
#define SVM_IOIO_A32       (1u << 8)
#define SVM_IOIO_A64       (1u << 9)
#define SVM_IOIO_SEG_SHIFT 10
#define SVM_IOIO_PORT_SHIFT 16

/* Exception vectors. */
enum x86_vector {
    X86_DE = 0, X86_DB = 1, X86_NMI = 2, X86_BP = 3, X86_OF = 4, X86_BR = 5, X86_UD = 6,
    X86_NM = 7, X86_DF = 8, X86_TS = 10, X86_NP = 11, X86_SS = 12, X86_GP = 13, X86_PF = 14,
    X86_MF = 16, X86_AC = 17, X86_MC = 18, X86_XM = 19, X86_VE = 20, X86_CP = 21,
    X86_HV = 28, X86_VC = 29, X86_SX = 30,
};

/* #PF error code bits (SDM 4.7; APM 8.4.2; X86_PF_RMP bit 31 for SNP). */
#define PFERR_P    (1u << 0)
#define PFERR_W    (1u << 1)
#define PFERR_U    (1u << 2)
#define PFERR_RSVD (1u << 3)
#define PFERR_I    (1u << 4)
#define PFERR_PK   (1u << 5)
#define PFERR_SS   (1u << 6)
#define PFERR_RMP  (1u << 31)

#endif
