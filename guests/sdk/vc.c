/* SPDX-License-Identifier: MIT */
/*
 * The #VC handler (vector 29; error code = the SVM exit code the intercept
 * would have caused). Modelled on Linux's arch/x86/coco/sev/vc-handle.c: the
 * handler decodes the instruction at RIP (insn.c) and checks it matches the
 * exit code, takes the vCPU's GHCB, puts the instruction's inputs in it with
 * their valid bits, makes the NAE call, checks the answer (SW_EXITINFO1: 0
 * done, 1 inject the exception in SW_EXITINFO2, only #GP and #UD honoured, as
 * Linux; 2 or anything else a hypervisor error), copies the outputs to the
 * interrupted registers and steps RIP past the instruction. A REP INS/OUTS
 * moves at most one shared buffer (2032 bytes) per #VC and leaves RIP alone
 * until RCX reaches 0, so interrupts are taken in between.
 *
 * #DB (0x41) and #AC (0x51) are not sent to the hypervisor: they are handed to
 * the guest's own #DB / #AC handler with the interrupted frame, as Linux does.
 * INVD is refused (Linux: it would throw away the guest's dirty cache lines).
 * An exit code the handler does not know, an instruction it cannot decode, or
 * a hypervisor error ends the guest: the SDK prints what happened and sends
 * the termination request (reason set 0, code 0) -- unless an ASM_TRY is armed
 * on that instruction, which then sees vector 29 with the exit code (how a
 * test catches #VC 0x404 PAGE_NOT_VALIDATED).
 *
 * The handler runs with IF=0 (interrupt gate) on the interrupted stack; it
 * executes nothing intercepted itself, except on the failure path, whose
 * console output is a nested #VC (the GHCB has been put back by then). An NMI
 * that arrives while the GHCB is in use works through sdk_ghcb_get()'s backup.
 */
#include <sdk/sdk.h>
#include <sdk/insn.h>

void sdk_isr_dispatch(struct sdk_frame *f);

enum es_result { ES_OK, ES_RETRY, ES_EXCEPTION, ES_VMM_ERROR, ES_UNSUPPORTED, ES_DECODE_FAILED };

struct vc_ctx {
    struct sdk_frame *f;
    struct sdk_insn insn;
    struct ghcb *g;
    uint64_t ghcb_gpa;
    uint64_t code;
    unsigned exc_vector;
    uint64_t exc_error;
    uint64_t info1, info2;   /* the answer, for the failure report */
    const char *why;
};

#define SCRATCH(c) ((c)->ghcb_gpa + __builtin_offsetof(struct ghcb, shared_buffer))

/* ---- Counting (sdk_vc_count) --------------------------------------------------------- */

static const uint64_t counted[] = {
    SVM_EXIT_READ_DR7, SVM_EXIT_WRITE_DR7, SVM_EXIT_EXCP_DB, SVM_EXIT_EXCP_AC, SVM_EXIT_RDTSC,
    SVM_EXIT_RDPMC, SVM_EXIT_CPUID, SVM_EXIT_INVD, SVM_EXIT_IOIO, SVM_EXIT_MSR, SVM_EXIT_VMMCALL,
    SVM_EXIT_RDTSCP, SVM_EXIT_WBINVD, SVM_EXIT_MONITOR, SVM_EXIT_MWAIT, SVM_EXIT_NPF,
    SVM_EXIT_PAGE_NOT_VALIDATED,
};
#define NCOUNTED (sizeof(counted) / sizeof(counted[0]))
_Static_assert(NCOUNTED + 1 <= sizeof(((struct sdk_percpu *)0)->vc_count) / sizeof(uint32_t),
               "vc_count has a slot per counted code and one for the rest");

static unsigned count_slot(uint64_t code)
{
    for (unsigned i = 0; i < NCOUNTED; i++)
        if (counted[i] == code)
            return i;
    return NCOUNTED;
}

uint32_t sdk_vc_count(uint64_t exit_code)
{
    return READ_ONCE(this_cpu()->vc_count[count_slot(exit_code)]);
}

uint64_t sdk_dr7_shadow(void)
{
    uint64_t v = this_cpu()->dr7;
    return v ? v : 0x400;     /* DR7's reset value until the first write */
}

