"""`silhouette-ops secrets check` (issue 13): each secret's last rotation or change against the policy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from silhouette_infra.ops import secrets_check
from silhouette_infra.ops.report import EXIT_CODES, Report
from tests.ops_account import Account, SharedAccount, lent_accounts


@pytest.fixture(scope="module")
def shared() -> Iterator[SharedAccount]:
    """Production's moto account, seeded once for this module. Read as seeded (``production``) by the
    fresh and ageing secrets tests; the empty-secret test creates a secret, with ``production_to_change``."""
    with SharedAccount("production") as account:
        yield account


production, production_to_change = lent_accounts()


def check(account: Account, later: timedelta = timedelta(0)) -> Report:
    return secrets_check.check(account.stack_outputs, account.clients, account.now + later)


def levels(report: Report) -> dict[str, str]:
    """The worst level of each secret."""
    worst: dict[str, str] = {}
    for check in sorted(report.checks, key=lambda check: EXIT_CODES[check.level]):
        worst[check.subject] = check.level
    return worst


def test_fresh_secrets_pass_except_the_rds_secret_without_rotation(production: Account) -> None:
    report = check(production)
    assert levels(report) == {
        "alertmanager-receivers": "ok",
        "grafana-admin": "ok",
        "neo4j": "ok",
        "postgres": "critical",  # moto's secret has no rotation configured: RDS-managed secrets must rotate
        "rabbitmq": "ok",
        "redis": "ok",
    }, report.checks


def test_secrets_near_and_past_their_maximum_age_warn_then_fail(production: Account) -> None:
    policy = production.outputs["secrets"]["redis"]
    near = levels(check(production, later=timedelta(days=policy["max_age_days"] - 1)))
    past = levels(check(production, later=timedelta(days=policy["max_age_days"] + 1)))
    assert near["redis"] == "warning" and past["redis"] == "critical", (near, past)


def test_a_secret_without_a_value_is_critical(production_to_change: Account) -> None:
    client = production_to_change.client("secretsmanager")
    created = client.create_secret(Name="silhouette/test/empty")
    production_to_change.outputs["secrets"]["alertmanager-receivers"]["id"] = created["ARN"]
    report = check(production_to_change)
    receivers = [check for check in report.checks if check.subject == "alertmanager-receivers"]
    assert [(check.level, "no current value" in check.detail) for check in receivers] == [("critical", True)]
