#!/usr/bin/env bash
# Installs the Debian packages the project builds and runs with. Idempotent:
# installs only what is missing, and does nothing when all is there.
set -euo pipefail

packages=(
  bazel-bootstrap g++ git
  libtorch-dev libprotobuf-dev protobuf-compiler
  # c10d's ProcessGroupGloo headers, for data-parallel learners (learners/
  # distributed); Debian's libtorch is built with Gloo.
  libgloo-dev
  libzmq3-dev cppzmq-dev libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3-zmq python3-protobuf python3-numpy python3-matplotlib
  # The Python client's C++ step codec (python/marl_env/codec.cc).
  python3-dev pybind11-dev
  # JSON for the run files (runtime/json.h).
  nlohmann-json3-dev
  # CRC-32 of checkpoints (runtime/training_loop.cc).
  zlib1g-dev
  # An optimised BLAS for LibTorch (Debian's reference BLAS is ~2x slower).
  libopenblas0-pthread
  # PyTorch for the training benchmark's Python port (tools/benchmarks).
  python3-torch
  # CRC-32C for reading TensorBoard event files back in Python
  # (tools/tensorboard_events.py); the C++ writer has its own.
  python3-crc32c
  # Sweeps on a cluster scheduler (tools/sweep.py --scheduler=slurm), tested
  # on a one-node cluster (tools/testing/slurm_cluster.sh).
  slurm-wlm munge
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
      grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} Debian packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
