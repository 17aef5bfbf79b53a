#pragma once
// What a slow run needs to explain itself: versions, threads and which BLAS
// LibTorch is really calling.
#include <string>

namespace minitrain {

std::string minitrain_version();
std::string torch_version();
int compute_threads();
// The library that provides dgemm_ in this process, e.g.
// /usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3 (OpenBLAS).
std::string blas_library();
std::string runtime_summary();  // one line with all of the above

}  // namespace minitrain
