/* SPDX-License-Identifier: MIT */
/*
 * The SNP platform state machine of the PSP firmware and the commands that
 * act on the platform rather than on one guest (docs/psp.md "Commands";
 * docs/sev-snp-facts.md 8.1): SNP_INIT / SNP_INIT_EX (UNINIT -> INIT),
 * SNP_PLATFORM_STATUS, SNP_DF_FLUSH and SNP_PAGE_RECLAIM, and
 * psp_command_at(), the mailbox's way in, which takes the command buffer from
 * RAM as the Linux ccp driver hands it over (drivers/crypto/ccp/sev-dev.c
 * __sev_do_cmd_locked: the buffer's physical address in CMDBUFF_ADDR_LO/HI).
 *
 * Buffers and codes: Linux include/linux/psp-sev.h (sev_data_snp_init_ex,
 * sev_data_snp_addr, sev_data_snp_page_reclaim) and include/uapi/linux/psp-sev.h
 * (sev_user_data_snp_status, sev_ret_code). The call order is Linux's
 * (sev-dev.c __sev_snp_init_locked: SNP_INIT_EX then SNP_DF_FLUSH;
 * sev_ioctl_do_snp_platform_status: the status page made firmware-owned first,
 * "otherwise it will report ... INVALID_PAGE_STATE"; snp_reclaim_pages).
 */
#include "psp_int.h"

#include <string.h>

#include "mem.h"
#include "rmp.h"
#include "snpref/base.h"

#define PAGE_4K 4096ull
#define PAGE_2M (2ull << 20)

enum psp_pstate psp_platform_state(const struct psp *p) { return p->pstate; }

enum psp_pstate psp_client_state(const struct psp *p, enum psp_client c)
{
    SNP_ASSERT(c < PSP_CLIENTS);
    return p->client_init[c] ? PSP_PSTATE_INIT : PSP_PSTATE_UNINIT;
}

void psp_asid_mark_dirty(struct psp *p, uint32_t asid)
{
    SNP_ASSERT(asid < 1024);
    p->asid_dirty[asid / 64] |= 1ull << (asid % 64);
}

bool psp_asid_dirty(const struct psp *p, uint32_t asid)
{
    return asid < 1024 && ((p->asid_dirty[asid / 64] >> (asid % 64)) & 1);
}

/* A page in the RMP's Firmware state: assigned to ASID 0 and immutable, as
 * Linux rmp_mark_pages_firmware() leaves it (RMPUPDATE assigned, asid 0, immutable). */
static bool firmware_page(const struct psp *p, uint64_t spa, struct rmp_entry *e)
{
    return rmp_lookup(p->rmp, spa, e) && e->assigned && e->asid == 0 && e->immutable;
}

bool psp_firmware_page(const struct psp *p, uint64_t spa)
{
    struct rmp_entry e;
    return firmware_page(p, spa, &e);
}

/* The caller's view becomes INIT; the firmware's too if it was not yet. A
 * later caller's SNP_INIT_EX parameters do not change the platform. */
static void init_platform(struct psp *p, uint32_t max_snp_asid)
{
    p->client_init[p->caller] = true;
    if (p->pstate == PSP_PSTATE_INIT)
        return;
    p->pstate = PSP_PSTATE_INIT;
    p->max_snp_asid = max_snp_asid ? max_snp_asid : p->cfg.max_asid;
}

static uint32_t cmd_snp_init(struct psp *p, void *buf)
{
    (void)buf; /* SNP_INIT takes no buffer */
    if (p->client_init[p->caller])
        return psp_fail(p, SEV_RET_INVALID_PLATFORM_STATE, "SNP_INIT when already initialised");
    init_platform(p, 0);
    return SEV_RET_SUCCESS;
}

/* XXX(model): the RMP always exists and is initialised (INIT_RMP is accepted
 * either way); LIST_PADDR_EN (ranges made HV-fixed) is not modelled. */
static uint32_t cmd_snp_init_ex(struct psp *p, void *buf)
{
    const struct psp_snp_init_ex *c = buf;
    if (!c)
        return psp_fail(p, SEV_RET_INVALID_PARAM, "SNP_INIT_EX without a command buffer");
    if (p->client_init[p->caller])
        return psp_fail(p, SEV_RET_INVALID_PLATFORM_STATE, "SNP_INIT_EX when already initialised");
    if ((c->flags & PSP_INIT_EX_FLAGS_RSVD) || c->reserved_0x4)
        return psp_fail(p, SEV_RET_INVALID_PARAM, "reserved SNP_INIT_EX fields are set");
    if (c->flags & PSP_INIT_EX_LIST_PADDR_EN)
        return psp_fail(p, SEV_RET_UNSUPPORTED, "SNP_INIT_EX range list not modelled");
    if ((c->flags & PSP_INIT_EX_RAPL_DIS) && !p->cfg.rapl_disabled)
        return psp_fail(p, SEV_RET_INVALID_PARAM, "RAPL_DIS: the platform cannot disable RAPL");
    if ((c->flags & PSP_INIT_EX_CTH_EN) && !p->cfg.ciphertext_hiding)
        return psp_fail(p, SEV_RET_INVALID_PARAM, "ciphertext hiding is not available");
    if (c->max_snp_asid > p->cfg.max_asid)
        return psp_fail(p, SEV_RET_INVALID_PARAM, "max_snp_asid beyond the platform's ASIDs");
    init_platform(p, c->max_snp_asid);
    return SEV_RET_SUCCESS;
}

