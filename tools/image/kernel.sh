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
for m in sdhci-iproc mmc_block bcm2835-dma squashfs overlay; do
  grep -qx "$m" "$root/etc/initramfs-tools/modules" || echo "$m" >>"$root/etc/initramfs-tools/modules"
done
say "installing linux-image-arm64 and raspi-firmware under qemu (log: $out/kernel.log)"
# The initrd is made once, by the kernel's own postinst (update-initramfs -c): under qemu-user
# that takes 20 minutes here, and raspi-firmware's trigger (update-initramfs -u) would make it
# all again, so updates are off while the packages go in.
initramfs_conf=$root/etc/initramfs-tools/update-initramfs.conf
sed -i 's/^update_initramfs=.*/update_initramfs=no/' "$initramfs_conf"
# Our /etc/default/raspi-firmware stays (dpkg would ask about it, and without a terminal fail).
dpkg_opts=(-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
{
  in_root dpkg --force-confdef --force-confold --configure -a  # after an interrupted run
  in_root apt-get -o DPkg::Lock::Timeout=3600 update -q
  in_root apt-get -o DPkg::Lock::Timeout=3600 "${dpkg_opts[@]}" install -y -q --no-install-recommends \
    linux-image-arm64 raspi-firmware
} >"$out/kernel.log" 2>&1 || { tail -n 30 "$out/kernel.log" >&2; die "kernel install failed"; }
sed -i 's/^update_initramfs=.*/update_initramfs=yes/' "$initramfs_conf"
kver=$(ls "$root/lib/modules" | sort -V | tail -n 1)
[[ -s $root/boot/initrd.img-$kver ]] || in_root update-initramfs -c -k "$kver" >>"$out/kernel.log" 2>&1 ||
  die "no initrd for $kver (log: $out/kernel.log)"
ls "$root/boot/firmware" >"$out/boot-files.txt"
