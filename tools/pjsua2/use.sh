#!/usr/bin/env bash
# Which pjsua2 a venv runs: the PyPI wheel or the source build of `make pjsua2`.
# Usage: tools/pjsua2/use.sh wheel|source [VENV]   (VENV default .venv)
#   wheel   pjsua2-python==2.15.1.post1 from PyPI (x86_64 only: 4 calls, TLS 1.2)
#   source  build/pjsua2/dist/pjsua2-*.whl, built first if needed (tools/pjsua2/build.sh)
# Quick when the venv already runs the one asked for; otherwise it swaps, and says so.
set -euo pipefail
cd "$(dirname "$0")/../.."
want=${1:?"usage: tools/pjsua2/use.sh wheel|source [VENV]"}
venv=${2:-.venv}
py=$venv/bin/python
PYPI_PIN="pjsua2-python==2.15.1.post1"
say() { echo "pjsua2: $*"; }
die() { echo "pjsua2: $*" >&2; exit 1; }
[[ -x $py ]] || die "no venv at $venv (tools/setup.sh makes .venv)"

# The distributions installed now, e.g. "pjsua2-python" or "pjsua2" or both.
installed() {
  "$py" - <<'EOF'
import importlib.metadata as m
names = {(d.metadata["Name"] or "").lower() for d in m.distributions()}
print(" ".join(sorted(n for n in names if n in ("pjsua2", "pjsua2-python"))))
EOF
}
have=$(installed)
stamp=$venv/.minipbx-pjsua2

case $want in
  wheel)
    [[ $(uname -m) == x86_64 ]] || die "PyPI has no $(uname -m) wheel of pjsua2; use PJSUA2=source"
    if [[ $have == pjsua2-python ]]; then exit 0; fi
    say "switching $venv to the PyPI wheel ($PYPI_PIN)"
    if [[ " $have " == *" pjsua2 "* ]]; then "$py" -m pip uninstall -q -y pjsua2; fi
    "$py" -m pip install -q --force-reinstall --no-deps "$PYPI_PIN"
    rm -f "$stamp"
    ;;
  source)
    PYTHON=$py tools/pjsua2/build.sh
    shopt -s nullglob
    wheels=(build/pjsua2/dist/pjsua2-*.whl)
    ((${#wheels[@]} == 1)) || die "expected one wheel in build/pjsua2/dist, found ${#wheels[@]}"
    digest=$(sha256sum "${wheels[0]}" | cut -d' ' -f1)
    if [[ $have == pjsua2 && -f $stamp && $(cat "$stamp") == "$digest" ]]; then exit 0; fi
    say "installing the source build into $venv ($(basename "${wheels[0]}"))"
    if [[ " $have " == *" pjsua2-python "* ]]; then "$py" -m pip uninstall -q -y pjsua2-python; fi
    "$py" -m pip install -q --force-reinstall --no-deps "${wheels[0]}"
    echo "$digest" >"$stamp"
    ;;
  *) die "PJSUA2=$want: use wheel or source" ;;
esac
