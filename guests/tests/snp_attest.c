/* SPDX-License-Identifier: MIT */
/*
 * An SNP guest asks the PSP for attestation reports and derived keys with the
 * SDK's message client (sdk/attest.h; docs/attestation.md "The guest side"),
 * checks what it can check itself and prints the rest for the host to verify
 * (tests/scenarios/test_attest.c; scripts/attest-verify.sh hands the report
 * and the certificates to snpguest):
 *  1. EXT_GUEST_REQUEST with one certificate page: VMM error INVALID_LEN with
 *     the pages needed in RBX, the message not used (the sequence number stays);
 *     with those pages: a version-3 report at VMPL0 carrying the 64 bytes of
 *     report data, and a certificate table with the VCEK, ASK and ARK. The
 *     report ("attest: report" lines) and the certificates ("attest: cert")
 *     are printed in hex, the fields one a line;
 *  2. GUEST_REQUEST on VMPCK1 for VMPL1: the same measurement and chip ID,
 *     its own report data and VMPL; VMPL0 on VMPCK1 is refused in the
 *     response's status (INVALID_PARAM): a VMPCKn requester cannot speak for a
 *     more privileged VMPL;
 *  3. MSG_KEY_REQ: the same request twice gives the same key; another guest
 *     field select, VMPL or root key gives another; a reserved field-select
 *     bit is INVALID_PARAM;
 *  4. a replayed sequence number: the firmware refuses it, the SDK wipes
 *     VMPCK0 (as Linux does), so VMPCK0 is disabled; VMPCK2 still works.
 */
#include <sdk/sdk.h>
#include <sdk/attest.h>

#define SEV_RET_INVALID_PARAM 0x16

static void hex_line(const char *what, const uint8_t *p, size_t n)
{
    printf("attest: %s ", what);
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
    printf("\n");
}