static const char *code_name(uint64_t code)
{
    switch (code) {
    case SVM_EXIT_READ_DR7: return "READ_DR7";
    case SVM_EXIT_WRITE_DR7: return "WRITE_DR7";
    case SVM_EXIT_EXCP_DB: return "#DB";
    case SVM_EXIT_EXCP_AC: return "#AC";
    case SVM_EXIT_RDTSC: return "RDTSC";
    case SVM_EXIT_RDPMC: return "RDPMC";
    case SVM_EXIT_CPUID: return "CPUID";
    case SVM_EXIT_INVD: return "INVD";
    case SVM_EXIT_IOIO: return "IOIO";
    case SVM_EXIT_MSR: return "MSR";
    case SVM_EXIT_VMMCALL: return "VMMCALL";
    case SVM_EXIT_RDTSCP: return "RDTSCP";
    case SVM_EXIT_WBINVD: return "WBINVD";
    case SVM_EXIT_MONITOR: return "MONITOR";
    case SVM_EXIT_MWAIT: return "MWAIT";
    case SVM_EXIT_NPF: return "NPF (MMIO)";
    case SVM_EXIT_PAGE_NOT_VALIDATED: return "PAGE_NOT_VALIDATED";
    case SVM_EXIT_AVIC_INCOMPLETE_IPI: return "AVIC_INCOMPLETE_IPI";
    case SVM_EXIT_AVIC_UNACCELERATED_ACCESS: return "AVIC_UNACCELERATED_ACCESS";
    default: return "unknown";
    }
}

/* ---- The GHCB round trip ----------------------------------------------------------------- */

static enum es_result hv_call(struct vc_ctx *c, uint64_t code, uint64_t info1, uint64_t info2)
{
    uint32_t r = sdk_ghcb_call(c->g, code, info1, info2);
    if (r == GHCB_HV_RESP_NO_ACTION)
        return ES_OK;
    if (r == GHCB_HV_RESP_ISSUE_EXCEPTION) {
        uint64_t info = c->g->save.sw_exit_info_2;
        unsigned v = (unsigned)(info & SVM_EVTINJ_VEC_MASK);
        if ((info & SVM_EVTINJ_VALID) && (v == X86_GP || v == X86_UD) &&
            (info & SVM_EVTINJ_TYPE_MASK) == SVM_EVTINJ_TYPE_EXEPT) {
            c->exc_vector = v;
            c->exc_error = (info & SVM_EVTINJ_VALID_ERR) ? info >> 32 : 0;
            return ES_EXCEPTION;
        }
        c->why = "the hypervisor asked for an exception other than #GP/#UD";
        return ES_VMM_ERROR;
    }
    c->why = r == GHCB_HV_RESP_MALFORMED_INPUT ? "the hypervisor answered \"malformed input\""
                                               : "the hypervisor answered with an unknown code";
    return ES_VMM_ERROR;
}

static enum es_result missing(struct vc_ctx *c, const char *what)
{
    c->why = what;
    return ES_VMM_ERROR;
}

static bool is_0f01(const struct sdk_insn *in, uint8_t modrm)
{
    return in->twobyte && in->op == 0x01 && in->modrm == modrm;
}

/* ---- Handlers ------------------------------------------------------------------------- */

static enum es_result vc_cpuid(struct vc_ctx *c)
{
    struct sdk_regs *r = &c->f->regs;
    struct ghcb *g = c->g;

    if (!c->insn.twobyte || c->insn.op != 0xA2)
        return ES_DECODE_FAILED;
    GHCB_SET(g, rax, r->rax & 0xFFFFFFFFull);
    GHCB_SET(g, rcx, r->rcx & 0xFFFFFFFFull);
    if ((uint32_t)r->rax == 0xD)
        GHCB_SET(g, xcr0, (read_cr4() & X86_CR4_OSXSAVE) ? xgetbv(0) : 1);
    enum es_result ret = hv_call(c, SVM_EXIT_CPUID, 0, 0);
    if (ret != ES_OK)
        return ret;
    if (!(GHCB_VALID(g, rax) && GHCB_VALID(g, rbx) && GHCB_VALID(g, rcx) && GHCB_VALID(g, rdx)))
        return missing(c, "CPUID answer without RAX/RBX/RCX/RDX valid");
    r->rax = (uint32_t)g->save.rax;
    r->rbx = (uint32_t)g->save.rbx;
    r->rcx = (uint32_t)g->save.rcx;
    r->rdx = (uint32_t)g->save.rdx;
    return ES_OK;
}

