/* SPDX-License-Identifier: MIT */
/*
 * Classifying faults the engine raises without telling the details.
 *
 * Unicorn reports an exception's vector but not its error code, and a TLB-fill
 * failure only with the page, not the byte address (docs/unicorn.md: "#PF
 * error code not exposed"). The model recovers both from the faulting
 * instruction, decoded with Capstone's operand detail:
 *  - #GP/#NP/#SS/#TS from a segment-register load carry the selector (SDM
 *    vol. 3 6.13: error code = selector index, TI; RPL replaced by EXT/IDT = 0);
 *    every other source of these vectors in 64-bit code pushes 0.
 *  - CR2 of a data page fault is the first byte of the access that lies on the
 *    faulting page: the memory operand's effective address, or RSP/RSI/RDI for
 *    the implicit stack and string operands.
 */
#include <string.h>

#include "cpu_int.h"

static int uc_reg_of(x86_reg r)
{
    switch (r) {
    case X86_REG_RAX: return UC_X86_REG_RAX;
    case X86_REG_RBX: return UC_X86_REG_RBX;
    case X86_REG_RCX: return UC_X86_REG_RCX;
    case X86_REG_RDX: return UC_X86_REG_RDX;
    case X86_REG_RSI: return UC_X86_REG_RSI;
    case X86_REG_RDI: return UC_X86_REG_RDI;
    case X86_REG_RBP: return UC_X86_REG_RBP;
    case X86_REG_RSP: return UC_X86_REG_RSP;
    case X86_REG_R8: return UC_X86_REG_R8;
    case X86_REG_R9: return UC_X86_REG_R9;
    case X86_REG_R10: return UC_X86_REG_R10;
    case X86_REG_R11: return UC_X86_REG_R11;
    case X86_REG_R12: return UC_X86_REG_R12;
    case X86_REG_R13: return UC_X86_REG_R13;
    case X86_REG_R14: return UC_X86_REG_R14;
    case X86_REG_R15: return UC_X86_REG_R15;
    case X86_REG_EAX: return UC_X86_REG_EAX;
    case X86_REG_EBX: return UC_X86_REG_EBX;
    case X86_REG_ECX: return UC_X86_REG_ECX;
    case X86_REG_EDX: return UC_X86_REG_EDX;
    case X86_REG_ESI: return UC_X86_REG_ESI;
    case X86_REG_EDI: return UC_X86_REG_EDI;
    case X86_REG_EBP: return UC_X86_REG_EBP;
    case X86_REG_ESP: return UC_X86_REG_ESP;
    case X86_REG_AX: return UC_X86_REG_AX;
    case X86_REG_BX: return UC_X86_REG_BX;
    case X86_REG_CX: return UC_X86_REG_CX;
    case X86_REG_DX: return UC_X86_REG_DX;
    case X86_REG_SI: return UC_X86_REG_SI;
    case X86_REG_DI: return UC_X86_REG_DI;
    case X86_REG_BP: return UC_X86_REG_BP;
    case X86_REG_SP: return UC_X86_REG_SP;
    case X86_REG_R8D: return UC_X86_REG_R8D;
    case X86_REG_R9D: return UC_X86_REG_R9D;
    case X86_REG_R10D: return UC_X86_REG_R10D;
    case X86_REG_R11D: return UC_X86_REG_R11D;
    case X86_REG_R12D: return UC_X86_REG_R12D;
    case X86_REG_R13D: return UC_X86_REG_R13D;
    case X86_REG_R14D: return UC_X86_REG_R14D;
    case X86_REG_R15D: return UC_X86_REG_R15D;
    case X86_REG_R8W: return UC_X86_REG_R8W;
    case X86_REG_R9W: return UC_X86_REG_R9W;
    case X86_REG_R10W: return UC_X86_REG_R10W;
    case X86_REG_R11W: return UC_X86_REG_R11W;
    case X86_REG_R12W: return UC_X86_REG_R12W;
    case X86_REG_R13W: return UC_X86_REG_R13W;
    case X86_REG_R14W: return UC_X86_REG_R14W;
    case X86_REG_R15W: return UC_X86_REG_R15W;
    default: return -1;
    }
}

static uint64_t reg_value(struct vcpu *v, x86_reg r, uint64_t next_rip)
{
    if (r == X86_REG_RIP)
        return next_rip;
    if (r == X86_REG_INVALID)
        return 0;
    int ur = uc_reg_of(r);
    return ur < 0 ? 0 : vcpu_read_reg(v, ur);
}

static bool is_segreg(x86_reg r)
{
    return r == X86_REG_DS || r == X86_REG_ES || r == X86_REG_SS || r == X86_REG_FS ||
           r == X86_REG_GS || r == X86_REG_CS;
}

/* Decodes the instruction at rip with operand detail; caller frees. */
static cs_insn *decode_one(struct vcpu *v, uint64_t rip)
{
    uint8_t buf[16];
    size_t n = cpu_fetch_insn(v, rip, buf);
    if (!n)
        return NULL;
    cs_insn *in = NULL;
    if (cs_disasm(v->cs_detail, buf, n, rip, 1, &in) != 1)
        return NULL;
    return in;
}

static uint64_t mem_ea(struct vcpu *v, const cs_x86_op *op, const cs_insn *in)
{
    uint64_t next = in->address + in->size;
    uint64_t ea = reg_value(v, op->mem.base, next) +
                  reg_value(v, op->mem.index, next) * (uint64_t)op->mem.scale +
                  (uint64_t)op->mem.disp;
    if (op->mem.segment == X86_REG_FS)
        ea += vcpu_read_reg(v, UC_X86_REG_FS_BASE);
    else if (op->mem.segment == X86_REG_GS)
        ea += vcpu_read_reg(v, UC_X86_REG_GS_BASE);
    return ea;
}

