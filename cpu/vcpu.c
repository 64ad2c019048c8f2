/* SPDX-License-Identifier: MIT */
/*
 * The vCPU engine: one Unicorn engine per vCPU over the shared guest RAM, its
 * hooks, and the run loop (docs/design.md section 2; docs/unicorn.md).
 *
 * Hooks, one per concern, the vCPU as user_data:
 *  - block: instruction accounting and the quantum limit (a block hook costs
 *    about 12%; Unicorn's `count` argument about 10x), first-sight decode
 *    (decode.c), and interrupt windows (cb->pending) at block boundaries;
 *  - CPUID, IN, OUT, RDTSC, RDTSCP: Unicorn's own instruction hooks;
 *  - exact-address code hooks for RDMSR, WRMSR, HLT, ... (decode.c);
 *  - invalid instruction: VMMCALL, VMGEXIT and #UD;
 *  - interrupt: exceptions the engine raises, delivered through the IDT;
 *  - TLB fill: the guest page walk (paging.c).
 * Every exception or interrupt goes through the guest IDT (idt.c).
 */
#include <stdlib.h>
#include <string.h>

#include "cpu_int.h"

#define RFLAGS_IF (1ull << 9)
#define STR(x) #x
#define XSTR(x) STR(x)

static const int uc_regs[VR_COUNT] = {
    [VR_RAX] = UC_X86_REG_RAX, [VR_RCX] = UC_X86_REG_RCX, [VR_RDX] = UC_X86_REG_RDX,
    [VR_RBX] = UC_X86_REG_RBX, [VR_RSP] = UC_X86_REG_RSP, [VR_RBP] = UC_X86_REG_RBP,
    [VR_RSI] = UC_X86_REG_RSI, [VR_RDI] = UC_X86_REG_RDI, [VR_R8] = UC_X86_REG_R8,
    [VR_R9] = UC_X86_REG_R9, [VR_R10] = UC_X86_REG_R10, [VR_R11] = UC_X86_REG_R11,
    [VR_R12] = UC_X86_REG_R12, [VR_R13] = UC_X86_REG_R13, [VR_R14] = UC_X86_REG_R14,
    [VR_R15] = UC_X86_REG_R15, [VR_RIP] = UC_X86_REG_RIP, [VR_RFLAGS] = UC_X86_REG_RFLAGS,
    [VR_CR0] = UC_X86_REG_CR0, [VR_CR2] = UC_X86_REG_CR2, [VR_CR3] = UC_X86_REG_CR3,
    [VR_CR4] = UC_X86_REG_CR4, [VR_CR8] = UC_X86_REG_CR8, [VR_EFER] = -1,
    [VR_DR7] = UC_X86_REG_DR7,
};

#define MSR_EFER 0xC0000080u

uint64_t vcpu_read_reg(struct vcpu *v, int uc_reg)
{
    uint64_t val = 0;
    UC_CHECK(uc_reg_read(v->uc, uc_reg, &val));
    return val;
}

void vcpu_write_reg(struct vcpu *v, int uc_reg, uint64_t val)
{
    UC_CHECK(uc_reg_write(v->uc, uc_reg, &val));
}

uint64_t vcpu_get(struct vcpu *v, enum vcpu_reg r)
{
    if (r == VR_EFER) {
        uint64_t val = 0;
        vcpu_msr_get(v, MSR_EFER, &val);
        return val;
    }
    return vcpu_read_reg(v, uc_regs[r]);
}

void vcpu_set(struct vcpu *v, enum vcpu_reg r, uint64_t val)
{
    if (r == VR_EFER) {
        vcpu_msr_set(v, MSR_EFER, val);
        return;
    }
    vcpu_write_reg(v, uc_regs[r], val);
}

/* MSRs that are CPU state, held in the engine (SDM vol. 4; APM vol. 2 A.7). */
static bool engine_msr(uint32_t msr)
{
    switch (msr) {
    case 0x174: case 0x175: case 0x176:           /* SYSENTER_CS/ESP/EIP */
    case 0x277:                                   /* PAT */
    case 0xC0000080: case 0xC0000081: case 0xC0000082: case 0xC0000083: case 0xC0000084:
    case 0xC0000100: case 0xC0000101: case 0xC0000102: case 0xC0000103:
        return true;
    default:
        return false;
    }
}

bool vcpu_msr_get(struct vcpu *v, uint32_t msr, uint64_t *val)
{
    if (!engine_msr(msr))
        return false;
    uc_x86_msr m = {msr, 0};
    UC_CHECK(uc_reg_read(v->uc, UC_X86_REG_MSR, &m));
    *val = m.value;
    return true;
}

bool vcpu_msr_set(struct vcpu *v, uint32_t msr, uint64_t val)
{
    if (!engine_msr(msr))
        return false;
    uc_x86_msr m = {msr, val};
    UC_CHECK(uc_reg_write(v->uc, UC_X86_REG_MSR, &m));
    return true;
}

/* CPL is 0 in real mode (SDM vol. 3 20.1), CS.RPL otherwise. */
unsigned vcpu_cpl(struct vcpu *v)
{
    if (!(vcpu_read_reg(v, UC_X86_REG_CR0) & 1))
        return 0;
    return (unsigned)(vcpu_read_reg(v, UC_X86_REG_CS) & 3);
}
bool vcpu_if(struct vcpu *v) { return vcpu_get(v, VR_RFLAGS) & RFLAGS_IF; }
bool vcpu_nmi_blocked(const struct vcpu *v) { return v->nmi_blocked; }

void vcpu_nmi_unblock(struct vcpu *v)
{
    v->nmi_blocked = false;
    v->irq_check = true;
}

void cpu_shared_flush_tlbs(struct cpu_shared *s)
{
    for (unsigned i = 0; i < s->nvcpus; i++)
        UC_CHECK(uc_ctl_flush_tlb(s->vcpus[i]->uc));
}
unsigned vcpu_index(const struct vcpu *v) { return v->index; }
void vcpu_kick(struct vcpu *v) { v->irq_check = true; }
void vcpu_get_stats(const struct vcpu *v, struct vcpu_stats *s) { *s = v->stats, s->insns = v->retired; }

/* ---- Instruction accounting ------------------------------------------------ */

/* Exact count while a hook runs at `va`: the block was counted whole at entry. */
static uint64_t exact_at(struct vcpu *v, uint64_t va)
{
    if (!v->cur)
        return v->retired;
    int idx = blk_insn_index(v->cur, va);
    return idx < 0 ? v->retired : v->retired - (uint64_t)(v->cur->icount - idx);
}

