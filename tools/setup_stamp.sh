# Which Python installs .venv still needs; sourced by tools/setup.sh (and by its test).
#
# Rules:
# - Each mode installs from its inputs: run from pyproject.toml (minipbx and its runtime
#   packages), test from pyproject.toml and requirements-dev.txt (the same, plus the tools).
# - After a successful install, the mode's stamp (.venv/.minipbx-<mode>) records the
#   sha256 of each input as it was installed. Contents, not times: a changed file always
#   counts, a file merely touched (a checkout, an editor) never does.
# - An input is installed when any stamp records its current digest: the test stamp also
#   covers run, so `make run` after `make test` installs nothing; `make test` after
#   `make run` installs only the tools.
# - A stamp without digests (written by the setup before these rules) covers nothing.

# stamp_inputs MODE: the files MODE installs from.
stamp_inputs() {
  case $1 in
    run) echo pyproject.toml ;;
    test) echo pyproject.toml requirements-dev.txt ;;
    *) echo "setup: unknown mode '$1'; use run or test" >&2; return 2 ;;
  esac
}

# stamp_covers VENV FILE: some stamp in VENV records FILE's current digest.
stamp_covers() {
  local line
  line=$(sha256sum "$2") || return 2
  grep -qxF "$line" "$1"/.minipbx-run "$1"/.minipbx-test 2>/dev/null
}

# python_step VENV MODE: prints what MODE still needs: none, tools (requirements-dev.txt
# only) or all (minipbx itself, and for test the tools too).
python_step() {
  local inputs
  inputs=$(stamp_inputs "$2") || return
  if ! stamp_covers "$1" pyproject.toml; then
    echo all
  elif [[ $inputs == *requirements-dev.txt* ]] && ! stamp_covers "$1" requirements-dev.txt; then
    echo tools
  else
    echo none
  fi
}

# stamp_write VENV MODE: record MODE's inputs as installed now.
stamp_write() {
  local inputs
  inputs=$(stamp_inputs "$2") || return
  # shellcheck disable=SC2086  # the inputs are plain file names, split on purpose
  sha256sum $inputs >"$1/.minipbx-$2"
}
