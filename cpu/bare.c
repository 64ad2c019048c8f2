/* SPDX-License-Identifier: MIT */
/*
 * A bare Unicorn engine for benchmarks: the guest function alone, with no
 * model and no paging (identity map, as a UC_MODE_64 engine starts), so
 * `snpref bench` can print how much the model costs on the same code; and
 * the same with a block hook that only counts, the floor of any model that
 * accounts time per block as vcpu.c does (Unicorn's hook dispatch alone). Its
 * other hook is the identity TLB fill that gives execute permission only to
 * instruction fetches, as paging.c does: without it every store would stay on
 * Unicorn's slow path (paging.c), and the baseline would be the slower one.
 */
#include "cpu_int.h"

static bool identity_fill(uc_engine *uc, uint64_t va, uc_mem_type type, uc_tlb_entry *e, void *ud)
{
    (void)uc;
    (void)ud;
    e->paddr = va;
    e->perms = type == UC_MEM_FETCH ? UC_PROT_READ | UC_PROT_EXEC : UC_PROT_READ | UC_PROT_WRITE;
    return true;
}

static void count_block(uc_engine *uc, uint64_t pc, uint32_t size, void *ud)
{
    (void)uc;
    (void)pc;
    (void)size;
    ++*(uint64_t *)ud;
}

int cpu_run_bare(struct mem *m, bool block_hook, uint64_t *blocks, uint64_t rip, uint64_t arg,
                 uint64_t stack_top, uint64_t ret_gpa, char *err, size_t errlen)
{
    uc_engine *uc;
    uc_err e = uc_open(UC_ARCH_X86, UC_MODE_64, &uc);
    if (e != UC_ERR_OK) {
        snprintf(err, errlen, "cannot open a Unicorn engine: %s", uc_strerror(e));
        return -1;
    }
    UC_CHECK(uc_ctl_set_cpu_model(uc, UC_CPU_X86_EPYC_ROME));
    UC_CHECK(uc_mem_map_ptr(uc, 0, m->size, UC_PROT_ALL, m->ram));
    uc_hook fill;
    UC_CHECK(uc_ctl_tlb_mode(uc, UC_TLB_VIRTUAL));
    UC_CHECK(uc_hook_add(uc, &fill, UC_HOOK_TLB_FILL, (void *)identity_fill, NULL, 1, 0));
    *blocks = 0;
    if (block_hook)
        UC_CHECK(uc_hook_add(uc, &fill, UC_HOOK_BLOCK, (void *)count_block, blocks, 1, 0));
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
