#!/bin/sh
# SPDX-License-Identifier: MIT
# /bin/probe of the Secure AVIC driver scenario (tests/scenarios/
# test_linux_boot.c, savic_driver): makes the kernel send each kind of IPI
# the test asserts on, then prints /proc/interrupts again.
# - Rescheduling (RES) and function calls (CAL): a ring of pipes whose writer
#   on CPU c wakes a reader pinned on CPU c+1 (try_to_wake_up: a function
#   call IPI to queue it on an idle CPU, a reschedule IPI where the CPU is
#   busy), plus the fork, exit and TLB work of the processes.
# - Self-IPI (IWI): a reader of /proc/kmsg sleeps on the log's wait queue, so
#   each printk from /dev/kmsg wakes it through irq_work, which raises
#   IRQ_WORK_VECTOR with apic->send_IPI_self (the SELF_IPI register).
bb=/bin/busybox
n=$(grep -c ^processor /proc/cpuinfo)
$bb cat /proc/kmsg > /dev/null &
klog=$!
c=0
while [ $c -lt $n ]; do
    next=$(( (c + 1) % n ))
    $bb taskset -c $c sh -c 'i=0; while [ $i -lt 6 ]; do echo $i; sleep 0.01; i=$((i + 1)); done' |
        $bb taskset -c $next sh -c 'while read l; do :; done' &
    c=$((c + 1))
done
i=0
while [ $i -lt 4 ]; do
    echo "snpref-probe: printk $i" > /dev/kmsg
    i=$((i + 1))
done
sleep 0.1
kill $klog
wait
echo "probe: ipi workload done on $n cpus"
cat /proc/interrupts