static uint64_t size_mask(unsigned size)
{
    return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static enum es_result vc_ioio(struct vc_ctx *c)
{
    const struct sdk_insn *in = &c->insn;
    struct sdk_frame *f = c->f;
    struct ghcb *g = c->g;
    uint64_t info;
    uint16_t port = (uint16_t)f->regs.rdx;

    if (in->twobyte)
        return ES_DECODE_FAILED;
    switch (in->op) {
    case 0x6C: case 0x6D: info = SVM_IOIO_TYPE_IN | SVM_IOIO_STR | SVM_IOIO_SEG_ES; break;
    case 0x6E: case 0x6F: info = SVM_IOIO_STR | SVM_IOIO_SEG_DS; break;
    case 0xE4: case 0xE5: info = SVM_IOIO_TYPE_IN; port = (uint8_t)in->imm; break;
    case 0xE6: case 0xE7: info = 0; port = (uint8_t)in->imm; break;
    case 0xEC: case 0xED: info = SVM_IOIO_TYPE_IN; break;
    case 0xEE: case 0xEF: info = 0; break;
    default: return ES_DECODE_FAILED;
    }
    /* Even opcodes move bytes; odd ones 16 bits with 66, else 32 (no 64-bit port I/O). */
    unsigned size = (in->op & 1) ? (in->p66 ? 2 : 4) : 1;
    info |= size == 1 ? SVM_IOIO_SZ8 : size == 2 ? SVM_IOIO_SZ16 : SVM_IOIO_SZ32;
    info |= in->addr_bytes == 4 ? SVM_IOIO_A32 : SVM_IOIO_A64;
    if ((info & SVM_IOIO_STR) && in->rep)
        info |= SVM_IOIO_REP;
    info |= (uint64_t)port << 16;

    if (!(info & SVM_IOIO_STR)) {
        GHCB_SET(g, rax, (info & SVM_IOIO_TYPE_IN) ? 0 : f->regs.rax & size_mask(size));
        enum es_result ret = hv_call(c, SVM_EXIT_IOIO, info, 0);
        if (ret != ES_OK)
            return ret;
        if (info & SVM_IOIO_TYPE_IN) {
            if (!GHCB_VALID(g, rax))
                return missing(c, "IN answer without RAX valid");
            sdk_insn_reg_write(f, in, 0, size, g->save.rax);
        }
        return ES_OK;
    }

    /* INS / OUTS through the shared buffer, at most one buffer per #VC. */
    bool df = f->rflags & X86_RFLAGS_DF;
    uint64_t amask = in->addr_bytes == 4 ? 0xFFFFFFFFull : ~0ull;
    uint64_t count = (info & SVM_IOIO_REP) ? (f->regs.rcx & amask) : 1;
    if (count == 0)
        return ES_OK;
    uint64_t n = count < GHCB_SHARED_BUF_SIZE / size ? count : GHCB_SHARED_BUF_SIZE / size;
    int64_t step = df ? -(int64_t)size : (int64_t)size;
    uint8_t *buf = g->shared_buffer;
    if (!(info & SVM_IOIO_TYPE_IN)) {
        uint64_t src = f->regs.rsi & amask;
        if (in->seg == 0x64 || in->seg == 0x65)
            src += rdmsr(in->seg == 0x64 ? 0xC0000100u : MSR_IA32_GS_BASE);
        for (uint64_t i = 0; i < n; i++)
            memcpy(buf + i * size, (const void *)(uintptr_t)(src + (uint64_t)((int64_t)i * step)),
                   size);
    }
    GHCB_SET(g, sw_scratch, SCRATCH(c));
    enum es_result ret = hv_call(c, SVM_EXIT_IOIO, info, n);
    if (ret != ES_OK)
        return ret;
    uint64_t delta = (uint64_t)((int64_t)n * step);
    if (info & SVM_IOIO_TYPE_IN) {
        uint64_t dst = f->regs.rdi & amask;
        for (uint64_t i = 0; i < n; i++)
            memcpy((void *)(uintptr_t)(dst + (uint64_t)((int64_t)i * step)), buf + i * size, size);
        f->regs.rdi = (f->regs.rdi + delta) & amask;
    } else {
        f->regs.rsi = (f->regs.rsi + delta) & amask;
    }
    if (info & SVM_IOIO_REP) {
        f->regs.rcx = (count - n) & amask;
        if (count - n)
            return ES_RETRY;
    }
    return ES_OK;
}

static enum es_result vc_msr(struct vc_ctx *c)
{
    struct sdk_regs *r = &c->f->regs;
    struct ghcb *g = c->g;

    if (!c->insn.twobyte || (c->insn.op != 0x30 && c->insn.op != 0x32))
        return ES_DECODE_FAILED;
    bool write = c->insn.op == 0x30;
    GHCB_SET(g, rcx, r->rcx & 0xFFFFFFFFull);
    if (write) {
        GHCB_SET(g, rax, r->rax & 0xFFFFFFFFull);
        GHCB_SET(g, rdx, r->rdx & 0xFFFFFFFFull);
    }
    enum es_result ret = hv_call(c, SVM_EXIT_MSR, write ? 1 : 0, 0);
    if (ret == ES_OK && !write) {
        r->rax = (uint32_t)g->save.rax;
        r->rdx = (uint32_t)g->save.rdx;
    }
    return ret;
}

/*
 * MMIO: the access hit a page the hypervisor emulates (#VC 0x400). Decode the
 * MOV, find the GPA by walking this vCPU's page tables (the mapping must be
 * shared, C=0: Linux refuses encrypted MMIO too), and do MMIO_READ or
 * MMIO_WRITE with the data in the GHCB's shared buffer.
 */
static enum es_result vc_mmio(struct vc_ctx *c)
{
    const struct sdk_insn *in = &c->insn;
    struct sdk_frame *f = c->f;
    struct ghcb *g = c->g;
    enum { EXT_NONE, EXT_ZERO, EXT_SIGN } ext = EXT_NONE;
    bool write;
    unsigned size, dst = in->reg, dst_size;
    uint64_t val = 0;

    if (!in->has_mem)
        return ES_DECODE_FAILED;
    if (!in->twobyte) {
        switch (in->op) {
        case 0x88: write = true, size = 1, val = sdk_insn_reg_read(f, in, in->reg, 1); break;
        case 0x89: write = true, size = in->opnd_bytes;
                   val = sdk_insn_reg_read(f, in, in->reg, size); break;
        case 0x8A: write = false, size = 1; break;
        case 0x8B: write = false, size = in->opnd_bytes; break;
        case 0xC6:
            if (in->reg & 7)
                return ES_DECODE_FAILED;
            write = true, size = 1, val = in->imm;
            break;
        case 0xC7:
            if (in->reg & 7)
                return ES_DECODE_FAILED;
            write = true, size = in->opnd_bytes;
            val = size == 8 ? (uint64_t)(int64_t)(int32_t)in->imm : in->imm;
            break;
        case 0xA0: write = false, size = 1, dst = 0; break;
        case 0xA1: write = false, size = in->opnd_bytes, dst = 0; break;
        case 0xA2: write = true, size = 1, val = f->regs.rax & 0xFF; break;
        case 0xA3: write = true, size = in->opnd_bytes;
                   val = f->regs.rax & size_mask(size); break;
        default: return ES_DECODE_FAILED;
        }
        dst_size = size;
    } else {
        switch (in->op) {
        case 0xB6: case 0xB7: ext = EXT_ZERO; break;
        case 0xBE: case 0xBF: ext = EXT_SIGN; break;
        default: return ES_DECODE_FAILED;
        }
        write = false;
        size = (in->op & 1) ? 2 : 1;
        dst_size = in->opnd_bytes;
    }

    uint64_t va = sdk_insn_mem_addr(in, f), gpa;
    bool enc;
    if ((va & 0xFFF) + size > SDK_PAGE_SIZE)
        return c->why = "MMIO access crosses a page", ES_UNSUPPORTED;
    if (!sdk_virt_to_phys((uintptr_t)va, &gpa, &enc))
        return c->why = "MMIO address not mapped", ES_UNSUPPORTED;
    if (enc)
        return c->why = "MMIO through a C=1 (encrypted) mapping", ES_UNSUPPORTED;

    GHCB_SET(g, sw_scratch, SCRATCH(c));
    if (write) {
        memcpy(g->shared_buffer, &val, size);
        return hv_call(c, SVM_VMGEXIT_MMIO_WRITE, gpa, size);
    }
    enum es_result ret = hv_call(c, SVM_VMGEXIT_MMIO_READ, gpa, size);
    if (ret != ES_OK)
        return ret;
    val = 0;
    memcpy(&val, g->shared_buffer, size);
    if (ext == EXT_SIGN)
        val = size == 1 ? (uint64_t)(int64_t)(int8_t)val : (uint64_t)(int64_t)(int16_t)val;
    sdk_insn_reg_write(f, in, dst, dst_size, val);
    return ES_OK;
}

static enum es_result vc_dr7_write(struct vc_ctx *c)
{
    const struct sdk_insn *in = &c->insn;
    if (!in->twobyte || in->op != 0x23 || in->reg != 7)
        return ES_DECODE_FAILED;
    if (sdk_sev_status() & (SEV_FEAT_DEBUG_SWAP << 2))
        return missing(c, "DR7 write intercepted although DebugSwap is on");
    uint64_t val = *sdk_frame_gpr(c->f, in->rm);
    if (val >> 32) {                     /* bits 63:32 must be zero: #GP(0) */
        c->exc_vector = X86_GP;
        c->exc_error = 0;
        return ES_EXCEPTION;
    }
    val = (val & 0xFFFF23FFull) | (1ull << 10);   /* reserved bits as DR7 reads them */
    GHCB_SET(c->g, rax, val);
    enum es_result ret = hv_call(c, SVM_EXIT_WRITE_DR7, 0, 0);
    if (ret == ES_OK)
        this_cpu()->dr7 = val;
    return ret;
}

static enum es_result vc_dr7_read(struct vc_ctx *c)
{
    const struct sdk_insn *in = &c->insn;
    if (!in->twobyte || in->op != 0x21 || in->reg != 7)
        return ES_DECODE_FAILED;
    enum es_result ret = hv_call(c, SVM_EXIT_READ_DR7, 0, 0);
    if (ret != ES_OK)
        return ret;
    if (!GHCB_VALID(c->g, rax))
        return missing(c, "READ_DR7 answer without RAX valid");
    *sdk_frame_gpr(c->f, in->rm) = c->g->save.rax;
    return ES_OK;
}

static enum es_result vc_wbinvd(struct vc_ctx *c)
{
    if (!c->insn.twobyte || c->insn.op != 0x09)
        return ES_DECODE_FAILED;
    return hv_call(c, SVM_EXIT_WBINVD, 0, 0);
}

static enum es_result vc_invd(struct vc_ctx *c)
{
    c->why = "INVD refused: it would drop the guest's dirty cache lines (as Linux)";
    return ES_UNSUPPORTED;
}

static enum es_result vc_rdtsc(struct vc_ctx *c)
{
    struct ghcb *g = c->g;
    struct sdk_regs *r = &c->f->regs;
    bool rdtscp = c->code == SVM_EXIT_RDTSCP;

    if (rdtscp ? !is_0f01(&c->insn, 0xF9) : !(c->insn.twobyte && c->insn.op == 0x31))
        return ES_DECODE_FAILED;
    enum es_result ret = hv_call(c, c->code, 0, 0);
    if (ret != ES_OK)
        return ret;
    if (!(GHCB_VALID(g, rax) && GHCB_VALID(g, rdx) && (!rdtscp || GHCB_VALID(g, rcx))))
        return missing(c, rdtscp ? "RDTSCP answer without RAX/RCX/RDX valid"
                                 : "RDTSC answer without RAX/RDX valid");
    r->rax = (uint32_t)g->save.rax;
    r->rdx = (uint32_t)g->save.rdx;
    if (rdtscp)
        r->rcx = (uint32_t)g->save.rcx;
    return ES_OK;
}

static enum es_result vc_rdpmc(struct vc_ctx *c)
{
    struct ghcb *g = c->g;
    struct sdk_regs *r = &c->f->regs;

    if (!c->insn.twobyte || c->insn.op != 0x33)
        return ES_DECODE_FAILED;
    GHCB_SET(g, rcx, r->rcx & 0xFFFFFFFFull);
    enum es_result ret = hv_call(c, SVM_EXIT_RDPMC, 0, 0);
    if (ret != ES_OK)
        return ret;
    if (!(GHCB_VALID(g, rax) && GHCB_VALID(g, rdx)))
        return missing(c, "RDPMC answer without RAX/RDX valid");
    r->rax = (uint32_t)g->save.rax;
    r->rdx = (uint32_t)g->save.rdx;
    return ES_OK;
}

static enum es_result vc_monitor(struct vc_ctx *c)
{
    struct sdk_regs *r = &c->f->regs;
    if (!is_0f01(&c->insn, 0xC8))
        return ES_DECODE_FAILED;
    GHCB_SET(c->g, rax, r->rax);
    GHCB_SET(c->g, rcx, r->rcx);
    GHCB_SET(c->g, rdx, r->rdx);
    return hv_call(c, SVM_EXIT_MONITOR, 0, 0);
}

static enum es_result vc_mwait(struct vc_ctx *c)
{
    struct sdk_regs *r = &c->f->regs;
    if (!is_0f01(&c->insn, 0xC9))
        return ES_DECODE_FAILED;
    GHCB_SET(c->g, rax, r->rax);
    GHCB_SET(c->g, rcx, r->rcx);
    return hv_call(c, SVM_EXIT_MWAIT, 0, 0);
}

static enum es_result vc_vmmcall(struct vc_ctx *c)
{
    struct sdk_regs *r = &c->f->regs;
    if (!is_0f01(&c->insn, 0xD9) || c->insn.rep)
        return ES_DECODE_FAILED;
    GHCB_SET(c->g, rax, r->rax);
    GHCB_SET(c->g, cpl, (uint8_t)(c->f->cs & 3));
    enum es_result ret = hv_call(c, SVM_EXIT_VMMCALL, 0, 0);
    if (ret != ES_OK)
        return ret;
    if (!GHCB_VALID(c->g, rax))
        return missing(c, "VMMCALL answer without RAX valid");
    r->rax = c->g->save.rax;
    return ES_OK;
}

typedef enum es_result (*vc_fn)(struct vc_ctx *c);

static vc_fn handler_for(uint64_t code)
{
    switch (code) {
    case SVM_EXIT_CPUID: return vc_cpuid;
    case SVM_EXIT_IOIO: return vc_ioio;
    case SVM_EXIT_MSR: return vc_msr;
    case SVM_EXIT_NPF: return vc_mmio;
    case SVM_EXIT_READ_DR7: return vc_dr7_read;
    case SVM_EXIT_WRITE_DR7: return vc_dr7_write;
    case SVM_EXIT_WBINVD: return vc_wbinvd;
    case SVM_EXIT_INVD: return vc_invd;
    case SVM_EXIT_RDTSC:
    case SVM_EXIT_RDTSCP: return vc_rdtsc;
    case SVM_EXIT_RDPMC: return vc_rdpmc;
    case SVM_EXIT_MONITOR: return vc_monitor;
    case SVM_EXIT_MWAIT: return vc_mwait;
    case SVM_EXIT_VMMCALL: return vc_vmmcall;
    default: return 0;
    }
}

/* ---- Dispatch --------------------------------------------------------------------------- */

/* Runs the guest's handler for vector as if the CPU had raised it at f. */
static void forward(struct sdk_frame *f, unsigned vector, uint64_t error_code)
{
    uint64_t v = f->vector, e = f->error_code;
    f->vector = vector;
    f->error_code = error_code;
    sdk_isr_dispatch(f);
    f->vector = v;
    f->error_code = e;
}

/* Before there is a GHCB only CPUID can be answered, by the MSR protocol (Linux do_vc_no_ghcb). */
static void vc_no_ghcb(struct sdk_frame *f)
{
    struct sdk_insn in;
    uint32_t v[4];

    if (f->error_code != SVM_EXIT_CPUID || !sdk_insn_decode((const uint8_t *)f->rip, &in) ||
        !in.twobyte || in.op != 0xA2)
        sdk_sev_terminate(SEV_TERM_SET_GEN, SDK_TERM_GEN_REQ);
    for (unsigned i = 0; i < 4; i++)
        if (!sdk_msr_cpuid((uint32_t)f->regs.rax, i, &v[i]))
            sdk_sev_terminate(SEV_TERM_SET_GEN, SDK_TERM_GEN_REQ);
    f->regs.rax = v[0];
    f->regs.rbx = v[1];
    f->regs.rcx = v[2];
    f->regs.rdx = v[3];
    f->rip += in.len;
}

static volatile uint8_t failing[SDK_MAX_CPUS];

static void vc_fail(struct vc_ctx *c, enum es_result r)
{
    struct sdk_frame *f = c->f;
    unsigned me = sdk_cpu();

    if (sdk_ex_fixup(f))            /* the guest expected a fault here */
        return;
    if (failing[me])                /* the report itself failed: no more output */
        sdk_sev_terminate(SEV_TERM_SET_GEN, SDK_TERM_GEN_REQ);
    failing[me] = 1;
    const char *what = r == ES_DECODE_FAILED ? "instruction not decoded or not matching the exit code"
                       : c->why ? c->why : "not handled";
    printf("FAIL: cpu %u: #VC error code 0x%lx (%s) at rip 0x%lx: %s\n", me, c->code,
           code_name(c->code), f->rip, what);
    if (r == ES_DECODE_FAILED) {    /* the bytes were readable: the decoder read them */
        const uint8_t *b = (const uint8_t *)f->rip;
        printf("  bytes %02x %02x %02x %02x %02x %02x\n", b[0], b[1], b[2], b[3], b[4], b[5]);
    }
    if (r == ES_VMM_ERROR)
        printf("  sw_exit_info_1 0x%lx sw_exit_info_2 0x%lx\n", c->info1, c->info2);
    sdk_sev_terminate(SEV_TERM_SET_GEN, SDK_TERM_GEN_REQ);
}

void sdk_vc_handler(struct sdk_frame *f)
{
    struct sdk_percpu *p = this_cpu();
    uint64_t code = f->error_code;

    p->vc_count[count_slot(code)]++;
    if (code == SVM_EXIT_EXCP_DB) {
        forward(f, X86_DB, 0);
        return;
    }
    if (code == SVM_EXIT_EXCP_AC) {
        forward(f, X86_AC, 0);
        return;
    }
    if (!p->ghcb) {
        vc_no_ghcb(f);
        return;
    }

    if ((code == SVM_EXIT_AVIC_INCOMPLETE_IPI || code == SVM_EXIT_AVIC_UNACCELERATED_ACCESS) &&
        sdk_savic_vc(f))
        return;                     /* Secure AVIC: the driver completed the access */

    struct vc_ctx c = { .f = f, .code = code };
    enum es_result r;
    vc_fn h = handler_for(code);
    if (!h) {
        r = ES_UNSUPPORTED;
        c.why = "exit code not handled";
    } else if (!sdk_insn_decode((const uint8_t *)f->rip, &c.insn)) {
        r = ES_DECODE_FAILED;
    } else {
        struct sdk_ghcb_state st;
        c.g = sdk_ghcb_get(&st);
        c.ghcb_gpa = (uint64_t)(uintptr_t)c.g;
        r = h(&c);
        c.info1 = c.g->save.sw_exit_info_1;     /* kept for a report */
        c.info2 = c.g->save.sw_exit_info_2;
        sdk_ghcb_put(&st);
    }

    switch (r) {
    case ES_OK:
        f->rip += c.insn.len;
        break;
    case ES_RETRY:
        break;
    case ES_EXCEPTION:
        forward(f, c.exc_vector, c.exc_error);
        break;
    default:
        vc_fail(&c, r);
        break;
    }
}