static uint64_t hook_rip;   /* RIP of the hook being served (exact count) */
static struct vcpu *hook_vcpu;

uint64_t vcpu_insns(const struct vcpu *v)
{
    if (hook_vcpu == v)
        return exact_at((struct vcpu *)v, hook_rip);
    return v->retired;
}

/* The instruction at va ends the work done in the current block: `retired`
 * keeps it (include) or not, and the rest of the block is not counted. */
static void retire_to(struct vcpu *v, uint64_t va, bool include)
{
    if (v->cur) {
        int idx = blk_insn_index(v->cur, va);
        if (idx >= 0)
            v->retired -= (uint64_t)(v->cur->icount - idx - (include ? 1 : 0));
    }
    v->cur = NULL;
}

/* ---- Delivery --------------------------------------------------------------- */

static void shutdown(struct vcpu *v, const char *reason, uint64_t rip)
{
    v->stop = VCPU_STOP_SHUTDOWN;
    v->cb->shutdown(v->ctx, v, reason, rip);
    uc_emu_stop(v->uc);
}

int vcpu_deliver(struct vcpu *v, const struct vcpu_event *ev)
{
    uint64_t rip = vcpu_get(v, VR_RIP);
    if (ev->type == VEV_EXCEPTION)
        v->stats.exceptions++;
    else
        v->stats.interrupts++;
    /* A vCPU that only takes events never retires an instruction, so no
     * instruction budget would ever end its run: report it instead. */
    if (v->retired != v->deliv_mark) {
        v->deliv_mark = v->retired;
        v->deliv_streak = 0;
    }
    if (++v->deliv_streak > VCPU_NO_PROGRESS) {
        shutdown(v, "no instruction retired across " XSTR(VCPU_NO_PROGRESS)
                    " consecutive event deliveries", rip);
        return -1;
    }
    if (idt_deliver(v, ev) < 0) {
        shutdown(v, "triple fault", rip);
        return -1;
    }
    v->irq_check = true; /* something else may be pending behind it */
    return 0;
}

static void raise_exc(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error, uint64_t cr2)
{
    struct vcpu_event ev = {VEV_EXCEPTION, vector, has_error, error, cr2};
    vcpu_deliver(v, &ev);
}

/* At a block boundary (nothing of the block at pc has run): take an event? */
static bool irq_window(struct vcpu *v)
{
    struct vcpu_event ev;
    int r = v->cb->pending(v->ctx, v, vcpu_if(v), !v->nmi_blocked, &ev);
    if (r == 0)
        v->irq_check = false;
    if (r <= 0)
        return false;
    v->cur = NULL;
    vcpu_deliver(v, &ev);
    return true;
}

/* ---- Hooks ------------------------------------------------------------------ */

/* The block hook's common case: a block seen before, on pages nobody wrote
 * since (decode.c: blk_hot), with no mode re-read, stop request, interrupt
 * check or end of quantum due. Returns false when the full path must look. */
static inline bool on_block_hot(struct vcpu *v, uint64_t pc, uint32_t size)
{
    const struct blk_hot *h = blk_hot_slot(v->blk_hot, pc);
    if (h->pc != pc || h->size != size || h->bits != v->code_bits ||
        h->gen != (uint32_t)v->mem->code_written ||
        (v->mode_check | v->stop_at_block | v->irq_check) || v->retired >= v->budget_end)
        return false;
    v->shadow_pc = h->ends_in_shadow ? pc + size : UINT64_MAX;
    v->cur = h->b;
    v->retired += h->icount;
    return true;
}

/* Everything else at a block's entry: out of line, so that the common case
 * above needs no stack frame. */
static __attribute__((noinline)) void on_block_full(uc_engine *uc, uint64_t pc, uint32_t size,
                                                     struct vcpu *v)
{
    if (unlikely(v->mode_check))
        mode_refresh(v); /* after a far transfer: the code size may differ */
    /* A slot that matches the key holds the table's live block for it: a
     * block leaves its slot when it dies (blk_stale, blk_grow). */
    const struct blk_hot *h = v->blk_hot ? blk_hot_slot(v->blk_hot, pc) : NULL;
    struct blk *b = h && h->pc == pc && h->size == size && h->bits == v->code_bits
                        ? h->b
                        : blk_lookup(v, pc, size);
    if (unlikely(b && blk_watched(v, b)) && blk_stale(v, b)) {
        /* Its code changed since this engine translated it (decode.c): drop
         * the translation and abort the block, so it is translated again. */
        v->cur = NULL;
        UC_CHECK(uc_ctl_remove_cache(uc, pc, pc + size));
        vcpu_write_reg(v, UC_X86_REG_RIP, pc - v->cs_base); /* pc is linear */
        return;
    }
    if (unlikely(!b)) {
        bool restart;
        v->cur = NULL;
        b = blk_decode(v, pc, size, &restart);
        if (restart) {
            /* New exact-address hooks: drop the translation, then abort the
             * block before it runs (a RIP write in a block hook does that), so
             * it is retranslated with the hooks compiled in. */
            UC_CHECK(uc_ctl_remove_cache(uc, pc, pc + size));
            vcpu_write_reg(v, UC_X86_REG_RIP, pc - v->cs_base);
            return;
        }
    }
    blk_hot_fill(v, b);
    if (unlikely(v->retired >= v->budget_end || v->stop_at_block)) {
        v->cur = NULL;
        v->stop = v->stop_at_block ? VCPU_STOP_REQUEST : VCPU_STOP_QUANTUM;
        v->stop_at_block = false;
        uc_emu_stop(uc);
        return;
    }
    /* The instruction after STI or MOV SS runs before any interrupt (SDM 6.8.3):
     * the first boundary after it is the next block's start. */
    bool shadowed = pc == v->shadow_pc;
    v->shadow_pc = b->ends_in_shadow ? pc + size : UINT64_MAX;
    if (unlikely(v->irq_check) && !shadowed && (irq_window(v) || v->stop != VCPU_RUNNING))
        return;
    v->cur = b;
    v->retired += b->icount;
}

static void on_block(uc_engine *uc, uint64_t pc, uint32_t size, void *ud)
{
    struct vcpu *v = ud;
    if (likely(v->blk_hot != NULL) && on_block_hot(v, pc, size))
        return;
    on_block_full(uc, pc, size, v);
}

