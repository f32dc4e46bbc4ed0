#!/usr/bin/env bash
# make pjsua2: pjproject from a pinned, checksum-verified release, built with our
# config_site.h against the system OpenSSL 3, then its SWIG Python binding as a wheel.
#
# Usage: tools/pjsua2/build.sh [--install VENV]
#   Builds build/pjsua2/dist/pjsua2-<version>-<python tag>.whl (skipped when the wheel is
#   there and neither this script nor config_site.h changed), then with --install puts it
#   into VENV (tools/pjsua2/use.sh source VENV).
# Environment:
#   PJPROJECT_TARBALL=FILE  the release tarball to use (no download)
#   PJPROJECT_CACHE=DIRS    colon-separated folders searched for the tarball; a download
#                           lands in the first (default ~/.cache/minipbx:../shared/vendor,
#                           and in a local clone also the origin repository's ../shared/vendor)
#   PYTHON=EXE              the Python the binding is built for (default .venv/bin/python)
#   JOBS=N                  parallel compile jobs (default 2); the build runs under nice 10
#   PJSUA2_BUILD=DIR        the build folder (default build/pjsua2)
#   CROSS=aarch64-linux-gnu SYSROOT=DIR [PYVER=3.11]
#                           cross-compile for another machine whose root tree (with its
#                           libssl-dev, libopus-dev, libbcg729-dev, python3-dev) is DIR; the
#                           wheel is then packed here (make image uses this: qemu-user is far
#                           too slow for the compiler)
set -euo pipefail
cd "$(dirname "$0")/../.."
here=$PWD

PJ_VERSION=2.15.1
# The release tarball known here (the project's download cache holds it).
PJ_TARBALL_SHA256=b5a4c4f73fd10cd92ccf6d43c1889015b1a05839c2436f1e41f39ad42c69dba9
# The same release as a tree (sha256 of the sorted `sha256sum` list of its files), so a
# tarball packed another way (GitHub's tag archive, .tar.gz) is checked by its contents.
PJ_TREE_SHA256=0205829bf22426c38267af97039c68822c98e09e7b0676747d57780c6a02167d
PJ_URL=https://github.com/pjsip/pjproject/archive/refs/tags/$PJ_VERSION.tar.gz

build=${PJSUA2_BUILD:-build/pjsua2}
py=${PYTHON:-.venv/bin/python}
jobs=${JOBS:-2}
install_venv=""
if [[ ${1:-} == --install ]]; then install_venv=${2:?"--install needs a venv folder"}; fi

say() { echo "pjsua2: $*"; }
die() { echo "pjsua2: $*" >&2; exit 1; }

