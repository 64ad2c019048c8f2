# SPDX-License-Identifier: MIT
# Building freestanding x86-64 guests with the host gcc (guests/README.md).
# Guests get their own flags, never the host ones: no sanitizers, no red zone
# (interrupts push onto the interrupted stack), no SSE in handlers, no libc.
set(SNPREF_GUEST_CFLAGS
  -ffreestanding -fno-builtin -fno-stack-protector -fno-pic -fno-pie -mno-red-zone
  -mgeneral-regs-only -mcmodel=small -fno-asynchronous-unwind-tables -fno-omit-frame-pointer
  -O2 -g -Wall -Wextra -std=gnu11)

# snpref_guest(NAME SOURCES a.c b.S ...): NAME.elf in ${CMAKE_BINARY_DIR}/guests.
function(snpref_guest name)
  cmake_parse_arguments(G "" "" "SOURCES" ${ARGN})
  add_executable(${name} ${G_SOURCES})
  target_link_libraries(${name} PRIVATE guest_sdk)
  set_target_properties(${name} PROPERTIES SUFFIX ".elf"
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/guests)
endfunction()
