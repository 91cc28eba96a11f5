"""How long the offline review of a change takes (issue 12: at most 2.5 times one production synth).

Both figures are taken in a repository of the benchmark's own, built from this working tree with one more
commit (a setting updated in place), with every check: the cold synth of production there, and the review
of its last two commits, which runs the two synths at once, one per core, with no earlier review's synth
to reuse (its cache is emptied before each round). The ratio is in extra_info of the review's figure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.pedantic import timed
from silhouette_infra.synth.against import CACHE_DIRECTORY
from silhouette_infra.synth.checks import checkov
from tests.support import commit_edit, copy_of_the_project

REVIEW_BUDGET_RATIO = 2.5  # issue 12
ROUNDS = 3
_medians: dict[str, float] = {}


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = copy_of_the_project(tmp_path_factory.mktemp("bench-review") / "repo")
    settings = '  silhouette:postgres:\n    major_version: "17"\n'
    commit_edit(repo, "Pulumi.production.yaml", settings, settings + "    backup_retention_days: 21\n", "PITR")
    return repo


def _run(repo: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    # The copy has no .venv-checkov of its own: the synths use this working tree's.
    environment = {**os.environ, checkov.CHECKOV_ENV_VAR: str(checkov.checkov_executable())}
    command = [sys.executable, "-m", "silhouette_infra", "synth", "--stack", "production", *arguments]
    return subprocess.run(command, cwd=repo, env=environment, capture_output=True, text=True, check=False)


def test_cold_synth_of_production_with_every_check(benchmark: BenchmarkFixture, repository: Path) -> None:
    completed = timed(benchmark, lambda: _run(repository), rounds=ROUNDS)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    _medians["synth"] = _median(benchmark)


def test_review_of_two_production_commits_with_every_check(benchmark: BenchmarkFixture, repository: Path) -> None:
    def forget_earlier_reviews() -> None:
        shutil.rmtree(repository / CACHE_DIRECTORY, ignore_errors=True)

    completed = timed(benchmark, lambda: _run(repository, "--against", "HEAD~1"), ROUNDS, forget_earlier_reviews)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    assert "backupRetentionPeriod" in completed.stdout, completed.stdout
    benchmark.extra_info["issue 12 budget (x one synth)"] = REVIEW_BUDGET_RATIO
    if "synth" in _medians:
        benchmark.extra_info["review / synth (medians)"] = round(_median(benchmark) / _medians["synth"], 2)


def _median(benchmark: BenchmarkFixture) -> float:
    assert benchmark.stats is not None, "no figures: run with --benchmark-only (make bench)"
    return float(benchmark.stats.stats.median)