[[ -x $py ]] || die "no Python at $py (run tools/setup.sh first, or set PYTHON=)"
[[ $py == /* ]] || py=$here/$py  # absolute, not resolved: a venv's python is a symlink
# What the build needs from Debian (bcg729 is optional: G.729 where the distribution has it).
need_debs() {
  local missing=() p
  for p in swig build-essential pkg-config libssl-dev libopus-dev libbcg729-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  [[ $(id -u) -eq 0 ]] || die "install these Debian packages first: ${missing[*]}"
  say "installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; } ||
    die "could not install ${missing[*]}"
}

# The binding cross-compiled, packed as a wheel by hand (pip cannot build for another
# machine): what setup.py would link, from helper.mak, against the target's Python headers.
cross_wheel() {
  local dist=$1 ext="_pjsua2.cpython-${pyver/./}-$cross.so" stage libs
  # shellcheck disable=SC2046  # helper.mak prints one flag per line
  libs=$(make --no-print-directory -f helper.mak libs | sed 's/^/-l/')
  stage=$(mktemp -d)
  # shellcheck disable=SC2046
  nice -n 10 "$cross-g++" --sysroot="$sysroot" -shared -s -O2 -fPIC \
    $(make --no-print-directory -f helper.mak cflags) \
    -I"$sysroot/usr/include/python$pyver" -I"$sysroot/usr/include/$cross/python$pyver" \
    pjsua2_wrap.cpp -o "$stage/$ext" \
    $(make --no-print-directory -f helper.mak ldflags) $libs
  cp pjsua2.py "$stage/"
  local info=$stage/pjsua2-$PJ_VERSION.dist-info
  mkdir "$info"
  printf 'Metadata-Version: 2.1\nName: pjsua2\nVersion: %s\nSummary: pjsua2 built by minipbx (tools/pjsua2)\n' \
    "$PJ_VERSION" >"$info/METADATA"
  printf 'Wheel-Version: 1.0\nGenerator: minipbx tools/pjsua2/build.sh\nRoot-Is-Purelib: false\nTag: %s\n' \
    "${pytag%%-*}-${pytag%%-*}-${pytag#*-}" >"$info/WHEEL"
  printf 'pjsua2\n_pjsua2\n' >"$info/top_level.txt"
  (cd "$stage" && for f in pjsua2.py "$ext" pjsua2-"$PJ_VERSION".dist-info/*; do
     printf '%s,sha256=%s,%s\n' "$f" \
       "$(openssl dgst -sha256 -binary "$f" | base64 | tr '+/' '-_' | tr -d '=')" "$(stat -c %s "$f")"
   done; echo "pjsua2-$PJ_VERSION.dist-info/RECORD,,") >"$info/RECORD"
  (cd "$stage" && rm -f "$dist/pjsua2-$PJ_VERSION-${pytag%%-*}-${pytag%%-*}-${pytag#*-}.whl" &&
   python3 -m zipfile -c "$dist/pjsua2-$PJ_VERSION-${pytag%%-*}-${pytag%%-*}-${pytag#*-}.whl" \
     pjsua2.py "$ext" "pjsua2-$PJ_VERSION.dist-info")
  rm -rf "$stage"
}

# What decides the build: the release, our configuration and the configure options.
configure_opts=(--disable-video --disable-sound --disable-v4l2 --disable-ffmpeg --disable-sdl
                --disable-openh264 --disable-libyuv --disable-libwebrtc --disable-upnp
                --disable-silk --disable-opencore-amr)
recipe=$( (echo "$PJ_VERSION ${configure_opts[*]}"; cat tools/pjsua2/config_site.h) | sha256sum | cut -c1-16)
cross=${CROSS:-}
if [[ -n $cross ]]; then
  sysroot=${SYSROOT:?"CROSS needs SYSROOT, the target's root tree"}
  sysroot=$(cd "$sysroot" && pwd)
  pyver=${PYVER:-3.11}
  pytag="cp${pyver/./}-linux_${cross%%-*}"
  command -v "$cross-gcc" >/dev/null || die "$cross-gcc is missing (Debian: g++-${cross//_/-})"
  export PKG_CONFIG_SYSROOT_DIR=$sysroot
  export PKG_CONFIG_LIBDIR=$sysroot/usr/lib/$cross/pkgconfig:$sysroot/usr/share/pkgconfig
  # aconfigure detects neither OpenSSL nor bcg729 when cross-compiling unless told where.
  configure_opts+=(--host="$cross" --with-ssl="$sysroot/usr" --with-bcg729="$sysroot/usr"
                   CC="$cross-gcc" CXX="$cross-g++" AR="$cross-ar"
                   RANLIB="$cross-ranlib" LDFLAGS="--sysroot=$sysroot")
  cflags="--sysroot=$sysroot -O2 -fPIC"
else
  pytag=$("$py" -c 'import sys, sysconfig; print(f"cp{sys.version_info[0]}{sys.version_info[1]}-" + sysconfig.get_platform().replace("-", "_").replace(".", "_"))')
  cflags="-O2 -fPIC"
fi
stamp=$build/stamp-$pytag
wheel_glob="$build/dist/pjsua2-$PJ_VERSION-*.whl"
if [[ -f $stamp && $(cat "$stamp") == "$recipe" ]] && compgen -G "$wheel_glob" >/dev/null; then
  say "the source build is up to date ($(basename $wheel_glob))"
else
  if [[ -z $cross ]] && command -v dpkg-query >/dev/null; then need_debs; fi
  for tool in swig gcc g++ make pkg-config; do
    command -v "$tool" >/dev/null || die "$tool is missing (Debian: apt-get install swig build-essential pkg-config)"
  done
  pkg-config --exists 'openssl >= 3' || die "OpenSSL 3 headers are missing (Debian: libssl-dev)"
  pkg-config --exists opus || die "Opus headers are missing (Debian: libopus-dev)"
  # 1. The tarball: given, cached, or downloaded into the cache.
  default_cache=$HOME/.cache/minipbx:$here/../shared/vendor
  # A clone elsewhere (/tmp/x cloned from /work/main) also looks beside the repository it
  # was cloned from, whose ../shared/vendor holds the tarball on machines without internet.
  origin=$(git config --get remote.origin.url 2>/dev/null || true)
  origin=${origin#file://}
  if [[ -n $origin && -d $origin ]]; then default_cache+=:$(cd "$origin" && pwd)/../shared/vendor; fi
  IFS=: read -r -a caches <<<"${PJPROJECT_CACHE:-$default_cache}"
  tarball=${PJPROJECT_TARBALL:-}
  if [[ -z $tarball ]]; then
    for dir in "${caches[@]}"; do
      for name in "pjproject-$PJ_VERSION.tar.xz" "pjproject-$PJ_VERSION.tar.gz"; do
        if [[ -z $tarball && -f $dir/$name ]]; then tarball=$dir/$name; fi
      done
    done
  fi
  if [[ -z $tarball ]]; then
    mkdir -p "${caches[0]}"
    tarball=${caches[0]}/pjproject-$PJ_VERSION.tar.gz
    say "downloading $PJ_URL into ${caches[0]}"
    curl -fL --retry 3 -o "$tarball.part" "$PJ_URL" ||
      die "download failed; set PJPROJECT_TARBALL=FILE or put pjproject-$PJ_VERSION.tar.xz in ${caches[0]}"
    mv "$tarball.part" "$tarball"
  fi
  [[ -f $tarball ]] || die "PJPROJECT_TARBALL=$tarball: no such file"

  # 2. Unpack and verify: the tarball's digest, or else the tree's.
  rm -rf "$build/src" && mkdir -p "$build/src"
  say "unpacking $tarball"
  tar -xf "$tarball" -C "$build/src"
  src=$build/src/pjproject-$PJ_VERSION
  [[ -d $src ]] || die "$tarball holds no pjproject-$PJ_VERSION/ folder"
  sum=$(sha256sum "$tarball" | cut -d' ' -f1)
  if [[ $sum == "$PJ_TARBALL_SHA256" ]]; then
    say "checksum of $(basename "$tarball") verified (sha256 $sum)"
  else
    tree=$(cd "$build/src" && find "pjproject-$PJ_VERSION" -type f -print0 | LC_ALL=C sort -z |
           xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
    [[ $tree == "$PJ_TREE_SHA256" ]] ||
      die "$tarball is not pjproject $PJ_VERSION as pinned (tarball sha256 $sum, tree $tree)"
    say "tree of $(basename "$tarball") verified (sha256 of its files $tree)"
  fi

  # 3. pjproject's libraries (not its test programs), static with position-independent code,
#    linked into the module, which exports their C API (firmware/sip/screen.py uses it).
  cp tools/pjsua2/config_site.h "$src/pjlib/include/pj/config_site.h"
  start=$(date +%s)
  say "configuring (log: $build/configure.log)"
  (cd "$src" && ./configure CFLAGS="$cflags" CXXFLAGS="$cflags" "${configure_opts[@]}") >"$build/configure.log" 2>&1 ||
    { tail -n 30 "$build/configure.log" >&2; die "configure failed (whole log: $build/configure.log)"; }
  auto=$src/pjmedia/include/pjmedia-codec/config_auto.h
  grep -q "OpenSSL library found" "$build/configure.log" ||
    die "configure did not find OpenSSL 3 (see $build/configure.log)"
  grep -q "OPUS library found" "$build/configure.log" || die "configure did not find Opus"
  if grep -q "define PJMEDIA_HAS_BCG729 1" "$auto"; then g729=yes; else g729=no; fi
  say "compiling pjproject with $jobs jobs under nice 10 (G.729: $g729; log: $build/make.log)"
  (cd "$src" && nice -n 10 make dep && nice -n 10 make -j"$jobs" lib) >"$build/make.log" 2>&1 ||
    { tail -n 30 "$build/make.log" >&2; die "pjproject build failed (whole log: $build/make.log)"; }

  # 4. The SWIG binding, as a wheel for $py (-s: no symbol table; the dynamic symbols, pjsip's
#    C API included, stay exported).
  say "building the Python binding for $("$py" -V) (log: $build/swig.log)"
  rm -rf "$build/dist" && mkdir -p "$build/dist"
  pydir=$src/pjsip-apps/src/swig/python
  abs_dist=$(cd "$build/dist" && pwd)
  if [[ -z $cross ]]; then
    (cd "$pydir" && nice -n 10 make pjsua2_wrap.cpp &&
     LDFLAGS="-s" nice -n 10 "$py" -m pip wheel --no-deps -w "$abs_dist" .) \
        >"$build/swig.log" 2>&1 ||
      { tail -n 30 "$build/swig.log" >&2; die "the Python binding failed (whole log: $build/swig.log)"; }
  else
    (cd "$pydir" && nice -n 10 make pjsua2_wrap.cpp && cross_wheel "$abs_dist") >"$build/swig.log" 2>&1 ||
      { tail -n 30 "$build/swig.log" >&2; die "the Python binding failed (whole log: $build/swig.log)"; }
  fi
  compgen -G "$wheel_glob" >/dev/null || die "no wheel in $build/dist (see $build/swig.log)"
  echo "$recipe" >"$stamp"
  # The wheel is what counts; the source tree (thousands of files) would only slow every
  # `pip install -e .`, which walks the checkout.
  rm -rf "$build/src"
  say "built $(basename $wheel_glob) in $(( $(date +%s) - start )) s"
fi

if [[ -n $install_venv ]]; then
  tools/pjsua2/use.sh source "$install_venv"
fi
