"""One mocked run per stack, shared by every test of the session."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from silhouette_infra.synth.checks import checkov, run_checks_many
from silhouette_infra.synth.checks.base import CheckReport
from silhouette_infra.synth.engine import SynthResult, run_stack

STACKS = ("production", "staging")


@cache
def synth(stack: str) -> SynthResult:
    checkov.prewarm()  # ready by the time the first test asks for check results
    return run_stack(stack)


@cache
def _checks_of_every_stack() -> dict[str, list[CheckReport]]:
    return run_checks_many([synth(stack) for stack in STACKS])


def checks(stack: str) -> list[CheckReport]:
    return _checks_of_every_stack()[stack]


@pytest.fixture(scope="session")
def production() -> SynthResult:
    return synth("production")


@pytest.fixture(scope="session")
def staging() -> SynthResult:
    return synth("staging")


@pytest.fixture(scope="session", params=STACKS)
def stack(request: pytest.FixtureRequest) -> SynthResult:
    return synth(str(request.param))


def config_with(stack: str, **sections: Any) -> dict[str, str]:
    """The stack file's config with keys of some ``silhouette:`` sections overridden."""
    from silhouette_infra.synth.engine import stack_config

    config = stack_config(stack)
    for key, value in sections.items():
        current = json.loads(config.get(f"silhouette:{key}", "null"))
        if isinstance(current, dict) and isinstance(value, dict):
            value = {**current, **value}
        config[f"silhouette:{key}"] = json.dumps(value)
    return config
