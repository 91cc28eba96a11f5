"""Fixtures and hooks: one mocked run per stack, shared by every test of the session (``tests/support.py``),
and the external tools that only tests marked ``checkov`` or ``nca`` start.

The project's modules are imported inside the fixtures and hooks that use them: pytest-xdist's controller
loads this file too, before it starts the workers, and has no use for them (about 0.4 s of its start, in
which no test runs). The workers have them imported by the test modules they collect first.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.scheduling import SharedCostScheduling, UnitTimer
from tests.stacks import STACKS

if TYPE_CHECKING:
    from silhouette_infra.synth.engine import SynthResult


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> SharedCostScheduling | None:
    """``--dist loadfile`` with the ``SAME_WORKER`` groups, longest unit first (``tests/scheduling.py``); any
    other ``--dist`` as pytest-xdist makes it."""
    return SharedCostScheduling(config, log) if config.getvalue("dist") == "loadfile" else None


# Python's cyclic garbage collector, a session long: fewer walks. Collecting imports the provider SDKs (thousands
# of classes) and the tests allocate millions of short-lived objects (each mocked run, each moto account), which
# the default thresholds (700, 10, 10) would walk thousands of times: with them until collection had finished,
# collecting took 2.61-3.35 s of CPU per process, against 1.96-2.83 s with these from the start (five runs each).
GC_THRESHOLDS = (50_000, 20, 20)


def pytest_configure(config: pytest.Config) -> None:
    """Fewer collector walks from the start (``GC_THRESHOLDS``), before the test modules are imported. The
    controlling process (not a pytest-xdist worker) times each unit of work for the next session's order."""
    gc.set_threshold(*GC_THRESHOLDS)
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(UnitTimer(), "silhouette-unit-timer")


def pytest_collection_finish(session: pytest.Session) -> None:
    """The modules and test items collected live all session: out of the garbage collector's walks."""
    from tests.support import keep_out_of_the_collector

    keep_out_of_the_collector()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test that needs checkov or nca fails at once, saying how to install the missing tool."""
    from tests.support import checkov_missing, nca_missing

    for marker, missing in (("checkov", checkov_missing), ("nca", nca_missing)):
        if item.get_closest_marker(marker) is not None and (why := missing()) is not None:
            pytest.fail(why, pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def runs_shared_between_workers(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> None:
    """Under pytest-xdist, a run one worker made is loaded by the other instead of made again (``support.synth``):
    in the session's temporary directory, the parent of each worker's own (pytest-xdist's documented way to do
    something once per session), removed with it."""
    from tests import support

    if worker_id != "master":
        support.shared_runs = tmp_path_factory.getbasetemp().parent / "runs"


@pytest.fixture(autouse=True)
def checkov_starts_only_for_checkov_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """``synth`` without ``--no-checks`` starts checkov ahead of its checks; a test not marked ``checkov``
    (a stack file refused before any check, say) has no use for that process."""
    from silhouette_infra.synth.checks import checkov

    if request.node.get_closest_marker("checkov") is not None:
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checkov, "prewarm", lambda: None)
        yield


@pytest.fixture(scope="session")
def production() -> SynthResult:
    from tests.support import synth

    return synth("production")


@pytest.fixture(scope="session")
def staging() -> SynthResult:
    from tests.support import synth

    return synth("staging")


@pytest.fixture(scope="session", params=STACKS)
def stack(request: pytest.FixtureRequest) -> SynthResult:
    from tests.support import synth

    return synth(str(request.param))
