#include "minitrain/base/runtime_info.hpp"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <fmt/format.h>
#include <torch/version.h>

#include <filesystem>

namespace minitrain {

std::string minitrain_version() { return MINITRAIN_VERSION; }

std::string torch_version() { return TORCH_VERSION; }

int compute_threads() { return at::get_num_threads(); }

std::string blas_library() {
  void* dgemm = dlsym(RTLD_DEFAULT, "dgemm_");
  Dl_info info{};
  if (!dgemm || !dladdr(dgemm, &info) || !info.dli_fname) return "unknown (no dgemm_ symbol loaded)";
  std::error_code ec;
  const auto real = std::filesystem::canonical(info.dli_fname, ec);
  const std::string path = ec ? std::string(info.dli_fname) : real.string();
  if (path.find("openblas") != std::string::npos) return path + " (OpenBLAS)";
  if (path.find("mkl") != std::string::npos) return path + " (MKL)";
  if (path.find("/blas/") != std::string::npos)
    return path + " (reference BLAS: slow; install libopenblas0-openmp)";
  return path;
}

std::string runtime_summary() {
  return fmt::format("minitrain {} | LibTorch {} | {} threads | BLAS {}", minitrain_version(), torch_version(),
                     compute_threads(), blas_library());
}

}  // namespace minitrain
