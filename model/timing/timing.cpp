// SPDX-License-Identifier: MIT
//
// SystemC implementation of the timing core (see timing.h). Each kernel spawns
// one SC_METHOD-style process sensitive to its own sc_event; the process runs
// every item due at the current SystemC time from a binary heap ordered by
// (time, sequence) and re-notifies the event for the next due time. SystemC
// owns time advancement; the heap owns ordering, which makes runs
// reproducible whatever order SystemC would evaluate simultaneous processes.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <systemc>

#include <cstdio>
#include <cstdlib>
#include <queue>
#include <unordered_set>
#include <vector>

#include "timing.h"

namespace {

struct item {
    uint64_t at, seq;
    tm_fn fn;
    void *arg;
};

struct later {
    bool operator()(const item &a, const item &b) const
    {
        return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
};

// One core cycle is one SystemC picosecond (the default time resolution).
sc_core::sc_time cycles(uint64_t c) { return sc_core::sc_time::from_value(c); }

} // namespace

struct tm_kernel {
    uint64_t base;                 // SystemC time (ps) when this kernel was created
    uint64_t next_seq = 1;
    std::priority_queue<item, std::vector<item>, later> heap;
    std::unordered_set<uint64_t> cancelled;
    sc_core::sc_event wake;
    bool stop_req = false, running = false, dead = false;
    uint64_t until = 0;
    uint64_t now = 0;              // local time of the item being run / last reached
    enum tm_stop reason = TM_IDLE;

    uint64_t sc_now() const { return sc_core::sc_time_stamp().value() - base; }

    void notify_next()
    {
        drop_cancelled();
        if (heap.empty() || dead)
            return;
        uint64_t at = heap.top().at;
        if (at > until) {
            reason = TM_UNTIL;
            sc_core::sc_pause();
            return;
        }
        uint64_t t = sc_now();
        wake.notify(cycles(at > t ? at - t : 0));
    }

    void drop_cancelled()
    {
        while (!heap.empty() && cancelled.count(heap.top().seq)) {
            cancelled.erase(heap.top().seq);
            heap.pop();
        }
    }

    // The process body: run everything due now, in sequence order.
    void process()
    {
        if (dead || !running)
            return;
        now = sc_now();
        for (;;) {
            drop_cancelled();
            if (heap.empty() || heap.top().at > now)
                break;
            item it = heap.top();
            heap.pop();
            it.fn(it.arg);
            if (stop_req) {
                reason = TM_STOPPED;
                sc_core::sc_pause();
                return;
            }
        }
        notify_next();
    }
};

extern "C" {

struct tm_kernel *tm_create(char *err, unsigned long errlen)
{
    // SystemC prints a banner on stdout at first use; stdout is the guest console.
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    try {
        tm_kernel *k = new tm_kernel();
        k->base = sc_core::sc_time_stamp().value();
        sc_core::sc_spawn_options opt;
        opt.spawn_method();
        opt.set_sensitivity(&k->wake);
        opt.dont_initialize();
        sc_core::sc_spawn([k]() { k->process(); }, sc_core::sc_gen_unique_name("tm_kernel"), &opt);
        return k;
    } catch (const std::exception &e) {
        std::snprintf(err, errlen, "SystemC: %s", e.what());
        return nullptr;
    }
}

void tm_destroy(struct tm_kernel *k)
{
    if (!k)
        return;
    // The spawned process cannot be deleted in SystemC 2.3; it is left sensitive
    // to an event that will never fire again. The kernel object stays too (a few
    // hundred bytes per system) so that the process never touches freed memory.
    k->dead = true;
    k->wake.cancel();
    while (!k->heap.empty())
        k->heap.pop();
    k->cancelled.clear();
}

uint64_t tm_now(const struct tm_kernel *k) { return k->now; }

uint64_t tm_schedule(struct tm_kernel *k, uint64_t at, tm_fn fn, void *arg)
{
    if (at < k->now)
        at = k->now;
    uint64_t seq = k->next_seq++;
    k->heap.push(item{at, seq, fn, arg});
    return seq;
}

bool tm_cancel(struct tm_kernel *k, uint64_t id)
{
    if (id == 0 || id >= k->next_seq)
        return false;
    // Only ids still in the heap can be cancelled; a linear check keeps the
    // "already ran" answer exact without a second index (cancel is rare).
    auto copy = k->heap;
    bool found = false;
    while (!copy.empty()) {
        if (copy.top().seq == id) {
            found = true;
            break;
        }
        copy.pop();
    }
    if (!found || k->cancelled.count(id))
        return false;
    k->cancelled.insert(id);
    return true;
}

enum tm_stop tm_run(struct tm_kernel *k, uint64_t until)
{
    k->until = until;
    k->stop_req = false;
    k->reason = TM_IDLE;
    k->running = true;
    k->drop_cancelled();
    if (k->heap.empty()) {
        k->running = false;
        return TM_IDLE;
    }
    k->notify_next();
    if (k->reason != TM_UNTIL)
        sc_core::sc_start(); // returns on starvation or sc_pause()
    k->running = false;
    if (k->reason == TM_UNTIL && until > k->now)
        k->now = until;
    return k->reason;
}

void tm_stop(struct tm_kernel *k) { k->stop_req = true; }

uint64_t tm_pending(const struct tm_kernel *k) { return k->heap.size() - k->cancelled.size(); }

uint64_t tm_next_time(const struct tm_kernel *k)
{
    auto *m = const_cast<tm_kernel *>(k);
    m->drop_cancelled();
    return m->heap.empty() ? UINT64_MAX : m->heap.top().at;
}

int sc_main(int, char **) { return 0; }

} // extern "C"
