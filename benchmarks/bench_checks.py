"""How long the validators take on a synthesised stack: figures for `make bench`."""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.pedantic import timed
from silhouette_infra.synth.checks import checkov, kubernetes_schema
from silhouette_infra.synth.checks.cache import CACHE_ENV_VAR
from tests.support import STACKS, synth


@pytest.fixture(autouse=True)
def _validators_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """These figures are the validators' own work: their result cache (synth/checks/cache.py) is off."""
    monkeypatch.setenv(CACHE_ENV_VAR, "off")


@pytest.mark.parametrize("stack", STACKS)
def test_schema_validation_of_a_stacks_manifests(benchmark: BenchmarkFixture, stack: str) -> None:
    """Every Kubernetes object of the stack against the strict schemas, once they are loaded."""
    result = synth(stack)
    kubernetes_schema.run(result)  # loads the definitions and the schemas of the kinds the stack uses
    report = benchmark(kubernetes_schema.run, result)
    assert report.checked > 0 and not report.failures


def test_checkov_scan_of_both_stacks_with_checkov_warm(benchmark: BenchmarkFixture) -> None:
    """Both frameworks over both stacks, checkov already imported (as in the test session)."""
    resources = {stack: synth(stack).resources for stack in STACKS}
    checkov.run_many(resources)  # starts the warm process
    reports = timed(benchmark, lambda: checkov.run_many(resources), rounds=3)
    assert all(report.checked for stack_reports in reports.values() for report in stack_reports.values())
