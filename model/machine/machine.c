/* SPDX-License-Identifier: MIT */
/*
 * The machine's primitives (machine.h): a vCPU's simulated time and the cost
 * of its events (docs/cost-model.md), ending the run, scheduling and waking a
 * vCPU on the timing kernel, the entry state of docs/guest-abi.md, and a
 * vCPU's device accesses.
 */
#include "machine.h"

#include <inttypes.h>
#include <string.h>

/* ---- Time -------------------------------------------------------------------- */

uint64_t sys_now(struct slot *s)
{
    /* A vCPU that is not running has been idle since t_end: its clock is the
     * system's. */
    if (!s->in_quantum) {
        uint64_t t = tm_now(s->sys->tk);
        return t > s->t_end ? t : s->t_end;
    }
    uint64_t insns = vcpu_insns(s->cpu) - s->insn0;
    return s->t0 + insns * s->sys->cfg.cost.insn_millicycles / 1000 + s->extra;
}

/*
 * Adds the cost of an architectural event. A quantum is a slice of simulated
 * time as much as a count of instructions: a vCPU whose exits make its clock
 * run past the slice (quantum x CPI cycles) stops at once, or one polling
 * RDTSC could run a whole timeout before any other vCPU moves.
 */
void sys_charge(struct slot *s, uint64_t cycles)
{
    if (!s->in_quantum) {
        s->t_end += cycles;
        return;
    }
    s->extra += cycles;
    const struct snp_config *c = &s->sys->cfg;
    if (sys_now(s) - s->t0 >= c->quantum * c->cost.insn_millicycles / 1000)
        vcpu_request_stop(s->cpu);
}

uint64_t sys_tsc(struct slot *s)
{
    const struct snp_config *c = &s->sys->cfg;
    return (uint64_t)((unsigned __int128)sys_now(s) * c->tsc_hz / c->core_hz) + s->tsc_offset;
}

struct slot *sys_slot(struct system *sys, struct vcpu *v) { return &sys->slots[vcpu_index(v)]; }

void sys_finish(struct system *sys, enum snpref_outcome o, int vcpu, uint64_t rip,
                const char *reason)
{
    if (sys->done)
        return;
    sys->done = true;
    sys->res.outcome = o;
    sys->res.vcpu = vcpu;
    sys->res.rip = rip;
    snprintf(sys->res.reason, sizeof(sys->res.reason), "%s", reason ? reason : "");
    tm_stop(sys->tk);
    for (unsigned i = 0; i < sys->n; i++)
        if (sys->slots[i].in_quantum)
            vcpu_request_stop(sys->slots[i].cpu);
}

/* ---- Scheduling ------------------------------------------------------------------ */

void sys_schedule(struct slot *s, uint64_t at)
{
    if (s->run_ev)
        return;
    s->run_ev = tm_schedule(s->sys->tk, at, s->sys->run_quantum, s);
}

void sys_wake(struct slot *s, const char *reason)
{
    struct system *sys = s->sys;
    uint64_t at = tm_now(sys->tk);
    if (at < s->t_end)
        at = s->t_end;
    at += sys->cfg.cost.hlt_wakeup;
    s->st = VS_RUNNABLE;
    s->t_end = at;
    TRC(sys->trace, wake, at, (int)s->idx, reason);
    /* An SEV vCPU re-enters through VMRUN at its next quantum, which traces
     * the entry after the fabric's work there (sev_vmrun). */
    if (sys->sev)
        s->sev.vmrun_due = true;
    else
        TRC(sys->trace, vmentry, at, (int)s->idx, vcpu_get(s->cpu, VR_RIP));
    sys_schedule(s, at);
}

/* ---- Entry state ------------------------------------------------------------------ */

