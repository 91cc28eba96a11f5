"""Results of the external validators (checkov, network-config-analyzer, promtool, actionlint), kept by their input.

A validator's verdict is a function of its input files, its command line and the validator itself; most of
its cost is its start-up and parse, paid again for input it has already judged (a warm ``make test`` scans
the same stacks as the last one; ``make synth`` twice scans the same plan). So each run is stored under a key
made of all three: every input file's path and bytes, the arguments, and the validator's installed files as
its ``RECORD`` lists them (with their hashes, so a reinstalled or upgraded validator misses). Any change to
any of them is a miss, and the validator runs. What is stored is the validator's raw output; skips, reasons
and the failing of a check are applied to it afterwards, as to a fresh run.

``SILHOUETTE_VALIDATOR_CACHE=off`` turns it off; CI runs on a clean clone, so every validator runs there.
The store is ``.validator-cache/`` in the repository (ignored by git, removed by ``make clean``), pruned to the
newest ``MAX_ENTRIES`` entries.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CACHE_ENV_VAR = "SILHOUETTE_VALIDATOR_CACHE"
DIRECTORY_NAME = ".validator-cache"
MAX_ENTRIES = 400
FORMAT = "2"  # of the stored entries: a new format never reads an old entry
ROOT_PLACEHOLDER = "\x00ROOT\x00"  # stands for the scanned directory, which is a new temporary one each run


@cache
def fingerprint(executable: Path, distribution: str | None) -> str | None:
    """The installed validator: the hash of its distribution's ``RECORD`` (every file with its hash) in the
    virtual environment ``executable`` belongs to; None (nothing is cached) when it cannot be found. A
    validator that is not a Python distribution (``distribution`` None: a system package's binary) is known by
    its resolved path, size and modification time, which a reinstall or an upgrade changes."""
    if distribution is None:
        resolved = Path(executable).resolve()
        status = resolved.stat()
        return f"{resolved}:{status.st_size}:{status.st_mtime_ns}"
    venv = executable.parent.parent
    normalised = distribution.replace("-", "_").lower()
    for record in sorted(venv.glob("lib/python*/site-packages/*.dist-info/RECORD")):
        name = record.parent.name.split("-", 1)[0].lower()  # {name}-{version}.dist-info, name normalised
        if name == normalised:
            return f"{record.parent.name}:{hashlib.sha256(record.read_bytes()).hexdigest()}"
    return None


def key(tool: str, version: str, arguments: Iterable[str], root: Path, files: Iterable[Path]) -> str:
    """The key of one run: the tool and its fingerprint, its arguments, and each input file's path under ``root``
    and bytes (in arguments and files, ``root`` itself is written as a placeholder)."""
    digest = hashlib.sha256()
    for part in (FORMAT, tool, version, *(argument.replace(str(root), ROOT_PLACEHOLDER) for argument in arguments)):
        digest.update(part.encode() + b"\x00")
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode() + b"\x00")
        digest.update(hashlib.sha256(path.read_bytes().replace(bytes(root), ROOT_PLACEHOLDER.encode())).digest())
    return f"{tool}-{digest.hexdigest()}"


class ValidatorCache:
    """The store: ``get`` and ``put`` text outputs by name under a key; ``root`` paths in them are stored as a
    placeholder and given back as the caller's ``root``."""

    def __init__(self, directory: Path, *, enabled: bool = True) -> None:
        self.directory = directory
        self.enabled = enabled

    @classmethod
    def for_project(cls, project_root: Path) -> ValidatorCache:
        return cls(project_root / DIRECTORY_NAME, enabled=os.environ.get(CACHE_ENV_VAR, "on").lower() != "off")

    def holds(self, tool: str) -> bool:
        """Whether the store has any entry of ``tool`` (the next run of it may well be answered from here)."""
        return self.enabled and any(self.directory.glob(f"{tool}-*"))

    def get(self, entry: str, root: Path) -> dict[str, str] | None:
        if not self.enabled:
            return None
        path = self.directory / f"{entry}.json.gz"
        try:
            stored: dict[str, str] = json.loads(gzip.decompress(path.read_bytes()))
        except (OSError, ValueError):  # absent, or a damaged entry: run the validator
            return None
        os.utime(path)  # recently used: kept by the pruning
        return {name: text.replace(ROOT_PLACEHOLDER, str(root)) for name, text in stored.items()}

    def put(self, entry: str, root: Path, outputs: Mapping[str, str]) -> None:
        if not self.enabled:
            return
        prefixes = sorted({str(root.resolve()), str(root)}, key=len, reverse=True)
        stored = {}
        for name, text in outputs.items():
            for prefix in prefixes:
                text = text.replace(prefix, ROOT_PLACEHOLDER)
            stored[name] = text
        self.directory.mkdir(exist_ok=True)
        # Written whole and then renamed: two test workers storing the same entry never leave half a file.
        handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(handle, "wb") as file:
            file.write(gzip.compress(json.dumps(stored).encode(), compresslevel=3))
        Path(temporary).replace(self.directory / f"{entry}.json.gz")
        self._prune()

    def _prune(self) -> None:
        entries = sorted(self.directory.glob("*.json.gz"), key=_modified, reverse=True)
        for stale in entries[MAX_ENTRIES:]:
            stale.unlink(missing_ok=True)


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # pruned meanwhile by another process
        return 0.0


@dataclass(frozen=True)
class Completed:
    """A validator's run: its exit code and output, and whether they came from the store."""

    returncode: int
    stdout: str
    stderr: str
    cached: bool


def run_validator(
    store: ValidatorCache,
    executable: Path | str,
    distribution: str | None,
    arguments: list[str],
    root: Path,
    *,
    inputs: Iterable[Path],
    results: Path | None = None,
    stored_codes: Collection[int] = (0,),
    tool_files: Iterable[Path] = (),
) -> Completed:
    """``executable arguments`` in ``root`` on ``inputs`` (files under ``root``), or what an earlier run on the
    same inputs printed; the files it wrote in ``results`` (a directory under ``root``) are stored and written
    back too. Only an exit code in ``stored_codes`` is stored: a validator that crashed runs again.

    ``tool_files`` are the validator's own files beyond ``executable``'s distribution (a script the executable
    runs, the lock file that pins the package it loads): their bytes are part of its fingerprint."""
    command = [str(executable), *arguments]
    version = fingerprint(Path(executable), distribution)
    if version is not None:
        for path in tool_files:
            version += f":{hashlib.sha256(path.read_bytes()).hexdigest()}"
    entry = key(Path(executable).name, version, command, root, inputs) if version else ""
    stored = store.get(entry, root) if entry else None
    if stored is not None:
        for name, text in stored.items():
            if name.startswith("file:"):
                (root / name.removeprefix("file:")).write_text(text)
        return Completed(int(stored["returncode"]), stored["stdout"], stored["stderr"], cached=True)
    completed = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=300, check=False)
    if entry and completed.returncode in stored_codes:
        written = sorted(results.rglob("*")) if results is not None else []
        files = {f"file:{path.relative_to(root).as_posix()}": path.read_text() for path in written if path.is_file()}
        outputs = {"returncode": str(completed.returncode), "stdout": completed.stdout, "stderr": completed.stderr}
        store.put(entry, root, {**outputs, **files})
    return Completed(completed.returncode, completed.stdout, completed.stderr, cached=False)
