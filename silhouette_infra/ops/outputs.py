"""The stack's outputs: from `pulumi stack output --json --show-secrets -s <stack>` when the CLI is on PATH,
else from ``--outputs FILE`` (that command's output saved). The tool knows the stack only through them."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from silhouette_infra.ops.aws import OpsError

PROJECT = "silhouette"
# The outputs each command reads (the program exports them: tests/test_ops_outputs.py).
REQUIRED: dict[str, tuple[str, ...]] = {
    "status": (
        "region",
        "cluster_name",
        "node_group_names",
        "postgres_identifier",
        "redis_replication_group_id",
        "rabbitmq_broker_name",
        "load_balancer_name",
        "backup_vault_name",
        "alarm_topic_arn",
    ),
    "backups": (
        "region",
        "dr_region",
        "postgres_identifier",
        "redis_replication_group_id",
        "backup_vault_name",
        "dr_backup_vault_name",
        "backup_bucket",
        "neo4j_backup_prefix",
        "neo4j_volume_tags",
        "backup_selection_tag",
        "recovery",
    ),
    "drill": (
        "region",
        "vpc_id",
        "isolated_subnet_ids",
        "kms_key_arns",
        "postgres_identifier",
        "redis_replication_group_id",
        "backup_bucket",
        "neo4j_backup_prefix",
    ),
    "secrets": ("region", "secrets"),
}


@dataclass(frozen=True)
class StackOutputs:
    stack: str
    source: str  # where they came from, for messages
    values: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        if key not in self.values:
            raise OpsError(f"stack {self.stack}: output {key!r} is missing from {self.source}")
        return self.values[key]

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def require(self, command: str) -> None:
        """Fail at once, naming every output ``command`` needs that is missing (an older deployment)."""
        missing = [key for key in REQUIRED[command] if key not in self.values]
        if missing:
            raise OpsError(
                f"stack {self.stack}: {self.source} lacks output(s) {', '.join(missing)}: "
                "run `pulumi up` with this version of the program first"
            )


def load_outputs(stack: str, outputs_file: Path | None) -> StackOutputs:
    """The outputs of ``stack``: the file when given, else the Pulumi CLI; one clear error otherwise."""
    if outputs_file is not None:
        source = str(outputs_file)
        try:
            values = json.loads(outputs_file.read_text())
        except FileNotFoundError:
            raise OpsError(f"--outputs {source}: no such file") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise OpsError(f"--outputs {source}: not a JSON file of stack outputs ({error})") from None
    elif (pulumi := shutil.which("pulumi")) is not None:
        source = f"`pulumi stack output -s {stack}`"
        values = _pulumi_outputs(pulumi, stack)
    else:
        raise OpsError(
            "no stack outputs: the pulumi CLI is not on PATH; pass --outputs FILE "
            f"(saved with `pulumi stack output --json --show-secrets -s {stack} > FILE`)"
        )
    if not isinstance(values, dict):
        raise OpsError(f"{source}: expected a JSON object of stack outputs")
    outputs = StackOutputs(stack, source, values)
    expected = f"{PROJECT}-{stack}"
    if values.get("cluster_name") not in (None, expected):
        raise OpsError(f"{source}: these are the outputs of cluster {values['cluster_name']!r}, not of stack {stack}")
    return outputs


def _pulumi_outputs(pulumi: str, stack: str) -> Any:
    command = [pulumi, "stack", "output", "--json", "--show-secrets", "-s", stack]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise OpsError(f"`pulumi stack output -s {stack}` did not run: {error}") from None
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit code {result.returncode}"
        raise OpsError(f"stack {stack}: `pulumi stack output` failed: {reason}")
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        raise OpsError(f"stack {stack}: `pulumi stack output --json` did not print JSON") from None
