"""How long loading a stack's settings takes (read the stack file, validate every section and rule)."""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from silhouette_infra.settings.models import Settings
from silhouette_infra.synth.engine import stack_config
from silhouette_infra.validation.loader import load_settings
from tests.support import STACKS


@pytest.mark.parametrize("stack", STACKS)
def test_settings_loading(benchmark: BenchmarkFixture, stack: str) -> None:
    def load() -> Settings:
        return load_settings(stack, stack_config(stack))

    assert benchmark(load).aws.region