/* Long blobs in lines of 64 bytes: "attest: NAME +OFFSET HEX". */
static void hex_blob(const char *name, const uint8_t *p, size_t n)
{
    for (size_t off = 0; off < n; off += 64) {
        char what[48];
        snprintf(what, sizeof(what), "%s +%04zx", name, off);
        hex_line(what, p + off, n - off < 64 ? n - off : 64);
    }
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static void print_report(const struct snp_report *r)
{
    printf("attest: version %u guest_svn %u policy 0x%lx vmpl %u sig_algo %u\n", r->version,
           r->guest_svn, r->policy, r->vmpl, r->sig_algo);
    printf("attest: current_tcb 0x%lx reported_tcb 0x%lx committed_tcb 0x%lx launch_tcb 0x%lx\n",
           r->current_tcb, r->reported_tcb, r->committed_tcb, r->launch_tcb);
    printf("attest: platform_info 0x%lx flags 0x%x cpuid %02x/%02x/%02x firmware %u.%u\n",
           r->platform_info, r->flags, r->cpuid_fam_id, r->cpuid_mod_id, r->cpuid_step,
           r->current_major, r->current_minor);
    hex_line("report_data", r->report_data, 64);
    hex_line("measurement", r->measurement, 48);
    hex_line("host_data", r->host_data, 32);
    hex_line("id_key_digest", r->id_key_digest, 48);
    hex_line("author_key_digest", r->author_key_digest, 48);
    hex_line("report_id", r->report_id, 32);
    hex_line("report_id_ma", r->report_id_ma, 32);
    hex_line("chip_id", r->chip_id, 64);
}

static void ext_report(const uint8_t data[64], struct snp_report *rep)
{
    uint32_t st;
    void *one = sdk_alloc_shared_pages(1);
    /* Too few pages: the hypervisor asks for more, the message is not consumed. */
    struct snp_report_req rq;
    memset(&rq, 0, sizeof(rq));
    memcpy(rq.user_data, data, 64);
    static struct snp_report_resp rs;
    struct sdk_msg m = {.vmpck = 0, .type = SNP_MSG_REPORT_REQ, .req = &rq, .req_len = sizeof(rq),
                        .resp = &rs, .resp_cap = sizeof(rs), .certs = one, .cert_pages = 1};
    GUEST_ASSERT_EQ(sdk_snp_msg(&m), SDK_MSG_VMM);
    GUEST_ASSERT_EQ(m.exit_info2, 1ull << 32);
    GUEST_ASSERT_EQ(m.sent_seqno, 1);
    GUEST_ASSERT_EQ(sdk_snp_next_seqno(0), 1);
    uint64_t need = m.cert_pages_needed;
    GUEST_ASSERT(need >= 2 && need <= 8);
    printf("attest: 1. one certificate page: VMM error 1 (INVALID_LEN), %lu pages needed, "
           "sequence number still 1\n", need);

    uint8_t *certs = sdk_alloc_shared_pages(need);
    GUEST_ASSERT_EQ(sdk_snp_report(0, 0, data, certs, need, rep, &st), SDK_MSG_OK);
    GUEST_ASSERT_EQ(st, 0);
    GUEST_ASSERT_EQ(sdk_snp_next_seqno(0), 3);
    GUEST_ASSERT_EQ(rep->version, 3);
    GUEST_ASSERT_EQ(rep->vmpl, 0);
    GUEST_ASSERT_EQ(rep->sig_algo, 1);
    GUEST_ASSERT(!memcmp(rep->report_data, data, 64));
    GUEST_ASSERT(!all_zero(rep->measurement, 48));
    GUEST_ASSERT(!all_zero(rep->chip_id, 64));
    GUEST_ASSERT(!all_zero(rep->sig_r, 72) && !all_zero(rep->sig_s, 72));
    print_report(rep);
    hex_blob("report", (const uint8_t *)rep, sizeof(*rep));
    static const struct {
        const char *name;
        const uint8_t *guid;
    } certs_wanted[] = {{"vcek", sdk_guid_vcek}, {"ask", sdk_guid_ask}, {"ark", sdk_guid_ark}};
    for (unsigned i = 0; i < 3; i++) {
        const uint8_t *c;
        uint32_t len;
        GUEST_ASSERT(sdk_cert_find(certs, need * 4096, certs_wanted[i].guid, &c, &len));
        GUEST_ASSERT(len > 256 && c[0] == 0x30); /* a DER SEQUENCE */
        char name[16];
        snprintf(name, sizeof(name), "cert %s", certs_wanted[i].name);
        hex_blob(name, c, len);
    }
    printf("attest: 1. EXT_GUEST_REQUEST: report version 3 at VMPL0 with the report data, "
           "certificate table with VCEK, ASK and ARK\n");
}

static void vmpl1_report(const uint8_t data[64], const struct snp_report *first)
{
    static struct snp_report r;
    uint8_t d[64];
    uint32_t st;
    for (unsigned i = 0; i < 64; i++)
        d[i] = (uint8_t)~data[i];
    GUEST_ASSERT_EQ(sdk_snp_report(1, 1, d, NULL, 0, &r, &st), SDK_MSG_OK);
    GUEST_ASSERT_EQ(st, 0);
    GUEST_ASSERT_EQ(r.vmpl, 1);
    GUEST_ASSERT(!memcmp(r.report_data, d, 64));
    GUEST_ASSERT(!memcmp(r.measurement, first->measurement, 48));
    GUEST_ASSERT(!memcmp(r.chip_id, first->chip_id, 64));
    GUEST_ASSERT_EQ(sdk_snp_report(1, 0, d, NULL, 0, &r, &st), SDK_MSG_OK);
    GUEST_ASSERT_EQ(st, SEV_RET_INVALID_PARAM);
    GUEST_ASSERT_EQ(sdk_snp_next_seqno(1), 5);
    printf("attest: 2. VMPCK1: report at VMPL1 with the same measurement and chip ID; "
           "VMPL0 refused (status 0x16)\n");
}

static void key(unsigned vmpck, uint32_t root, uint64_t fields, uint32_t vmpl, uint8_t out[32])
{
    struct snp_key_req rq = {.root_key_select = root, .guest_field_select = fields, .vmpl = vmpl};
    uint32_t st;
    GUEST_ASSERT_EQ(sdk_snp_derived_key(vmpck, &rq, out, &st), SDK_MSG_OK);
    GUEST_ASSERT_EQ(st, 0);
    GUEST_ASSERT(!all_zero(out, 32));
}

static void derived_keys(void)
{
    uint8_t a[32], b[32], c[32], d[32], e[32];
    key(0, 0, 0, 0, a);
    key(0, 0, 0, 0, b);
    GUEST_ASSERT(!memcmp(a, b, 32));
    key(0, 0, 1u << 3, 0, c); /* + measurement */
    key(0, 0, 0, 1, d);       /* VMPL1 */
    key(0, 1, 0, 0, e);       /* VMRK */
    GUEST_ASSERT(memcmp(a, c, 32) && memcmp(a, d, 32) && memcmp(a, e, 32) && memcmp(c, d, 32));
    hex_line("key fields=0", a, 32);
    hex_line("key fields=0x8", c, 32);
    hex_line("key vmpl=1", d, 32);
    hex_line("key root=vmrk", e, 32);
    struct snp_key_req bad = {.guest_field_select = 1ull << 6};
    uint32_t st;
    GUEST_ASSERT_EQ(sdk_snp_derived_key(0, &bad, a, &st), SDK_MSG_OK);
    GUEST_ASSERT_EQ(st, SEV_RET_INVALID_PARAM);
    printf("attest: 3. MSG_KEY_REQ: same request, same key; field select, VMPL and root key "
           "each change it; reserved select bit refused (status 0x16)\n");
}

static void replay(const uint8_t data[64])
{
    struct snp_report_req rq;
    static struct snp_report_resp rs;
    static struct snp_report r;
    uint32_t st;
    memset(&rq, 0, sizeof(rq));
    struct sdk_msg m = {.vmpck = 0, .type = SNP_MSG_REPORT_REQ, .req = &rq, .req_len = sizeof(rq),
                        .resp = &rs, .resp_cap = sizeof(rs), .seqno = 1};
    GUEST_ASSERT_EQ(sdk_snp_msg(&m), SDK_MSG_FIRMWARE);
    GUEST_ASSERT_EQ(m.exit_info2, SEV_RET_INVALID_PARAM);
    GUEST_ASSERT_EQ(sdk_snp_report(0, 0, data, NULL, 0, &r, &st), SDK_MSG_KEY_DISABLED);
    GUEST_ASSERT_EQ(sdk_snp_report(2, 2, data, NULL, 0, &r, &st), SDK_MSG_OK);
    GUEST_ASSERT_EQ(st, 0);
    GUEST_ASSERT_EQ(r.vmpl, 2);
    printf("attest: 4. replayed sequence number 1: firmware status 0x16, VMPCK0 wiped and "
           "disabled; VMPCK2 still answers\n");
}

int main(void)
{
    if (!sdk_snp_active()) {
        GUEST_ASSERT_EQ(sdk_snp_msg(&(struct sdk_msg){.type = SNP_MSG_REPORT_REQ}),
                        SDK_MSG_NOT_SNP);
        printf("attest: not an SNP guest: no guest messages\n");
        return 0;
    }
    uint8_t data[64];
    for (unsigned i = 0; i < 64; i++)
        data[i] = (uint8_t)(0xA0 ^ i);
    static struct snp_report rep;
    ext_report(data, &rep);
    vmpl1_report(data, &rep);
    derived_keys();
    replay(data);
    printf("attest: done\n");
    return 0;
}
