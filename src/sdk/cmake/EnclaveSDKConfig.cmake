# EnclaveSDKConfig.cmake: find_package(EnclaveSDK) for enclave applications, in the SGX samples' style.
# Installed as <SDK>/lib/cmake/EnclaveSDK/; the SDK root is three directories up from here, so the same file
# serves the build tree (target/enclave-sdk) and an installation (/opt/enclave-sdk). docs/sdk.md,
# "Building with CMake", describes every function.
#
#   enclave_edl_trusted(<target> EDL <file.edl> [SEARCH_PATHS <dir>...] [OUTPUT_DIR <dir>])
#   enclave_edl_untrusted(<target> EDL <file.edl> [SEARCH_PATHS <dir>...] [OUTPUT_DIR <dir>])
#   enclave_edl_java(<out-var> EDL <file.edl> PACKAGE <java.package> [SEARCH_PATHS <dir>...] [OUTPUT_DIR <dir>])
#   add_enclave_module(<target> SOURCES <src>... [EDL <file.edl>] [SEARCH_PATHS <dir>...] [OUTPUT_NAME <name>])
#   enclave_sign(<target> KEY <key.pem> CONFIG <Enclave.config.xml> [OUTPUT <file.signed.so>])
#   EnclaveSDK::urts       imported target: libde_urts.so and the sgx_*.h headers, for the application
#   EnclaveSDK::trts       imported target: libde_trts.a and the trusted headers (add_enclave_module links it)
#
# Variables: EnclaveSDK_ROOT, EnclaveSDK_INCLUDE_DIR, EnclaveSDK_ENCLAVECTL (the CLI that runs edger8r and
# signs; from -DENCLAVECTL=..., else $ENV{ENCLAVECTL}, else <SDK>/bin/enclavectl, else enclavectl on PATH),
# EnclaveSDK_JAR (enclavectl.jar, for Java applications; empty when the SDK has none),
# EnclaveSDK_MODULE_COMPILE_OPTIONS and EnclaveSDK_MODULE_LINK_OPTIONS (docs/module-format.md, "Building a module").

cmake_minimum_required(VERSION 3.16)
include_guard(GLOBAL)
include(CMakeParseArguments)

# Through symbolic links: a distribution may link /usr/lib/cmake/EnclaveSDK to /opt/enclave-sdk/lib/cmake/EnclaveSDK
# so that find_package needs no hint.
get_filename_component(_enclave_here "${CMAKE_CURRENT_LIST_FILE}" REALPATH)
get_filename_component(EnclaveSDK_ROOT "${_enclave_here}/../../../.." ABSOLUTE)
unset(_enclave_here)
set(EnclaveSDK_INCLUDE_DIR "${EnclaveSDK_ROOT}/include")
set(EnclaveSDK_TLIBC_INCLUDE_DIR "${EnclaveSDK_ROOT}/include/tlibc")
set(EnclaveSDK_LIBRARY_DIR "${EnclaveSDK_ROOT}/lib")

# The CLI. A cache entry, so `cmake -DENCLAVECTL=/usr/bin/enclavectl` or the environment variable decide once.
if(NOT DEFINED ENCLAVECTL OR ENCLAVECTL STREQUAL "")
  if(DEFINED ENV{ENCLAVECTL} AND NOT "$ENV{ENCLAVECTL}" STREQUAL "")
    set(_enclave_cli "$ENV{ENCLAVECTL}")
  elseif(EXISTS "${EnclaveSDK_ROOT}/bin/enclavectl")
    set(_enclave_cli "${EnclaveSDK_ROOT}/bin/enclavectl")
  else()
    find_program(_enclave_cli enclavectl)
  endif()
  set(ENCLAVECTL "${_enclave_cli}" CACHE FILEPATH "enclavectl, which runs edger8r and signs modules")
  unset(_enclave_cli)
endif()
set(EnclaveSDK_ENCLAVECTL "${ENCLAVECTL}")

# A jar given with -DEnclaveSDK_JAR wins (a build tree's tests, before the SDK has its jar).
if(NOT EnclaveSDK_JAR)
  set(EnclaveSDK_JAR "")
  if(EXISTS "${EnclaveSDK_ROOT}/lib/java/enclavectl.jar")
    set(EnclaveSDK_JAR "${EnclaveSDK_ROOT}/lib/java/enclavectl.jar")
  endif()
