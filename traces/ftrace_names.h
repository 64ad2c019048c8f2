/* SPDX-License-Identifier: MIT */
/*
 * Names in KVM tracepoint text (ftrace_names.c): SVM_EXIT_REASONS
 * (arch/x86/include/uapi/asm/svm.h), kvm_deliver_mode (include/trace/events/
 * kvm.h), kvm_trace_symbol_apic (arch/x86/kvm/trace.h) and exception vectors.
 */
#ifndef SNPREF_FTRACE_NAMES_H
#define SNPREF_FTRACE_NAMES_H

#include <stddef.h>
#include <stdint.h>

struct ftr_name {
    const char *name;
    uint64_t code;
};

/* SVM exit reason names and codes (VMX names are not SVM's and are refused). */
extern const struct ftr_name ftr_svm_exits[];
extern const size_t ftr_nsvm_exits;
/* APIC register names and their xAPIC offsets. */
extern const struct ftr_name ftr_apic_regs[];
extern const size_t ftr_napic_regs;
/* Delivery modes in ICR[10:8] order: as KVM prints them, as our catalogue names them. */
extern const char *const ftr_kvm_dm[8];
extern const char *const ftr_trc_dm[8];
/* Exception vector names as the model's traces spell them ("#GP", "#VC"). */
extern const char *const ftr_exc_names[32];

/* The entry named name, or NULL. */
const struct ftr_name *ftr_name_find(const struct ftr_name *t, size_t n, const char *name);
/* The name of code, or NULL. */
const char *ftr_name_of(const struct ftr_name *t, size_t n, uint64_t code);

#endif
