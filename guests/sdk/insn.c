/* SPDX-License-Identifier: MIT */
/*
 * The #VC handler's instruction decoder (insn.h). Encoding rules: Intel SDM
 * vol. 2 chapter 2 (prefixes, REX, ModRM/SIB addressing in 64-bit mode,
 * RIP-relative addressing), AMD APM vol. 3 chapter 1. Opcode forms: SDM vol.
 * 2 opcode map (appendix A).
 */
#include <sdk/sdk.h>
#include <sdk/insn.h>

#define MSR_FS_BASE 0xC0000100u

enum imm_kind { IMM_NONE, IMM_8, IMM_Z /* 2 with 66, else 4 */ };

/* Shape of the opcodes the decoder knows: ModRM or not, immediate. false if unknown. */
static bool shape(bool twobyte, uint8_t op, bool *modrm, enum imm_kind *imm, bool *moffs)
{
    *modrm = false;
    *imm = IMM_NONE;
    *moffs = false;
    if (!twobyte) {
        switch (op) {
        case 0x6C: case 0x6D: case 0x6E: case 0x6F:
        case 0xEC: case 0xED: case 0xEE: case 0xEF:
        case 0xF1:
            return true;
        case 0x88: case 0x89: case 0x8A: case 0x8B:
            *modrm = true;
            return true;
        case 0xC6:
            *modrm = true, *imm = IMM_8;
            return true;
        case 0xC7:
            *modrm = true, *imm = IMM_Z;
            return true;
        case 0xA0: case 0xA1: case 0xA2: case 0xA3:
            *moffs = true;
            return true;
        case 0xE4: case 0xE5: case 0xE6: case 0xE7:
            *imm = IMM_8;
            return true;
        default:
            return false;
        }
    }
    switch (op) {
    case 0x08: case 0x09: case 0x30: case 0x31: case 0x32: case 0x33: case 0xA2:
        return true;
    case 0x01: case 0x21: case 0x23: case 0xB6: case 0xB7: case 0xBE: case 0xBF:
        *modrm = true;
        return true;
    default:
        return false;
    }
}

bool sdk_insn_decode(const uint8_t *code, struct sdk_insn *in)
{
    unsigned n = 0;

    memset(in, 0, sizeof(*in));
    /* Legacy prefixes, then at most one REX immediately before the opcode. */
    for (;; n++) {
        if (n >= SDK_INSN_MAX)
            return false;
        uint8_t b = code[n];
        if (b == 0x66)
            in->p66 = true;
        else if (b == 0x67)
            in->p67 = true;
        else if (b == 0xF0)
            in->lock = true;
        else if (b == 0xF2 || b == 0xF3)
            in->rep = b;
        else if (b == 0x26 || b == 0x2E || b == 0x36 || b == 0x3E || b == 0x64 || b == 0x65)
            in->seg = b;
        else
            break;
    }
    if ((code[n] & 0xF0) == 0x40) {
        in->rex = code[n++];
        if (n >= SDK_INSN_MAX)
            return false;
    }
    if (code[n] == 0x0F) {
        in->twobyte = true;
        n++;
    }
    in->op = code[n++];

    bool moffs;
    enum imm_kind imm;
    if (!shape(in->twobyte, in->op, &in->has_modrm, &imm, &moffs))
        return false;
    in->opnd_bytes = (in->rex & 8) ? 8 : in->p66 ? 2 : 4;
    in->addr_bytes = in->p67 ? 4 : 8;

    if (in->has_modrm) {
        uint8_t m = code[n++];
        in->modrm = m;
        in->mod = m >> 6;
        in->reg = (uint8_t)(((m >> 3) & 7) | ((in->rex & 4) << 1));
        in->rm = (uint8_t)((m & 7) | ((in->rex & 1) << 3));
        /* MOV to/from DRn always names a register (SDM: mod is ignored). */
        bool reg_only = in->twobyte && (in->op == 0x21 || in->op == 0x23 || in->op == 0x01);
        if (in->twobyte && in->op == 0x01 && in->mod != 3)
            return false;   /* the memory forms of group 7 (SGDT...) never #VC */
        if (in->mod != 3 && !reg_only) {
            in->has_mem = true;
            unsigned disp_len = in->mod == 1 ? 1 : in->mod == 2 ? 4 : 0;
            if ((m & 7) == 4) {
                uint8_t sib = code[n++];
                in->scale = (uint8_t)(1u << (sib >> 6));
                unsigned idx = ((sib >> 3) & 7) | ((in->rex & 2) << 2);
                if (idx != 4) {
                    in->has_index = true;
                    in->index = (uint8_t)idx;
                }
                if ((sib & 7) == 5 && in->mod == 0) {
                    disp_len = 4;
                } else {
                    in->has_base = true;
                    in->base = (uint8_t)((sib & 7) | ((in->rex & 1) << 3));
                }
            } else if ((m & 7) == 5 && in->mod == 0) {
                in->rip_rel = true;
                disp_len = 4;
            } else {
                in->has_base = true;
                in->base = in->rm;
            }
            if (disp_len == 1) {
                in->disp = (int8_t)code[n];
            } else if (disp_len == 4) {
                uint32_t d = 0;
                for (unsigned i = 0; i < 4; i++)
                    d |= (uint32_t)code[n + i] << (8 * i);
                in->disp = (int32_t)d;
            }
            n += disp_len;
        }
    }
    if (moffs) {
        in->has_mem = true;
        for (unsigned i = 0; i < in->addr_bytes; i++)
            in->moffs |= (uint64_t)code[n + i] << (8 * i);
        n += in->addr_bytes;
    }
    if (imm != IMM_NONE) {
        in->imm_len = imm == IMM_8 ? 1 : in->p66 ? 2 : 4;
        for (unsigned i = 0; i < in->imm_len; i++)
            in->imm |= (uint64_t)code[n + i] << (8 * i);
        n += in->imm_len;
    }
    if (n > SDK_INSN_MAX)
        return false;
    in->len = (uint8_t)n;
    return true;
}

