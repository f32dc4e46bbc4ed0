#!/usr/bin/env bash
# Stage slim: the root as it ships. The packages only the build needed are purged (apt keeps
# what the box runs and what that depends on), then what a read-only appliance never reads:
# documentation (the copyright files stay), manual pages, translations, apt's and pip's
# caches, the venv's installers, numpy's tests, device trees of other boards, kernel modules
# for hardware no Raspberry Pi has, and the kernel and initrd (the boot partition has them).
# What took the space before and after: $out/size.txt (du, MiB).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/image/common.sh
chroot_mounts
log=$out/slim.log
: >"$log"
sizes() {  # the largest folders, MiB, for size.txt
  du -xm --max-depth=3 "$root" 2>/dev/null | sort -rn | head -n 25 | sed "s|$root||"
}
{ echo "== before the slim stage: $(du -sxm "$root" | cut -f1) MiB"; sizes; } >"$out/size.txt"

# 1. Packages: everything marked automatic, then the ones the box runs marked again as wanted
# (with Debian's essential and required ones); autoremove purges the rest: the compilers,
# the -dev packages, swig, python3-dev, python3-venv (the venv exists already).
keep=$(grep -vx -e python3-venv "$out/run-packages.txt" | tr '\n' ' ')
keep+=" linux-image-arm64 raspi-firmware systemd-resolved"
{
  # shellcheck disable=SC2046
  in_root apt-mark auto $(in_root dpkg-query -W -f '${Package}\n') >/dev/null
  # shellcheck disable=SC2046,SC2086
  in_root apt-mark manual $keep $(in_root dpkg-query -W -f '${Package} ${Essential} ${Priority}\n' |
    awk '$2 == "yes" || $3 == "required" {print $1}') >/dev/null
  in_root dpkg-query -W -f '${Package}\n' | sort >"$out/packages-before-slim.txt"
  # Recommends do not keep a package here (python3.11 recommends the compilers' chain).
  in_root apt-get -o DPkg::Lock::Timeout=3600 -o APT::AutoRemove::RecommendsImportant=false \
    -o APT::AutoRemove::SuggestsImportant=false autoremove -y -q --purge
  in_root dpkg-query -W -f '${Package}\n' | sort >"$out/packages.txt"
} >>"$log" 2>&1 || { tail -n 30 "$log" >&2; die "purging the build packages failed (log: $log)"; }
say "purged $(comm -23 "$out/packages-before-slim.txt" "$out/packages.txt" | wc -l) build packages; $(wc -l <"$out/packages.txt") remain (list: $out/packages.txt)"
for p in gcc-12 g++-12 swig libc6-dev python3.11-dev; do
  grep -qx "$p" "$out/packages.txt" && die "$p survived the purge (see $log)"
done
# The libraries pjsua2 and the venv link must have stayed.
in_root "$dev_prefix/venv/bin/python" -c 'import pjsua2 as pj, numpy, alsaaudio, cryptography, aiohttp; pj.Endpoint()' \
  >>"$log" 2>&1 || die "the venv does not import after the purge (a runtime library went with the build packages; $log)"
chroot_unmount  # the download caches are bind-mounted: out of the root before anything is removed

# 2. Files.
rm -f "$root/usr/sbin/policy-rc.d"
find "$root/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$root"/usr/share/{man,info,lintian,linda,bug,groff}/* "$root/usr/share/locale"/*/
rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/var/cache/debconf/*-old \
  "$root"/var/lib/dpkg/*-old "$root"/var/cache/man/* "$root/root/.cache" "$root"/var/log/*
mkdir -p "$root/var/cache/apt/archives/partial" "$root/var/lib/apt/lists/partial"
# The venv's installers (the root is read-only: nothing is installed there) and numpy's tests.
site=$(echo "$root$dev_prefix"/venv/lib/python3*/site-packages)
rm -rf "$site"/pip "$site"/pip-* "$site"/setuptools "$site"/setuptools-* "$site"/_distutils_hack \
  "$site"/pkg_resources "$site"/distutils-precedence.pth "$root$dev_prefix"/venv/bin/pip*
find "$site/numpy" -type d -name tests -prune -exec rm -rf {} +
# Device trees: the Pi 3 and 4 ones (the disk stage copies them to the boot partition).
for d in "$root"/usr/lib/linux-image-*; do
  find "$d" -mindepth 1 -maxdepth 1 -type d ! -name broadcom -exec rm -rf {} +
done
# Kernel modules for what no Raspberry Pi (nor qemu's virt board) has: PC and server graphics,
# InfiniBand, wireless chips other than the Pi's Broadcom one, TV cards, ISDN, FPGA, server
# NICs. USB sound, network and storage, virtio and the file systems stay.
for kdir in "$root"/lib/modules/*; do
  [[ -d $kdir/kernel ]] || continue
  k=$kdir/kernel/drivers
  rm -rf "$k"/gpu/drm/{amd,radeon,nouveau,i915,msm,tegra,mediatek,rockchip,exynos,sun4i,meson,imx,hisilicon,etnaviv,lima,panfrost,tilcdc,xlnx} \
    "$k"/infiniband "$k"/media "$k"/isdn "$k"/fpga "$k"/scsi/{qla2xxx,lpfc,mpt3sas,be2iscsi,bfa,qedi,qedf,megaraid,aacraid,smartpqi,hisi_sas,csiostor,cxgbi,bnx2fc,bnx2i,fnic,snic,mpi3mr} \
    "$k"/net/ethernet/{mellanox,intel,chelsio,qlogic,cavium,marvell,hisilicon,emulex,amazon,huawei,netronome,solarflare,broadcom/bnxt,sfc,mscc,pensando,freescale,ti,amd,aquantia,cisco,google,myricom,sun,qualcomm,mediatek,rockchip,stmicro,xilinx,neterion,synopsys,apm,socionext,samsung,brocade,dec,atheros} \
    "$k"/net/wireless/{ath,intel,mediatek,realtek,marvell,ralink,ti,zydas,quantenna,atmel,intersil,rsi,st,microchip,purelifi,silabs} \
    "$k"/net/can "$k"/iio "$k"/input/touchscreen "$k"/hid/amd-sfh-hid "$k"/crypto/{hisilicon,marvell,cavium,ccp,caam} \
    "$k"/bluetooth "$kdir"/kernel/net/bluetooth "$kdir"/kernel/sound/soc/{amd,intel,sof,qcom,mediatek,rockchip,fsl,sunxi,tegra,samsung,meson}
  in_root depmod -a "$(basename "$kdir")" >>"$log" 2>&1 || die "depmod failed (log: $log)"
done
{ echo; echo "== after: $(du -sxm "$root" | cut -f1) MiB"; sizes; } >>"$out/size.txt"
say "root tree: $(sed -n 's/^== before the slim stage: //p' "$out/size.txt") before, $(sed -n 's/^== after: //p' "$out/size.txt") after (folders: $out/size.txt)"
