#!/usr/bin/env bash
# Boots the card image `make image` made under qemu-system-aarch64 and waits until systemd
# reports minipbx.service started, which for a Type=notify service means the daemon sent
# READY=1. The machine is qemu's `virt` board (this qemu has no Pi 4 model), emulated (TCG),
# with the image's own kernel (Debian's linux-image-arm64 has the virtio drivers) and
# initrd, and the kernel command line of slot A's cmdline.txt with the console on the virt
# board's PL011 and the box on the simulated board (systemd.setenv=MINIPBX_RUN_ARGS=--board=sim,
# rootfs/systemd/minipbx.service). The card is a copy grown to 3 GiB, so the first boot adds
# slot B and formats /data as on a real card. The times are emulated, not a Pi's.
#
# Usage: tools/image/qemu_boot.sh [IMG]   (default: the newest build/image/minipbx-*-arm64.img)
# Environment: QEMU_TIMEOUT (s, default 900), QEMU_HOLD (s the box must stay up after READY,
#   default 20), QEMU_SMP (default 2), QEMU_WORK (folder for the card copy and console.log;
#   default a new one in /var/tmp, removed at the end unless QEMU_KEEP=1).
# Prints `READY after N s` and exits 0, or says what it saw and exits 1.
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { echo "qemu-boot: $*"; }
die() { echo "qemu-boot: $*" >&2; exit 1; }

img=${1:-$(ls build/image/minipbx-*-arm64.img 2>/dev/null | sort -V | tail -n 1)}
[[ -n $img && -f $img ]] || die "no image (run make image, or name one)"
command -v qemu-system-aarch64 >/dev/null || die "qemu-system-aarch64 is missing (Debian: qemu-system-arm)"
command -v mcopy >/dev/null || die "mcopy is missing (Debian: mtools)"
timeout_s=${QEMU_TIMEOUT:-900}
hold_s=${QEMU_HOLD:-20}
work=${QEMU_WORK:-$(mktemp -d /var/tmp/minipbx-qemu.XXXXXX)}
mkdir -p "$work"
log=$work/console.log
qpid=""
cleanup() {
  if [[ -n $qpid ]]; then kill "$qpid" 2>/dev/null || true; wait "$qpid" 2>/dev/null || true; fi
  rm -f "$work/card.img"
  [[ ${QEMU_KEEP:-} == 1 || -n ${QEMU_WORK:-} ]] || rm -rf "$work"
}
trap cleanup EXIT

cp --sparse=always "$img" "$work/card.img"
truncate -s 3G "$work/card.img"
# Kernel, initrd and command line from the boot partition's slot-a/ folder.
p1=$(sfdisk -d "$work/card.img" | sed -n 's/^[^ ]*1 : start= *\([0-9]*\),.*/\1/p')
[[ -n $p1 ]] || die "no first partition in $img"
for f in vmlinuz initrd.img cmdline.txt; do
  mcopy -n -i "$work/card.img@@$((p1 * 512))" "::slot-a/$f" "$work/$f"
done
cmdline=$(sed 's/console=[^ ]*//g; s/\bquiet\b//g' "$work/cmdline.txt" | tr -s ' ')
cmdline="console=ttyAMA0,115200 $cmdline systemd.show_status=1 systemd.journald.forward_to_console=1"
cmdline+=" systemd.setenv=MINIPBX_RUN_ARGS=--board=sim"
say "booting $img (copy in $work, console log $log)"
say "kernel command line: $cmdline"
# restrict=on: the guest's network reaches neither the host nor anything beyond it (its DHCP
# and the link are all it needs). romfile=: no network boot ROM (the kernel is given here;
# the ROM's package, ipxe-qemu, is only a recommendation of qemu-system-arm).
qemu-system-aarch64 -M virt -cpu cortex-a72 -smp "${QEMU_SMP:-2}" -m 1024 \
  -display none -monitor none -serial "file:$log" -no-reboot \
  -kernel "$work/vmlinuz" -initrd "$work/initrd.img" -append "$cmdline" \
  -drive "file=$work/card.img,format=raw,if=virtio" \
  -netdev user,id=net0,restrict=on -device virtio-net-pci,netdev=net0,romfile= &
qpid=$!
t0=$(date +%s.%N)
seen() { sed 's/\x1b\[[0-9;]*[a-zA-Z]//g' "$log" 2>/dev/null | grep -E -q "$1"; }
ready=""
while :; do
  if seen 'Started minipbx\.service'; then ready=$(date +%s.%N); break; fi
  kill -0 "$qpid" 2>/dev/null || { tail -n 40 "$log" >&2; die "qemu stopped before READY"; }
  if (( $(date +%s) - ${t0%.*} > timeout_s )); then
    tail -n 40 "$log" >&2; die "no READY within $timeout_s s"
  fi
  sleep 1
done
secs=$(awk -v a="$t0" -v b="$ready" 'BEGIN { printf "%.0f", b - a }')
say "minipbx.service started (READY=1) $secs s after qemu started; holding $hold_s s"
sleep "$hold_s"
kill -0 "$qpid" 2>/dev/null || die "qemu stopped after READY"
if seen 'minipbx\.service: (Main process exited|Failed|Watchdog timeout)'; then
  grep -a 'minipbx\.service' "$log" | tail -n 10 >&2
  die "minipbx.service failed after READY"
fi
seen 'Started minipbx\.service' || die "lost the READY line"
echo "READY after $secs s"
