/* SPDX-License-Identifier: MIT */
/*
 * The guest side of `snpref attacks` (docs/attacks.md): it reports which
 * events a hostile hypervisor manages to inject.
 *
 * Attack k (1..ATTACKS) is armed by writing k to the POST-code port 0x80, the
 * hostile hypervisor's marker. Under SEV-ES/SNP that OUT is a #VC and a GHCB
 * IOIO call; the hypervisor sets EVENTINJ before the VMRUN that resumes the
 * guest, so an event VMRUN accepts arrives at the first instruction after the
 * VMGEXIT, inside the SDK's #VC handler, with IF = 0. The probe therefore
 * opens a window around the OUT: its handlers for vectors 0-31 and 0x80 record
 * what arrives in it, with the error code (and, for #VC, the GHCB's exit code
 * and RAX as the host left them), and return. Its #VC handler passes the OUT's
 * own #VC (not nested, IOIO) to sdk_vc_handler, and records any other #VC
 * taken while the window is open. An exception outside a window is a probe
 * failure.
 *
 * It needs no interrupts: under RestrictedInjection the hypervisor cannot
 * deliver any. One line per attack:
 *   attack_probe: attack K: nothing
 *   attack_probe: attack K: vector V [error 0xE] [ghcb 0xC rax 0xR][; ...]
 */
#include <sdk/sdk.h>

#define ATTACKS 35       /* the rows of `snpref attacks` (tools/cmd_attacks.c) */
#define MARKER_PORT 0x80 /* POST codes; the hostile hypervisor's markers */
#define MAX_HITS 4

struct hit {
    unsigned vector;
    bool has_error;
    uint64_t error;
    bool vc;
    uint64_t ghcb_code, ghcb_rax;
};

static volatile int window;     /* the attack whose window is open, 0 = none */
static volatile unsigned in_vc; /* sdk_vc_handler is running (the marker's #VC) */
static struct hit hits[ATTACKS + 1][MAX_HITS];
static volatile unsigned nhits[ATTACKS + 1];

static void record(struct sdk_frame *f)
{
    int k = window;
    if (!k)
        sdk_fail(SDK_EXIT_ASSERT, "attack_probe: vector %lu outside any attack window (RIP 0x%lx)",
                 f->vector, f->rip);
    unsigned n = nhits[k];
    if (n < MAX_HITS) {
        struct hit *h = &hits[k][n];
        h->vector = (unsigned)f->vector;
        h->has_error = f->vector < 32 && sdk_vector_has_error_code((unsigned)f->vector);
        h->error = f->error_code;
        h->vc = f->vector == X86_VC;
        if (h->vc && this_cpu()->ghcb) {
            const struct ghcb *g = this_cpu()->ghcb;
            h->ghcb_code = g->save.sw_exit_code;
            h->ghcb_rax = g->save.rax;
        }
    }
    nhits[k] = n + 1;
}

static void on_vc(struct sdk_frame *f)
{
    /* The marker OUT's own #VC: not nested in another, and an IOIO one. */
    if (!window || (!in_vc && f->error_code == SVM_EXIT_IOIO)) {
        in_vc++;
        sdk_vc_handler(f);
        in_vc--;
        return;
    }
    record(f);
}

static void report(int k)
{
    printf("attack_probe: attack %d:", k);
    if (!nhits[k])
        printf(" nothing");
    for (unsigned i = 0; i < nhits[k] && i < MAX_HITS; i++) {
        const struct hit *h = &hits[k][i];
        printf("%s vector %u", i ? ";" : "", h->vector);
        if (h->has_error)
            printf(" error 0x%lx", h->error);
        if (h->vc)
            printf(" ghcb 0x%lx rax 0x%lx", h->ghcb_code, h->ghcb_rax);
    }
    printf("\n");
}

int main(void)
{
    printf("attack_probe: mode %s, SEV_STATUS 0x%lx, %d attacks\n", sdk_mode_name(sdk_sev_mode()),
           sdk_sev_es_active() ? rdmsr(MSR_SEV_STATUS) : 0ul, ATTACKS);
    for (unsigned v = 0; v < 32; v++)
        sdk_set_handler(v, v == X86_VC ? on_vc : record);
    sdk_set_handler(0x80, record);
    for (int k = 1; k <= ATTACKS; k++) {
        WRITE_ONCE(window, k);
        outb(MARKER_PORT, (uint8_t)k);
        for (volatile int spin = 0; spin < 64; spin++)
            ;
        WRITE_ONCE(window, 0);
        report(k);
    }
    printf("attack_probe: done\n");
    return 0;
}
