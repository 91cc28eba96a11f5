"""The suite's share-out between the two pytest-xdist workers (``tests/scheduling.py``): the files of a group go
to one worker as one unit, and the unit that took longest in the previous session is handed out first."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.scheduling import UNIT_SECONDS, SharedCostScheduling, UnitTimer, longest_first, recorded_seconds, unit_of


class _Node:
    """A worker as the scheduler sees it: it is sent the indexes of the tests to run."""

    def __init__(self) -> None:
        self.sent: list[list[int]] = []

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.sent.append(indexes)


class _Cache:
    def __init__(self, stored: dict[str, Any]) -> None:
        self.stored = stored

    def get(self, key: str, default: Any) -> Any:
        return self.stored.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.stored[key] = value


def _session(
    cache: _Cache, args_source: pytest.Config.ArgsSource = pytest.Config.ArgsSource.TESTPATHS, **option: Any
) -> Any:
    """A finished session as ``UnitTimer`` sees it: its config's cache, where its paths came from and its options
    (by default the whole suite, nothing selected)."""
    options = SimpleNamespace(**{"keyword": "", "markexpr": "", "lf": False, "deselect": None, **option})
    return SimpleNamespace(config=SimpleNamespace(cache=cache, args_source=args_source, option=options))


def test_the_moto_files_are_one_unit_and_every_other_file_its_own() -> None:
    assert unit_of("tests/test_ops_status.py::test_a") == unit_of("tests/test_failover.py::test_b[x::y]") == "moto"
    assert unit_of("tests/test_synth.py::test_c[production]") == "tests/test_synth.py"


def test_the_longest_unit_goes_first_and_untimed_units_keep_their_order() -> None:
    seconds = {"b.py": 3.0, "c.py": 12.0}
    assert longest_first(["a.py", "b.py", "c.py"], seconds) == "c.py", "the unit timed longest goes first"
    assert longest_first(["a.py", "b.py"], {}) == "a.py", "with no timings, pytest-xdist's own order"
    assert longest_first(["x.py", "b.py"], seconds) == "b.py", "a timed unit before an untimed one"


def test_the_scheduler_sends_the_longest_recorded_unit_to_a_free_worker() -> None:
    """On pytest-xdist's own scheduler: the controller's config (two workers, ``-n 2``) with the previous session's
    timings in pytest's cache."""
    recorded = {UNIT_SECONDS: {"tests/test_long.py": 9.5, "tests/test_short.py": 0.2}}
    config = SimpleNamespace(getvalue={"tx": ["2*popen"]}.__getitem__, cache=_Cache(recorded))
    scheduler = SharedCostScheduling(config)  # type: ignore[arg-type]
    node = _Node()
    collection = ["tests/test_short.py::test_a", "tests/test_long.py::test_b", "tests/test_long.py::test_c"]
    scheduler.registered_collections[node] = collection
    scheduler.assigned_work[node] = {}
    for nodeid in collection:  # as pytest-xdist fills it: each unit's tests, none done, in collection order
        scheduler.workqueue.setdefault(unit_of(nodeid), {})[nodeid] = False
    scheduler._assign_work_unit(node)
    assert node.sent == [[1, 2]], f"test_long.py's two tests (indexes 1 and 2) first, sent {node.sent}"
    assert list(scheduler.workqueue) == ["tests/test_short.py"], "the short unit waits"


def test_each_unit_s_seconds_are_summed_and_kept_with_the_units_of_earlier_sessions() -> None:
    cache = _Cache({UNIT_SECONDS: {"tests/test_old.py": 4.0, "moto": 20.0}})
    timer = UnitTimer()
    for nodeid, duration in [("tests/test_ops_cli.py::test_a", 1.25), ("tests/test_failover.py::test_b", 2.5)]:
        for phase in ("setup", "call", "teardown"):
            timer.pytest_runtest_logreport(SimpleNamespace(nodeid=nodeid, duration=duration, when=phase))  # type: ignore[arg-type]
    timer.pytest_sessionfinish(_session(cache))
    assert cache.stored[UNIT_SECONDS] == {"moto": 11.25, "tests/test_old.py": 4.0}, (
        f"the moto unit is this session's three phases of both files, test_old.py the earlier record: {cache.stored}"
    )


def test_an_edited_record_changes_the_order_at_most() -> None:
    config = SimpleNamespace(cache=_Cache({UNIT_SECONDS: {"tests/a.py": "slow", "tests/b.py": 2, "tests/c.py": None}}))
    assert recorded_seconds(config) == {"tests/b.py": 2.0}, "only numbers are read back"  # type: ignore[arg-type]
    assert recorded_seconds(SimpleNamespace(cache=_Cache({UNIT_SECONDS: ["a list"]}))) == {}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args_source", "option"),
    [
        (pytest.Config.ArgsSource.ARGS, {}),  # pytest tests/test_keys.py
        (pytest.Config.ArgsSource.TESTPATHS, {"keyword": "cluster"}),
        (pytest.Config.ArgsSource.TESTPATHS, {"markexpr": "checkov"}),
        (pytest.Config.ArgsSource.TESTPATHS, {"lf": True}),
    ],
)
def test_a_session_that_runs_part_of_the_suite_keeps_the_records_as_they_were(
    args_source: pytest.Config.ArgsSource, option: dict[str, Any]
) -> None:
    cache = _Cache({UNIT_SECONDS: {"tests/test_keys.py": 0.1}})
    timer = UnitTimer()
    timer.pytest_runtest_logreport(SimpleNamespace(nodeid="tests/test_keys.py::test_a", duration=6.1))  # type: ignore[arg-type]
    timer.pytest_sessionfinish(_session(cache, args_source, **option))
    assert cache.stored[UNIT_SECONDS] == {"tests/test_keys.py": 0.1}, f"{args_source} {option}: {cache.stored}"
