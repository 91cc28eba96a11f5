"""How the test files are shared between pytest-xdist's two workers (``--dist loadfile``, pyproject.toml).

Each file is one unit of work, and the files of a ``SAME_WORKER`` group one unit together. The controller hands
out the unit that took longest in the previous session first (longest processing time first): with the few
long units (the review's repository, the moto group, the stack-file runs) started early, the short ones fill
the end and both workers finish at about the same time. Units no session has timed yet, and every unit in a
session with no record (a fresh clone, or ``-p no:cacheprovider``), keep pytest-xdist's own order.

The durations are pytest's own (setup, call and teardown of each test, as each worker reports them), summed per
unit in the controller and kept in pytest's cache directory (``.pytest_cache``, gitignored) under
``UNIT_SECONDS``; only a session of the whole suite updates them (``whole_suite``). Only the order depends on
them, never what runs.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from pathlib import PurePosixPath
from typing import Any

import pytest
from xdist.scheduler import LoadFileScheduling

# Test files that share a cost paid once per process run on the same pytest-xdist worker, as one unit of
# `--dist loadfile`; every other file is a unit of its own. The silhouette-ops tests (moto): importing moto
# and parsing botocore's service models costs about 3 s of CPU in each process that runs one.
SAME_WORKER = {"moto": ("test_ops_", "test_failover")}

UNIT_SECONDS = "silhouette/unit_seconds"


@cache
def unit_of(nodeid: str) -> str:
    """The unit of work a test belongs to: its file, or the ``SAME_WORKER`` group of its file (asked for each test
    at least four times, by the scheduler and for each phase's report)."""
    path = nodeid.split("::", 1)[0]
    stem = PurePosixPath(path).stem
    return next((group for group, prefixes in SAME_WORKER.items() if stem.startswith(prefixes)), path)


def longest_first(pending: list[str], seconds: dict[str, float]) -> str:
    """The pending unit to hand out next: the longest in ``seconds``; the first pending one when none is known
    (``max`` keeps the first of equals, so untimed units keep their order)."""
    return max(pending, key=lambda unit: seconds.get(unit, 0.0))


class SharedCostScheduling(LoadFileScheduling):
    """pytest-xdist's ``loadfile`` scheduling with the ``SAME_WORKER`` groups, longest unit first. (Its
    ``loadgroup`` cannot group files with pytest 9.2: the group suffix it writes into ``item._nodeid`` is no
    longer part of the node id, pytest-dev/pytest-xdist#1386; overriding ``_split_scope`` is how xdist's own
    schedulers differ.)"""

    def __init__(self, config: pytest.Config, log: Any = None) -> None:
        super().__init__(config, log)
        self.seconds = recorded_seconds(config)

    def _split_scope(self, nodeid: str) -> str:
        return unit_of(nodeid)

    def _assign_work_unit(self, node: Any) -> None:
        self.workqueue.move_to_end(longest_first(list(self.workqueue), self.seconds), last=False)
        super()._assign_work_unit(node)


def recorded_seconds(config: pytest.Config) -> dict[str, float]:
    """The units' seconds kept by earlier sessions; nothing without pytest's cache, and only numbers from it (the
    file is JSON anyone can edit: a bad entry changes the order at most, never fails the session)."""
    cache = getattr(config, "cache", None)
    stored = cache.get(UNIT_SECONDS, {}) if cache is not None else {}
    if not isinstance(stored, dict):
        return {}
    return {
        str(unit): float(value)
        for unit, value in stored.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def whole_suite(config: pytest.Config) -> bool:
    """Whether this session runs every test, as ``make test`` does (pytest's ``testpaths``, nothing selected or
    deselected). A file run alone pays its process's start-up (the SDK imports, a first program run): its
    seconds would put it first in the next whole run."""
    option = config.option
    selected = option.keyword or option.markexpr or getattr(option, "lf", False) or getattr(option, "deselect", None)
    return config.args_source is pytest.Config.ArgsSource.TESTPATHS and not selected


class UnitTimer:
    """Sums the reported duration of every test phase per unit (in the controller: the workers' reports reach it
    as ``pytest_runtest_logreport``) and, after a ``whole_suite`` session, stores them at its end."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[unit_of(report.nodeid)] += report.duration

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        cache = getattr(session.config, "cache", None)
        if cache is not None and self.seconds and whole_suite(session.config):
            stored = recorded_seconds(session.config)
            stored.update((unit, round(seconds, 2)) for unit, seconds in self.seconds.items())
            cache.set(UNIT_SECONDS, dict(sorted(stored.items())))
