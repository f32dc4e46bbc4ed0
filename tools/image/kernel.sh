#!/usr/bin/env bash
# Stage kernel: Debian's arm64 kernel and the Raspberry Pi boot firmware.
# Source: Debian bookworm, packages linux-image-arm64 (main; the Pi 3 and 4 device trees are
# in it) and raspi-firmware (non-free-firmware: start*.elf, fixup*.dat, bootcode.bin, and the
# kernel hook that copies kernel, initrd and device trees to /boot/firmware). A Pi 5 needs a
# newer kernel than bookworm's 6.1 (rootfs/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/image/common.sh
chroot_mounts
mkdir -p "$root/boot/firmware"
# raspi-firmware writes cmdline.txt from this (the root is set per slot by the disk stage).
cat >"$root/etc/default/raspi-firmware" <<'CFG'
ROOTPART=LABEL=minipbx-a
CONSOLES="ttyS1,115200 ttyAMA0,115200"
KERNEL_ARCH=arm64
CFG
# Raspberry Pi modules the initrd needs to find the SD card.
printf '%s\n' sdhci-iproc mmc_block bcm2835-dma squashfs overlay >>"$root/etc/initramfs-tools/modules"
say "installing linux-image-arm64 and raspi-firmware under qemu (log: $out/kernel.log)"
in_root dpkg --configure -a >"$out/kernel.log" 2>&1  # after an interrupted run
in_root apt-get -o DPkg::Lock::Timeout=3600 update -q >>"$out/kernel.log" 2>&1
in_root apt-get -o DPkg::Lock::Timeout=3600 install -y -q --no-install-recommends linux-image-arm64 raspi-firmware \
  >>"$out/kernel.log" 2>&1 || { tail -n 30 "$out/kernel.log" >&2; die "kernel install failed"; }
ls "$root/boot/firmware" >"$out/boot-files.txt"
