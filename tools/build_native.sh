#!/usr/bin/env bash
# Builds the native line port (firmware/sip/native/lineport.c) into build/native/liblineport.so
# with the system compiler, against pjproject's headers of the version the box runs; first
# the echo canceller's C filter (firmware/dsp/native/echo.c) into build/native/libecho.so.
# Headers: $PJPROJECT_INCLUDE (a pjproject source tree, e.g. the one `make pjsua2` builds), else
# extracted from $PJPROJECT_TARBALL or ../shared/vendor/pjproject-2.15.1.tar.xz into build/.
# Quick when the library is newer than its source. Never fatal for setup: without it the box
# uses the Python line port (and `minipbx status` says why). $CC and $NATIVE_OUT (default
# build/native) let the image build cross-compile them for the Pi (tools/image/minipbx.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# The line echo canceller's block filter (firmware/dsp/native/echo.c): plain C and libm, no
# headers needed. Never fatal either: without it the canceller runs its numpy filter and
# says so in the log (firmware/dsp/fdaf_native.py).
echo_src=firmware/dsp/native/echo.c
native_out=${NATIVE_OUT:-build/native}
echo_out=$native_out/libecho.so
if [[ -f $echo_out && $echo_out -nt $echo_src && $echo_out -nt "$0" ]]; then
  echo "setup: echo canceller's C filter built ($echo_out)"
else
  echo "setup: compiling the echo canceller's C filter ($echo_out)"
  mkdir -p "$(dirname "$echo_out")"
  if ${CC:-gcc} -O2 -fPIC -shared -std=c11 -Wall -Wextra -Werror -fvisibility=hidden \
      -o "$echo_out.tmp" "$echo_src" -lm; then
    mv "$echo_out.tmp" "$echo_out"
  else
    rm -f "$echo_out.tmp"
    echo "setup: the echo canceller's C filter did not build (above); it will use numpy" >&2
  fi
fi
src=firmware/sip/native/lineport.c
# pjmedia's RTP ioqueue polled by a thread that sleeps until a packet comes (same library).
poll_src=firmware/sip/native/mediapoll.c
out=$native_out/liblineport.so
version=2.15.1
if [[ -f $out && $out -nt $src && $out -nt $poll_src && $out -nt "$0" ]]; then
  echo "setup: native line port built ($out)"
  exit 0
fi
tree=${PJPROJECT_INCLUDE:-}
if [[ -z $tree ]]; then
  tree=build/pjproject-$version
  if [[ ! -f $tree/pjmedia/include/pjmedia/port.h ]]; then
    # The vendor folder beside the project, or beside the repository this clone came from
    # (a CI clone in a temporary folder).
    tarball=${PJPROJECT_TARBALL:-}
    if [[ -z $tarball ]]; then
      origin=$(git config --get remote.origin.url 2>/dev/null || true)
      for dir in ../shared/vendor ${origin:+"$(dirname "$origin")/shared/vendor"}; do
        if [[ -f $dir/pjproject-$version.tar.xz ]]; then
          tarball=$dir/pjproject-$version.tar.xz
          break
        fi
      done
    fi
    if [[ ! -f $tarball ]]; then
      echo "setup: no pjproject $version headers (set PJPROJECT_TARBALL or PJPROJECT_INCLUDE);" \
           "the box will use the Python line port" >&2
      exit 0
    fi
    echo "setup: extracting pjproject $version headers from $tarball into build/"
    mkdir -p build
    tar -xJf "$tarball" -C build --wildcards "pjproject-$version/pjlib/include/*" \
        "pjproject-$version/pjmedia/include/*"
  fi
fi
# An empty config_site.h: the struct layouts the port uses do not depend on it.
[[ -f $tree/pjlib/include/pj/config_site.h ]] || : >"$tree/pjlib/include/pj/config_site.h"
mkdir -p "$(dirname "$out")"
# pjlib's config.h wants ARM's byte order stated (its configure writes it for a build of
# its own; these headers are not configured): the compiler knows it.
endian=()
defines=$(${CC:-gcc} -dM -E - </dev/null)
if grep -q '__ARM\|__aarch64__' <<<"$defines"; then
  if grep -q '__BYTE_ORDER__ __ORDER_LITTLE_ENDIAN__' <<<"$defines"; then
    endian=(-DPJ_IS_LITTLE_ENDIAN=1 -DPJ_IS_BIG_ENDIAN=0)
  else
    endian=(-DPJ_IS_LITTLE_ENDIAN=0 -DPJ_IS_BIG_ENDIAN=1)
  fi
fi
echo "setup: compiling the native line port ($out)"
${CC:-gcc} -O2 -fPIC -shared -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -fvisibility=hidden \
  -pthread -DPJ_HAS_LIMITS_H=1 "${endian[@]}" -I"$tree/pjlib/include" \
  -I"$tree/pjmedia/include" -o "$out.tmp" "$src" "$poll_src"
mv "$out.tmp" "$out"
