# How the fuzz preset builds the code under test. Clang 14 (Debian 12) cannot
# compile LibTorch's tensor headers in C++20, so there the code under test is
# compiled into each target and the rest comes from the default build's
# library ("split"). A Clang that can (19, Debian 13) builds the whole
# framework library with coverage, ASan and UBSan, and the targets link it
# ("whole"). This asks the compiler rather than trusting its version.
include(CheckCXXSourceCompiles)
set(CMAKE_REQUIRED_INCLUDES ${TORCH_INCLUDE_DIRS})
set(CMAKE_REQUIRED_FLAGS "-std=c++20")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)  # compiling is the question, not linking
check_cxx_source_compiles([[
#include <ATen/ATen.h>
#include <torch/csrc/jit/serialization/unpickler.h>
int main() { return at::ones({1}).numel() == 1 ? 0 : 1; }
]] MINITRAIN_CLANG_COMPILES_TORCH)
unset(CMAKE_REQUIRED_INCLUDES)
unset(CMAKE_REQUIRED_FLAGS)
unset(CMAKE_TRY_COMPILE_TARGET_TYPE)

set(MINITRAIN_FUZZ_FLAGS -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
if(MINITRAIN_CLANG_COMPILES_TORCH)
  set(MINITRAIN_FUZZ_MODE whole)
  # Every framework source with coverage and sanitizers; only the library the targets use is built.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  include(GNUInstallDirs)
  add_subdirectory(framework EXCLUDE_FROM_ALL)
else()
  set(MINITRAIN_FUZZ_MODE split)
endif()
message(STATUS "fuzz targets: ${MINITRAIN_FUZZ_MODE} (${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION})")
