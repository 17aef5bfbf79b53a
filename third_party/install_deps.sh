#!/usr/bin/env bash
# Installs the Debian 12 packages minitrain needs to build, run and test.
# Idempotent: packages already present are left alone; nothing is downloaded
# outside apt. Run as root (or with sudo available).
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build ccache binutils pkg-config git
  # framework and plugins
  libtorch-dev libyaml-cpp-dev libboost-dev libboost-filesystem-dev
  libspdlog-dev libfmt-dev libcli11-dev libgloo-dev libdeflate-dev
  # fast BLAS for LibTorch's CPU math (OpenMP build, like LibTorch)
  libopenblas0-openmp
  # tests: unit framework and Python-side readers of prediction files
  doctest-dev python3-torch
  # fuzzing (the fuzz preset): Clang with libFuzzer and its sanitizer runtimes
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install_deps: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