uint64_t *sdk_frame_gpr(struct sdk_frame *f, unsigned n)
{
    struct sdk_regs *r = &f->regs;
    switch (n & 15) {
    case 0: return &r->rax;
    case 1: return &r->rcx;
    case 2: return &r->rdx;
    case 3: return &r->rbx;
    case 4: return &f->rsp;
    case 5: return &r->rbp;
    case 6: return &r->rsi;
    case 7: return &r->rdi;
    case 8: return &r->r8;
    case 9: return &r->r9;
    case 10: return &r->r10;
    case 11: return &r->r11;
    case 12: return &r->r12;
    case 13: return &r->r13;
    case 14: return &r->r14;
    default: return &r->r15;
    }
}

uint64_t sdk_insn_mem_addr(const struct sdk_insn *in, const struct sdk_frame *f)
{
    struct sdk_frame *mf = (struct sdk_frame *)f;   /* read-only use */
    uint64_t a;

    if (!in->has_modrm) {
        a = in->moffs;
    } else {
        a = (uint64_t)in->disp;
        if (in->rip_rel)
            a += f->rip + in->len;
        if (in->has_base)
            a += *sdk_frame_gpr(mf, in->base);
        if (in->has_index)
            a += *sdk_frame_gpr(mf, in->index) * in->scale;
    }
    if (in->addr_bytes == 4)
        a &= 0xFFFFFFFFull;
    if (in->seg == 0x64)
        a += rdmsr(MSR_FS_BASE);
    else if (in->seg == 0x65)
        a += rdmsr(MSR_IA32_GS_BASE);
    return a;
}

uint64_t sdk_insn_reg_read(struct sdk_frame *f, const struct sdk_insn *in, unsigned n,
                           unsigned size)
{
    if (size == 1 && !in->rex && n >= 4 && n < 8)
        return (*sdk_frame_gpr(f, n - 4) >> 8) & 0xFF;
    uint64_t v = *sdk_frame_gpr(f, n);
    return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
}

void sdk_insn_reg_write(struct sdk_frame *f, const struct sdk_insn *in, unsigned n,
                        unsigned size, uint64_t v)
{
    if (size == 1 && !in->rex && n >= 4 && n < 8) {
        uint64_t *r = sdk_frame_gpr(f, n - 4);
        *r = (*r & ~0xFF00ull) | ((v & 0xFF) << 8);
        return;
    }
    uint64_t *r = sdk_frame_gpr(f, n);
    switch (size) {
    case 1: *r = (*r & ~0xFFull) | (v & 0xFF); break;
    case 2: *r = (*r & ~0xFFFFull) | (v & 0xFFFF); break;
    case 4: *r = v & 0xFFFFFFFFull; break;
    default: *r = v; break;
    }
}