size_t cpu_fetch_insn(struct vcpu *v, uint64_t rip, uint8_t buf[16])
{
    uint32_t pf;
    uint64_t fva;
    size_t n = 16;
    /* The instruction may end near an unmapped page: shrink until readable. */
    uint64_t lin = rip + v->cs_base; /* rip is CS-relative */
    while (n && lin_read(v, lin, buf, n, LIN_FETCH, &pf, &fva) < 0)
        n = fva > lin ? (size_t)(fva - lin) : 0;
    return n;
}

/* Instruction length at rip (for the Unicorn-hooked instructions). */
static uint8_t insn_len(struct vcpu *v, uint64_t rip)
{
    uint8_t buf[16];
    size_t n = cpu_fetch_insn(v, rip, buf);
    cs_insn *in = NULL;
    uint8_t len = 0;
    if (n && cs_disasm(v->cs, buf, n, rip, 1, &in) == 1) {
        len = (uint8_t)in->size;
        cs_free(in, 1);
    }
    SNP_ASSERT(len);
    return len;
}

static enum vcpu_action call_model(struct vcpu *v, struct vcpu_exit *e)
{
    v->stats.intercepts++;
    hook_vcpu = v;
    hook_rip = e->rip + v->cs_base;
    enum vcpu_action a = v->cb->intercept(v->ctx, v, e);
    hook_vcpu = NULL;
    return a;
}

/* After the model answered an exact-address intercept. */
static void finish(struct vcpu *v, struct vcpu_exit *e, enum vcpu_action a)
{
    switch (a) {
    case VCPU_RAISE:
        retire_to(v, e->rip + v->cs_base, false);
        vcpu_set(v, VR_RIP, e->rip);
        raise_exc(v, e->exc_vector, e->exc_has_error, e->exc_error, e->exc_cr2);
        return;
    case VCPU_RAISE_TRAP:
        retire_to(v, e->rip + v->cs_base, true);
        vcpu_set(v, VR_RIP, e->next_rip);
        raise_exc(v, e->exc_vector, e->exc_has_error, e->exc_error, e->exc_cr2);
        return;
    case VCPU_RETRY:
        retire_to(v, e->rip + v->cs_base, false);
        vcpu_set(v, VR_RIP, e->rip);
        return;
    case VCPU_NEXT:
    case VCPU_HALT:
    case VCPU_STOP:
    case VCPU_RESTARTED:
        retire_to(v, e->rip + v->cs_base, true);
        if (a != VCPU_RESTARTED)
            vcpu_set(v, VR_RIP, e->next_rip);
        if (a == VCPU_HALT)
            v->stop = VCPU_STOP_HALT;
        else if (a == VCPU_STOP || a == VCPU_RESTARTED)
            v->stop = VCPU_STOP_REQUEST;
        if (a != VCPU_NEXT)
            uc_emu_stop(v->uc);
        return;
    }
}

static const struct {
    uint64_t code;
    const char *name;
} icpt_exit[] = {
    [IK_RDMSR] = {SVM_EXIT_MSR, "rdmsr"},     [IK_WRMSR] = {SVM_EXIT_MSR, "wrmsr"},
    [IK_RDPMC] = {SVM_EXIT_RDPMC, "rdpmc"},   [IK_HLT] = {SVM_EXIT_HLT, "hlt"},
    [IK_MONITOR] = {SVM_EXIT_MONITOR, "monitor"}, [IK_MWAIT] = {SVM_EXIT_MWAIT, "mwait"},
    [IK_WBINVD] = {SVM_EXIT_WBINVD, "wbinvd"}, [IK_INVD] = {SVM_EXIT_INVD, "invd"},
    [IK_INS] = {SVM_EXIT_IOIO, "ins"},        [IK_OUTS] = {SVM_EXIT_IOIO, "outs"},
    [IK_CPUID] = {SVM_EXIT_CPUID, "cpuid"},   [IK_RDTSC] = {SVM_EXIT_RDTSC, "rdtsc"},
    [IK_RDTSCP] = {SVM_EXIT_RDTSCP, "rdtscp"}, [IK_IN] = {SVM_EXIT_IOIO, "in"},
    [IK_OUT] = {SVM_EXIT_IOIO, "out"},        [IK_DR7_RD] = {SVM_EXIT_READ_DR7, "mov dr7 (read)"},
    [IK_DR7_WR] = {SVM_EXIT_WRITE_DR7, "mov dr7 (write)"},
    [IK_CR8_RD] = {SVM_EXIT_READ_CR8, "mov cr8 (read)"},
    [IK_CR8_WR] = {SVM_EXIT_WRITE_CR8, "mov cr8 (write)"},
};

/* IN/OUT decoded at an exact address (SEV-ES): the exit, and for NEXT the effect. */
static void port_exit(struct vcpu *v, const struct icpt *c, struct vcpu_exit *e)
{
    e->port = c->port < 0 ? (uint16_t)vcpu_get(v, VR_RDX) : (uint16_t)c->port;
    e->size = c->opsize;
    e->in = c->kind == IK_IN;
    uint64_t mask = e->size == 4 ? 0xFFFFFFFFull : (1ull << (e->size * 8)) - 1;
    if (!e->in)
        e->data = vcpu_get(v, VR_RAX) & mask;
    e->info1 = (uint64_t)e->port << SVM_IOIO_PORT_SHIFT | (e->in ? SVM_IOIO_TYPE_IN : 0) |
               (e->size == 1 ? SVM_IOIO_SZ8 : e->size == 2 ? SVM_IOIO_SZ16 : SVM_IOIO_SZ32);
    e->info2 = e->next_rip;
}

/* The effect of an instruction the model answered with VCPU_NEXT at an exact
 * address (the instruction itself does not run: RIP moves past it). */
static void apply_next(struct vcpu *v, const struct icpt *c, const struct vcpu_exit *e)
{
    switch (c->kind) {
    case IK_IN: {
        uint64_t mask = e->size == 4 ? 0xFFFFFFFFull : (1ull << (e->size * 8)) - 1;
        uint64_t rax = vcpu_get(v, VR_RAX);
        /* A 32-bit result zero-extends; 8/16-bit ones merge (SDM "IN"). */
        vcpu_set(v, VR_RAX, e->size == 4 ? (e->data & mask) : (rax & ~mask) | (e->data & mask));
        break;
    }
    case IK_RDTSC:
    case IK_RDTSCP:
        vcpu_set(v, VR_RAX, e->data & 0xFFFFFFFFu);
        vcpu_set(v, VR_RDX, e->data >> 32);
        break;
    case IK_CR8_RD:
        vcpu_set(v, (enum vcpu_reg)(VR_RAX + c->gpr), e->data);
        break;
    default:
        break;
    }
}

