# The two commands: `make run` and `make test`. Each installs what it needs first.
PY := .venv/bin/python
STATE ?= .state

.PHONY: run test lint bench bench-soak setup-run setup-test unit clean pjsua2 image image-test image-boot

# Which pjsua2 the venv runs (tools/pjsua2/use.sh): the PyPI wheel (x86_64 only; the default
# there, since it needs no build) or the source build of `make pjsua2` (PJSUA2=source make
# test|run; the only one on other machines).
PJSUA2 ?= $(if $(filter x86_64,$(shell uname -m)),wheel,source)
export PJSUA2

setup-run:
	@bash tools/setup.sh run
	@bash tools/pjsua2/use.sh $(PJSUA2)

setup-test:
	@bash tools/setup.sh test
	@bash tools/pjsua2/use.sh $(PJSUA2)

# pjproject 2.15.1 from its pinned tarball with tools/pjsua2/config_site.h (64 calls, OpenSSL 3,
# Opus, G.729), its Python binding as a wheel in build/pjsua2/dist, installed into .venv.
pjsua2:
	@bash tools/setup.sh run
	@bash tools/pjsua2/use.sh source

# The Raspberry Pi image (rootfs/README.md): as root, debootstrap + qemu-user-static (the host
# packages are installed by tools/image/host.sh; the venv signs the update file).
BOARD ?= ag1171-coproc-2p
image: setup-run
	@BOARD=$(BOARD) nice -n 19 bash tools/image/build.sh

# Runs the daemon in the image's root under qemu-user, and boots the card image under
# qemu-system-aarch64 to minipbx READY (tests/image/).
image-test: setup-test
	@bash tools/image/host.sh
	@MINIPBX_IMAGE_TEST=1 .venv/bin/pytest -q tests/image

# Only the boot: the card image under qemu-system-aarch64 (virt board, emulated) until
# systemd reports minipbx READY, with the time it took (tools/image/qemu_boot.sh).
image-boot:
	@bash tools/image/host.sh
	@bash tools/image/qemu_boot.sh

run: setup-run
	@echo "make: starting minipbx on the simulated board (state in $(STATE)/, Ctrl-C stops it)"
	@.venv/bin/minipbx --state-dir $(STATE) run --board sim

lint: setup-test
	@echo "make: ruff"
	@.venv/bin/ruff check firmware drivers tests tools
	@echo "make: mypy --strict"
	@.venv/bin/mypy --strict firmware drivers
	@echo "make: import rules"
	@.venv/bin/lint-imports
	@echo "make: pyright on the co-processor program (MicroPython stubs)"
	@tests/coproc/mpy_wasm/node_modules/.bin/pyright -p board/mcu

# The e2e tests mostly wait on real time (rings, digits, timers), so they run in parallel
# processes, a test file per worker; the few that measure load (audio gaps, memory,
# throttle waits) run one at a time afterwards. Each part ends with its slowest tests
# (--durations), to keep the suite's time in view. Eight workers on two cores: the tests
# mostly wait, so the whole run used about 6.5 core-minutes of 26 with four workers; on
# 2026-12-07 the parallel part took 8 min 8 s with 4 and 5 min 38 s with 8 (load average
# at most 4.7), and the same 2,358 passed.
PARALLEL ?= 8

test: lint
	@echo "make: pytest, $(PARALLEL) workers"
	@.venv/bin/pytest -q -n $(PARALLEL) --dist loadfile -m "not serial" --durations=25
	@echo "make: pytest, the load-sensitive tests one at a time"
	@.venv/bin/pytest -q -m serial --durations=10

unit: setup-test
	@.venv/bin/pytest -q -m "not slow"

bench: setup-test
	@$(PY) tools/bench.py

# The full soak (issue 12): 2,000 calls in mixed patterns, then the leak checks' figures
# (about eight minutes here; `make test` runs a 250-call soak, tests/e2e/test_soak.py).
bench-soak: setup-test
	@$(PY) tools/bench_soak.py --calls 2000 --json bench-out/soak.json

clean:
	rm -rf .mypy_cache .ruff_cache .pytest_cache $(STATE)
