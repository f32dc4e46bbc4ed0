#!/usr/bin/env bash
# Stage bootstrap: a Debian bookworm arm64 root with what the box runs and what builds its
# venv (the build packages are purged again by the minipbx stage).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/image/common.sh

run_pkgs=systemd,systemd-sysv,udev,dbus,kmod,chrony,openssh-server,python3,python3-venv,libssl3,libopus0,libbcg729-0,libasound2,ca-certificates,espeak-ng,iproute2,fdisk,e2fsprogs,dosfstools,initramfs-tools,zstd,sudo
build_pkgs=build-essential,swig,libssl-dev,libopus-dev,libbcg729-dev,python3-dev,pkg-config,libasound2-dev,libsystemd-dev

chroot_unmount  # a root left by an interrupted build may still have them
rm -rf "$root"
mkdir -p "$root" "$cache/debs"
say "debootstrap $suite arm64 from $mirror (log: $out/debootstrap.log)"
nice -n 19 debootstrap --cache-dir="$cache/debs" --arch=arm64 --variant=minbase --components=main,non-free-firmware \
  --include="$run_pkgs,$build_pkgs" "$suite" "$root" "$mirror" >"$out/debootstrap.log" 2>&1 ||
  { tail -n 30 "$out/debootstrap.log" >&2; die "debootstrap failed (whole log: $out/debootstrap.log)"; }
# No service starts inside the chroot while packages are installed.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
cat >"$root/etc/apt/sources.list" <<SRC
deb $mirror $suite main non-free-firmware
deb $mirror $suite-updates main non-free-firmware
deb http://deb.debian.org/debian-security $suite-security main non-free-firmware
SRC
echo "$run_pkgs" | tr , '\n' >"$out/run-packages.txt"
echo "$build_pkgs" | tr , '\n' >"$out/build-packages.txt"
# debootstrap takes the packages of the release as it was cut; what bookworm-updates and
# bookworm-security have fixed since comes in here, before anything is built on top, so
# the image ships with the fixes (the kernel stage takes its kernel from -security too).
# The list of what was upgraded is kept beside the image. The steps are joined with &&:
# set -e does not reach inside a { } that stands left of ||.
upgradable() { in_root apt-get -s -q upgrade | awk '/^Inst /{print $2, $3, $4}' | tr -d '[]()'; }
say "upgrading from $suite-updates and $suite-security under qemu (log: $out/upgrade.log)"
chroot_mounts
{
  in_root apt-get -o DPkg::Lock::Timeout=3600 update -q &&
    upgradable >"$out/upgraded-packages.txt" &&
    in_root apt-get -o DPkg::Lock::Timeout=3600 -o Dpkg::Options::=--force-confdef \
      -o Dpkg::Options::=--force-confold upgrade -y -q &&
    upgradable >"$out/still-upgradable.txt" &&
    { [[ ! -s $out/still-upgradable.txt ]] || { echo "still upgradable:"; cat "$out/still-upgradable.txt"; false; }; }
} >"$out/upgrade.log" 2>&1 || { tail -n 30 "$out/upgrade.log" >&2; die "upgrade failed (whole log: $out/upgrade.log)"; }
say "upgraded $(wc -l <"$out/upgraded-packages.txt") packages (list: $out/upgraded-packages.txt)"