/* SYSCALL, SYSRET, RDPID and MOV to CR: the CPU model's own (priv.c, ctlreg.c); and
 * the faults that come before an intercept (a privileged instruction at CPL 3).
 * false when the instruction goes on to its intercept. */
static bool cpu_insn(struct vcpu *v, const struct icpt *c, uint64_t addr)
{
    uint64_t rip = addr - v->cs_base; /* hooks see linear addresses */
    enum insn_result r;
    switch (c->kind) {
    case IK_SYSCALL: r = cpu_syscall(v, rip + c->len); break;
    case IK_SYSRET: r = cpu_sysret(v, c->rex_w); break;
    case IK_RDRAND: r = cpu_rdrand(v, c->gpr, c->opsize, rip + c->len); break;
    case IK_RDPID: r = cpu_rdpid(v, c->gpr, rip + c->len); break;
    case IK_MOV_CR: {
        /* Outside 64-bit mode the source is a 32-bit register. */
        uint64_t val = vcpu_get(v, (enum vcpu_reg)(VR_RAX + (c->gpr & 15)));
        r = cpu_mov_to_cr(v, c->cr, v->code_bits == 64 ? val : (uint32_t)val);
        break;
    }
    default:
        r = cpu_icpt_check(v, c);
        if (r == INSN_NATIVE)
            return false; /* on to the intercept */
        break;
    }
    if (r == INSN_DONE) {
        retire_to(v, addr, true);
    } else if (r == INSN_UD || r == INSN_GP) {
        retire_to(v, addr, false);
        vcpu_set(v, VR_RIP, rip);
        raise_exc(v, r == INSN_UD ? X86_UD : X86_GP, r == INSN_GP, 0, 0);
    }
    return true; /* INSN_NATIVE: the engine goes on and performs it */
}

void on_icpt(uc_engine *uc, uint64_t addr, uint32_t size, void *ud);
void on_icpt(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
    (void)uc;
    (void)size;
    struct vcpu *v = ud;
    struct icpt *c = icpt_find(v, addr);
    if (!c || !c->live)
        return;
    if (c->kind == IK_FAR || c->kind == IK_IRET)
        v->mode_check = true; /* re-read the code size at the next block */
    if (c->kind == IK_FAR || cpu_insn(v, c, addr))
        return;
    if (c->kind == IK_IRET) {
        /* IRET ends NMI blocking (SDM 6.7.1); the instruction itself runs
         * natively. Under SEV-ES the hypervisor cannot see IRET: blocking ends
         * with NMI_COMPLETE instead (vcpu_nmi_unblock). */
        if (v->nmi_blocked && !v->sev_es) {
            v->nmi_blocked = false;
            v->irq_check = true;
        }
        return;
    }
    uint64_t rip = addr - v->cs_base; /* hooks see linear addresses */
    struct vcpu_exit e = {.code = icpt_exit[c->kind].code, .name = icpt_exit[c->kind].name,
                          .rip = rip, .next_rip = rip + c->len};
    if (c->kind == IK_WRMSR)
        e.info1 = 1;
    if (c->kind == IK_INS || c->kind == IK_OUTS) {
        e.port = (uint16_t)vcpu_get(v, VR_RDX);
        e.size = c->opsize;
        e.in = c->kind == IK_INS;
        e.string = true;
        e.rep = c->rep;
        e.info1 = (uint64_t)e.port << SVM_IOIO_PORT_SHIFT | SVM_IOIO_STR |
                  (e.in ? SVM_IOIO_TYPE_IN : 0) | (e.rep ? SVM_IOIO_REP : 0) |
                  (e.size == 1 ? SVM_IOIO_SZ8 : e.size == 2 ? SVM_IOIO_SZ16 : SVM_IOIO_SZ32) |
                  (c->addr_size == 2 ? SVM_IOIO_A16 : c->addr_size == 4 ? SVM_IOIO_A32 : SVM_IOIO_A64) |
                  (e.in ? 0u : 3u) << SVM_IOIO_SEG_SHIFT;
        e.info2 = e.next_rip;
    }
    if (c->kind == IK_IN || c->kind == IK_OUT)
        port_exit(v, c, &e);
    if (c->kind == IK_CR8_RD || c->kind == IK_CR8_WR) {
        /* At CPL > 0 cpu_icpt_check() raised #GP(0) already. */
        e.info1 = SVM_EXIT_CR_MOV | c->gpr;
        if (c->kind == IK_CR8_WR)
            e.data = vcpu_get(v, (enum vcpu_reg)(VR_RAX + c->gpr));
    }
    enum vcpu_action a = call_model(v, &e);
    if (a == VCPU_NEXT)
        apply_next(v, c, &e);
    finish(v, &e, a);
}

static int on_cpuid(uc_engine *uc, void *ud)
{
    (void)uc;
    struct vcpu *v = ud;
    uint64_t rip = vcpu_get(v, VR_RIP);
    struct vcpu_exit e = {.code = SVM_EXIT_CPUID, .name = "cpuid", .rip = rip,
                          .next_rip = rip + 2};
    enum vcpu_action a = call_model(v, &e);
    SNP_ASSERT(a == VCPU_NEXT); /* the model writes RAX..RDX */
    return 1;                   /* skip the instruction */
}

static int on_rdtsc(uc_engine *uc, void *ud, bool p)
{
    (void)uc;
    struct vcpu *v = ud;
    uint64_t rip = vcpu_get(v, VR_RIP);
    struct vcpu_exit e = {.code = p ? SVM_EXIT_RDTSCP : SVM_EXIT_RDTSC,
                          .name = p ? "rdtscp" : "rdtsc", .rip = rip,
                          .next_rip = rip + (p ? 3 : 2)};
    enum vcpu_action a = call_model(v, &e);
    SNP_ASSERT(a == VCPU_NEXT);
    vcpu_set(v, VR_RAX, e.data & 0xFFFFFFFFu);
    vcpu_set(v, VR_RDX, e.data >> 32);
    if (p) {
        uint64_t aux = 0;
        vcpu_msr_get(v, 0xC0000103, &aux);
        vcpu_set(v, VR_RCX, aux & 0xFFFFFFFFu);
    }
    return 1;
}
static int on_rdtsc0(uc_engine *uc, void *ud) { return on_rdtsc(uc, ud, false); }
static int on_rdtscp(uc_engine *uc, void *ud) { return on_rdtsc(uc, ud, true); }

