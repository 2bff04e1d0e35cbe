// dldbg: Python in Pyodide under node, for `dldbg --node --pyodide` (dldbg docs/node.md).
//
//   node pyodide_driver.mjs CONFIG PYTHON_ARGS...
//
// CONFIG is JSON: {"loader": DIST/pyodide.mjs, "indexURL": FOLDER/, "wheels": [PATH...]}; FOLDER
// holds the instrumented glue and links to the distribution's other files.  The driver loads
// Pyodide (its glue, hooked, from FOLDER), unpacks each wheel into site-packages as Pyodide's
// installer unpacks a wheel (its .so files then load when Python imports them, through the
// glue's dlopen and loader), and runs PYTHON_ARGS as `python` takes them: `-c CODE`, `-m MOD`
// or `SCRIPT` (copied into Pyodide's file system at its own path), each with its arguments.
// Python's output goes to descriptors 1 and 2 unchanged; the exit status is Python's.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [configText, ...pythonArgs] = process.argv.slice(2);
const config = JSON.parse(configText);
const { loadPyodide } = await import(pathToFileURL(config.loader).href);
const py = await loadPyodide({ indexURL: config.indexURL });
py.setStdout({ write: (buf) => fs.writeSync(1, buf) });
py.setStderr({ write: (buf) => fs.writeSync(2, buf) });

py.FS.mkdirTree("/tmp/dldbg-wheels");
const wheels = config.wheels.map((wheel) => {
  const inside = "/tmp/dldbg-wheels/" + path.basename(wheel);
  py.FS.writeFile(inside, new Uint8Array(fs.readFileSync(wheel)));
  return inside;
});
let script = null;
if (pythonArgs.length && !pythonArgs[0].startsWith("-")) {
  script = path.resolve(pythonArgs[0]);
  py.FS.mkdirTree(path.dirname(script));
  py.FS.writeFile(script, new Uint8Array(fs.readFileSync(script)));
  pythonArgs[0] = script;
}

const run = py.runPython(`
def _dldbg_main(wheels, argv):
    import sys, sysconfig, zipfile, importlib, runpy, types
    site = sysconfig.get_paths()["purelib"]
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(site)
    importlib.invalidate_caches()
    main = types.ModuleType("__main__")
    sys.modules["__main__"] = main
    try:
        if not argv:
            return 0
        if argv[0] == "-c":
            if len(argv) < 2:
                print("Argument expected for the -c option", file=sys.stderr)
                return 2
            sys.argv = ["-c", *argv[2:]]
            sys.path.insert(0, "")
            exec(compile(argv[1], "<string>", "exec"), main.__dict__)
        elif argv[0] == "-m":
            if len(argv) < 2:
                print("Argument expected for the -m option", file=sys.stderr)
                return 2
            sys.argv = ["-m", *argv[2:]]
            sys.path.insert(0, "")
            runpy._run_module_as_main(argv[1], alter_argv=True)
        elif argv[0].startswith("-"):
            print(f"unknown option {argv[0]} (dldbg runs -c CODE, -m MOD or SCRIPT)", file=sys.stderr)
            return 2
        else:
            sys.argv = list(argv)
            sys.path.insert(0, argv[0].rpartition("/")[0] or "/")
            runpy.run_path(argv[0], run_name="__main__")
        return 0
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except BaseException as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__.tb_next if exc.__traceback__ else None)
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
_dldbg_main`);
const status = run(py.toPy(wheels), py.toPy(pythonArgs));
process.exit(Number(status) & 0xff);
