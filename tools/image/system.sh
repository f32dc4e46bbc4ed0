#!/usr/bin/env bash
# Stage system: the appliance around minipbx. Service user and device groups, the unit
# (Type=notify, watchdog), udev rules, the default configuration for BOARD with the serial
# console, chrony (client only), ssh (off, host key made per box), read-only root (the
# slot is a squashfs), /data, logs in RAM with a ring on /data, the update key and units.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/image/common.sh
chroot_mounts
console=${CONSOLE_DEVICE:-/dev/ttyS1}  # GPIO 14/15 (the mini UART under Debian's kernel)
log=$out/system.log
: >"$log"
rm -f "$root/etc/resolv.conf"  # a rerun finds the image's symlink to systemd-resolved there
cp /etc/resolv.conf "$root/etc/resolv.conf"
resolved=yes
if [[ ${IMAGE_SKIP_APT:-} == 1 ]]; then
  resolved=no
  say "IMAGE_SKIP_APT=1: no systemd-resolved (the box gets no DNS servers from DHCP)"
else
  {
    in_root apt-get update -q
    in_root apt-get install -y -q --no-install-recommends systemd-resolved
  } >>"$log" 2>&1 || { tail -n 20 "$log" >&2; die "systemd-resolved install failed"; }
fi

# The files of rootfs/image (units, fstab, journald, network, ssh, scripts).
cp -a rootfs/image/. "$root/"
install -m 0644 rootfs/systemd/minipbx.service "$root/etc/systemd/system/minipbx.service"
install -m 0644 rootfs/udev/60-minipbx-devices.rules "$root/etc/udev/rules.d/"
install -m 0644 board/udev/70-minipbx-codecs.rules "$root/etc/udev/rules.d/"
install -m 0644 board/alsa/asound.conf "$root/etc/asound.conf"
ln -sf "$dev_prefix/venv/bin/minipbx" "$root/usr/bin/minipbx"

# The service user and the device groups.
in_root sh -c 'getent group gpio >/dev/null || groupadd --system gpio
  id minipbx >/dev/null 2>&1 || useradd --system --home-dir /var/lib/minipbx \
    --shell /usr/sbin/nologin --groups gpio,audio,dialout minipbx' >>"$log" 2>&1
mkdir -p "$root/data" "$root/var/lib/minipbx" "$root/boot/firmware"

# The default configuration: the board, its ports, the serial console.
in_root env PYTHONDONTWRITEBYTECODE=1 "$dev_prefix/venv/bin/python" - "$board" "$console" \
    >"$root/etc/minipbx/minipbx.toml" 2>>"$log" <<'PY'
import sys
from dataclasses import replace
from firmware.config import default_config, to_toml
board, console = sys.argv[1], sys.argv[2]
config = default_config()
# On the device SIP, RTP and the web page listen on the network, not only on loopback.
config = replace(config, box=replace(config.box, board=board),
                 sip=replace(config.sip, bind="0.0.0.0"),
                 web=replace(config.web, bind="0.0.0.0"),
                 console=replace(config.console, device=console))
print(to_toml(config), end="")
PY

# chrony: a client only (no NTP server, no command port); its drift in RAM.
sed -i 's/^#\?cmdport.*//; $a cmdport 0' "$root/etc/chrony/chrony.conf"
# Hostname, machine id (made at each boot in RAM: the root is read-only), resolv.conf.
echo minipbx >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tminipbx\n' >"$root/etc/hosts"
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
if [[ $resolved == yes ]]; then
  ln -sf /run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
else
  rm -f "$root/etc/resolv.conf"
fi
# ssh: installed, off by default, no host key in the image.
rm -f "$root"/etc/ssh/ssh_host_*
# Services: what runs, what does not.
in_root systemctl enable minipbx.service minipbx-firstboot.service minipbx-datadirs.service \
  minipbx-update-check.service minipbx-update-confirm.service minipbx-setup-code.service \
  minipbx-logring.timer minipbx-logring-shutdown.service minipbx-update-incoming.path \
  systemd-networkd.service chrony.service \
  $([[ $resolved == yes ]] && echo systemd-resolved.service) >>"$log" 2>&1
in_root systemctl disable ssh.service ssh.socket >>"$log" 2>&1 || true
in_root systemctl mask serial-getty@"$(basename "$console")".service getty@tty1.service \
  systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer e2scrub_reap.service \
  >>"$log" 2>&1 || true
# The hardware watchdog resets a hung system (and so leaves a slot on trial).
mkdir -p "$root/etc/systemd/system.conf.d"
printf '[Manager]\nRuntimeWatchdogSec=15s\nRebootWatchdogSec=2min\n' \
  >"$root/etc/systemd/system.conf.d/watchdog.conf"
# The update key: its public half baked in; make image signs with the private half.
key=${UPDATE_KEY:-$out/keys/update-key.pem}
if [[ ! -f $key ]]; then
  mkdir -p "$(dirname "$key")" && chmod 0700 "$(dirname "$key")"
  openssl genpkey -algorithm ed25519 -out "$key"
  say "made a new update signing key $key (keep it: updates for these images need it)"
fi
openssl pkey -in "$key" -pubout -out "$root/etc/minipbx/update-key.pub"
# Python's bytecode now, so the read-only root never tries to write it.
in_root "$dev_prefix/venv/bin/python" -m compileall -q "$dev_prefix/venv" "$dev_prefix/src/firmware" \
  "$dev_prefix/src/drivers" >>"$log" 2>&1 || true
echo "$version" >"$root/etc/minipbx/version"
