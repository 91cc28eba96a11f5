"""How long `silhouette-ops status` takes on the moto account of the tests: a figure for `make bench`, never a
pass/fail budget. Issue 13 asks for under 3 s; each round is a whole status run (nine areas, every call
answered by moto in-process or by the stubs for what moto lacks), the account seeded outside the timing."""

from __future__ import annotations

from moto import mock_aws
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.pedantic import timed
from silhouette_infra.ops import status
from silhouette_infra.ops.report import Report
from tests.ops_account import Account, account

ISSUE_13_BUDGET_SECONDS = 3
ROUNDS = 5


def test_status_on_the_moto_account(benchmark: BenchmarkFixture) -> None:
    benchmark.extra_info["issue 13 budget (s)"] = ISSUE_13_BUDGET_SECONDS
    mock = mock_aws()
    moto_account: list[Account] = []

    def seed() -> None:
        if moto_account:
            mock.stop()  # a fresh account each round
        mock.start()
        moto_account[:] = [account("production")]
        # moto 5.2.5 lacks AWS Backup ListBackupJobs: stubbed, as in tests/test_ops_status.py.
        moto_account[0].stub("backup").add_response("list_backup_jobs", {"BackupJobs": []})

    def run() -> Report:
        seeded = moto_account[0]
        return status.status(seeded.stack_outputs, seeded.clients, seeded.now)

    try:
        assert timed(benchmark, run, ROUNDS, before=seed).exit_code == 0
    finally:
        mock.stop()
