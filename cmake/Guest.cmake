# SPDX-License-Identifier: MIT
# Building freestanding x86-64 guests with the host gcc (guests/README.md).
# Guests get their own flags, never the host ones: no sanitizers, no red zone
# (interrupts push onto the interrupted stack), no SSE anywhere (the model does
# not promise FPU state across its interrupt delivery, and handlers must not
# touch it), no libc. -fno-tree-loop-distribute-patterns stops gcc from turning
# a loop into a call to memset/memcpy, so bench_kernel stays call-free and the
# SDK's own memset cannot recurse into itself.
# SNPREF_GUEST_ABI_CFLAGS are what every guest needs, in the tree or built
# against the installed SDK (cmake/Install.cmake writes them into the CMake
# package and the pkg-config file); SNPREF_GUEST_CFLAGS add the tree's own
# optimisation and warnings.
set(SNPREF_GUEST_ABI_CFLAGS
  -ffreestanding -fno-builtin -fno-stack-protector -fno-pic -fno-pie -mno-red-zone
  -mgeneral-regs-only -mcmodel=small -fno-asynchronous-unwind-tables -fno-omit-frame-pointer
  -fno-tree-loop-distribute-patterns -fcf-protection=none -std=gnu11)
set(SNPREF_GUEST_CFLAGS ${SNPREF_GUEST_ABI_CFLAGS} -O2 -g -Wall -Wextra)
# Assembly (.S) is preprocessed C-style but takes no C dialect flags.
set(SNPREF_GUEST_ASMFLAGS -fno-pic -fno-pie -g)
# -nostdlib drops crt files and libc; libgcc stays (after the objects) for the
# rare 128-bit helper. No build-id note and 4 KiB segment alignment keep the
# image small and its layout exact. The linker script (-T) comes on top.
set(SNPREF_GUEST_LDFLAGS
  -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,max-page-size=4096
  -Wl,-z,noexecstack -Wl,--no-dynamic-linker)

# snpref_guest(NAME SOURCES a.c b.S ... [VCPUS n] [EXIT status] [MODES m...]):
# NAME.elf in ${CMAKE_BINARY_DIR}/guests. Every guest is also added to the
# `guests` aggregate target and to the global property SNPREF_GUESTS; VCPUS
# (default 1: the vCPU count to run it with), EXIT (default 0: the exit status
# `snpref run` must return) and MODES (default plain: the `--mode` values the
# guest is written for, any of plain sev-es snp; the guest must pass in each)
# become the target properties SNPREF_VCPUS, SNPREF_EXIT and SNPREF_MODES, so
# that scenario tests can run every guest without a list of their own.
# guests/CMakeLists.txt also writes them all to ${CMAKE_BINARY_DIR}/guests/guests.tsv.
# savic, savic-xipi: --mode snp --apic NAME (the Secure AVIC fabrics)
set(SNPREF_GUEST_MODES plain sev-es snp savic savic-xipi)
function(snpref_guest name)
  cmake_parse_arguments(G "UNLISTED" "VCPUS;EXIT" "SOURCES;MODES" ${ARGN})
  if(NOT DEFINED G_VCPUS)
    set(G_VCPUS 1)
  endif()
  if(NOT DEFINED G_EXIT)
    set(G_EXIT 0)
  endif()
  if(NOT G_MODES)
    set(G_MODES plain)
  endif()
  foreach(m ${G_MODES})
    if(NOT m IN_LIST SNPREF_GUEST_MODES)
      message(FATAL_ERROR "snpref_guest(${name}): MODES ${m} is not one of ${SNPREF_GUEST_MODES}")
    endif()
  endforeach()
  add_executable(${name} ${G_SOURCES})
  target_link_libraries(${name} PRIVATE guest_sdk)
  set_target_properties(${name} PROPERTIES SUFFIX ".elf"
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/guests
    LINK_DEPENDS ${SNPREF_GUEST_LINKER_SCRIPT}
    SNPREF_VCPUS ${G_VCPUS} SNPREF_EXIT ${G_EXIT} SNPREF_MODES "${G_MODES}")
  if(NOT G_UNLISTED) # UNLISTED: needs a config of its own; not in guests.tsv
    set_property(GLOBAL APPEND PROPERTY SNPREF_GUESTS ${name})
  endif()
  if(TARGET guests)
    add_dependencies(guests ${name})
  endif()
endfunction()
