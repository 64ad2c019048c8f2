# SPDX-License-Identifier: MIT
# What `make install` (cmake --install) puts under the prefix (docs/cli.md
# "Installing"): the tool with the Unicorn it was linked against, the bench
# guests it loads, the guest SDK with a CMake package and a pkg-config file, the
# docs, a man page made by help2man from `snpref --help`, and bash completion.
# Every installed file finds the others relative to itself (RUNPATH $ORIGIN, the
# package config from its own directory, the .pc file from ${pcfiledir}), so
# `cmake --install --prefix` can choose any prefix after configuring, and the
# build tree can be deleted afterwards.

# Relative path from install directory FROM to TO (both prefix-relative).
function(snpref_rel_path out from to)
  string(REGEX REPLACE "/$" "" to_abs "/p/${to}")
  file(RELATIVE_PATH r /p/${from} ${to_abs})
  if(r STREQUAL "")
    set(r .)
  endif()
  set(${out} ${r} PARENT_SCOPE)
endfunction()

# The tool. A Unicorn from the wheel lives only in the build tree, so it is
# installed into a private directory that RUNPATH names relative to the binary;
# a system Unicorn (pkg-config) stays where it is.
set(SNPREF_PRIVATE_LIBDIR ${CMAKE_INSTALL_LIBDIR}/snpref)
install(TARGETS snpref RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(SNPREF_UNICORN_BUNDLED_LIB)
  install(FILES ${SNPREF_UNICORN_BUNDLED_LIB} DESTINATION ${SNPREF_PRIVATE_LIBDIR})
  snpref_rel_path(rel ${CMAKE_INSTALL_BINDIR} ${SNPREF_PRIVATE_LIBDIR})
  set_target_properties(snpref PROPERTIES INSTALL_RPATH "\$ORIGIN/${rel}")
else()
  set_target_properties(snpref PROPERTIES INSTALL_RPATH "${SNPREF_UNICORN_LIBDIRS}")
endif()
# `snpref bench` loads these at run time (tools/guest_path.c looks here first).
install(FILES $<TARGET_FILE:bench_compute> $<TARGET_FILE:bench_mixed> $<TARGET_FILE:bench_pingpong>
        DESTINATION ${SNPREF_INSTALLED_GUESTS})
install(FILES ${CMAKE_BINARY_DIR}/guests/qemu/bench_qemu.elf
        DESTINATION ${SNPREF_INSTALLED_GUESTS}/qemu)

# The guest SDK: headers (with the two shared ABI headers they include), the
# freestanding static library and the linker script, in directories of their
# own so that no host build picks them up by accident.
set(SNPREF_SDK_LIBDIR ${CMAKE_INSTALL_LIBDIR}/snpref-sdk)
set(SNPREF_SDK_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/snpref-sdk)
install(TARGETS guest_sdk ARCHIVE DESTINATION ${SNPREF_SDK_LIBDIR})
install(FILES ${SNPREF_GUEST_LINKER_SCRIPT} DESTINATION ${SNPREF_SDK_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/guests/sdk/include/sdk DESTINATION ${SNPREF_SDK_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/snpref/abi.h ${PROJECT_SOURCE_DIR}/include/snpref/sev.h
        DESTINATION ${SNPREF_SDK_INCLUDEDIR}/snpref)

# The CMake package (find_package(snpref-sdk)) and the pkg-config file carry the
# same flags as the in-tree guests (cmake/Guest.cmake).
include(CMakePackageConfigHelpers)
set(SNPREF_SDK_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/snpref-sdk)
snpref_rel_path(SDK_CMAKE_TO_PREFIX ${SNPREF_SDK_CMAKEDIR} "")
set(SDK_LIBDIR ${SNPREF_SDK_LIBDIR})
set(SDK_INCLUDEDIR ${SNPREF_SDK_INCLUDEDIR})
set(SDK_C_FLAGS "${SNPREF_GUEST_ABI_CFLAGS}")
set(SDK_ASM_FLAGS "${SNPREF_GUEST_ASMFLAGS}")
set(SDK_LD_FLAGS "${SNPREF_GUEST_LDFLAGS}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/snpref-sdkConfig.cmake.in
               ${CMAKE_BINARY_DIR}/sdk/snpref-sdkConfig.cmake @ONLY)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/sdk/snpref-sdkConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/sdk/snpref-sdkConfig.cmake
              ${CMAKE_BINARY_DIR}/sdk/snpref-sdkConfigVersion.cmake
        DESTINATION ${SNPREF_SDK_CMAKEDIR})

snpref_rel_path(PC_TO_PREFIX ${CMAKE_INSTALL_LIBDIR}/pkgconfig "")
list(JOIN SNPREF_GUEST_ABI_CFLAGS " " PC_CFLAGS)
list(JOIN SNPREF_GUEST_LDFLAGS " " PC_LDFLAGS)
configure_file(${PROJECT_SOURCE_DIR}/cmake/snpref-sdk.pc.in ${CMAKE_BINARY_DIR}/sdk/snpref-sdk.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/sdk/snpref-sdk.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The docs, laid out as in the tree so that their relative links still work.
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs DESTINATION ${CMAKE_INSTALL_DOCDIR}
        FILES_MATCHING PATTERN "*.md")
install(FILES ${PROJECT_SOURCE_DIR}/guests/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR}/guests)

# The man page, from `snpref --help` and `snpref --version` plus the sections
# in tools/share/snpref.h2m.
find_program(HELP2MAN_EXECUTABLE help2man)
if(HELP2MAN_EXECUTABLE)
  set(man ${CMAKE_BINARY_DIR}/man/snpref.1)
  add_custom_command(OUTPUT ${man}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND ${HELP2MAN_EXECUTABLE} --no-info --section=1
            "--name=reference model of an AMD SEV-SNP confidential-VM platform"
            --include=${PROJECT_SOURCE_DIR}/tools/share/snpref.h2m
            --output=${man} $<TARGET_FILE:snpref>
    DEPENDS snpref ${PROJECT_SOURCE_DIR}/tools/share/snpref.h2m
    COMMENT "Generating the man page with help2man"
    VERBATIM)
  add_custom_target(snpref_man ALL DEPENDS ${man})
  install(FILES ${man} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(WARNING "help2man not found: `make install` will install no man page (scripts/setup.sh installs help2man)")
endif()

install(FILES ${PROJECT_SOURCE_DIR}/tools/share/snpref.bash-completion
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME snpref)
