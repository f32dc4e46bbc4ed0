#!/usr/bin/env bash
# make image: a Raspberry Pi 3/4/5 (arm64) image of minipbx, built on an x86_64 Debian host
# with debootstrap and qemu-user-static. See rootfs/README.md for what the image holds.
#
# Usage: tools/image/build.sh [STAGE...]   (default: every stage not done yet)
# Stages, each leaving a stamp in build/image/stamps so a rerun goes on where it stopped:
#   bootstrap  debootstrap arm64 bookworm (minbase + what the box runs)      tools/image/bootstrap.sh
#   minipbx    the source (git HEAD), its venv, pjsua2 cross-compiled        tools/image/minipbx.sh
#   kernel     Debian's linux-image-arm64 and raspi-firmware (non-free-firmware) tools/image/kernel.sh
#   system     user, groups, unit, udev, read-only root, data, logs, console   tools/image/system.sh
#   slim       build packages purged, docs, locales and caches removed       tools/image/slim.sh
#   disk       boot + root A partitions, the .img                            tools/image/disk.sh
#   update     the signed update file                                        tools/image/disk.sh
# Environment: BOARD (default ag1171-coproc-2p), MIRROR (default http://deb.debian.org/debian),
#   IMAGE_DIR (default build/image), IMAGE_CACHE (downloads kept across builds: Debian
#   packages and pip's wheels; default ~/.cache/minipbx/image), UPDATE_KEY (Ed25519 private key, PEM; default
#   build/image/keys/update-key.pem, made on first use).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tools/image/common.sh
source tools/image/common.sh

stages=("$@")
((${#stages[@]})) || stages=(bootstrap minipbx kernel system slim disk update)
need_root
mkdir -p "$stamps" "$cache"
bash tools/image/host.sh
t0=$(date +%s)
for stage in "${stages[@]}"; do
  if [[ -f $stamps/$stage ]]; then say "$stage: done before ($(cat "$stamps/$stage"))"; continue; fi
  s=$(date +%s)
  say "$stage: start"
  case $stage in
    bootstrap) bash tools/image/bootstrap.sh ;;
    kernel) bash tools/image/kernel.sh ;;
    minipbx) bash tools/image/minipbx.sh ;;
    system) bash tools/image/system.sh ;;
    slim) bash tools/image/slim.sh ;;
    disk) bash tools/image/disk.sh image ;;
    update) bash tools/image/disk.sh update ;;
    *) die "unknown stage $stage" ;;
  esac
  echo "$(( $(date +%s) - s )) s, $(date -u +%H:%M:%S)" >"$stamps/$stage"
  say "$stage: done in $(( $(date +%s) - s )) s"
done
say "all stages done in $(( $(date +%s) - t0 )) s this run; output in $out"
ls -l "$out"/*.img "$out"/*.update 2>/dev/null || true