static void io_exit(struct vcpu *v, uint32_t port, int size, bool in, uint64_t data,
                    struct vcpu_exit *e)
{
    uint64_t rip = vcpu_get(v, VR_RIP);
    *e = (struct vcpu_exit){.code = SVM_EXIT_IOIO, .name = in ? "in" : "out", .rip = rip,
                            .port = (uint16_t)port, .size = (uint8_t)size, .in = in,
                            .data = data};
    e->next_rip = rip + insn_len(v, rip);
    e->info1 = (uint64_t)port << SVM_IOIO_PORT_SHIFT | (in ? SVM_IOIO_TYPE_IN : 0) |
               (size == 1 ? SVM_IOIO_SZ8 : size == 2 ? SVM_IOIO_SZ16 : SVM_IOIO_SZ32);
    e->info2 = e->next_rip;
}

/* After an IN/OUT the model answered: the instruction completes in Unicorn,
 * unless the model ends the run here (exit port). */
static void io_done(struct vcpu *v, struct vcpu_exit *e, enum vcpu_action a)
{
    SNP_ASSERT(a == VCPU_NEXT || a == VCPU_STOP || a == VCPU_HALT);
    if (a != VCPU_NEXT)
        finish(v, e, a);
}

static uint32_t on_in(uc_engine *uc, uint32_t port, int size, void *ud)
{
    (void)uc;
    struct vcpu *v = ud;
    struct vcpu_exit e;
    io_exit(v, port, size, true, 0, &e);
    io_done(v, &e, call_model(v, &e));
    return (uint32_t)e.data;
}

static void on_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *ud)
{
    (void)uc;
    struct vcpu *v = ud;
    struct vcpu_exit e;
    io_exit(v, port, size, false, value, &e);
    io_done(v, &e, call_model(v, &e));
}

/*
 * PVALIDATE (F2 0F 01 FF) and RMPADJUST (F3 0F 01 FE) under SNP: the CPU
 * translates the virtual address in RAX (a #PF if it cannot) and hands the
 * guest-physical page to the model (VCPU_INSN_*). Returns 0 with e filled, or
 * -1: not one of them (#UD), or a translation fault in e->exc_*.
 */
static int snp_insn(struct vcpu *v, const uint8_t *b, struct vcpu_exit *e)
{
    bool pval = b[0] == 0xF2 && b[1] == 0x0F && b[2] == 0x01 && b[3] == 0xFF;
    bool adj = b[0] == 0xF3 && b[1] == 0x0F && b[2] == 0x01 && b[3] == 0xFE;
    if (!pval && !adj)
        return -1;
    uint64_t va = vcpu_get(v, VR_RAX);
    struct pg_result r;
    if (pg_walk(v, va, PG_READ, PG_SUPER, true, &r) < 0) {
        e->exc_vector = r.fault == PGF_GP ? X86_GP : X86_PF;
        e->exc_error = r.fault == PGF_PF ? r.pf_error : 0;
        e->exc_cr2 = va;
        if (r.fault != PGF_PF && r.fault != PGF_GP)
            e->exc_vector = X86_PF, e->exc_error = PFERR_P | PFERR_RMP;
        return -1;
    }
    e->code = pval ? VCPU_INSN_PVALIDATE : VCPU_INSN_RMPADJUST;
    e->name = pval ? "pvalidate" : "rmpadjust";
    e->next_rip = e->rip + 4;
    e->info1 = r.gpa;
    e->info2 = vcpu_get(v, VR_RCX);
    return 0;
}

/*
 * RMPUPDATE (F2 0F 01 FE) and PSMASH (F3 0F 01 FF), the SNP host's
 * instructions (Linux arch/x86/virt/svm/sev.c rmpupdate(), __snp_psmash()),
 * when the config grants them. CPL 0 only (#GP(0) above, AMD APM vol. 3).
 * RMPUPDATE's 16-byte state is read at the linear address in RCX with the
 * permissions of a data read (a #PF if it cannot be). Returns 0 with e filled
 * for the model, -1 if not one of them, 1 with an exception in e->exc_*.
 */
static int host_rmp_insn(struct vcpu *v, const uint8_t *b, struct vcpu_exit *e)
{
    bool upd = b[0] == 0xF2 && b[1] == 0x0F && b[2] == 0x01 && b[3] == 0xFE;
    bool smash = b[0] == 0xF3 && b[1] == 0x0F && b[2] == 0x01 && b[3] == 0xFF;
    if (!upd && !smash)
        return -1;
    if (vcpu_cpl(v) != 0) {
        e->exc_vector = X86_GP, e->exc_has_error = true, e->exc_error = 0;
        return 1;
    }
    e->code = upd ? VCPU_INSN_RMPUPDATE : VCPU_INSN_PSMASH;
    e->name = upd ? "rmpupdate" : "psmash";
    e->next_rip = e->rip + 4;
    e->info1 = vcpu_get(v, VR_RAX);
    if (upd) {
        uint64_t st[2], va = vcpu_get(v, VR_RCX);
        uint32_t pf;
        uint64_t fva;
        if (lin_read(v, va, st, sizeof(st), LIN_DATA, &pf, &fva) < 0) {
            e->exc_vector = X86_PF, e->exc_has_error = true, e->exc_error = pf;
            e->exc_cr2 = fva;
            return 1;
        }
        e->info2 = st[0];
        e->data = st[1];
    }
    return 0;
}

/* VMMCALL and VMGEXIT are intercepts; anything else Unicorn cannot decode is #UD. */
static bool on_invalid(uc_engine *uc, void *ud)
{
    (void)uc;
    struct vcpu *v = ud;
    uint64_t rip = vcpu_get(v, VR_RIP);
    uint8_t b[4] = {0};
    uint32_t pf;
    uint64_t fva;
    lin_read(v, rip + v->cs_base, b, sizeof(b), LIN_FETCH, &pf, &fva);
    static const uint8_t vmmcall[3] = {0x0F, 0x01, 0xD9};
    struct vcpu_exit e = {.rip = rip};
    int hr = -1;
    if (!memcmp(b, vmmcall, 3)) {
        e.code = SVM_EXIT_VMMCALL, e.name = "vmmcall", e.next_rip = rip + 3;
    } else if (b[0] == 0xF3 && !memcmp(b + 1, vmmcall, 3)) {
        e.code = SVM_EXIT_VMGEXIT, e.name = "vmgexit", e.next_rip = rip + 4;
    } else if (v->snp && snp_insn(v, b, &e) == 0) {
        ; /* PVALIDATE / RMPADJUST for the model */
    } else if (v->host_rmp && !e.exc_vector && (hr = host_rmp_insn(v, b, &e)) == 0) {
        ; /* RMPUPDATE / PSMASH for the model */
    } else if (hr == 1) {
        retire_to(v, rip + v->cs_base, false);
        raise_exc(v, e.exc_vector, true, e.exc_error, e.exc_cr2);
        return true;
    } else if (v->snp && e.exc_vector) {
        retire_to(v, rip + v->cs_base, false);
        raise_exc(v, e.exc_vector, true, e.exc_error, e.exc_cr2);
        return true;
    } else {
        retire_to(v, rip + v->cs_base, false);
        raise_exc(v, X86_UD, false, 0, 0);
        return true;
    }
    finish(v, &e, call_model(v, &e));
    return true;
}

