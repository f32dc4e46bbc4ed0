#!/usr/bin/env bash
# Stage minipbx: the committed source (git HEAD) in /opt/minipbx/src, its venv in
# /opt/minipbx/venv (numpy, cryptography, aiohttp from PyPI's aarch64 wheels; pyalsaaudio
# compiled), and pjsua2 built from source for aarch64 by the same recipe as `make pjsua2`
# (tools/pjsua2/build.sh), natively under qemu-user. Then the build packages are purged.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/image/common.sh
chroot_mounts
cp /etc/resolv.conf "$root/etc/resolv.conf"
rm -rf "$root$dev_prefix/src" && mkdir -p "$root$dev_prefix/src"
git archive HEAD | tar -x -C "$root$dev_prefix/src"
git rev-parse HEAD >"$root$dev_prefix/src/COMMIT"
# The pjproject release from this machine's cache (the build checks its digest again).
mkdir -p "$root/root/.cache/minipbx"
for dir in "$HOME/.cache/minipbx" ../shared/vendor; do
  if [[ -f $dir/pjproject-2.15.1.tar.xz ]]; then cp "$dir/pjproject-2.15.1.tar.xz" "$root/root/.cache/minipbx/"; break; fi
done
# pip in the chroot trusts what the host's pip trusts (a site's TLS proxy CA, if any); the
# copy is deleted again below and is not part of the image.
cp /etc/ssl/certs/ca-certificates.crt "$root/root/host-ca.crt"
pipenv=(env PIP_CERT=/root/host-ca.crt PIP_DEFAULT_TIMEOUT=180 PIP_DISABLE_PIP_VERSION_CHECK=1)
say "venv and Python packages under qemu (log: $out/minipbx.log)"
{
  in_root python3 -m venv "$dev_prefix/venv"
  in_root "${pipenv[@]}" "$dev_prefix/venv/bin/pip" install -q "$dev_prefix/src"
} >"$out/minipbx.log" 2>&1 || { tail -n 30 "$out/minipbx.log" >&2; die "venv failed"; }
say "pjsua2 from source under qemu, 2 jobs (log: $out/pjsua2.log)"
s=$(date +%s)
in_root "${pipenv[@]}" HOME=/root JOBS=2 PJSUA2_BUILD=/var/tmp/pjsua2 \
  "$dev_prefix/src/tools/pjsua2/use.sh" source "$dev_prefix/venv" >"$out/pjsua2.log" 2>&1 ||
  { tail -n 30 "$out/pjsua2.log" >&2; die "pjsua2 build failed (log: $out/pjsua2.log)"; }
echo "pjsua2 under qemu: $(( $(date +%s) - s )) s" >>"$out/times.txt"
cp "$root"/var/tmp/pjsua2/dist/*.whl "$out/" 2>/dev/null || true
in_root "$dev_prefix/venv/bin/python" -c 'import pjsua2 as pj; ep = pj.Endpoint(); print("pjsua2", ep.libVersion().full)' >>"$out/minipbx.log" 2>&1
say "purging the build packages"
# shellcheck disable=SC2046
in_root apt-get -o DPkg::Lock::Timeout=3600 purge -y -q $(cat "$out/build-packages.txt") >>"$out/minipbx.log" 2>&1
in_root apt-get -o DPkg::Lock::Timeout=3600 autoremove -y -q --purge >>"$out/minipbx.log" 2>&1
in_root apt-get clean
rm -rf "$root/var/tmp/pjsua2" "$root/root/.cache" "$root$dev_prefix/src/build" "$root/root/host-ca.crt"
# The runtime libraries the module links must have survived the purge.
in_root "$dev_prefix/venv/bin/python" -c 'import pjsua2 as pj; pj.Endpoint()' ||
  die "pjsua2 does not import after the purge (a runtime library went with the build packages)"
