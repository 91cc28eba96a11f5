"""``benchmark.pedantic`` with a type (pytest-benchmark 5.3.1 leaves it untyped): a fixed number of rounds
of a function that takes seconds, one call per round."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pytest_benchmark.fixture import BenchmarkFixture

T = TypeVar("T")


def timed(
    benchmark: BenchmarkFixture, function: Callable[[], T], rounds: int, before: Callable[[], None] | None = None
) -> T:
    """``function``'s result; ``before`` runs ahead of each round, outside the timing."""
    result: T = benchmark.pedantic(function, setup=before, rounds=rounds, iterations=1)  # type: ignore[no-untyped-call]
    return result
