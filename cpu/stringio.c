/* SPDX-License-Identifier: MIT */
/*
 * INS and OUTS, with and without REP, emulated element by element for the
 * hypervisor (SDM vol. 2 "INS", "OUTS"; APM vol. 2 15.10.2): ES:RDI or DS:RSI
 * (segment bases are 0 in long mode), the direction flag, 32- or 64-bit
 * addressing, and registers that always reflect the completed iterations, so a
 * page fault in the middle leaves the instruction restartable. Each element is
 * the instruction's own data access, at its CPL (user pages at CPL 3; SMAP and
 * RFLAGS.AC at CPL 0).
 */
#include "cpu_int.h"

#define RFLAGS_DF (1ull << 10)

int vcpu_string_io(struct vcpu *v, struct vcpu_exit *e, vcpu_pio_fn io, void *ctx)
{
    bool a32 = e->info1 & SVM_IOIO_A32;
    uint64_t amask = a32 ? 0xFFFFFFFFull : ~0ull;
    uint64_t count = e->rep ? vcpu_get(v, VR_RCX) & amask : 1;
    int64_t step = (vcpu_get(v, VR_RFLAGS) & RFLAGS_DF) ? -(int64_t)e->size : (int64_t)e->size;
    enum vcpu_reg ptr = e->in ? VR_RDI : VR_RSI;
    for (; count; count--) {
        uint64_t va = vcpu_get(v, ptr) & amask, data = 0;
        uint32_t pf;
        uint64_t fva;
        int rc;
        if (e->in) {
            io(ctx, v, e->port, e->size, true, &data);
            rc = lin_write(v, va, &data, e->size, LIN_DATA, &pf, &fva);
        } else {
            rc = lin_read(v, va, &data, e->size, LIN_DATA, &pf, &fva);
            if (rc == 0)
                io(ctx, v, e->port, e->size, false, &data);
        }
        if (rc < 0) {
            e->exc_vector = pf == UINT32_MAX ? X86_GP : X86_PF;
            e->exc_has_error = true;
            e->exc_error = pf == UINT32_MAX ? 0 : pf;
            e->exc_cr2 = fva;
            return -1;
        }
        vcpu_set(v, ptr, (va + (uint64_t)step) & amask);
        if (e->rep)
            vcpu_set(v, VR_RCX, (count - 1) & amask);
    }
    return 0;
}
