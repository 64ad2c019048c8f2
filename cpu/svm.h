/* SPDX-License-Identifier: MIT */
/*
 * The common language of intercepts: the reference hypervisor sees an
 * intercepted instruction as the VM exit it would cause, and under SEV-ES the
 * same code is the #VC error code (docs/sev-snp-facts.md section 5.1; Linux uapi
 * asm/svm.h). The codes and encodings live in include/snpref/sev.h, which the
 * guest SDK shares; here: exception vectors and #PF error bits.
 */
#ifndef SNPREF_SVM_H
#define SNPREF_SVM_H

/* The exit codes, IOIO and EVENTINJ encodings: shared with the guest SDK. */
#include "snpref/sev.h"

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
