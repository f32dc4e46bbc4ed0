#!/usr/bin/env bash
# The host's side of `make image`: the Debian packages the stages run, installed when missing
# (a fresh machine has none of them), and binfmt_misc ready for arm64 programs.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/image/common.sh
# debootstrap and qemu-user-static: the arm64 root; g++-aarch64-linux-gnu, swig, make,
# pkg-config: pjsua2 cross-compiled; squashfs-tools, dosfstools, mtools, fdisk: the card image;
# git: the committed source; openssl: the update key; qemu-system-arm: `make image-boot` and
# `make image-test` boot the card (they run this script too).
host_debs=(debootstrap qemu-user-static binfmt-support g++-aarch64-linux-gnu swig make pkg-config
           squashfs-tools dosfstools mtools fdisk git openssl xz-utils qemu-system-arm)
missing=()
for p in "${host_debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing host packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y -q --no-install-recommends "${missing[@]}" ||
    { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; }; } \
    >"$out/host.log" 2>&1 || { tail -n 20 "$out/host.log" >&2; die "could not install ${missing[*]}"; }
fi
binfmt_ready
