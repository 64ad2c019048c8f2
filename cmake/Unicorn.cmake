# SPDX-License-Identifier: MIT
# Finds Unicorn >= 2.1 and provides the imported target `unicorn`.
#
# Order: pkg-config when it reports >= 2.1; otherwise the official PyPI wheel
# unicorn==2.1.4 unpacked into the build tree by scripts/fetch-unicorn.sh.
# 2.0.x is never used: every guest store takes the slow notdirty path there
# (measured 24x slower than QEMU TCG, docs/unicorn.md), and it lacks
# RDTSC hooks and UC_TLB_VIRTUAL, which cpu/ depends on.
#
# -DSNPREF_UNICORN=system forces the pkg-config copy and fails if it is < 2.1;
# -DSNPREF_UNICORN=wheel forces the wheel.

set(SNPREF_UNICORN "auto" CACHE STRING "Unicorn source: auto, system or wheel")
set_property(CACHE SNPREF_UNICORN PROPERTY STRINGS auto system wheel)

set(_uc_why "Unicorn 2.0.x runs every guest store on the slow softmmu path (24x slower than QEMU TCG on a store loop; fixed in 2.1, upstream issue #1970) and has no RDTSC hook or UC_TLB_VIRTUAL; snpref needs >= 2.1")

find_package(PkgConfig REQUIRED)
if(NOT SNPREF_UNICORN STREQUAL "wheel")
  pkg_check_modules(UNICORN_PC QUIET unicorn)
endif()

if(UNICORN_PC_FOUND AND UNICORN_PC_VERSION VERSION_GREATER_EQUAL 2.1)
  message(STATUS "Unicorn ${UNICORN_PC_VERSION} from pkg-config")
  add_library(unicorn INTERFACE IMPORTED GLOBAL)
  target_include_directories(unicorn INTERFACE ${UNICORN_PC_INCLUDE_DIRS})
  target_link_directories(unicorn INTERFACE ${UNICORN_PC_LIBRARY_DIRS})
  target_link_libraries(unicorn INTERFACE ${UNICORN_PC_LIBRARIES})
  set(SNPREF_UNICORN_VERSION ${UNICORN_PC_VERSION})
  set(SNPREF_UNICORN_LIBDIRS ${UNICORN_PC_LIBRARY_DIRS}) # the installed binary's RUNPATH
  return()
endif()

if(SNPREF_UNICORN STREQUAL "system")
  if(UNICORN_PC_FOUND)
    message(FATAL_ERROR "system Unicorn is ${UNICORN_PC_VERSION}: ${_uc_why}")
  endif()
  message(FATAL_ERROR "SNPREF_UNICORN=system but pkg-config finds no unicorn")
endif()
if(UNICORN_PC_FOUND)
  message(STATUS "Ignoring system Unicorn ${UNICORN_PC_VERSION}: ${_uc_why}; using the 2.1.4 wheel")
endif()

set(_uc_dir ${CMAKE_BINARY_DIR}/_deps/unicorn-2.1.4)
if(NOT EXISTS ${_uc_dir}/unicorn/lib/libunicorn.so.2)
  message(STATUS "Fetching Unicorn 2.1.4 (official PyPI wheel) into ${_uc_dir}")
  execute_process(COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/fetch-unicorn.sh ${_uc_dir}
                  RESULT_VARIABLE _uc_rc)
  if(NOT _uc_rc EQUAL 0)
    message(FATAL_ERROR "could not provision Unicorn 2.1.4 (scripts/fetch-unicorn.sh failed); install Unicorn >= 2.1 so that pkg-config finds it")
  endif()
endif()

# The version the headers declare decides, whatever the file names say.
file(STRINGS ${_uc_dir}/unicorn/include/unicorn/unicorn.h _uc_ver_lines
     REGEX "^#define UC_API_(MAJOR|MINOR|PATCH) ")
foreach(_l ${_uc_ver_lines})
  string(REGEX MATCH "UC_API_([A-Z]+) +([0-9]+)" _m "${_l}")
  set(_uc_${CMAKE_MATCH_1} ${CMAKE_MATCH_2})
endforeach()
set(SNPREF_UNICORN_VERSION "${_uc_MAJOR}.${_uc_MINOR}.${_uc_PATCH}")
if(SNPREF_UNICORN_VERSION VERSION_LESS 2.1)
  message(FATAL_ERROR "Unicorn in ${_uc_dir} is ${SNPREF_UNICORN_VERSION}: ${_uc_why}")
endif()
message(STATUS "Unicorn ${SNPREF_UNICORN_VERSION} from the PyPI wheel in ${_uc_dir}")

add_library(unicorn SHARED IMPORTED GLOBAL)
set_target_properties(unicorn PROPERTIES
  IMPORTED_LOCATION ${_uc_dir}/unicorn/lib/libunicorn.so.2
  IMPORTED_NO_SONAME FALSE
  INTERFACE_INCLUDE_DIRECTORIES ${_uc_dir}/unicorn/include)
# `make install` copies the library next to the tool (cmake/Install.cmake), and
# tests/install seeds a fresh build tree from this directory instead of fetching.
set(SNPREF_UNICORN_WHEEL_DIR ${_uc_dir})
set(SNPREF_UNICORN_BUNDLED_LIB ${_uc_dir}/unicorn/lib/libunicorn.so.2)
