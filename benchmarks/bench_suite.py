"""The warm test suite (`make test`'s pytest, the caches of a previous run on disk: Python's bytecode, the
validators' results in .validator-cache/, the test files' timings in .pytest_cache/ that order the files): the
guide asks for about 30 s on these 2-core machines. One round: a figure to read against the speed of the machine
at the time, which ``machine_reference`` measures with work that does not depend on this repository."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.pedantic import timed
from tests.support import PROJECT_ROOT

COUNT = 10_000_000


def multiply_adds(count: int) -> int:
    total = 0
    for number in range(count):
        total += number * number
    return total


def machine_reference() -> list[int]:
    """Ten million multiply-adds in pure Python on each of the two cores at once: the same work whatever this
    repository's code does, on as many cores as the suite uses."""
    with ProcessPoolExecutor(max_workers=2) as pool:
        return list(pool.map(multiply_adds, [COUNT, COUNT]))


def test_machine_reference(benchmark: BenchmarkFixture) -> None:
    """Just before the suite (pytest runs a file's tests in order): the machine's speed at about that time."""
    expected = (COUNT - 1) * COUNT * (2 * COUNT - 1) // 6
    assert timed(benchmark, machine_reference, rounds=3) == [expected, expected]


def test_the_test_suite(benchmark: BenchmarkFixture) -> None:
    def suite() -> subprocess.CompletedProcess[str]:
        # As `make test` runs it: with pytest's cache, whose timings of the previous run order the files.
        command = [sys.executable, "-m", "pytest", "-q"]
        return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)

    completed = timed(benchmark, suite, rounds=1)
    assert completed.returncode == 0, completed.stdout[-3000:]
