"""Fetch npm packages once into dldbg's cache: binaryen (for `wasm-opt --translate-to-exnref`),
Pyodide's and php-wasm's main modules.

`npm_package("pyodide@314.0.7")` runs `npm pack` (the npm registry, through npm's own client
and its configuration) into `npm_dir()`, checks the tarball's SHA-256 when one is known, unpacks
it (all of it, or only the members asked for) and returns the unpacked `package/` folder.  Later
calls find the folder and do not touch the network.  Nothing here runs code from the package.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from .errors import DldbgError

#: SHA-256 of npm tarballs dldbg and its tests use (checked after `npm pack`)
KNOWN_SHA256 = {
    "binaryen@132.0.0": "6543555fb29bb92548f325c7dc18e9ab7dbb1215edda25993d1e3f71d85b8618",
    "pyodide@314.0.7": "66b7949e5a0cba2250b586d7e368bf12fb482800748d182c4618254b685ffaa0",
    "pyodide@0.29.3": "924f3167d6bf5e553bda392615eaa82edd82a9cffc32a1cc49853a926b148c5c",
    "@php-wasm/node-8-3@3.1.56": "51d513b99e74a4a1e4b080c2b16947bbdb4b59092f53a7c0fa6915a95c6477d9",
}

_SPEC = re.compile(r"^(@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*@[0-9][\w.+-]*$")
_STAMP = ".dldbg-unpacked"


class FetchError(DldbgError):
    """An npm package could not be fetched or unpacked (no npm, `npm pack` failed, a digest
    mismatch, a member missing from the tarball)."""


def default_cache_dir() -> str:
    """dldbg's cache folder: `$DLDBG_CACHE_DIR`, else `$XDG_CACHE_HOME/dldbg`, else `~/.cache/dldbg`."""
    if os.environ.get("DLDBG_CACHE_DIR"):
        return os.environ["DLDBG_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "dldbg")


def npm_dir() -> Path:
    """Where npm packages are kept: `$DLDBG_NPM_DIR`, else `<cache folder>/npm`."""
    return Path(os.environ.get("DLDBG_NPM_DIR") or os.path.join(default_cache_dir(), "npm"))


def package_folder(spec: str) -> Path:
    """The folder `npm_package(spec)` unpacks into (`@scope/name@1.2` -> `scope-name-1.2`)."""
    return npm_dir() / spec.lstrip("@").replace("/", "-").replace("@", "-")


def is_fetched(spec: str, members: tuple[str, ...] | None = None) -> bool:
    """Whether `npm_package(spec, members=members)` would find everything unpacked already."""
    folder = package_folder(spec)
    try:
        stamp = (folder / _STAMP).read_text()
    except OSError:
        return False
    if "members: all" in stamp:
        return True
    return members is not None and all((folder / m).is_file() for m in members)


def npm_package(spec: str, *, sha256: str | None = None, members: tuple[str, ...] | None = None,
                log=None) -> Path:
    """The unpacked `package/` folder of npm package `spec` (`name@version`, exact version).

    `sha256` defaults to `KNOWN_SHA256[spec]` (no check for other packages); `members` limits
    unpacking to these tarball paths (e.g. `package/pyodide.asm.wasm`; a later call that asks
    for more fetches again); `log(message)` is told before a download.  The tarball is deleted
    after unpacking.  Raises FetchError.
    """
    if not _SPEC.match(spec):
        raise FetchError(f"{spec}: not an exact npm package spec (name@version)")
    folder = package_folder(spec)
    if is_fetched(spec, members):
        return folder / "package"
    if shutil.which("npm") is None:
        raise FetchError(f"npm is needed to fetch {spec} once into {npm_dir()} (Debian: apt-get install npm)")
    expected = sha256 or KNOWN_SHA256.get(spec)
    folder.parent.mkdir(parents=True, exist_ok=True)
    if log is not None:
        log(f"fetching {spec} with npm pack into {folder}")
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".fetch-") as tmp:
        try:
            proc = subprocess.run(["npm", "pack", "--silent", spec], cwd=tmp, capture_output=True, text=True,
                                  timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise FetchError(f"npm pack {spec} failed: {exc}") from None
        tarballs = list(Path(tmp).glob("*.tgz"))
        if proc.returncode or len(tarballs) != 1:
            output = " ".join((proc.stdout + proc.stderr).split())[-400:]
            raise FetchError(f"npm pack {spec} failed (status {proc.returncode}): {output}")
        digest = hashlib.sha256(tarballs[0].read_bytes()).hexdigest()
        if expected and digest != expected:
            raise FetchError(f"npm pack {spec}: SHA-256 {digest}, expected {expected}")
        unpacked = Path(tmp) / "unpacked"
        _unpack(tarballs[0], unpacked, members, spec)
        (unpacked / _STAMP).write_text(f"{spec} sha256 {digest}\nmembers: "
                                       + ("all" if members is None else " ".join(members)) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(unpacked, folder)
    return folder / "package"


def _unpack(tarball: Path, dest: Path, members: tuple[str, ...] | None, spec: str) -> None:
    dest.mkdir()
    with tarfile.open(tarball) as tar:
        wanted = [m for m in tar.getmembers() if members is None or m.name in members]
        if members is not None:
            missing = set(members) - {m.name for m in wanted}
            if missing:
                raise FetchError(f"{spec}: the tarball has no {', '.join(sorted(missing))}")
        for member in wanted:
            parts = Path(member.name).parts
            if member.name.startswith("/") or ".." in parts or not parts or parts[0] != "package":
                raise FetchError(f"{spec}: unexpected tarball member {member.name}")
            if not (member.isfile() or member.isdir()):
                continue
            tar.extract(member, dest, filter="data")