static bool has_error(unsigned vec)
{
    return vec == X86_DF || vec == X86_TS || vec == X86_NP || vec == X86_SS || vec == X86_GP ||
           vec == X86_PF || vec == X86_AC;
}

/* Exceptions and software interrupts the engine raised. For a fault RIP is the
 * faulting instruction; for INT n/INT3/INTO it is the next one, which is how
 * the two are told apart: a software interrupt ends its block. */
static void on_intr(uc_engine *uc, uint32_t intno, void *ud)
{
    (void)uc;
    struct vcpu *v = ud;
    uint64_t rip = vcpu_get(v, VR_RIP);
    struct blk *b = v->cur;
    bool soft = b && b->ends_in_int && rip + v->cs_base == b->pc + b->size &&
                intno == b->int_vector;
    if (soft) {
        v->cur = NULL;
        struct vcpu_event ev = {VEV_SOFTINT, (uint8_t)intno, false, 0, 0};
        v->softint_rip = b->pc + b->offs[b->icount - 1] - v->cs_base;
        vcpu_deliver(v, &ev);
        v->softint_rip = UINT64_MAX;
        return;
    }
    if (v->sev_es && (intno == X86_DB || intno == X86_AC)) {
        /* KVM intercepts #DB and #AC of SEV-ES guests: they arrive as #VC with
         * the exception's exit code, which the guest handles locally (fact
         * sheet 5.1: 0x41, 0x51). */
        retire_to(v, rip + v->cs_base, false);
        raise_exc(v, X86_VC, true, (uint32_t)(SVM_EXIT_EXCP_BASE + intno), 0);
        return;
    }
    uint32_t err = has_error(intno) ? fault_error_code(v, intno, rip) : 0;
    /* Contributory faults, #PF and #DF latch in Unicorn (ucquirk.c). */
    if (intno == X86_DE || intno == X86_DF || (intno >= X86_TS && intno <= X86_PF))
        ucq_clear_old_exception(v);
    retire_to(v, rip + v->cs_base, false);
    raise_exc(v, (uint8_t)intno, has_error(intno), err,
              intno == X86_PF ? vcpu_get(v, VR_CR2) : 0);
}

/* Whether this MMIO callback is to be performed now (cpu_int.h "Exact MMIO
 * timing"); if not, the run ends at the instruction, which runs again. */
static bool mmio_now(struct vcpu *v)
{
    if (v->mmio_discard) {
        v->mmio_n++;
        return false;
    }
    if (v->cur && v->cur->pc == v->mmio_pc && v->mmio_left) {
        v->mmio_left--;
        return true;
    }
    v->mmio_discard = true;
    v->mmio_n = 1;
    uc_emu_stop(v->uc);
    return false;
}

/* After a run that mmio_now() ended: the accessing instruction has not retired. */
static void mmio_restart(struct vcpu *v)
{
    uint64_t pc = vcpu_get(v, VR_RIP) + v->cs_base; /* linear, as block addresses */
    retire_to(v, pc, false);
    v->mmio_discard = false;
    v->mmio_pc = pc;
    v->mmio_left = v->mmio_n;
}

static uint64_t on_mmio_read(uc_engine *uc, uint64_t off, unsigned size, void *ud)
{
    (void)uc;
    struct vcpu *v = ud;
    if (!mmio_now(v))
        return 0;
    hook_vcpu = v, hook_rip = v->mmio_pc, v->in_mmio = true;
    uint64_t val = v->cb->mmio_read(v->ctx, v, v->mem->size + off, size);
    hook_vcpu = NULL, v->in_mmio = false;
    return val;
}

/* The DRAM view of SEV-ES RAM (VCPU_DRAM_VIEW_BASE): what memory holds, a
 * private page's ciphertext, a shared page's plaintext, read as it is now. */
static uint64_t on_dram_view_read(uc_engine *uc, uint64_t off, unsigned size, void *ud)
{
    (void)uc;
    struct vcpu *v = ud;
    uint64_t val = 0;
    SNP_ASSERT(size <= sizeof(val) && mem_hv_read(v->mem, off, &val, size));
    return val;
}

/* Its entries are read-only, so no store lands here; one would be a C=0 store
 * (cpu/paging.c): plaintext, and the page shared from then on. */
static void on_dram_view_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t val, void *ud)
{
    (void)uc;
    struct vcpu *v = ud;
    mem_set_owner(v->mem, off & MEM_PAGE_MASK, 0);
    SNP_ASSERT(mem_write(v->mem, off, &val, size));
}

static void on_mmio_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t val, void *ud)
{
    (void)uc;
    struct vcpu *v = ud;
    if (!mmio_now(v))
        return;
    hook_vcpu = v, hook_rip = v->mmio_pc, v->in_mmio = true;
    v->cb->mmio_write(v->ctx, v, v->mem->size + off, size, val);
    hook_vcpu = NULL, v->in_mmio = false;
}

/* ---- Faults found at TLB fill ---------------------------------------------- */

/* The first instruction from rip on whose bytes reach `page`: the one a
 * fetch fault on that page belongs to (a block is straight-line code). */
static uint64_t insn_reaching(struct vcpu *v, uint64_t rip, uint64_t page)
{
    size_t n = (size_t)(page - rip);
    uint8_t *buf = malloc(n);
    SNP_ASSERT(buf);
    uint32_t pf;
    uint64_t fva, at = rip;
    if (lin_read(v, rip, buf, n, LIN_FETCH, &pf, &fva) == 0) {
        const uint8_t *code = buf;
        cs_insn *in = cs_malloc(v->cs);
        while (cs_disasm_iter(v->cs, &code, &n, &at, in))
            ;
        cs_free(in, 1);
    }
    free(buf);
    return at;
}

