#!/usr/bin/env bash
# Installs what minipbx needs on a Debian machine, saying what it does; quick when all is there.
# Usage: tools/setup.sh run|test   (run: what the daemon needs; test: also the peers and decoders)
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-test}

# espeak-ng: the daemon speaks its builtin and say: prompts with it (firmware/app/promptcache.py).
run_debs=(python3-venv python3-dev gcc libasound2-dev libsystemd-dev pkg-config opus-tools espeak-ng)
test_debs=(sip-tester baresip-core kamailio kamailio-tls-modules libspandsp2 libspandsp-dev libspeexdsp1 minimodem multimon-ng sox
           socat tshark nodejs npm chromium chromium-driver linphone-cli)

debs=("${run_debs[@]}")
[[ $what == test ]] && debs+=("${test_debs[@]}")

missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# node may come from elsewhere (nvm, the image); only ask apt for it when there is none.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then echo "setup: run as root (or install those packages first)" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: Debian packages present"
fi

if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating the virtual environment .venv"
  python3 -m venv .venv
fi
# What is installed already: the stamps' rules are in tools/setup_stamp.sh.
# shellcheck source=tools/setup_stamp.sh
source tools/setup_stamp.sh
step=$(python_step .venv "$what")
pip_install() {
  if [[ $step == all ]]; then
    .venv/bin/pip install --upgrade pip && .venv/bin/pip install -e . || return
  fi
  if [[ $what == test ]]; then .venv/bin/pip install -r requirements-dev.txt || return; fi
}
if [[ $step == none ]]; then
  echo "setup: Python packages present in .venv"
else
  pip_log=.venv/setup-pip.log
  case $step/$what in
    tools/*) echo "setup: installing the test tools into .venv (requirements-dev.txt)" ;;
    */test) echo "setup: installing minipbx, its Python packages and the test tools into .venv" ;;
    *) echo "setup: installing minipbx and its Python packages into .venv" ;;
  esac
  # pip and setuptools talk a lot (the editable-install banner): keep it for a failure.
  if ! pip_install >"$pip_log" 2>&1; then
    tail -n 40 "$pip_log" >&2
    echo "setup: pip failed (above); its whole output is in $pip_log" >&2
    exit 1
  fi
  stamp_write .venv "$what"
fi
wasm=tests/coproc/mpy_wasm
if [[ $what == test && ( ! -d $wasm/node_modules || $wasm/package-lock.json -nt $wasm/node_modules ) ]]; then
  echo "setup: installing MicroPython (WebAssembly) and pyright for the co-processor program"
  npm ci --prefix "$wasm" --no-audit --no-fund --silent
  touch "$wasm/node_modules"
fi
# The native line port (issue 13): C, against the running pjproject's headers; without it the
# box falls back to the Python line port and says so in `minipbx status`.
bash tools/build_native.sh || echo "setup: the native line port did not build (above); the box will use the Python line port" >&2
