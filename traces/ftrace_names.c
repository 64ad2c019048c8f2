/* SPDX-License-Identifier: MIT */
/*
 * The names Linux KVM's tracepoints print (arch/x86/kvm/trace.h) and what they
 * stand for: SVM exit reasons, delivery modes, APIC registers, exception
 * vectors. One table each, shared by the importer (ftrace_tp.c), the exporter
 * (ftrace_export.c) and the statistics of `check --stats` (stats.c), so a name
 * read and a name written cannot drift apart.
 */
#include <string.h>

#include "ftrace_names.h"
#include "snpref/base.h"

/* SVM_EXIT_REASONS (arch/x86/include/uapi/asm/svm.h) with their codes, spelt
 * as kvm_exit prints them (an intercepted exception is "PF excp", two words;
 * SVM_EXIT_ERR, -1 in the 64-bit EXITCODE, is "invalid_guest_state"), and
 * the SEV-ES NAE exit codes the same list names (SVM_VMGEXIT_*: GHCB
 * specification table 7), which VMGEXIT's SW_EXITCODE and #VC carry. */
const struct ftr_name ftr_svm_exits[] = {
    {"read_cr0", 0x000},   {"read_cr2", 0x002},   {"read_cr3", 0x003},    {"read_cr4", 0x004},
    {"read_cr8", 0x008},   {"write_cr0", 0x010},  {"write_cr2", 0x012},   {"write_cr3", 0x013},
    {"write_cr4", 0x014},  {"write_cr8", 0x018},  {"read_dr0", 0x020},    {"read_dr1", 0x021},
    {"read_dr2", 0x022},   {"read_dr3", 0x023},   {"read_dr4", 0x024},    {"read_dr5", 0x025},
    {"read_dr6", 0x026},   {"read_dr7", 0x027},   {"write_dr0", 0x030},   {"write_dr1", 0x031},
    {"write_dr2", 0x032},  {"write_dr3", 0x033},  {"write_dr4", 0x034},   {"write_dr5", 0x035},
    {"write_dr6", 0x036},  {"write_dr7", 0x037},  {"DE excp", 0x040},          {"DB excp", 0x041},
    {"BP excp", 0x043},         {"OF excp", 0x044},         {"BR excp", 0x045},          {"UD excp", 0x046},
    {"NM excp", 0x047},         {"DF excp", 0x048},         {"TS excp", 0x04a},          {"NP excp", 0x04b},
    {"SS excp", 0x04c},         {"GP excp", 0x04d},         {"PF excp", 0x04e},          {"MF excp", 0x050},
    {"AC excp", 0x051},         {"MC excp", 0x052},         {"XF excp", 0x053},          {"interrupt", 0x060},
    {"nmi", 0x061},        {"smi", 0x062},        {"init", 0x063},        {"vintr", 0x064},
    {"cr0_sel_write", 0x065}, {"read_idtr", 0x066}, {"read_gdtr", 0x067}, {"read_ldtr", 0x068},
    {"read_rt", 0x069},    {"write_idtr", 0x06a}, {"write_gdtr", 0x06b},  {"write_ldtr", 0x06c},
    {"write_rt", 0x06d},   {"rdtsc", 0x06e},      {"rdpmc", 0x06f},       {"pushf", 0x070},
    {"popf", 0x071},       {"cpuid", 0x072},      {"rsm", 0x073},         {"iret", 0x074},
    {"swint", 0x075},      {"invd", 0x076},       {"pause", 0x077},       {"hlt", 0x078},
    {"invlpg", 0x079},     {"invlpga", 0x07a},    {"io", 0x07b},          {"msr", 0x07c},
    {"task_switch", 0x07d}, {"ferr_freeze", 0x07e}, {"shutdown", 0x07f},  {"vmrun", 0x080},
    {"hypercall", 0x081},  {"vmload", 0x082},     {"vmsave", 0x083},      {"stgi", 0x084},
    {"clgi", 0x085},       {"skinit", 0x086},     {"rdtscp", 0x087},      {"icebp", 0x088},
    {"wbinvd", 0x089},     {"monitor", 0x08a},    {"mwait", 0x08b},       {"xsetbv", 0x08d},
    {"rdpru", 0x08e},      {"write_efer_trap", 0x08f}, {"write_cr0_trap", 0x090},
    {"write_cr4_trap", 0x094}, {"write_cr8_trap", 0x098}, {"invpcid", 0x0a2},
    {"idle-halt", 0x0a6},  {"npf", 0x400},        {"avic_incomplete_ipi", 0x401},
    {"avic_unaccelerated_access", 0x402}, {"vmgexit", 0x403},
    {"vmgexit_mmio_read", 0x80000001}, {"vmgexit_mmio_write", 0x80000002},
    {"vmgexit_nmi_complete", 0x80000003}, {"vmgexit_ap_hlt_loop", 0x80000004},
    {"vmgexit_ap_jump_table", 0x80000005}, {"vmgexit_page_state_change", 0x80000010},
    {"vmgexit_guest_request", 0x80000011}, {"vmgexit_ext_guest_request", 0x80000012},
    {"vmgexit_ap_creation", 0x80000013}, {"vmgexit_hypervisor_feature", 0x8000fffd},
    {"invalid_guest_state", 0xFFFFFFFFFFFFFFFFull},
};

