// Runs the line co-processor's pure modules (board/mcu) under real MicroPython: the
// WebAssembly port of @micropython/micropython-webassembly-pyscript, in Node 20.
//
// It copies board/mcu/{proto,lines,link,core}.py, tests/coproc/mcu_checks.py and the golden
// vectors (board/vectors/*.json) into MicroPython's in-memory filesystem, adds a stand-in
// `machine` module (this port has none; the pure modules must not need it, and the stand-in
// fails loudly if they try), and runs mcu_checks.run(), which prints one PASS/FAIL line per
// check and a last "SUMMARY passed failed". tests/coproc/test_coproc_mpy_wasm.py reads that.
//
// Usage: node tests/coproc/mpy_wasm/run.mjs [repo root]

import { readFileSync, readdirSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(process.argv[2] ?? join(here, "..", "..", ".."));
const PURE = ["proto", "lines", "link", "core"];

const FAKE_MACHINE = `
# A stand-in for MicroPython's machine module: the pure modules must never touch hardware.
class _Absent:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("machine is not available to the pure co-processor modules")

Pin = UART = WDT = PWM = Timer = _Absent
PWRON_RESET = 1
WDT_RESET = 3

def reset_cause():
    return PWRON_RESET
`;

let out = "";
const mp = await loadMicroPython({
  heapsize: 4 * 1024 * 1024,
  stdout: (line) => { out += line + "\n"; process.stdout.write(line + "\n"); },
  stderr: (line) => { process.stderr.write(line + "\n"); },
});
mp.FS.mkdir("/lib");
mp.FS.mkdir("/vectors");
for (const name of PURE) {
  mp.FS.writeFile(`/lib/${name}.py`, readFileSync(join(root, "board", "mcu", `${name}.py`)));
}
mp.FS.writeFile("/lib/machine.py", FAKE_MACHINE);
mp.FS.writeFile("/lib/mcu_checks.py", readFileSync(join(root, "tests", "coproc", "mcu_checks.py")));
for (const file of readdirSync(join(root, "board", "vectors"))) {
  if (file.endsWith(".json")) {
    mp.FS.writeFile(`/vectors/${file}`, readFileSync(join(root, "board", "vectors", file)));
  }
}

try {
  mp.runPython(`
import sys, json
print("IMPL", sys.implementation.name, ".".join(str(n) for n in sys.implementation.version[:3]))
import proto, lines, link, core, mcu_checks

class Mods:
    pass

mods = Mods()
mods.proto, mods.lines, mods.link, mods.core = proto, lines, link, core

def read_json(name):
    with open("/vectors/" + name) as f:
        return json.load(f)

mcu_checks.run(mods, read_json, print)
`);
} catch (err) {
  process.stderr.write(`MicroPython raised: ${err}\n`);
  process.exit(2);
}
process.exit(/SUMMARY \d+ 0\n/.test(out) ? 0 : 1);
