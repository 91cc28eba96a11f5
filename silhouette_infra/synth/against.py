"""``synth --against REF``: a stack synthesised at a git ref and in the working tree, then compared.

The ref is checked out in a temporary ``git worktree`` (removed afterwards, whatever happens) and each
side runs its own commit's ``python -m silhouette_infra synth --out``, in its own directory as the working
directory (``python -m`` puts it first on ``sys.path``, ahead of the editable install): the ref's program,
settings models and stack files, not this tree's. The two synths run at the same time, one per core, and
the comparison reads what they wrote (``readable.py`` gives both the same view, so a ref whose synth wrote
policies as strings compares cleanly).

The working tree must be clean: the report says which commits it compares, and a diff of uncommitted
files would name a commit it does not describe. Being clean, each side is a commit, so what its synth
wrote is kept in ``.review-cache/`` (ignored by git; ``SynthCache``) under a key of the commit's tree, the
stack, the checks and the Python that ran it: a review run again, or against the same base, synthesises
only what changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from silhouette_infra.synth.acknowledgements import ACKNOWLEDGEMENTS_FILE
from silhouette_infra.synth.diff import Review, Side, review
from silhouette_infra.synth.readable import CHECKS_FILE, COST_FILE

PROJECT_ROOT = Path(__file__).resolve().parents[2]
POLL_SECONDS = 0.05
RESOURCES_FILE = "resources.json"
CACHED_FILES = (RESOURCES_FILE, COST_FILE, CHECKS_FILE)
CACHE_DIRECTORY = ".review-cache"  # at the root of the working tree, ignored by git (.gitignore)
CACHE_ENTRIES = 8  # a few MB each
# checks/checkov.py's override, set for the ref's worktree (which has no .venv-checkov); importing that
# module would import the SDKs into this process, which only waits for the two synths.
CHECKOV_ENV_VAR = "SILHOUETTE_CHECKOV"


class ReviewError(Exception):
    """Bad input for a review (unknown ref, dirty tree, a program that fails): one line for the user, which the
    command prefixes with its name (``synth --against: ``, ``bench-compare: ``)."""


@dataclass(frozen=True)
class Compared:
    """A finished review and how long its parts took."""

    review: Review
    seconds: float
    synth_seconds: float
    synthesised: int  # sides synthesised now (0 to 2); the others came from the cache


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)


def resolve(root: Path, ref: str) -> str:
    """The commit ``ref`` names, or ``ReviewError``."""
    if _git(root, "rev-parse", "--git-dir").returncode != 0:
        raise ReviewError(f"{root} is not a git repository")
    found = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.returncode != 0 or not found.stdout.strip():
        raise ReviewError(
            f"unknown git ref {ref!r} (no commit by that name here; in CI, fetch it first: "
            "actions/checkout with fetch-depth: 0)"
        )
    return found.stdout.strip()


def ensure_clean(root: Path) -> None:
    """``ReviewError`` naming the first changed path when the working tree differs from its commit."""
    status = _git(root, "status", "--porcelain", "--untracked-files=normal").stdout.splitlines()
    if status:
        raise ReviewError(
            f"the working tree has uncommitted changes ({len(status)} path(s), first: "
            f"{status[0].strip()}); commit or stash them: the review compares commits"
        )


@contextmanager
def temporary_worktree(root: Path, commit: str) -> Iterator[Path]:
    """A detached worktree of ``commit`` in a temporary directory, removed on the way out."""
    parent = Path(tempfile.mkdtemp(prefix="silhouette-review-"))
    tree = parent / "tree"
    try:
        added = _git(root, "worktree", "add", "--detach", "--quiet", str(tree), commit)
        if added.returncode != 0:
            raise ReviewError(f"git worktree add failed: {_last_line(added.stderr)}")
        yield tree
    finally:
        removed = _git(root, "worktree", "remove", "--force", str(tree)).returncode == 0
        shutil.rmtree(parent, ignore_errors=True)
        if not removed:
            _git(root, "worktree", "prune")  # the directory is gone: drop git's record of it


@dataclass
class _Run:
    """One side's synth: ``tree``'s own ``python -m silhouette_infra synth`` writing under ``out``."""

    label: str
    process: subprocess.Popen[bytes]
    out: Path
    log: Path
    stopped: bool = False  # killed by the review because the other side failed (or it was interrupted)

    @classmethod
    def start(cls, tree: Path, label: str, stack: str, out: Path, checks: bool) -> _Run:
        command = [sys.executable, "-m", "silhouette_infra", "synth", "--stack", stack, "--out", str(out)]
        environment = {**os.environ, "PYTHONPATH": str(tree)}
        checkov = PROJECT_ROOT / ".venv-checkov" / "bin" / "checkov"
        if CHECKOV_ENV_VAR not in environment and checkov.is_file():
            environment[CHECKOV_ENV_VAR] = str(checkov)  # a fresh worktree has no .venv-checkov of its own
        log = out.with_suffix(".log")
        with log.open("wb") as output:
            process = subprocess.Popen(
                [*command, *([] if checks else ["--no-checks"])],
                cwd=tree,
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        return cls(label, process, out, log)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
            self.stopped = True

    def raise_if_failed(self) -> None:
        """``ReviewError`` when this side's program failed (exit 1 is only failed checks: it wrote its files)."""
        if self.stopped or self.process.returncode in (0, 1):
            return
        reason = _last_line(self.log.read_text(errors="replace"))
        raise ReviewError(f"the program fails at {self.label}: {reason}")

    def written(self, stack: str) -> Path:
        """The directory this synth wrote for ``stack``; ``ReviewError`` when it wrote none."""
        directory = self.out / stack
        if self.stopped or not (directory / RESOURCES_FILE).is_file():
            raise ReviewError(f"the synth of {self.label} wrote no {RESOURCES_FILE}")
        return directory