/* The caller's own guests: another caller's are none of its business. */
static uint32_t guest_count(const struct psp *p)
{
    uint32_t n = 0;
    for (unsigned i = 0; i < PSP_MAX_GUESTS; i++)
        n += p->guests[i] && p->guests[i]->owner == p->caller;
    return n;
}

/*
 * The status goes to the page at status_paddr (4 KiB aligned, in RAM). Once
 * the platform is initialised that page must be firmware-owned (Linux
 * sev_ioctl_do_snp_platform_status), else INVALID_PAGE_STATE.
 */
static uint32_t cmd_platform_status(struct psp *p, void *buf)
{
    const struct psp_snp_platform_status_buf *c = buf;
    if (!c)
        return psp_fail(p, SEV_RET_INVALID_PARAM, "SNP_PLATFORM_STATUS without a command buffer");
    struct psp_snp_status *out = NULL;
    if (c->status_paddr % PAGE_4K == 0)
        out = mem_ptr(p->mem, c->status_paddr, sizeof(*out));
    if (!out)
        return psp_fail(p, SEV_RET_INVALID_ADDRESS, "status page unaligned or outside RAM");
    struct rmp_entry e;
    bool init = p->client_init[p->caller];
    if (init && !firmware_page(p, c->status_paddr, &e))
        return psp_fail(p, SEV_RET_INVALID_PAGE_STATE, "status page is not firmware-owned");
    memset(out, 0, sizeof(*out));
    out->api_major = p->cfg.api_major;
    out->api_minor = p->cfg.api_minor;
    out->state = (uint8_t)(init ? PSP_PSTATE_INIT : PSP_PSTATE_UNINIT);
    out->rmp_flags = init ? PSP_STATUS_RMP_INITIALIZED : 0;
    out->build_id = 0; /* XXX(model): no firmware build; TCB versions 0 as in the report */
    out->features = (p->cfg.rapl_disabled ? 1u << 4 : 0) | (p->cfg.ciphertext_hiding ? 3u << 5 : 0);
    out->guest_count = guest_count(p);
    return SEV_RET_SUCCESS;
}

static uint32_t cmd_df_flush(struct psp *p, void *buf)
{
    (void)buf;
    if (!p->client_init[p->caller])
        return psp_fail(p, SEV_RET_INVALID_PLATFORM_STATE, "SNP_DF_FLUSH before SNP_INIT");
    memset(p->asid_dirty, 0, sizeof(p->asid_dirty));
    return SEV_RET_SUCCESS;
}

/*
 * Firmware (or guest-context) page -> Reclaim: assigned to ASID 0, no longer
 * immutable, so that the hypervisor's RMPUPDATE can make it shared again.
 * UNCERTAIN: a page in any other state answers INVALID_PAGE_STATE.
 */
static uint32_t cmd_page_reclaim(struct psp *p, void *buf)
{
    const struct psp_snp_page_reclaim *c = buf;
    if (!c)
        return psp_fail(p, SEV_RET_INVALID_PARAM, "SNP_PAGE_RECLAIM without a command buffer");
    if (!p->client_init[p->caller])
        return psp_fail(p, SEV_RET_INVALID_PLATFORM_STATE, "SNP_PAGE_RECLAIM before SNP_INIT");
    bool is_2m = c->paddr & PSP_RECLAIM_2M;
    uint64_t spa = c->paddr & ~(PAGE_4K - 1), size = is_2m ? PAGE_2M : PAGE_4K;
    if ((c->paddr & (PAGE_4K - 1) & ~PSP_RECLAIM_2M) || spa % size || !mem_ptr(p->mem, spa, size))
        return psp_fail(p, SEV_RET_INVALID_ADDRESS, "reclaim address unaligned or outside RAM");
    struct rmp_entry e;
    if (!firmware_page(p, spa, &e))
        return psp_fail(p, SEV_RET_INVALID_PAGE_STATE, "page is not in the Firmware state");
    if ((e.size == RMP_2M) != is_2m)
        return psp_fail(p, SEV_RET_INVALID_PAGE_SIZE, "RMP page size differs from the command's");
    e.immutable = false;
    rmp_fw_set(p->rmp, spa, &e);
    return SEV_RET_SUCCESS;
}

