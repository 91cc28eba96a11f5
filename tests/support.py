"""What the tests share: the stacks, one mocked run per stack and config, the checks of both stacks, and
the external tools some tests need (checkov, network-config-analyzer), with how to install them.

A plain module (``from tests.support import ...``); ``conftest.py`` holds only fixtures and hooks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from silhouette_infra.synth.checks import checkov, run_checks_many
from silhouette_infra.synth.checks.base import CheckReport, venv_executable
from silhouette_infra.synth.engine import SynthResult, run_stack, stack_config

STACKS = ("production", "staging")
PROJECT_ROOT = Path(__file__).resolve().parents[1]
NCA_ENV_VAR = "SILHOUETTE_NCA"

_runs: dict[tuple[str, str], SynthResult] = {}


def synth(stack: str, config: Mapping[str, str] | None = None) -> SynthResult:
    """The mocked run of ``stack`` with ``config`` (the stack file's by default): run once per test process
    (each xdist worker) for each distinct config, and shared by every test that asks for it. Tests read
    results and never change them."""
    config = dict(stack_config(stack) if config is None else config)
    key = (stack, json.dumps(config, sort_keys=True))
    if key not in _runs:
        _runs[key] = run_stack(stack, config)
    return _runs[key]


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
