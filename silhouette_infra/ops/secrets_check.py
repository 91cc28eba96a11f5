"""`silhouette-ops secrets check`: the last rotation or change of every secret of the stack against the
rotation policy the stack outputs carry (settings ``secrets``). A secret RDS rotates must have rotation on;
a secret with no current value (the Alertmanager receivers before an operator puts them) is critical."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from silhouette_infra.ops.aws import AwsClients
from silhouette_infra.ops.outputs import StackOutputs
from silhouette_infra.ops.report import Check, Level, Report
from silhouette_infra.ops.timing import age_minutes, human

MINUTES_PER_DAY = 24 * 60


def _check_one(client: Any, name: str, policy: dict[str, Any], now: datetime) -> Iterator[Check]:
    secret = client.describe_secret(SecretId=policy["id"])
    versions = client.list_secret_version_ids(SecretId=policy["id"]).get("Versions", [])
    if not any("AWSCURRENT" in version.get("VersionStages", []) for version in versions):
        yield Check("secrets", name, "critical", "no current value: put one (README, Before the first pulumi up)")
        return
    if policy["rotated_by"] == "rds" and not secret.get("RotationEnabled"):
        yield Check("secrets", name, "critical", "RDS-managed secret with rotation off")
    changes = [secret.get(key) for key in ("LastRotatedDate", "LastChangedDate", "CreatedDate")]
    last = max(change for change in changes if change is not None)
    age = age_minutes(now, last)
    limit = policy["max_age_days"] * MINUTES_PER_DAY
    warn = (policy["max_age_days"] - policy["warning_days"]) * MINUTES_PER_DAY
    how = "rotated by RDS" if policy["rotated_by"] == "rds" else "rotated by an operator"
    detail = f"last rotated or changed {human(age)} ago ({how}; policy {policy['max_age_days']} d)"
    level: Level = "critical" if age > limit else "warning" if age > warn else "ok"
    yield Check("secrets", name, level, detail + (": rotate it" if level != "ok" else ""))


def check(outputs: StackOutputs, clients: AwsClients, now: datetime) -> Report:
    outputs.require("secrets")
    client = clients.get("secretsmanager", outputs["region"])
    report = Report("secrets check", outputs.stack)
    for name, policy in sorted(outputs["secrets"].items()):
        if not policy.get("id"):
            report.checks.append(Check("secrets", name, "critical", "the stack outputs carry no id for it"))
            continue
        report.checks.extend(_check_one(client, name, policy, now))
    return report
