#!/usr/bin/env bash
# Shared by run.sh and test.sh: installs the Debian 12 packages the build needs (apt-get, only
# those missing) and builds into ./build with Ninja + ccache. Safe to run again: it does only
# what is missing or out of date.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

R1_PACKAGES=(
  cmake ninja-build ccache g++ pkg-config
  libtorch-dev libgloo-dev               # LibTorch 1.13 (CPU) with c10d Gloo
  libopenblas0-openmp                    # fast BLAS for LibTorch (the default is netlib's)
  libtomlplusplus-dev nlohmann-json3-dev libcli11-dev zlib1g-dev
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev libqt6sql6-sqlite   # the workbench GUI
  qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools                # lrelease: EN + 简体中文
  fonts-noto-cjk                         # Chinese glyphs in the GUI and its screenshots
  libprotobuf-dev protobuf-compiler      # TensorBoard event-file export
  fortunes fortunes-zh                   # the default corpus: English + Chinese text
  openssh-server openssh-client          # cluster launcher: ssh, and the sshd of test_cluster_ssh
  libinsighttoolkit5-dev libgdcm-tools   # ITK: DICOM series and NIfTI volumes (engine/vision)
  python3-pydicom                        # CT_small.dcm: the real CT slice of test_volume
  libopencv-imgcodecs-dev                # OpenCV: PNG/JPEG slices as volumes (engine/vision)
)

missing=()
for p in "${R1_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build build -j "$(nproc)" ${R1_TARGETS:+--target $R1_TARGETS}