/* kvm_deliver_mode (include/trace/events/kvm.h), in ICR[10:8] order, and the
 * names our catalogue uses for them. */
const char *const ftr_kvm_dm[8] = {"Fixed", "LowPrio", "SMI", "Res3", "NMI", "INIT", "SIPI", "ExtINT"};
const char *const ftr_trc_dm[8] = {"fixed", "lowest", "smi", "reserved", "nmi", "init", "sipi", "extint"};

/* kvm_trace_symbol_apic (arch/x86/kvm/trace.h): register names and offsets. */
const struct ftr_name ftr_apic_regs[] = {
    {"APIC_ID", 0x20},    {"APIC_LVR", 0x30},   {"APIC_TASKPRI", 0x80}, {"APIC_ARBPRI", 0x90},
    {"APIC_PROCPRI", 0xA0}, {"APIC_EOI", 0xB0}, {"APIC_RRR", 0xC0},     {"APIC_LDR", 0xD0},
    {"APIC_DFR", 0xE0},   {"APIC_SPIV", 0xF0},  {"APIC_ISR", 0x100},    {"APIC_TMR", 0x180},
    {"APIC_IRR", 0x200},  {"APIC_ESR", 0x280},  {"APIC_ICR", 0x300},    {"APIC_ICR2", 0x310},
    {"APIC_LVTT", 0x320}, {"APIC_LVTTHMR", 0x330}, {"APIC_LVTPC", 0x340}, {"APIC_LVT0", 0x350},
    {"APIC_LVT1", 0x360}, {"APIC_LVTERR", 0x370}, {"APIC_TMICT", 0x380}, {"APIC_TMCCT", 0x390},
    {"APIC_TDCR", 0x3E0}, {"APIC_SELF_IPI", 0x3F0}, {"APIC_EFEAT", 0x400}, {"APIC_ECTRL", 0x410},
};

/* Exception vector names as the model's traces spell them (SDM vol. 3 table 6-1,
 * AMD APM vol. 2 table 8-1); KVM prints "#GP" for the ones in kvm_trace_sym_exc. */
const char *const ftr_exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#09", "#TS",
    "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
    "#22", "#23", "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

const size_t ftr_nsvm_exits = ARRAY_SIZE(ftr_svm_exits);
const size_t ftr_napic_regs = ARRAY_SIZE(ftr_apic_regs);

const struct ftr_name *ftr_name_find(const struct ftr_name *t, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(t[i].name, name))
            return &t[i];
    return NULL;
}

const char *ftr_name_of(const struct ftr_name *t, size_t n, uint64_t code)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].code == code)
            return t[i].name;
    return NULL;
}
