#!/usr/bin/env bash
# Stage minipbx: the committed source (git HEAD) in /opt/minipbx/src, its venv in
# /opt/minipbx/venv (numpy, cryptography, aiohttp from PyPI's aarch64 wheels; pyalsaaudio
# compiled), and pjsua2 built from source for aarch64 by the same recipe as `make pjsua2`
# (tools/pjsua2/build.sh), cross-compiled against this root. The slim stage purges the build
# packages.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/image/common.sh
chroot_mounts
rm -f "$root/etc/resolv.conf"  # a rerun finds the image's symlink to systemd-resolved there
cp /etc/resolv.conf "$root/etc/resolv.conf"
# pip in the chroot trusts what the host's pip trusts (a site's TLS proxy CA, if any); the
# copy is deleted again below and is not part of the image.
cp /etc/ssl/certs/ca-certificates.crt "$root/root/host-ca.crt"
pipenv=(env -u PIP_FIND_LINKS PIP_CERT=/root/host-ca.crt REQUESTS_CA_BUNDLE=/root/host-ca.crt
        SSL_CERT_FILE=/root/host-ca.crt PIP_DEFAULT_TIMEOUT=180 PIP_DISABLE_PIP_VERSION_CHECK=1)
commit=$(git rev-parse HEAD)
if [[ -x $root$dev_prefix/venv/bin/minipbx && ( ${IMAGE_REUSE_VENV:-} == 1 ||
      $(cat "$root$dev_prefix/src/COMMIT" 2>/dev/null) == "$commit" ) ]]; then
  say "the venv already holds minipbx $(cat "$root$dev_prefix/src/COMMIT") (IMAGE_REUSE_VENV=1 keeps an older one)"
else
  rm -rf "$root$dev_prefix/src" "$root$dev_prefix/venv" && mkdir -p "$root$dev_prefix/src"
  git archive HEAD | tar -x -C "$root$dev_prefix/src"
  say "venv and Python packages under qemu (log: $out/minipbx.log)"
  # pip's own HTTP cache kept nothing here (the responses it got were not cacheable), so the
  # downloads go to a wheelhouse in the download cache (bind-mounted at /root/.cache/pip):
  # `pip wheel -w` does not fetch a file it finds there again, and a package built from its
  # source (pyalsaaudio; --use-pep517: its setup.py alone needs the wheel package) is kept
  # as a wheel, so a rebuild compiles it no more.
  wh=/root/.cache/pip/wheelhouse
  rm -f "$root$wh"/minipbx-*.whl  # this commit's own wheel is made afresh
  {
    in_root python3 -m venv "$dev_prefix/venv"
    in_root "${pipenv[@]}" "$dev_prefix/venv/bin/pip" wheel -q --use-pep517 -w "$wh" --find-links "$wh" "$dev_prefix/src"
    in_root "${pipenv[@]}" "$dev_prefix/venv/bin/pip" install -q --no-index --find-links "$wh" minipbx
  } >"$out/minipbx.log" 2>&1 || { tail -n 30 "$out/minipbx.log" >&2; die "venv failed"; }
  rm -f "$root$wh"/minipbx-*.whl
  echo "$commit" >"$root$dev_prefix/src/COMMIT"
fi
# pjsua2: the `make pjsua2` recipe, cross-compiled against this root (the compiler under
# qemu-user was far too slow: it had not finished `make dep` after 17 minutes here).
say "pjsua2 from source, cross-compiled for aarch64 (log: $out/pjsua2.log)"
s=$(date +%s)
CROSS=aarch64-linux-gnu SYSROOT=$root PJSUA2_BUILD=build/pjsua2-aarch64 JOBS=2 \
  bash tools/pjsua2/build.sh >"$out/pjsua2.log" 2>&1 ||
  { tail -n 30 "$out/pjsua2.log" >&2; die "pjsua2 build failed (log: $out/pjsua2.log)"; }
echo "pjsua2 cross-compiled: $(( $(date +%s) - s )) s" >>"$out/times.txt"
wheel=$(ls build/pjsua2-aarch64/dist/pjsua2-*-linux_aarch64.whl)
cp "$wheel" "$root/root/" && cp "$wheel" "$out/"
in_root "${pipenv[@]}" "$dev_prefix/venv/bin/pip" install -q --no-deps --force-reinstall \
  "/root/$(basename "$wheel")" >>"$out/minipbx.log" 2>&1 || die "installing $wheel in the root failed"
rm -f "$root/root/$(basename "$wheel")"
in_root "$dev_prefix/venv/bin/python" -c 'import pjsua2 as pj; ep = pj.Endpoint(); print("pjsua2", ep.libVersion().full)' >>"$out/minipbx.log" 2>&1
# Our own C (the line port with its RTP poll thread, the echo canceller's filter), built as
# tools/setup.sh builds it on a PC, by the cross compiler: without them the box would run
# its Python fallbacks. The service finds them through minipbx.service.d/native.conf.
say "native libraries, cross-compiled for aarch64"
rm -rf build/native-aarch64
CC=aarch64-linux-gnu-gcc NATIVE_OUT=build/native-aarch64 bash tools/build_native.sh \
  >>"$out/minipbx.log" 2>&1 || die "native libraries failed (log: $out/minipbx.log)"
for lib in liblineport.so libecho.so; do
  [[ -f build/native-aarch64/$lib ]] || die "build/native-aarch64/$lib was not built (log: $out/minipbx.log)"
done
install -d "$root$dev_prefix/lib"
install -m 0644 build/native-aarch64/liblineport.so build/native-aarch64/libecho.so \
  "$root$dev_prefix/lib/"
# What the build left in the root (the build packages go in the slim stage, after the kernel's
# and the system's packages are in, so apt decides once what the image keeps).
rm -rf "$root/var/tmp/pjsua2" "$root$dev_prefix/src/build" "$root/root/host-ca.crt"