static const struct {
    uint32_t cmd;
    uint32_t (*fn)(struct psp *p, void *buf);
} platform_cmds[] = {
    {SEV_CMD_SNP_INIT, cmd_snp_init},
    {SEV_CMD_SNP_INIT_EX, cmd_snp_init_ex},
    {SEV_CMD_SNP_PLATFORM_STATUS, cmd_platform_status},
    {SEV_CMD_SNP_DF_FLUSH, cmd_df_flush},
    {SEV_CMD_SNP_PAGE_RECLAIM, cmd_page_reclaim},
};

uint32_t psp_platform_command(struct psp *p, uint32_t cmd, void *buf, bool *handled)
{
    *handled = false;
    for (size_t i = 0; i < ARRAY_SIZE(platform_cmds); i++)
        if (platform_cmds[i].cmd == cmd) {
            *handled = true;
            return platform_cmds[i].fn(p, buf);
        }
    return SEV_RET_SUCCESS;
}

/* ---- The command buffer in RAM (the mailbox face) ---------------------------------------- */

/* How many bytes of command buffer each command reads (and writes back); 0: none. */
static const struct {
    uint32_t cmd;
    uint32_t size;
} buf_sizes[] = {
    {SEV_CMD_SNP_INIT, 0},
    {SEV_CMD_SNP_INIT_EX, sizeof(struct psp_snp_init_ex)},
    {SEV_CMD_SNP_PLATFORM_STATUS, sizeof(struct psp_snp_platform_status_buf)},
    {SEV_CMD_SNP_DF_FLUSH, 0},
    {SEV_CMD_SNP_PAGE_RECLAIM, sizeof(struct psp_snp_page_reclaim)},
    {SEV_CMD_SNP_DECOMMISSION, sizeof(struct psp_snp_addr)},
    {SEV_CMD_SNP_ACTIVATE, sizeof(struct psp_snp_activate)},
    {SEV_CMD_SNP_GCTX_CREATE, sizeof(struct psp_snp_addr)},
    {SEV_CMD_SNP_LAUNCH_START, sizeof(struct psp_snp_launch_start)},
    {SEV_CMD_SNP_LAUNCH_UPDATE, sizeof(struct psp_snp_launch_update)},
    {SEV_CMD_SNP_LAUNCH_FINISH, sizeof(struct psp_snp_launch_finish)},
    {SEV_CMD_SNP_HV_REPORT_REQ, sizeof(struct psp_snp_hv_report_req)},
};

/*
 * UNCERTAIN (the ABI's text was not available): which code a bad buffer
 * gets. The model answers INVALID_ADDRESS for a buffer it cannot reach
 * (outside RAM, not 8-byte aligned, crossing a page: the firmware checks one
 * page's RMP entry) and INVALID_PAGE_STATE for a buffer in a page assigned
 * to a guest, which the caller may not hand to the firmware.
 */
uint32_t psp_command_at(struct psp *p, enum psp_client client, uint32_t cmd, uint64_t buf_spa,
                        uint64_t now)
{
    p->why = "";
    size_t i = 0;
    while (i < ARRAY_SIZE(buf_sizes) && buf_sizes[i].cmd != cmd)
        i++;
    if (i == ARRAY_SIZE(buf_sizes))
        return psp_fail(p, SEV_RET_INVALID_COMMAND, "unknown command id");
    uint32_t size = buf_sizes[i].size;
    if (!size)
        return psp_command_as(p, client, cmd, NULL, now);
    void *ram = NULL;
    if (buf_spa % 8 == 0 && buf_spa / PAGE_4K == (buf_spa + size - 1) / PAGE_4K)
        ram = mem_ptr(p->mem, buf_spa, size);
    if (!ram)
        return psp_fail(p, SEV_RET_INVALID_ADDRESS,
                        "command buffer outside RAM, unaligned or crossing a page");
    struct rmp_entry e;
    if (rmp_lookup(p->rmp, buf_spa, &e) && e.assigned && e.asid != 0)
        return psp_fail(p, SEV_RET_INVALID_PAGE_STATE, "command buffer in a guest-assigned page");
    /* The firmware works on its own copy: a failing command writes nothing back. */
    uint8_t copy[128];
    SNP_ASSERT(size <= sizeof(copy));
    memcpy(copy, ram, size);
    uint32_t rc = psp_command_as(p, client, cmd, copy, now);
    if (rc == SEV_RET_SUCCESS)
        memcpy(ram, copy, size);
    return rc;
}
