/* SPDX-License-Identifier: MIT */
/*
 * A bare Unicorn engine for benchmarks: the guest function alone, with no
 * hooks, no paging (identity map, as a UC_MODE_64 engine starts) and no model,
 * so `snpref bench` can print how much the model costs on the same code.
 */
#include "cpu_int.h"

int cpu_run_bare(struct mem *m, uint64_t rip, uint64_t arg, uint64_t stack_top, uint64_t ret_gpa,
                 char *err, size_t errlen)
{
    uc_engine *uc;
    uc_err e = uc_open(UC_ARCH_X86, UC_MODE_64, &uc);
    if (e != UC_ERR_OK) {
        snprintf(err, errlen, "cannot open a Unicorn engine: %s", uc_strerror(e));
        return -1;
    }
    UC_CHECK(uc_ctl_set_cpu_model(uc, UC_CPU_X86_EPYC_ROME));
    UC_CHECK(uc_mem_map_ptr(uc, 0, m->size, UC_PROT_ALL, m->ram));
    static const uint8_t hlt = 0xF4;
    SNP_ASSERT(mem_write(m, ret_gpa, &hlt, 1));
    uint64_t rsp = (stack_top & ~0xFull) - 8;
    mem_st64(m, rsp, ret_gpa);
    UC_CHECK(uc_reg_write(uc, UC_X86_REG_RSP, &rsp));
    UC_CHECK(uc_reg_write(uc, UC_X86_REG_RDI, &arg));
    e = uc_emu_start(uc, rip, ret_gpa, 0, 0);
    uint64_t end = 0;
    uc_reg_read(uc, UC_X86_REG_RIP, &end);
    uc_close(uc);
    if (e != UC_ERR_OK || end != ret_gpa) {
        snprintf(err, errlen, "bare run stopped at %#llx: %s", (unsigned long long)end,
                 uc_strerror(e));
        return -1;
    }
    return 0;
}