/* A fetch fault reported at a block start may belong to a later instruction of
 * the block: the translator reads the whole block before any of it runs, so a
 * one-instruction count cannot get past it. Run to the instruction that
 * reaches the faulting page with a Unicorn exit there (the translator stops
 * before fetching it), then drop that translation. Leaves v->fault invalid
 * when the run ended (HLT, quantum...) before getting there. */
static void step_to_fault(struct vcpu *v)
{
    struct pending_fault f = v->fault;
    uint64_t rip = vcpu_get(v, VR_RIP) + v->cs_base; /* linear, as f.va */
    if (f.access != UC_MEM_FETCH || rip >= f.va || f.va - rip > 2 * MEM_PAGE_SIZE)
        return;
    uint64_t at = insn_reaching(v, rip, f.va);
    if (at == rip)
        return;
    UC_CHECK(uc_ctl_set_exits(v->uc, &at, 1));
    v->fault.valid = false;
    for (int i = 0; i < 4096 && !v->fault.valid && v->stop == VCPU_RUNNING; i++) {
        uint64_t pc = vcpu_get(v, VR_RIP);
        if (pc + v->cs_base == at)
            break;
        v->cur = NULL;
        if (uc_emu_start(v->uc, pc, 0, 0, 0) != UC_ERR_OK)
            break;
    }
    UC_CHECK(uc_ctl_set_exits(v->uc, NULL, 0));
    UC_CHECK(uc_ctl_remove_cache(v->uc, rip, at + 1));
    if (v->stop != VCPU_RUNNING)
        v->fault.valid = false;
    else if (!v->fault.valid)
        v->fault = f;
}

static void deliver_tlb_fault(struct vcpu *v)
{
    step_to_fault(v);
    if (!v->fault.valid)
        return;
    struct pending_fault f = v->fault;
    v->fault.valid = false;
    uint64_t rip = vcpu_get(v, VR_RIP);
    if (f.access == UC_MEM_FETCH)
        v->cur = NULL; /* the faulting block never ran */
    retire_to(v, rip + v->cs_base, false);
    switch (f.kind) {
    case PGF_UNBACKED:
        shutdown(v, "access to a guest-physical address with neither RAM nor MMIO", rip);
        return;
    case PGF_GP:
        raise_exc(v, X86_GP, true, 0, 0);
        return;
    case PGF_VC:
        raise_exc(v, X86_VC, true, f.error, 0);
        return;
    case PGF_NPF:
        /* The hypervisor decides: fix and retry the instruction, or end the run. */
        if (v->cb->npf(v->ctx, v, f.npf_gpa, f.npf_error) == VCPU_STOP && v->stop == VCPU_RUNNING)
            v->stop = VCPU_STOP_REQUEST;
        return;
    case PGF_PF:
    case PGF_NONE:
        break;
    }
    raise_exc(v, X86_PF, true, f.error, fault_linear_address(v, rip, f.va, f.access));
}

/* ---- Run loop ---------------------------------------------------------------- */

enum vcpu_stop vcpu_run(struct vcpu *v, uint64_t budget)
{
    v->stop = VCPU_RUNNING;
    v->stop_at_block = v->mmio_discard = false;
    v->budget_end = v->retired + budget;
    v->irq_check = true;
    unsigned idle = 0;
    while (v->stop == VCPU_RUNNING) {
        uint64_t before = v->retired;
        v->cur = NULL;
        v->fault.valid = false;
        uc_err err = uc_emu_start(v->uc, vcpu_get(v, VR_RIP), 0, 0, 0);
        if (v->mmio_discard) {
            mmio_restart(v);
            if (v->stop == VCPU_RUNNING)
                continue;
        }
        if (v->stop != VCPU_RUNNING)
            break;
        if (v->fault.valid) {
            /* v->cur is still the block of a faulting data access: the
             * instructions after it in the block must not count. */
            deliver_tlb_fault(v);
            continue;
        }
        v->cur = NULL;
        if (err == UC_ERR_OK) {
            /* Unicorn returns after a RIP write in a hook; that is progress too. */
            if (v->retired == before && ++idle > 100000)
                SNP_PANIC("vCPU %u makes no progress at RIP %#llx", v->index,
                          (unsigned long long)vcpu_get(v, VR_RIP));
            continue;
        }
        idle = 0;
        uint64_t rip = vcpu_get(v, VR_RIP);
        switch (err) {
        case UC_ERR_INSN_INVALID:
            retire_to(v, rip + v->cs_base, false);
            raise_exc(v, X86_UD, false, 0, 0);
            break;
        case UC_ERR_READ_UNMAPPED:
        case UC_ERR_WRITE_UNMAPPED:
        case UC_ERR_FETCH_UNMAPPED:
            shutdown(v, "access to a guest-physical address with neither RAM nor MMIO", rip);
            break;
        default:
            SNP_PANIC("vCPU %u: Unicorn stopped at RIP %#llx: %s", v->index,
                      (unsigned long long)rip, uc_strerror(err));
        }
    }
    v->cur = NULL;
    return v->stop;
}

void vcpu_limit(struct vcpu *v, uint64_t insns)
{
    uint64_t end = vcpu_insns(v) + insns;
    if (end < v->budget_end)
        v->budget_end = end;
}

void vcpu_request_stop(struct vcpu *v)
{
    if (v->in_mmio) {
        v->stop_at_block = true; /* the rest of the block runs first */
        return;
    }
    v->stop = VCPU_STOP_REQUEST;
    uc_emu_stop(v->uc);
}

void vcpu_init_reset(struct vcpu *v)
{
    v->nmi_blocked = false;
    v->irq_check = false;
    v->fault.valid = false;
    v->cur = NULL;
}

/* ---- Creation ---------------------------------------------------------------- */

struct cpu_shared *cpu_shared_create(struct mem *mem)
{
    struct cpu_shared *s = calloc(1, sizeof(*s));
    SNP_ASSERT(s);
    s->mem = mem;
    s->npages = mem->size >> MEM_PAGE_SHIFT;
    /* One more entry, always NONE, for blocks on no RAM page. */
    s->code = calloc(s->npages + 1, 1);
    SNP_ASSERT(s->code && !mem->code);
    /* Each page turns WRITTEN at most 1 + MEM_CODE_REARMS times, so the hot
     * blocks' 32-bit copy of mem.code_written never wraps (decode.c). */
    SNP_ASSERT(s->npages < UINT32_MAX / (1 + MEM_CODE_REARMS));
    mem->code = s->code;
    return s;
}

