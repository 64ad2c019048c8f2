/* SPDX-License-Identifier: MIT */
/*
 * Atomics, barriers and spinlocks shared by all vCPUs. The vCPUs of one snpref
 * system run in separate Unicorn engines over one RAM, interleaved by quantum,
 * so guest code must synchronise exactly as it would on real SMP hardware; the
 * gcc __atomic builtins compile to LOCK-prefixed instructions, which is what
 * the model has to keep atomic across engines.
 */
#ifndef SDK_ATOMIC_H
#define SDK_ATOMIC_H

#include <stdbool.h>
#include <stdint.h>
#include <sdk/x86.h>

#define barrier()      __asm__ volatile("" ::: "memory")
#define mb()           __asm__ volatile("mfence" ::: "memory")
#define READ_ONCE(x)   (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

#define atomic_load(p)        __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define atomic_store(p, v)    __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define atomic_add(p, v)      __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)   /* new value */
#define atomic_inc(p)         atomic_add((p), 1)
#define atomic_xchg(p, v)     __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define atomic_or(p, v)       __atomic_or_fetch((p), (v), __ATOMIC_SEQ_CST)
#define atomic_cmpxchg(p, old, new_) ({                                               \
        __auto_type __o = (old);                                                    \
        __atomic_compare_exchange_n((p), &__o, (new_), false, __ATOMIC_SEQ_CST,     \
                                    __ATOMIC_SEQ_CST);                              \
    })

struct spinlock {
    volatile uint32_t locked;
};

#define SPINLOCK_INIT { 0 }

static inline bool spin_trylock(struct spinlock *l)
{
    return __atomic_exchange_n(&l->locked, 1u, __ATOMIC_ACQUIRE) == 0;
}

static inline void spin_lock(struct spinlock *l)
{
    while (!spin_trylock(l))
        while (READ_ONCE(l->locked))
            cpu_relax();
}

static inline void spin_unlock(struct spinlock *l)
{
    __atomic_store_n(&l->locked, 0u, __ATOMIC_RELEASE);
}

/* Lock with interrupts off on this vCPU; returns the RFLAGS to restore. */
static inline uint64_t spin_lock_irqsave(struct spinlock *l)
{
    uint64_t f = irq_save();
    spin_lock(l);
    return f;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, uint64_t flags)
{
    spin_unlock(l);
    irq_restore(flags);
}

#endif