void sys_boot_state(struct system *sys, unsigned idx, uint64_t rip, struct vcpu_boot *b)
{
    const struct boot_layout *l = &sys->layout;
    *b = (struct vcpu_boot){
        .rip = rip,
        .rsp = l->stack_top_base - (uint64_t)idx * l->stack_size,
        .rdi = l->bootinfo,
        .rsi = idx,
        .rflags = 0x2,
        .cr0 = 0x80010033, /* PE MP ET NE WP PG */
        .cr3 = l->cr3,
        .cr4 = 0x6A0,      /* PAE PGE OSFXSR OSXMMEXCPT */
        .efer = 0xD01,     /* SCE LME LMA NXE */
        .gdt_base = l->gdt,
        .gdt_limit = l->gdt_limit,
        .cs = LOADER_GDT_CODE64,
        .ds = LOADER_GDT_DATA,
    };
    /* A boot loader's image (a Linux `--kernel` or a multiboot image) never
     * has the SDK's loader region written: every vCPU gets that loader's GDT,
     * page tables and stack, and vCPU 0 RSI = the zero page (docs/guest-abi.md
     * "Linux boot", "Multiboot"). */
    if (sys->kernel_boot) {
        const struct boot_entry *e = &sys->entry0;
        b->rsp = e->rsp;
        b->rdi = 0;
        b->rsi = idx == 0 ? e->rsi : 0;
        b->cr3 = e->cr3;
        b->gdt_base = e->gdt_base;
        b->gdt_limit = e->gdt_limit;
        b->cs = e->cs;
        b->ds = e->ds;
        /* Multiboot 3.2: 32-bit protected mode, paging off, EAX/EBX the magic
         * and the boot information (vCPU 0; the others start by SIPI). */
        if (e->mode == BOOT_ENTRY_PROT32) {
            b->mode = VCPU_BOOT_PROT32;
            b->cr0 = 0x11; /* PE, ET */
            b->cr3 = 0;
            b->cr4 = 0;
            b->efer = 0;
            b->rax = idx == 0 ? e->rax : 0;
            b->rbx = idx == 0 ? e->rbx : 0;
        }
    }
}

/* ---- Devices ---------------------------------------------------------------------- */

void sys_pio(struct slot *s, uint16_t port, uint8_t size, bool in, uint64_t *data,
             enum vcpu_action *act)
{
    if (dev_pio(&s->sys->dev, (int)s->idx, port, size, in, data))
        *act = VCPU_STOP;
}

void sys_mmio(struct slot *s, uint64_t gpa, unsigned size, bool write, uint64_t *val)
{
    /* The vCPU's own xAPIC page comes first: it decodes inside the CPU, ahead
     * of the bus (SDM 10.4.1); outside xAPIC mode the fabric declines. */
    struct system *sys = s->sys;
    const struct fabric_ops *fo = sys->fab->ops;
    if (fo->mmio && fo->mmio(sys->fab, (int)s->idx, gpa, size, write, val)) {
        uint64_t mask = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
        TRC(sys->trace, mmio, sys_now(s), (int)s->idx, write ? "write" : "read", gpa, size,
            *val & mask);
        return;
    }
    dev_mmio(&sys->dev, (int)s->idx, gpa, size, write, val);
    /* The I/O APIC is the hypervisor's device, as KVM's in-kernel one: an
     * access to its page is a nested page fault exit (SVM_EXIT_NPF) in which
     * the hypervisor emulates the register, and what the access raises (a
     * message from an unmasked level entry, a re-sent one after EOI) leaves
     * inside the exit, device_msi cycles before the vCPU resumes after the
     * exit's vmexit cycles: the vCPU takes it at the next instruction boundary
     * after the access, as after a port write (docs/cost-model.md). */
    if (gpa >= IOAPIC_BASE && gpa - IOAPIC_BASE < IOAPIC_SIZE) {
        uint64_t rip = vcpu_get(s->cpu, VR_RIP);
        s->sum.exits++;
        TRC(sys->trace, vmexit, sys_now(s), (int)s->idx, SVM_EXIT_NPF, write ? 7 : 5, gpa, rip);
        sys_charge(s, sys->cfg.cost.vmexit);
        TRC(sys->trace, vmentry, sys_now(s), (int)s->idx, rip);
    }
}
