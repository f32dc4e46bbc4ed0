#!/usr/bin/env bash
# Stages disk and update: the boot partition, slot A's squashfs, the .img, the update file.
#   tools/image/disk.sh image    build/image/minipbx-VERSION-arm64.img
#   tools/image/disk.sh update   build/image/minipbx-VERSION-arm64.update (signed)
# Card layout (MBR, disk id 0x6d706278): p1 FAT boot (MPBXBOOT: firmware, slot-a/, slot-b/,
# config.txt, slot.txt, tryboot.txt), p2 root slot A (squashfs), and, added at first boot,
# p3 root slot B (as large as A) and p4 data (ext4 minipbx-data, the rest of the card).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/image/common.sh
what=${1:?"usage: disk.sh image|update"}
img=$out/minipbx-$version-arm64.img
upd=$out/minipbx-$version-arm64.update
squash=$out/root.squashfs
bootdir=$out/boot-tree
slot_mib=${SLOT_MIB:-768}
boot_mib=${BOOT_MIB:-192}
disk_id=0x6d706278

# The slot's boot folder, as a template (@SLOT@, @ROOT@ are filled per slot).
slot_folder() {
  local dst=$1 kernel initrd
  rm -rf "$dst" && mkdir -p "$dst"
  kernel=$(ls "$root"/boot/vmlinuz-* | sort -V | tail -n 1)
  initrd=$(ls "$root"/boot/initrd.img-* | sort -V | tail -n 1)
  cp "$kernel" "$dst/vmlinuz"
  cp "$initrd" "$dst/initrd.img"
  cp "$root"/usr/lib/linux-image-*/broadcom/bcm2*-rpi-*.dtb "$dst/"  # Pi 3 (bcm2837), Pi 4 (bcm2711)
  echo "console=tty1 root=@ROOT@ rootfstype=squashfs ro rootwait minipbx.slot=@SLOT@ quiet" \
    >"$dst/cmdline.txt"
}

case $what in
  image)
    chroot_unmount
    say "slot A's root as squashfs (zstd) (log: $out/disk.log)"
    rm -f "$squash"
    # Not in the slot: the kernel, initrd and Pi firmware (the boot partition carries them).
    nice -n 19 mksquashfs "$root" "$squash" -comp zstd -Xcompression-level 15 -noappend \
      -wildcards -e 'proc/*' 'sys/*' 'dev/*' 'run/*' 'tmp/*' 'boot/firmware/*' 'boot/vmlinuz-*' \
      'boot/initrd.img-*' 'usr/lib/raspi-firmware/*' >"$out/disk.log" 2>&1
    sq_bytes=$(stat -c %s "$squash")
    (( sq_bytes < slot_mib * 1048576 )) || die "the root ($sq_bytes bytes) does not fit a $slot_mib MiB slot; raise SLOT_MIB"
    say "the boot partition"
    rm -rf "$bootdir" && mkdir -p "$bootdir"
    cp -a "$root"/usr/lib/raspi-firmware/. "$bootdir/"
    slot_folder "$bootdir/slot-a"
    sed -i "s/@SLOT@/a/; s/@ROOT@/PARTUUID=${disk_id#0x}-02/" "$bootdir/slot-a/cmdline.txt"
    cat >"$bootdir/common.txt" <<CFG
# minipbx: what every slot boots with (the slot's folder comes from slot.txt or tryboot.txt)
arm_64bit=1
enable_uart=1
upstream_kernel=1
kernel=vmlinuz
initramfs initrd.img followkernel
disable_splash=1
CFG
    printf 'include common.txt\ninclude slot.txt\n' >"$bootdir/config.txt"
    printf 'os_prefix=slot-a/\n' >"$bootdir/slot.txt"
    printf 'include common.txt\nos_prefix=slot-a/\n' >"$bootdir/tryboot.txt"
    rm -f "$out/boot.fat"
    mkfs.vfat -n MPBXBOOT -C "$out/boot.fat" $((boot_mib * 1024)) >>"$out/disk.log"
    mcopy -s -i "$out/boot.fat" "$bootdir"/* ::/
    say "the image"
    rm -f "$img"
    truncate -s $(( (4 + boot_mib + slot_mib) * 1048576 )) "$img"
    sfdisk -q "$img" <<TABLE
label: dos
label-id: $disk_id
start=4MiB, size=${boot_mib}MiB, type=c, bootable
start=$((4 + boot_mib))MiB, size=${slot_mib}MiB, type=83
TABLE
    dd if="$out/boot.fat" of="$img" bs=1M seek=4 conv=notrunc,fsync status=none
    dd if="$squash" of="$img" bs=1M seek=$((4 + boot_mib)) conv=notrunc,fsync status=none
    # The card gets the slot's whole partition; the file stops where the squashfs does.
    truncate -s $(( (4 + boot_mib) * 1048576 + sq_bytes )) "$img"
    ls -l "$img" "$squash" | tee -a "$out/times.txt"
    ;;
  update)
    key=${UPDATE_KEY:-$out/keys/update-key.pem}
    [[ -f $squash ]] || die "no $squash: run the disk stage first"
    slot_folder "$out/update-boot"
    .venv/bin/python tools/image/sign_update.py "$upd" "$version" "$squash" "$out/update-boot" "$key"
    ;;
  *) die "unknown: $what" ;;
esac