void cpu_shared_destroy(struct cpu_shared *s)
{
    if (!s)
        return;
    if (s->mem->code == s->code)
        s->mem->code = NULL;
    free(s->code);
    free(s->vcpus);
    free(s);
}

static void add_hooks(struct vcpu *v)
{
    uc_hook h;
    UC_CHECK(uc_hook_add(v->uc, &h, UC_HOOK_TLB_FILL, (void *)pg_tlb_fill, v, 1, 0));
    UC_CHECK(uc_hook_add(v->uc, &h, UC_HOOK_BLOCK, (void *)on_block, v, 1, 0));
    UC_CHECK(uc_hook_add(v->uc, &h, UC_HOOK_INTR, (void *)on_intr, v, 1, 0));
    UC_CHECK(uc_hook_add(v->uc, &h, UC_HOOK_INSN_INVALID, (void *)on_invalid, v, 1, 0));
    UC_CHECK(uc_hook_add(v->uc, &h, UC_HOOK_INSN, (void *)on_cpuid, v, 1, 0, UC_X86_INS_CPUID));
    UC_CHECK(uc_hook_add(v->uc, &h, UC_HOOK_INSN, (void *)on_rdtsc0, v, 1, 0, UC_X86_INS_RDTSC));
    UC_CHECK(uc_hook_add(v->uc, &h, UC_HOOK_INSN, (void *)on_rdtscp, v, 1, 0, UC_X86_INS_RDTSCP));
    UC_CHECK(uc_hook_add(v->uc, &h, UC_HOOK_INSN, (void *)on_in, v, 1, 0, UC_X86_INS_IN));
    UC_CHECK(uc_hook_add(v->uc, &h, UC_HOOK_INSN, (void *)on_out, v, 1, 0, UC_X86_INS_OUT));
}

struct vcpu *vcpu_create(const struct vcpu_config *cfg, char *err, size_t errlen)
{
    ucq_init();
    mode_init();
    struct vcpu *v = calloc(1, sizeof(*v));
    SNP_ASSERT(v);
    v->index = cfg->index;
    v->mem = cfg->mem;
    v->shared = cfg->shared;
    v->cb = cfg->cb;
    v->ctx = cfg->cb_ctx;
    v->mmio_end = cfg->mmio_end;
    v->cbit_pos = cfg->cbit_pos;
    v->sev_es = cfg->sev_es;
    v->snp = cfg->snp;
    v->host_rmp = cfg->host_rmp;
    v->asid = cfg->asid;
    v->vmpl = cfg->vmpl;
    SNP_ASSERT(!v->snp || (v->mem->rmp && v->sev_es));
    v->shadow_pc = UINT64_MAX;
    v->softint_rip = UINT64_MAX;
    v->deliv_mark = UINT64_MAX;
    v->rdpid = cfg->rdpid;
    v->cr4_allowed = cfg->cr4_allowed ? cfg->cr4_allowed & cpu_cr4_implemented()
                                      : cpu_cr4_implemented();
    uc_err e = uc_open(UC_ARCH_X86, UC_MODE_64, &v->uc);
    if (e != UC_ERR_OK) {
        snprintf(err, errlen, "vCPU %u: cannot open a Unicorn engine: %s", cfg->index,
                 uc_strerror(e));
        free(v);
        return NULL;
    }
    /* The CPU model decides which instructions the translator knows
     * (RDTSCP, MONITOR...); EPYC Rome is the closest to an SNP host. */
    UC_CHECK(uc_ctl_set_cpu_model(v->uc, UC_CPU_X86_EPYC_ROME));
    if (cfg->tcg_buffer_mb)
        UC_CHECK(uc_ctl_set_tcg_buffer_size(v->uc, cfg->tcg_buffer_mb << 20));
    UC_CHECK(uc_ctl_tlb_mode(v->uc, UC_TLB_VIRTUAL));
    UC_CHECK(uc_mem_map_ptr(v->uc, 0, v->mem->size, UC_PROT_ALL, v->mem->ram));
    if (v->mmio_end > v->mem->size)
        UC_CHECK(uc_mmio_map(v->uc, v->mem->size, v->mmio_end - v->mem->size, on_mmio_read, v,
                             on_mmio_write, v));
    SNP_ASSERT(v->mmio_end <= VCPU_DRAM_VIEW_BASE);
    if (v->sev_es && !v->snp)
        UC_CHECK(uc_mmio_map(v->uc, VCPU_DRAM_VIEW_BASE, v->mem->size, on_dram_view_read, v,
                             on_dram_view_write, v));
    /* No stop address: only hooks end a run. */
    UC_CHECK(uc_ctl_exits_enable(v->uc));
    add_hooks(v);
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &v->cs) != CS_ERR_OK ||
        cs_open(CS_ARCH_X86, CS_MODE_64, &v->cs_detail) != CS_ERR_OK)
        SNP_PANIC("Capstone cannot open an x86-64 decoder");
    cs_option(v->cs_detail, CS_OPT_DETAIL, CS_OPT_ON);
    v->code_bits = 64; /* a UC_MODE_64 engine starts in 64-bit mode, CS base 0 */
    struct cpu_shared *s = v->shared;
    if (s->nvcpus == s->capvcpus) {
        s->capvcpus = s->capvcpus ? s->capvcpus * 2 : 8;
        s->vcpus = realloc(s->vcpus, s->capvcpus * sizeof(*s->vcpus));
        SNP_ASSERT(s->vcpus);
    }
    s->vcpus[s->nvcpus++] = v;
    return v;
}

void vcpu_destroy(struct vcpu *v)
{
    if (!v)
        return;
    struct cpu_shared *s = v->shared;
    for (unsigned i = 0; i < s->nvcpus; i++)
        if (s->vcpus[i] == v) {
            s->vcpus[i] = s->vcpus[--s->nvcpus];
            break;
        }
    if (v->ctx_blob)
        uc_context_free(v->ctx_blob);
    uc_close(v->uc);
    cs_close(&v->cs);
    cs_close(&v->cs_detail);
    decode_free(v);
    free(v);
}

static const char *const vec_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#09", "#TS",
    "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
    "#22", "#23", "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

const char *x86_vector_name(unsigned vector)
{
    return vector < 32 ? vec_names[vector] : "INT";
}
