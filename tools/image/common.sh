# Shared settings of the image stages (sourced, not run).
# shellcheck shell=bash
out=${IMAGE_DIR:-build/image}
# The root tree is built outside the source tree: setuptools walks the whole checkout (and
# would walk the chroot's /proc) on every `pip install -e .`.
work=${IMAGE_WORK:-/var/tmp/minipbx-image}
root=$work/root
stamps=$out/stamps
# Downloads kept across builds (a rebuild fetches nothing again): debootstrap's and apt's
# Debian packages, pip's wheels. Bind-mounted into the root while a stage runs, so nothing
# of it lands in the image.
cache=${IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minipbx/image}
board=${BOARD:-ag1171-coproc-2p}
mirror=${MIRROR:-http://deb.debian.org/debian}
suite=bookworm
version=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
# Where minipbx lives on the device.
dev_prefix=/opt/minipbx

say() { echo "image: $*"; }
die() { echo "image: $*" >&2; exit 1; }

need_root() { [[ $(id -u) -eq 0 ]] || die "run as root (debootstrap, chroot)"; }

# qemu-user-static runs the arm64 programs of the chroot (binfmt_misc with the F flag).
binfmt_ready() {
  [[ -e /usr/bin/qemu-aarch64-static ]] || die "qemu-user-static is missing (apt-get install qemu-user-static binfmt-support)"
  if [[ ! -e /proc/sys/fs/binfmt_misc/status ]]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || die "cannot mount binfmt_misc"
  fi
  [[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]] || update-binfmts --enable qemu-aarch64 ||
    die "cannot enable qemu-aarch64 in binfmt_misc"
}

# Mount what a chroot needs. They stay mounted across stages (two stages may run at once:
# the kernel's beside pjsua2's long build); the disk stage unmounts them.
chroot_mounts() {
  local m
  for m in proc sys dev dev/pts; do mkdir -p "$root/$m"; done
  mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
  mountpoint -q "$root/sys" || mount -t sysfs sys "$root/sys"
  mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
  mountpoint -q "$root/dev/pts" || mount --bind /dev/pts "$root/dev/pts"
  mkdir -p "$cache/apt/partial" "$cache/pip" "$root/var/cache/apt/archives" "$root/root/.cache/pip"
  mountpoint -q "$root/var/cache/apt/archives" || mount --bind "$cache/apt" "$root/var/cache/apt/archives"
  mountpoint -q "$root/root/.cache/pip" || mount --bind "$cache/pip" "$root/root/.cache/pip"
}
chroot_unmount() {
  local m
  for m in root/.cache/pip var/cache/apt/archives dev/pts dev sys proc; do
    if mountpoint -q "$root/$m"; then umount -l "$root/$m" || true; fi
  done
}

# Run a command in the arm64 root (under qemu-user), at the lowest priority.
in_root() {
  LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive nice -n 19 chroot "$root" "$@"
}