uint32_t fault_error_code(struct vcpu *v, unsigned vector, uint64_t rip)
{
    if (vector != X86_GP && vector != X86_NP && vector != X86_SS && vector != X86_TS)
        return 0;
    cs_insn *in = decode_one(v, rip);
    if (!in)
        return 0;
    uint32_t err = 0;
    const cs_x86 *x = &in->detail->x86;
    bool loads_seg = false;
    switch (in->id) {
    case X86_INS_MOV:
    case X86_INS_POP:
        loads_seg = x->op_count >= 1 && x->operands[0].type == X86_OP_REG &&
                    is_segreg(x->operands[0].reg);
        break;
    case X86_INS_LDS: case X86_INS_LES: case X86_INS_LFS: case X86_INS_LGS: case X86_INS_LSS:
    case X86_INS_LTR: case X86_INS_LLDT:
        loads_seg = true;
        break;
    default:
        break;
    }
    if (loads_seg) {
        uint16_t sel = 0;
        const cs_x86_op *src = &x->operands[x->op_count - 1];
        if (in->id == X86_INS_POP) {
            uint32_t pf;
            uint64_t fva;
            vcpu_read_lin(v, vcpu_get(v, VR_RSP), &sel, 2, &pf, &fva);
        } else if (src->type == X86_OP_REG) {
            sel = (uint16_t)reg_value(v, src->reg, 0);
        } else if (src->type == X86_OP_MEM) {
            uint64_t ea = mem_ea(v, src, in);
            /* m16:16/32/64 far pointers keep the selector after the offset. */
            uint64_t at = ea + ((in->id == X86_INS_MOV || in->id == X86_INS_LTR ||
                                 in->id == X86_INS_LLDT) ? 0 : (uint64_t)(src->size - 2));
            uint32_t pf;
            uint64_t fva;
            vcpu_read_lin(v, at, &sel, 2, &pf, &fva);
        }
        err = sel & 0xFFFCu;
    }
    cs_free(in, 1);
    return err;
}

static uint64_t implicit_ea(struct vcpu *v, const cs_insn *in)
{
    switch (in->id) {
    case X86_INS_PUSH: case X86_INS_PUSHFQ: case X86_INS_CALL: case X86_INS_PUSHF:
        return vcpu_get(v, VR_RSP) - 8;
    case X86_INS_POP: case X86_INS_POPFQ: case X86_INS_RET: case X86_INS_IRETQ:
    case X86_INS_POPF: case X86_INS_LEAVE:
        return in->id == X86_INS_LEAVE ? vcpu_get(v, VR_RBP) : vcpu_get(v, VR_RSP);
    case X86_INS_STOSB: case X86_INS_STOSW: case X86_INS_STOSD: case X86_INS_STOSQ:
    case X86_INS_INSB: case X86_INS_INSW: case X86_INS_INSD: case X86_INS_SCASB:
    case X86_INS_SCASW: case X86_INS_SCASD: case X86_INS_SCASQ:
        return vcpu_get(v, VR_RDI);
    case X86_INS_LODSB: case X86_INS_LODSW: case X86_INS_LODSD: case X86_INS_LODSQ:
    case X86_INS_OUTSB: case X86_INS_OUTSW: case X86_INS_OUTSD:
        return vcpu_get(v, VR_RSI);
    default:
        return UINT64_MAX;
    }
}

uint64_t fault_linear_address(struct vcpu *v, uint64_t rip, uint64_t page, uc_mem_type acc)
{
    if (acc == UC_MEM_FETCH) {
        uint64_t lin = rip + v->cs_base; /* rip is CS-relative, page linear */
        return (lin & MEM_PAGE_MASK) == page ? lin : page;
    }
    cs_insn *in = decode_one(v, rip);
    if (!in)
        return page;
    uint64_t best = UINT64_MAX;
    const cs_x86 *x = &in->detail->x86;
    for (unsigned i = 0; i < x->op_count && best == UINT64_MAX; i++) {
        const cs_x86_op *op = &x->operands[i];
        if (op->type != X86_OP_MEM || in->id == X86_INS_LEA || in->id == X86_INS_NOP)
            continue;
        uint64_t ea = mem_ea(v, op, in), end = ea + (op->size ? op->size : 1) - 1;
        if ((ea & MEM_PAGE_MASK) == page)
            best = ea;
        else if ((end & MEM_PAGE_MASK) == page)
            best = page; /* the access runs onto the faulting page */
    }
    if (best == UINT64_MAX) {
        uint64_t ea = implicit_ea(v, in);
        if (ea != UINT64_MAX && (ea & MEM_PAGE_MASK) == page)
            best = ea;
        else if (in->id == X86_INS_MOVSB || in->id == X86_INS_MOVSW || in->id == X86_INS_MOVSD ||
                 in->id == X86_INS_MOVSQ || in->id == X86_INS_CMPSB || in->id == X86_INS_CMPSW ||
                 in->id == X86_INS_CMPSD || in->id == X86_INS_CMPSQ) {
            uint64_t s = vcpu_get(v, VR_RSI), d = vcpu_get(v, VR_RDI);
            best = (d & MEM_PAGE_MASK) == page ? d : (s & MEM_PAGE_MASK) == page ? s : page;
        } else {
            best = page;
        }
    }
    cs_free(in, 1);
    return best;
}
