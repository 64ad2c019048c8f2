/* SPDX-License-Identifier: MIT */
/*
 * The PSP's SNP guest-management commands (docs/sev-snp-facts.md 8.1, 8.4): the guest
 * context's life (SNP_GCTX_CREATE, SNP_DECOMMISSION), binding an ASID
 * (SNP_ACTIVATE), SNP_LAUNCH_START with the guest policy checks, and
 * SNP_LAUNCH_FINISH with the optional ID block. SNP_LAUNCH_UPDATE and the launch
 * digest are in psp_launch.c. Buffers and status codes follow Linux
 * include/linux/psp-sev.h and include/uapi/linux/psp-sev.h; the call order is
 * KVM's (arch/x86/kvm/svm/sev.c: snp_context_create, snp_launch_start,
 * snp_bind_asid, sev_gmem_post_populate, snp_launch_finish).
 *
 * The guest states are the ABI's GSTATE_INIT -> GSTATE_LAUNCH (LAUNCH_START)
 * -> GSTATE_RUNNING (LAUNCH_FINISH); a command in the wrong state answers
 * INVALID_GUEST_STATE and changes nothing.
 */
#include "psp_int.h"
#include "psp_guest.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mem.h"
#include "snpref/base.h"
#include "trace.h"

void psp_sha384(const void *data, size_t len, uint8_t out[PSP_DIGEST_SIZE])
{
    unsigned n = 0;
    SNP_ASSERT(EVP_Digest(data, len, out, &n, EVP_sha384(), NULL) == 1);
    SNP_ASSERT(n == PSP_DIGEST_SIZE);
}

void psp_config_default(struct psp_config *c)
{
    memset(c, 0, sizeof(*c));
    c->fms = 0x00A00F11;      /* family 19h model 1 stepping 1: the model's CPUID leaf 1 */
    c->max_asid = 1023;       /* the RMP entry's 10-bit ASID */
    c->api_major = 1;
    c->api_minor = 55;        /* SEV-SNP Firmware ABI 1.55 */
    c->aes_256_xts = true;
}

struct psp *psp_create(struct mem *m, struct rmp *r, struct trc *trace,
                       const struct psp_config *cfg)
{
    struct psp *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->mem = m;
    p->rmp = r;
    p->trace = trace;
    p->cfg = *cfg;
    p->next_handle = 1;
    p->why = "";
    p->pstate = PSP_PSTATE_UNINIT;
    p->max_snp_asid = cfg->max_asid;
    return p;
}

void psp_destroy(struct psp *p)
{
    if (!p)
        return;
    psp_chain_free(p->chain);
    for (unsigned i = 0; i < PSP_MAX_GUESTS; i++)
        free(p->guests[i]);
    free(p);
}

const char *psp_why(const struct psp *p) { return p->why; }

static const struct {
    uint32_t status;
    const char *name;
} status_names[] = {
    {SEV_RET_SUCCESS, "SUCCESS"},
    {SEV_RET_INVALID_PLATFORM_STATE, "INVALID_PLATFORM_STATE"},
    {SEV_RET_DFFLUSH_REQUIRED, "DFFLUSH_REQUIRED"},
    {SEV_RET_INVALID_GUEST_STATE, "INVALID_GUEST_STATE"},
    {SEV_RET_POLICY_FAILURE, "POLICY_FAILURE"},
    {SEV_RET_INACTIVE, "INACTIVE"},
    {SEV_RET_INVALID_ADDRESS, "INVALID_ADDRESS"},
    {SEV_RET_BAD_MEASUREMENT, "BAD_MEASUREMENT"},
    {SEV_RET_ASID_OWNED, "ASID_OWNED"},
    {SEV_RET_INVALID_ASID, "INVALID_ASID"},
    {SEV_RET_INVALID_GUEST, "INVALID_GUEST"},
    {SEV_RET_INVALID_COMMAND, "INVALID_COMMAND"},
    {SEV_RET_UNSUPPORTED, "UNSUPPORTED"},
    {SEV_RET_INVALID_PARAM, "INVALID_PARAM"},
    {SEV_RET_RESOURCE_LIMIT, "RESOURCE_LIMIT"},
    {SEV_RET_INVALID_PAGE_SIZE, "INVALID_PAGE_SIZE"},
    {SEV_RET_INVALID_PAGE_STATE, "INVALID_PAGE_STATE"},
    {SEV_RET_INVALID_PAGE_OWNER, "INVALID_PAGE_OWNER"},
};