class SynthCache:
    """What the synth of a commit wrote (resources, cost, checks), kept in this working tree's ignored
    ``.review-cache/``, the most recent ``CACHE_ENTRIES`` of them. The key is the commit's tree (program,
    stack files, lock file and tooling alike) but for the acknowledgements file, which the review reads and
    the synth never does (committing an acknowledgement does not synthesise the commit again), the stack,
    whether the checks ran, and the Python (its virtual environment) that ran the synth."""

    def __init__(self, root: Path) -> None:
        self.directory = root / CACHE_DIRECTORY
        self.root = root

    def key(self, commit: str, stack: str, checks: bool) -> str:
        listing = _git(self.root, "ls-tree", "-r", "--full-tree", commit).stdout.splitlines()
        tree = "\n".join(line for line in listing if line.split("\t", 1)[-1] != ACKNOWLEDGEMENTS_FILE)
        identity = "\0".join([tree, stack, str(checks), sys.executable, sys.version])
        return hashlib.sha256(identity.encode()).hexdigest()[:32]

    def get(self, key: str) -> Path | None:
        entry = self.directory / key
        if not (entry / RESOURCES_FILE).is_file():
            return None
        os.utime(entry)  # most recently used
        return entry

    def put(self, key: str, written: Path) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=self.directory))
        for name in CACHED_FILES:
            if (written / name).is_file():
                shutil.copyfile(written / name, staging / name)
        shutil.rmtree(self.directory / key, ignore_errors=True)
        staging.rename(self.directory / key)
        entries = sorted(self.directory.iterdir(), key=lambda entry: entry.stat().st_mtime, reverse=True)
        for old in entries[CACHE_ENTRIES:]:
            shutil.rmtree(old, ignore_errors=True)


def _side(directory: Path | None, label: str) -> Side:
    if directory is None:
        raise ReviewError(f"the synth of {label} could not be kept in {CACHE_DIRECTORY}")
    return Side(
        resources=json.loads((directory / RESOURCES_FILE).read_text()),
        cost=_optional_json(directory / COST_FILE),
        checks=_optional_json(directory / CHECKS_FILE),
        label=label,
    )


def _wait_for(processes: list[subprocess.Popen[bytes]]) -> None:
    """Wait for every synth; when one fails (exit 2 or a traceback), stop waiting for the others."""
    while any(process.poll() is None for process in processes):
        if any(process.returncode not in (None, 0, 1) for process in processes):
            return  # the caller kills what still runs and reports the failure
        time.sleep(POLL_SECONDS)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _optional_json(path: Path) -> Any:
    return json.loads(path.read_text()) if path.is_file() else None


def review_against(stack: str, ref: str, *, checks: bool, root: Path = PROJECT_ROOT) -> Compared:
    """Review the working tree's ``stack`` against ``ref``. ``ReviewError`` on bad input."""
    started = time.perf_counter()
    base_commit = resolve(root, ref)
    ensure_clean(root)
    head_commit = resolve(root, "HEAD")
    branch = _git(root, "rev-parse", "--abbrev-ref", "HEAD").stdout.strip()
    base_label = base_commit[:7] if base_commit.startswith(ref) else f"{ref} ({base_commit[:7]})"
    head_label = f"{branch if branch and branch != 'HEAD' else 'HEAD'} ({head_commit[:7]})"
    cache = SynthCache(root)
    keys = [cache.key(commit, stack, checks) for commit in (base_commit, head_commit)]
    cached = [cache.get(key) for key in keys]
    with ExitStack() as cleanup:
        scratch = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="silhouette-out-")))
        synth_started = time.perf_counter()
        runs: dict[int, _Run] = {}
        try:
            if cached[0] is None:
                tree = cleanup.enter_context(temporary_worktree(root, base_commit))
                runs[0] = _Run.start(tree, base_label, stack, scratch / "base", checks)
            if cached[1] is None:
                runs[1] = _Run.start(root, head_label, stack, scratch / "head", checks)
            _wait_for([run.process for run in runs.values()])
        finally:
            for run in runs.values():
                run.stop()
        synth_seconds = time.perf_counter() - synth_started
        for run in runs.values():
            run.raise_if_failed()
        for side, run in runs.items():
            cache.put(keys[side], run.written(stack))
            cached[side] = cache.get(keys[side])
    before, after = (_side(directory, label) for directory, label in zip(cached, (base_label, head_label), strict=True))
    return Compared(
        review(stack, before, after, checks), time.perf_counter() - started, synth_seconds, synthesised=len(runs)
    )
