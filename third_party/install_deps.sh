#!/usr/bin/env bash
# Installs the Debian packages minitrain needs to build, run and test, on
# Debian 12 (bookworm: LibTorch 1.13) or Debian 13 (trixie: LibTorch 2.6).
# Idempotent: packages already present are left alone; nothing is downloaded
# outside apt. Run as root (or with sudo available).
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build ccache pkg-config git
  # framework and plugins
  libtorch-dev libyaml-cpp-dev libboost-dev libboost-filesystem-dev
  libspdlog-dev libfmt-dev libcli11-dev libgloo-dev libdeflate-dev nlohmann-json3-dev libzip-dev
  libssl-dev libhdf5-dev zlib1g-dev
  # fast BLAS for LibTorch's CPU math (OpenMP build, like LibTorch)
  libopenblas0-openmp
  # tests: unit framework and Python-side readers of prediction files
  doctest-dev python3-torch python3-h5py
  # tests of ranks on several hosts: network namespaces and veth pairs (ip)
  iproute2
  # tests of the run report: the page opened in headless Chromium through chromedriver
  chromium chromium-driver
  # fuzzing (the fuzz preset): Clang with libFuzzer and its sanitizer runtimes
  clang
)

# What differs between the releases: the Clang runtime's version, where the
# gold linker lives, what only Debian 13 has (safetensors for Python;
# setuptools for torch.export's AOTInductor packaging in the tests) and what
# only Debian 12 has (anndata; on 13 the tests read h5ad files with h5py).
os_release=${MINITRAIN_OS_RELEASE:-/etc/os-release}  # which system this is; tests name another file
release=$(. "$os_release" && echo "${VERSION_CODENAME:-unknown}")
case "$release" in
  bookworm) packages+=(binutils libclang-rt-14-dev python3-anndata) ;;
  trixie) packages+=(binutils-gold libclang-rt-19-dev python3-safetensors python3-setuptools) ;;
  *)
    echo "install_deps: Debian '$release' is not supported; minitrain is built and tested on" \
         "Debian 12 (bookworm) and Debian 13 (trixie) — see the README's Platforms table" >&2
    exit 1 ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install_deps: all ${#packages[@]} packages for Debian $release already installed"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install_deps: installing for Debian $release: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
