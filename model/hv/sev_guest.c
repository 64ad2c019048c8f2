/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor's side of the SNP guest messages (GHCB spec 4.1.8
 * SNP_GUEST_REQUEST and 4.1.9 SNP_EXTENDED_GUEST_REQUEST; KVM arch/x86/kvm/svm/sev.c
 * snp_handle_guest_req, snp_handle_ext_guest_req): the guest's request page is
 * copied into the hypervisor's own buffer, handed to the PSP (which alone can
 * read the encrypted message, model/psp/psp_guest.c), and the PSP's response
 * is copied to the guest's response page. SW_EXITINFO2 carries the VMM error in
 * [63:32] and the firmware status in [31:0]. The extended request also writes
 * the certificate table (ARK, ASK, VCEK) into the pages RAX/RBX name; when they
 * are too few, RBX returns the number needed with VMM error 1 (INVALID_LEN).
 */
#include <inttypes.h>
#include <string.h>

#include "psp_guest.h"
#include "sev.h"
#include "snpref/base.h"

#define PAGE 4096ull
#define VMM_ERR_INVALID_LEN 1ull
#define GUEST_ERR(vmm, fw) ((uint64_t)(vmm) << 32 | (uint32_t)(fw))

static uint8_t req_buf[PAGE], resp_buf[PAGE]; /* the hypervisor's copies (one request at a time) */

static bool copy_in(struct ghcb_call *c, uint64_t gpa, void *dst, uint64_t len)
{
    if (mem_hv_read(&c->s->sys->mem, gpa, dst, len))
        return true;
    ghcb_fail_run(c->s, "guest request page outside RAM (KVM: kvm_read_guest -EIO)");
    c->stop = true;
    return false;
}

static bool copy_out(struct ghcb_call *c, uint64_t gpa, const void *src, uint64_t len)
{
    uint64_t pf = 0;
    if (mem_hv_write(&c->s->sys->mem, gpa, src, len, &pf))
        return true;
    TRC(c->s->sys->trace, rmp_fault, sys_now(c->s), (int)c->s->idx, "hypervisor", "write",
        gpa & ~(PAGE - 1), pf, "hypervisor write to a page assigned to the guest");
    ghcb_fail_run(c->s, "guest response page not shared (KVM: kvm_write_guest -EIO)");
    c->stop = true;
    return false;
}

/* EXT_GUEST_REQUEST of a report: the certificate table first. false: answered. */
static bool ext_certs(struct ghcb_call *c)
{
    struct sev *sev = c->s->sys->sev;
    if (!ghcb_has(c, GHCB_BIT(rax)) || !ghcb_has(c, GHCB_BIT(rbx)) ||
        (c->in.save.rax & (PAGE - 1))) {
        ghcb_error(c, GHCB_ERR_INVALID_INPUT); /* KVM: request_invalid */
        return false;
    }
    uint64_t gpa = c->in.save.rax, npages = c->in.save.rbx;
    static uint8_t table[PSP_CERT_TABLE_MAX];
    size_t need = psp_cert_table(sev->psp, table, sizeof(table));
    SNP_ASSERT(need && need <= sizeof(table));
    uint64_t need_pages = (need + PAGE - 1) / PAGE;
    if (npages < need_pages) {
        c->res2 = GUEST_ERR(VMM_ERR_INVALID_LEN, 0);
        ghcb_put(c, GHCB_BIT(rbx), need_pages);
        return false;
    }
    return copy_out(c, gpa, table, need);
}

void sev_guest_request(struct ghcb_call *c)
{
    struct system *sys = c->s->sys;
    struct sev *sev = sys->sev;
    uint64_t req = c->info1, resp = c->info2;
    if (!copy_in(c, req, req_buf, PAGE))
        return;
    uint8_t type = req_buf[SNP_MSG_TYPE_OFFSET];
    bool ext = c->code == SVM_VMGEXIT_EXT_GUEST_REQUEST;
    if (ext && type == SNP_MSG_REPORT_REQ && !ext_certs(c))
        return;
    memset(resp_buf, 0, sizeof(resp_buf));
    uint32_t fw = psp_guest_request(sev->psp, sev->gctx, req_buf, resp_buf);
    TRC(sys->trace, guest_request, sys_now(c->s), (int)c->s->idx, ext ? "ext" : "plain", type, fw);
    if (!copy_out(c, resp, resp_buf, PAGE))
        return;
    c->res1 = 0;
    c->res2 = GUEST_ERR(0, fw);
}