const char *psp_status_name(uint32_t status)
{
    for (size_t i = 0; i < ARRAY_SIZE(status_names); i++)
        if (status_names[i].status == status)
            return status_names[i].name;
    return "UNKNOWN";
}

void psp_digest_hex(const uint8_t digest[PSP_DIGEST_SIZE], char out[PSP_DIGEST_HEX_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < PSP_DIGEST_SIZE; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[2 * PSP_DIGEST_SIZE] = '\0';
}

/* ---- Guest contexts ----------------------------------------------------------------- */

struct psp_gctx *psp_find_guest(const struct psp *p, uint64_t handle)
{
    for (unsigned i = 0; i < PSP_MAX_GUESTS; i++)
        if (p->guests[i] && p->guests[i]->handle == handle)
            return p->guests[i];
    return NULL;
}

bool psp_guest(const struct psp *p, uint64_t handle, struct psp_guest_info *out)
{
    const struct psp_gctx *g = psp_find_guest(p, handle);
    if (!g)
        return false;
    memset(out, 0, sizeof(*out));
    out->state = g->state;
    out->asid = g->asid;
    out->policy = g->policy;
    memcpy(out->digest, g->ld, sizeof(out->digest));
    out->pages_measured = g->pages;
    memcpy(out->host_data, g->host_data, sizeof(out->host_data));
    out->id_block_en = g->id_block_en;
    out->id_block = g->id_block;
    return true;
}

/*
 * A real PSP draws the VMPCKs from its RNG when it creates the context. The
 * model derives them from the configured seed and the handle, so two runs with
 * the same seed give the guest the same keys (and the same traces):
 * VMPCKi = SHA-384("snpref-vmpck" || seed LE64 || handle LE64 || i)[0:32].
 */
static void derive_vmpcks(const struct psp *p, struct psp_gctx *g)
{
    uint8_t in[12 + 8 + 8 + 1], d[PSP_DIGEST_SIZE];
    memcpy(in, "snpref-vmpck", 12);
    memcpy(in + 12, &p->cfg.seed, 8);
    memcpy(in + 20, &g->handle, 8);
    for (unsigned i = 0; i < 4; i++) {
        in[28] = (uint8_t)i;
        psp_sha384(in, sizeof(in), d);
        memcpy(g->vmpck[i], d, SNP_VMPCK_SIZE);
    }
}

static uint32_t cmd_gctx_create(struct psp *p, void *buf, uint64_t now)
{
    (void)now;
    struct psp_snp_addr *c = buf;
    unsigned slot = 0;
    while (slot < PSP_MAX_GUESTS && p->guests[slot])
        slot++;
    if (slot == PSP_MAX_GUESTS)
        return psp_fail(p, SEV_RET_RESOURCE_LIMIT, "no free guest context");
    struct psp_gctx *g = calloc(1, sizeof(*g));
    SNP_ASSERT(g);
    g->handle = p->next_handle++;
    g->state = PSP_GSTATE_INIT;
    g->owner = p->caller;
    derive_vmpcks(p, g);
    p->guests[slot] = g;
    c->gctx_paddr = g->handle;
    return SEV_RET_SUCCESS;
}

/* The ABI wants an SNP_DF_FLUSH before the ASID is reused (KVM's
 * sev_asid_recycle / snp_decommission_context): the model has no data-fabric
 * caches, but keeps the rule, so SNP_ACTIVATE of the ASID answers
 * DFFLUSH_REQUIRED until then (psp_platform.c). */
static uint32_t cmd_decommission(struct psp *p, void *buf, uint64_t now)
{
    (void)now;
    const struct psp_snp_addr *c = buf;
    for (unsigned i = 0; i < PSP_MAX_GUESTS; i++)
        if (p->guests[i] && p->guests[i]->handle == c->gctx_paddr &&
            p->guests[i]->owner == p->caller) {
            if (p->guests[i]->asid)
                psp_asid_mark_dirty(p, p->guests[i]->asid);
            free(p->guests[i]);
            p->guests[i] = NULL;
            return SEV_RET_SUCCESS;
        }
    return psp_fail(p, SEV_RET_INVALID_GUEST, "no guest context with this handle");
}

static bool asid_owned(const struct psp *p, uint32_t asid)
{
    for (unsigned i = 0; i < PSP_MAX_GUESTS; i++)
        if (p->guests[i] && p->guests[i]->asid == asid)
            return true;
    return false;
}

/* UNCERTAIN (ABI not read): ACTIVATE is accepted once the launch has started
 * (KVM binds the ASID right after LAUNCH_START) and only once per context. */
static uint32_t cmd_activate(struct psp *p, struct psp_gctx *g, void *buf, uint64_t now)
{
    (void)now;
    const struct psp_snp_activate *c = buf;
    if (g->state == PSP_GSTATE_INIT)
        return psp_fail(p, SEV_RET_INVALID_GUEST_STATE, "SNP_ACTIVATE before SNP_LAUNCH_START");
    if (g->asid)
        return psp_fail(p, SEV_RET_INVALID_GUEST_STATE, "the guest is already activated");
    if (c->asid == 0 || c->asid > p->max_snp_asid)
        return psp_fail(p, SEV_RET_INVALID_ASID, "ASID outside 1..max_snp_asid");
    if (asid_owned(p, c->asid))
        return psp_fail(p, SEV_RET_ASID_OWNED, "another guest holds this ASID");
    if (psp_asid_dirty(p, c->asid))
        return psp_fail(p, SEV_RET_DFFLUSH_REQUIRED, "ASID decommissioned without SNP_DF_FLUSH");
    g->asid = c->asid;
    return SEV_RET_SUCCESS;
}

/* ---- SNP_LAUNCH_START ----------------------------------------------------------------- */

/*
 * Why the platform refuses policy pol, or NULL. UNCERTAIN: every refusal is
 * POLICY_FAILURE (KVM checks MBZ/MBO itself before asking the firmware).
 * XXX(model): SINGLE_SOCKET always holds (one socket); DEBUG, MIGRATE_MA,
 * CXL_ALLOW and PAGE_SWAP_DISABLE are accepted and only recorded, as the model
 * has no debug, migration, CXL or page-swap commands for them to restrict.
 */
static const char *policy_problem(const struct psp_config *cfg, uint64_t pol)
{
    if (pol & SNP_POLICY_MBZ)
        return "policy sets a reserved must-be-zero bit (63:26)";
    if (!(pol & SNP_POLICY_RSVD_MBO))
        return "policy bit 17 (reserved, must be one) is clear";
    unsigned major = SNP_POLICY_ABI_MAJOR(pol), minor = SNP_POLICY_ABI_MINOR(pol);
    if (major > cfg->api_major || (major == cfg->api_major && minor > cfg->api_minor))
        return "policy asks for a newer firmware ABI than the platform's";
    if (cfg->smt_enabled && !(pol & SNP_POLICY_SMT))
        return "SMT is enabled on the platform but the policy does not allow it";
    /* Policy bits that need a platform capability (docs/sev-snp-facts.md 8.4). */
    const struct {
        uint64_t bit;
        bool have;
        const char *why;
    } needs[] = {
        {SNP_POLICY_RAPL_DIS, cfg->rapl_disabled,
         "policy RAPL_DIS needs RAPL disabled on the platform"},
        {SNP_POLICY_CIPHERTEXT_HIDING, cfg->ciphertext_hiding,
         "policy CIPHERTEXT_HIDING needs ciphertext hiding enabled on the platform"},
        {SNP_POLICY_MEM_AES_256_XTS, cfg->aes_256_xts,
         "policy MEM_AES_256_XTS needs AES-256-XTS on the platform"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(needs); i++)
        if ((pol & needs[i].bit) && !needs[i].have)
            return needs[i].why;
    return NULL;
}

static uint32_t cmd_launch_start(struct psp *p, struct psp_gctx *g, void *buf, uint64_t now)
{
    (void)now;
    const struct psp_snp_launch_start *c = buf;
    if (g->state != PSP_GSTATE_INIT)
        return psp_fail(p, SEV_RET_INVALID_GUEST_STATE, "SNP_LAUNCH_START after the launch began");
    if (c->flags & ~(PSP_LAUNCH_START_MA_EN | PSP_LAUNCH_START_IMI_EN))
        return psp_fail(p, SEV_RET_INVALID_PARAM, "reserved LAUNCH_START flags are set");
    /* XXX(model): migration agents and IMI launches (guest-assisted
     * migration) are not modelled. */
    if (c->flags)
        return psp_fail(p, SEV_RET_UNSUPPORTED, "migration agent / IMI launch not modelled");
    const char *why = policy_problem(&p->cfg, c->policy);
    if (why)
        return psp_fail(p, SEV_RET_POLICY_FAILURE, why);
    g->policy = c->policy;
    memcpy(g->gosvw, c->gosvw, sizeof(g->gosvw));
    g->desired_tsc_khz = c->desired_tsc_khz;
    memset(g->ld, 0, sizeof(g->ld)); /* docs/sev-snp-facts.md 8.2: LD starts as 48 zero bytes */
    g->state = PSP_GSTATE_LAUNCH;
    return SEV_RET_SUCCESS;
}

static uint32_t cmd_launch_update(struct psp *p, struct psp_gctx *g, void *buf, uint64_t now)
{
    if (g->state != PSP_GSTATE_LAUNCH)
        return psp_fail(p, SEV_RET_INVALID_GUEST_STATE, "SNP_LAUNCH_UPDATE outside the launch");
    if (!g->asid)
        return psp_fail(p, SEV_RET_INACTIVE, "SNP_LAUNCH_UPDATE before SNP_ACTIVATE");
    return psp_launch_update(p, g, buf, now);
}

/* ---- SNP_LAUNCH_FINISH ---------------------------------------------------------------- */

/*
 * The ID block: the launch digest and policy the guest owner expects, signed
 * with the ID key (docs/sev-snp-facts.md 8.2). UNCERTAIN: which code each mismatch gets
 * (BAD_MEASUREMENT for the digest, POLICY_FAILURE for the policy, INVALID_PARAM
 * for a version or algorithm the firmware does not know).
 * XXX(model): the ECDSA P-384 signatures (ID block by the ID key, ID key by the
 * author key) are not verified yet: roadmap, with the attestation report.
 */
static uint32_t check_id_block(struct psp *p, struct psp_gctx *g,
                               const struct psp_snp_launch_finish *c, struct psp_id_block *out)
{
    const struct psp_id_block *blk = mem_ptr(p->mem, c->id_block_paddr, sizeof(*blk));
    const struct psp_id_auth *auth = mem_ptr(p->mem, c->id_auth_paddr, sizeof(*auth));
    if (!blk || !auth)
        return psp_fail(p, SEV_RET_INVALID_ADDRESS, "ID block or ID auth outside RAM");
    if (auth->id_key_algo != PSP_ID_ALGO_ECDSA_P384_SHA384)
        return psp_fail(p, SEV_RET_INVALID_PARAM, "ID key algorithm is not ECDSA P-384 SHA-384");
    if ((c->flags & PSP_FINISH_AUTH_KEY_EN) &&
        auth->auth_key_algo != PSP_ID_ALGO_ECDSA_P384_SHA384)
        return psp_fail(p, SEV_RET_INVALID_PARAM, "author key algorithm is not ECDSA P-384");
    if (blk->version != PSP_ID_BLOCK_VERSION)
        return psp_fail(p, SEV_RET_INVALID_PARAM, "ID block version is not 1");
    if (memcmp(blk->ld, g->ld, PSP_DIGEST_SIZE) != 0)
        return psp_fail(p, SEV_RET_BAD_MEASUREMENT, "ID block digest is not the launch digest");
    if (blk->policy != g->policy)
        return psp_fail(p, SEV_RET_POLICY_FAILURE, "ID block policy differs from the guest's");
    *out = *blk;
    /* The report's ID_KEY_DIGEST / AUTHOR_KEY_DIGEST: SHA-384 of the public keys as
     * given (Firmware ABI 56860 ATTESTATION_REPORT; virtee/sev-snp-measure). */
    psp_sha384(auth->id_key, sizeof(auth->id_key), g->id_key_digest);
    if (c->flags & PSP_FINISH_AUTH_KEY_EN)
        psp_sha384(auth->author_key, sizeof(auth->author_key), g->author_key_digest);
    return SEV_RET_SUCCESS;
}

static uint32_t cmd_launch_finish(struct psp *p, struct psp_gctx *g, void *buf, uint64_t now)
{
    const struct psp_snp_launch_finish *c = buf;
    if (g->state != PSP_GSTATE_LAUNCH)
        return psp_fail(p, SEV_RET_INVALID_GUEST_STATE, "SNP_LAUNCH_FINISH outside the launch");
    if (!g->asid)
        return psp_fail(p, SEV_RET_INACTIVE, "SNP_LAUNCH_FINISH before SNP_ACTIVATE");
    if (c->flags & PSP_FINISH_FLAGS_RSVD)
        return psp_fail(p, SEV_RET_INVALID_PARAM, "reserved LAUNCH_FINISH flags are set");
    bool id_en = c->flags & PSP_FINISH_ID_BLOCK_EN;
    if ((c->flags & PSP_FINISH_AUTH_KEY_EN) && !id_en)
        return psp_fail(p, SEV_RET_INVALID_PARAM, "AUTH_KEY_EN without ID_BLOCK_EN");
    struct psp_id_block blk;
    memset(&blk, 0, sizeof(blk));
    if (id_en) {
        uint32_t rc = check_id_block(p, g, c, &blk);
        if (rc != SEV_RET_SUCCESS)
            return rc;
    }
    g->id_block_en = id_en;
    g->id_block = blk;
    memcpy(g->host_data, c->host_data, sizeof(g->host_data));
    g->state = PSP_GSTATE_RUNNING;
    char hex[PSP_DIGEST_HEX_SIZE];
    psp_digest_hex(g->ld, hex);
    TRC(p->trace, launch_finish, now, -1, hex, g->policy);
    return SEV_RET_SUCCESS;
}

static uint32_t cmd_hv_report(struct psp *p, struct psp_gctx *g, void *buf, uint64_t now)
{
    (void)now;
    const struct psp_snp_hv_report_req *c = buf;
    return psp_hv_report(p, g, c);
}

/* ---- Dispatch ------------------------------------------------------------------------- */

typedef uint32_t (*guest_cmd_fn)(struct psp *p, struct psp_gctx *g, void *buf, uint64_t now);

/* Commands on an existing context, and where their buffer has gctx_paddr. */
static const struct {
    uint32_t cmd;
    guest_cmd_fn fn;
    size_t gctx_off;
} guest_cmds[] = {
    {SEV_CMD_SNP_ACTIVATE, cmd_activate, 0},
    {SEV_CMD_SNP_LAUNCH_START, cmd_launch_start, 0},
    {SEV_CMD_SNP_LAUNCH_UPDATE, cmd_launch_update, 0},
    {SEV_CMD_SNP_LAUNCH_FINISH, cmd_launch_finish, 0},
    {SEV_CMD_SNP_HV_REPORT_REQ, cmd_hv_report,
     __builtin_offsetof(struct psp_snp_hv_report_req, gctx_paddr)},
};

uint32_t psp_command(struct psp *p, uint32_t cmd, void *buf, uint64_t now)
{
    return psp_command_as(p, PSP_CLIENT_HV, cmd, buf, now);
}

uint32_t psp_command_as(struct psp *p, enum psp_client client, uint32_t cmd, void *buf,
                        uint64_t now)
{
    SNP_ASSERT(client < PSP_CLIENTS);
    p->why = "";
    p->caller = client;
    bool platform = false;
    uint32_t rc = psp_platform_command(p, cmd, buf, &platform);
    if (platform)
        return rc;
    if (!p->client_init[client])
        return psp_fail(p, SEV_RET_INVALID_PLATFORM_STATE, "the platform is not initialised (SNP_INIT)");
    if (!buf)
        return psp_fail(p, SEV_RET_INVALID_PARAM, "no command buffer");
    if (cmd == SEV_CMD_SNP_GCTX_CREATE)
        return cmd_gctx_create(p, buf, now);
    if (cmd == SEV_CMD_SNP_DECOMMISSION)
        return cmd_decommission(p, buf, now);
    for (size_t i = 0; i < ARRAY_SIZE(guest_cmds); i++) {
        if (guest_cmds[i].cmd != cmd)
            continue;
        uint64_t handle;
        memcpy(&handle, (const uint8_t *)buf + guest_cmds[i].gctx_off, sizeof(handle));
        struct psp_gctx *g = psp_find_guest(p, handle);
        if (!g || g->owner != client)
            return psp_fail(p, SEV_RET_INVALID_GUEST, "no guest context with this handle");
        return guest_cmds[i].fn(p, g, buf, now);
    }
    return psp_fail(p, SEV_RET_INVALID_COMMAND, "command not modelled");
}