endif()

# What the package needs to be usable; find_package reports the first thing missing and sets
# EnclaveSDK_FOUND false (a fatal error under REQUIRED).
set(_enclave_missing "")
if(NOT ENCLAVECTL OR NOT EXISTS "${ENCLAVECTL}")
  set(_enclave_missing "enclavectl (looked at -DENCLAVECTL, $ENV{ENCLAVECTL}, ${EnclaveSDK_ROOT}/bin/enclavectl and PATH; set ENCLAVECTL to the CLI)")
elseif(NOT EXISTS "${EnclaveSDK_INCLUDE_DIR}/sgx_edger8r.h")
  set(_enclave_missing "${EnclaveSDK_INCLUDE_DIR}/sgx_edger8r.h (an incomplete SDK: rebuild it with 'mvn package')")
endif()
if(NOT _enclave_missing STREQUAL "")
  set(EnclaveSDK_FOUND FALSE)
  set(EnclaveSDK_NOT_FOUND_MESSAGE "EnclaveSDK at ${EnclaveSDK_ROOT} lacks ${_enclave_missing}")
  unset(_enclave_missing)
  return()
endif()
unset(_enclave_missing)

# The flags of docs/module-format.md "Building a module": freestanding, PIC, no stack protector or CET
# (the enclave runtime has neither), no unwind tables, every segment on its own 4 KiB pages, no libc
# (libde_trts is the trusted libc). SSE2 but nothing newer (docs/guest-abi.md, "SSE for module code"), after
# any -march in CMAKE_C_FLAGS so that it wins.
execute_process(COMMAND "${CMAKE_C_COMPILER}" -print-file-name=include
                OUTPUT_VARIABLE _enclave_cc_include OUTPUT_STRIP_TRAILING_WHITESPACE)
set(EnclaveSDK_MODULE_COMPILE_OPTIONS
    -ffreestanding -nostdinc "SHELL:-isystem ${_enclave_cc_include}" -march=x86-64 -mno-sse3 -mno-avx
    -fno-stack-protector -fcf-protection=none -fno-asynchronous-unwind-tables -fno-unwind-tables
    -fvisibility=hidden
    $<$<COMPILE_LANGUAGE:CXX>:-nostdinc++ -fno-exceptions -fno-rtti -fno-threadsafe-statics>)
set(EnclaveSDK_MODULE_LINK_OPTIONS
    -nostdlib -Wl,--build-id=none -Wl,-z,max-page-size=0x1000 -Wl,-z,separate-code -Wl,-z,noexecstack
    -Wl,--hash-style=gnu)
unset(_enclave_cc_include)

if(NOT TARGET EnclaveSDK::urts)
  add_library(EnclaveSDK::urts SHARED IMPORTED)
  set_target_properties(EnclaveSDK::urts PROPERTIES
      IMPORTED_LOCATION "${EnclaveSDK_LIBRARY_DIR}/libde_urts.so"
      IMPORTED_SONAME "libde_urts.so.1"
      INTERFACE_INCLUDE_DIRECTORIES "${EnclaveSDK_INCLUDE_DIR}")
endif()
if(NOT TARGET EnclaveSDK::trts)
  add_library(EnclaveSDK::trts STATIC IMPORTED)
  set_target_properties(EnclaveSDK::trts PROPERTIES
      IMPORTED_LOCATION "${EnclaveSDK_LIBRARY_DIR}/libde_trts.a"
      INTERFACE_INCLUDE_DIRECTORIES "${EnclaveSDK_TLIBC_INCLUDE_DIR};${EnclaveSDK_INCLUDE_DIR}")
endif()

