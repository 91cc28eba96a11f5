"""How long a synth takes: figures for `make bench`, never a pass/fail budget (a loaded machine is slower).

Issue 2 set 10 s for a cold ``make synth STACK=production``; the first figure is that command, a new
process importing the SDKs and checkov. The second is the same synth in a process that has already
imported the SDKs, checkov starting afresh each round, as the old in-suite test timed it. The third is one
mocked run of the program, the unit cost of every run the tests make.
"""

from __future__ import annotations

import subprocess
import sys
from contextlib import redirect_stdout
from io import StringIO

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.pedantic import timed
from silhouette_infra.synth.checks import checkov
from silhouette_infra.synth.checks.cache import CACHE_ENV_VAR
from silhouette_infra.synth.cli import main
from silhouette_infra.synth.engine import run_stack
from tests.support import PROJECT_ROOT, STACKS


@pytest.fixture(autouse=True)
def _validators_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """These figures are the validators' own work: their result cache (synth/checks/cache.py) is off."""
    monkeypatch.setenv(CACHE_ENV_VAR, "off")


COLD_SYNTH_BUDGET_SECONDS = 10  # issue 2, for reference in the report


def test_cold_make_synth_of_production_with_every_check(benchmark: BenchmarkFixture) -> None:
    """``make synth STACK=production``'s command in a new process: SDK imports, the program, every check."""
    benchmark.extra_info["issue 2 budget (s)"] = COLD_SYNTH_BUDGET_SECONDS

    def synth() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "silhouette_infra", "synth", "--stack", "production"]
        return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)

    completed = timed(benchmark, synth, rounds=3)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]


def test_in_process_synth_of_production_with_every_check(benchmark: BenchmarkFixture) -> None:
    """The synth command in this process (the SDKs imported once), checkov started afresh each round."""
    main(["synth", "--stack", "production", "--no-checks"])  # imports what the program imports lazily

    def synth() -> int:
        with redirect_stdout(StringIO()):
            return main(["synth", "--stack", "production"])

    assert timed(benchmark, synth, rounds=3, before=checkov.shutdown) == 0


@pytest.mark.parametrize("stack", STACKS)
def test_one_mocked_run_of_the_program(benchmark: BenchmarkFixture, stack: str) -> None:
    """``run_stack`` once the SDKs are imported: what each of the tests' runs costs."""
    run_stack(stack)
    result = timed(benchmark, lambda: run_stack(stack), rounds=5)
    assert result.resources
