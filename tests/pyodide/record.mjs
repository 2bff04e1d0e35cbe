// Record what real Pyodide does with each shared library of some wheels (run by record.py).
//
//   node tests/pyodide/record.mjs PYODIDE_PACKAGE_DIR WHEEL... > result.json
//
// Per wheel, in a fresh Pyodide: unpack it into site-packages, list the libraries Pyodide's
// installer loads (`pyodide._package_loader.get_dynlibs`, in order) and load them as the installer
// does (`loadDynlib` each, stopping at the first failure).  Then, per `.so` file of the wheel
// (also those the installer skips), in a fresh Pyodide again: `loadDynlib` that one file, and
// record whether it linked or the error text.
import fs from "node:fs";
import path from "node:path";

const [pkgDir, ...wheels] = process.argv.slice(2);
const indexURL = path.resolve(pkgDir) + "/";
const { loadPyodide } = await import(indexURL + "pyodide.mjs");

async function fresh(wheel) {
  const py = await loadPyodide({ indexURL, stdout: () => {}, stderr: () => {} });
  const name = path.basename(wheel);
  py.FS.writeFile("/tmp/" + name, new Uint8Array(fs.readFileSync(wheel)));
  const [site, dynlibs, every] = py.runPython(`
import os, sysconfig, zipfile
from pathlib import Path
from pyodide._package_loader import get_dynlibs
site = sysconfig.get_paths()["purelib"]
with open("/tmp/${name}", "rb") as f:
    libs = get_dynlibs(f, ".whl", Path(site))
zf = zipfile.ZipFile("/tmp/${name}")
zf.extractall(site)
every = [os.path.normpath(os.path.join(site, n)) for n in zf.namelist() if n.endswith(".so")]
[site, [os.path.normpath(p) for p in libs], every]`).toJs();
  return { py, site, dynlibs, every };
}

async function load(py, lib) {
  try {
    await py._api.loadDynlib(lib);
    return { linked: true };
  } catch (e) {
    return { linked: false, error: String(e && e.message ? e.message : e) };
  }
}

const version = JSON.parse(fs.readFileSync(indexURL + "package.json")).version;
const out = { pyodide: version, node: process.version, wheels: {} };
for (const wheel of wheels) {
  const { py, site, dynlibs, every } = await fresh(wheel);
  const rel = (p) => path.relative(path.normalize(site), path.normalize(p));
  const rec = { installer_loads: dynlibs.map(rel), install: { linked: true }, libraries: {} };
  for (const lib of dynlibs) {
    const r = await load(py, lib);
    if (!r.linked) {
      rec.install = { linked: false, failed_at: rel(lib), error: r.error };
      break;
    }
  }
  for (const lib of every) {
    const { py } = await fresh(wheel);
    rec.libraries[rel(lib)] = await load(py, lib);
  }
  out.wheels[path.basename(wheel)] = rec;
}
console.log(JSON.stringify(out, null, 1));