# Shared by the three edl functions: parses the arguments, names the files edger8r writes and adds the
# command that writes them. Sets _edl_name, _edl_dir, _edl_file, _edl_search (the --search-path arguments)
# and _edl_depends in the caller's scope.
macro(_enclave_edl_args fn)
  cmake_parse_arguments(_edl "" "EDL;OUTPUT_DIR;PACKAGE" "SEARCH_PATHS" ${ARGN})
  if(NOT _edl_EDL)
    message(FATAL_ERROR "${fn}: EDL <file.edl> is required")
  endif()
  if(_edl_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "${fn}: unknown arguments: ${_edl_UNPARSED_ARGUMENTS}")
  endif()
  get_filename_component(_edl_file "${_edl_EDL}" ABSOLUTE)
  if(NOT EXISTS "${_edl_file}")
    message(FATAL_ERROR "${fn}: ${_edl_file} does not exist")
  endif()
  get_filename_component(_edl_name "${_edl_file}" NAME_WE)
  get_filename_component(_edl_home "${_edl_file}" DIRECTORY)
  if(_edl_OUTPUT_DIR)
    get_filename_component(_edl_dir "${_edl_OUTPUT_DIR}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  else()
    set(_edl_dir "${CMAKE_CURRENT_BINARY_DIR}")
  endif()
  set(_edl_search "")
  # An imported EDL may change the bridges too: every .edl next to this one and on the search path counts.
  file(GLOB _edl_depends "${_edl_home}/*.edl")
  foreach(_p IN LISTS _edl_SEARCH_PATHS)
    get_filename_component(_p "${_p}" ABSOLUTE)
    list(APPEND _edl_search --search-path "${_p}")
    file(GLOB _edl_more "${_p}/*.edl")
    list(APPEND _edl_depends ${_edl_more})
  endforeach()
  # Last, the kit's own EDL files (sgx_tstdc.edl), as SGX projects pass $SGX_SDK/include.
  list(APPEND _edl_search --search-path "${EnclaveSDK_INCLUDE_DIR}")
  list(APPEND _edl_depends "${_edl_file}")
  list(REMOVE_DUPLICATES _edl_depends)
endmacro()

function(enclave_edl_trusted target)
  _enclave_edl_args(enclave_edl_trusted ${ARGN})
  add_custom_command(
      OUTPUT "${_edl_dir}/${_edl_name}_t.c" "${_edl_dir}/${_edl_name}_t.h"
      COMMAND "${ENCLAVECTL}" sdk edger8r --trusted --trusted-dir "${_edl_dir}" ${_edl_search} "${_edl_file}"
      DEPENDS ${_edl_depends}
      COMMENT "edger8r: ${_edl_name}_t.c, ${_edl_name}_t.h from ${_edl_name}.edl"
      VERBATIM)
  target_sources(${target} PRIVATE "${_edl_dir}/${_edl_name}_t.c" "${_edl_dir}/${_edl_name}_t.h")
  target_include_directories(${target} PRIVATE "${_edl_dir}")
endfunction()

function(enclave_edl_untrusted target)
  _enclave_edl_args(enclave_edl_untrusted ${ARGN})
  add_custom_command(
      OUTPUT "${_edl_dir}/${_edl_name}_u.c" "${_edl_dir}/${_edl_name}_u.h"
      COMMAND "${ENCLAVECTL}" sdk edger8r --untrusted --untrusted-dir "${_edl_dir}" ${_edl_search} "${_edl_file}"
      DEPENDS ${_edl_depends}
      COMMENT "edger8r: ${_edl_name}_u.c, ${_edl_name}_u.h from ${_edl_name}.edl"
      VERBATIM)
  target_sources(${target} PRIVATE "${_edl_dir}/${_edl_name}_u.c" "${_edl_dir}/${_edl_name}_u.h")
  target_include_directories(${target} PRIVATE "${_edl_dir}")
  target_link_libraries(${target} PRIVATE EnclaveSDK::urts)
endfunction()

# The Java proxy (NAME.java, NAMEOcalls.java, NAMEProxy.java in PACKAGE); <out-var> receives their paths, for
# add_jar or any other Java build. The untrusted C files edger8r writes alongside go to a scratch directory.
function(enclave_edl_java out_var)
  _enclave_edl_args(enclave_edl_java ${ARGN})
  if(NOT _edl_PACKAGE)
    message(FATAL_ERROR "enclave_edl_java: PACKAGE <java.package> is required")
  endif()
  string(REPLACE "." "/" _pkg_dir "${_edl_PACKAGE}")
  set(_java "")
  foreach(_suffix "" Ocalls Proxy)
    list(APPEND _java "${_edl_dir}/${_pkg_dir}/${_edl_name}${_suffix}.java")
  endforeach()
  add_custom_command(
      OUTPUT ${_java}
      COMMAND "${ENCLAVECTL}" sdk edger8r --untrusted --untrusted-dir "${_edl_dir}/c-scratch"
              --java "${_edl_PACKAGE}" --java-dir "${_edl_dir}" ${_edl_search} "${_edl_file}"
      DEPENDS ${_edl_depends}
      COMMENT "edger8r: Java proxy ${_edl_PACKAGE}.${_edl_name}Proxy from ${_edl_name}.edl"
      VERBATIM)
  set(${out_var} ${_java} PARENT_SCOPE)
endfunction()

# An enclave module: <OUTPUT_NAME>.so (default: the target's name, without a lib prefix) built from SOURCES
# and, with EDL, the trusted bridges, freestanding and linked against libde_trts only.
function(add_enclave_module target)
  cmake_parse_arguments(_mod "" "EDL;OUTPUT_NAME" "SOURCES;SEARCH_PATHS" ${ARGN})
  if(NOT _mod_SOURCES)
    message(FATAL_ERROR "add_enclave_module(${target}): SOURCES is required")
  endif()
  if(_mod_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "add_enclave_module(${target}): unknown arguments: ${_mod_UNPARSED_ARGUMENTS}")
  endif()
  add_library(${target} SHARED ${_mod_SOURCES})
  if(_mod_EDL)
    enclave_edl_trusted(${target} EDL "${_mod_EDL}" SEARCH_PATHS ${_mod_SEARCH_PATHS})
  endif()
  if(NOT _mod_OUTPUT_NAME)
    set(_mod_OUTPUT_NAME ${target})
  endif()
  set_target_properties(${target} PROPERTIES
      PREFIX "" OUTPUT_NAME "${_mod_OUTPUT_NAME}" SUFFIX ".so"
      POSITION_INDEPENDENT_CODE ON NO_SONAME ON)
  target_compile_options(${target} PRIVATE ${EnclaveSDK_MODULE_COMPILE_OPTIONS})
  target_link_options(${target} PRIVATE ${EnclaveSDK_MODULE_LINK_OPTIONS})
  target_link_libraries(${target} PRIVATE EnclaveSDK::trts)
endfunction()

# Signs <target>'s module into OUTPUT (default <name>.signed.so next to it in the build tree), as SGX's
# sgx_sign does; the unsigned module stays where it is. Part of the default build.
function(enclave_sign target)
  cmake_parse_arguments(_sign "" "KEY;CONFIG;OUTPUT" "" ${ARGN})
  if(NOT _sign_KEY OR NOT _sign_CONFIG)
    message(FATAL_ERROR "enclave_sign(${target}): KEY <key.pem> and CONFIG <Enclave.config.xml> are required")
  endif()
  if(_sign_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "enclave_sign(${target}): unknown arguments: ${_sign_UNPARSED_ARGUMENTS}")
  endif()
  get_filename_component(_key "${_sign_KEY}" ABSOLUTE)
  get_filename_component(_config "${_sign_CONFIG}" ABSOLUTE)
  if(_sign_OUTPUT)
    get_filename_component(_out "${_sign_OUTPUT}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  else()
    get_target_property(_name ${target} OUTPUT_NAME)
    if(NOT _name)
      set(_name ${target})
    endif()
    set(_out "${CMAKE_CURRENT_BINARY_DIR}/${_name}.signed.so")
  endif()
  add_custom_command(
      OUTPUT "${_out}"
      COMMAND "${ENCLAVECTL}" module sign --key "${_key}" --config "${_config}" "$<TARGET_FILE:${target}>"
              --out "${_out}"
      DEPENDS ${target} "${_key}" "${_config}"
      COMMENT "enclavectl module sign: ${_out}"
      VERBATIM)
  add_custom_target(${target}-signed ALL DEPENDS "${_out}")
  set_target_properties(${target} PROPERTIES ENCLAVE_SIGNED_FILE "${_out}")
endfunction()
