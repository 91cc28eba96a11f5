"""The human-readable synth report: per layer what was declared and with which key settings."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from silhouette_infra.settings.models import Settings
from silhouette_infra.synth.checks.base import CheckReport
from silhouette_infra.synth.cost import BUDGET_USD, budget_verdict, monthly_cost
from silhouette_infra.synth.critical_path import rto_lines
from silhouette_infra.synth.engine.manifests import manifest_of, object_name
from silhouette_infra.synth.engine.mocks import CapturedResource
from silhouette_infra.synth.engine.run import SynthResult
from silhouette_infra.synth.readable import (
    CHECKS_FILE,
    COST_FILE,
    parsed_json_strings,
    readable_resource,
    yaml_text,
)
from silhouette_infra.synth.recovery import rpo_lines
from silhouette_infra.synth.throughput import summary_lines
from silhouette_infra.validation.rules import availability_zone_names

KeySettings = Callable[[Settings], dict[str, Any]]

# What an operator wants to see for each layer before approving a preview.
LAYER_SETTINGS: dict[str, KeySettings] = {
    "silhouette:keys:Keys": lambda s: {
        "rotation": f"every {s.keys.rotation_period_days} days",
        "deletion window": f"{s.keys.deletion_window_days} days",
        "protected": s.protect_stateful,
    },
    "silhouette:network:Network": lambda s: {
        "vpc": s.network.vpc_cidr,
        "zones": ", ".join(availability_zone_names(s)),
        "nat": s.network.nat_gateways,
        "flow logs": f"ALL traffic, kept {s.network.flow_log_retention_days} days",
        "endpoints": ", ".join(["s3 (gateway)", *s.network.interface_endpoints]),
    },
    "silhouette:cluster:Cluster": lambda s: {
        "kubernetes": s.cluster.kubernetes_version,
        "endpoint": "private + " + ", ".join(s.cluster.endpoint_public_access_cidrs)
        if s.cluster.endpoint_public_access_cidrs
        else "private only",
        "deletion protection": s.cluster.deletion_protection,
        "node groups": "; ".join(
            f"{g.name} {'/'.join(g.instance_types)} {g.capacity_type.lower()} {g.min_size}-{g.max_size}"
            for g in s.cluster.node_groups
        ),
    },
    "silhouette:cluster:ClusterAddons": lambda s: {
        "charts": f"aws-load-balancer-controller {s.cluster_addons.aws_load_balancer_controller_chart}, "
        f"metrics-server {s.cluster_addons.metrics_server_chart}, "
        f"cluster-autoscaler {s.cluster_addons.cluster_autoscaler_chart}, "
        f"external-secrets {s.cluster_addons.external_secrets_chart}",
    },
    "silhouette:data:Postgres": lambda s: {
        "engine": f"PostgreSQL {s.postgres.major_version} on {s.postgres.instance_class}",
        "availability": "Multi-AZ" if s.postgres.multi_az else "single-AZ",
        "backups": f"PITR {s.postgres.backup_retention_days} days"
        + (", replicated to the DR region" if s.backup.copy_to_dr_region else ""),
    },
    "silhouette:data:Redis": lambda s: {
        "engine": f"{s.redis.engine} {s.redis.engine_version} on {s.redis.node_type}",
        "availability": f"{s.redis.num_cache_clusters} node(s)"
        + (", Multi-AZ with automatic failover" if s.redis.multi_az else ""),
    },
    "silhouette:data:RabbitMq": lambda s: {
        "engine": f"RabbitMQ {s.rabbitmq.engine_version} on {s.rabbitmq.host_instance_type}",
        "availability": s.rabbitmq.deployment_mode,
    },
    "silhouette:data:Neo4j": lambda s: {
        "engine": f"{s.neo4j.image}, {s.neo4j.volume_size_gib} GiB encrypted gp3",
        "backups": f"export to the backup bucket on '{s.neo4j.backup_schedule}', volume snapshots by AWS Backup",
    },
    "silhouette:backup:Backup": lambda s: {
        "plan": f"every 6 h kept {s.backup.six_hourly_retention_days} d, daily {s.backup.daily_retention_days} d, "
        f"weekly {s.backup.weekly_retention_days} d; Neo4j's volume hourly kept {s.backup.hourly_retention_days} d",
        "DR copies": f"to {s.aws.dr_region}" if s.backup.copy_to_dr_region else "none (single region)",
    },
    "silhouette:registry:Registry": lambda s: {
        "repositories": ", ".join(s.registry.repositories),
        "keeps": f"{s.registry.keep_tagged_images} tagged images, untagged {s.registry.untagged_expiry_days} days",
    },
}


def layer_of(result: SynthResult, resource: CapturedResource) -> str:
    """The top-level ``silhouette:`` component a resource belongs to (``providers`` for providers)."""
    if resource.type.startswith("pulumi:providers:"):
        return "providers"
    top: CapturedResource | None = resource if resource.type.startswith("silhouette:") else None
    current = result.by_urn.get(resource.parent_urn)
    while current is not None:
        if current.type.startswith("silhouette:"):
            top = current
        current = result.by_urn.get(current.parent_urn)
    return top.type if top is not None else "stack"


def cost_lines(result: SynthResult) -> list[str]:
    """The estimate as synth prints it: per layer, then every line with its quantity and basis, the unpriced
    lines, and production's comparison with the design's budget."""
    estimate = monthly_cost(result.settings, result.resources)
    lines = [
        "estimated monthly cost (synth/cost.py; prices in planning/prices.py and planning/instance_types.py): "
        + ", ".join(f"{layer} ${cost:,.0f}" for layer, cost in estimate.layers.items())
        + f"; total ${estimate.total:,.0f}"
    ]
    if result.settings.is_production:
        lines.append(f"    design budget ${BUDGET_USD:,}: {budget_verdict(estimate.total)}")
    for line in estimate.lines:
        price = "unpriced" if line.usd is None else f"${line.usd:,.2f}"
        lines.append(f"    {line.layer} / {line.item}: {line.quantity:,.1f} {line.unit}, {price} - {line.basis}")
    lines += [
        f"    unpriced in {layer}: {', '.join(items)} (the total leaves them out: a lower bound)"
        for layer, items in estimate.unpriced.items()
    ]
    return lines


def render(result: SynthResult, reports: list[CheckReport] | None, seconds: float) -> str:
    settings = result.settings
    lines = [
        f"stack {result.stack} ({settings.environment}) in {settings.aws.region}, DR {settings.aws.dr_region}: "
        f"{len(result.resources)} resources",
        *cost_lines(result),
        "",
        *summary_lines(settings),
        "",
        *rpo_lines(settings),
        "",
        *rto_lines(result),
        "",
    ]
    layers: dict[str, Counter[str]] = defaultdict(Counter)
    for resource in result.resources:
        if not resource.type.startswith("silhouette:"):
            layers[layer_of(result, resource)][resource.type] += 1
    for layer, counts in layers.items():
        lines.append(f"{layer}  ({sum(counts.values())} resources)")
        describe = LAYER_SETTINGS.get(layer)
        for key, value in (describe(settings) if describe else {}).items():
            lines.append(f"    {key}: {value}")
        for type_token, count in sorted(counts.items()):
            lines.append(f"    {count:>3} x {type_token}")
        lines.append("")
    if reports is not None:
        lines.append("checks")
        for report in reports:
            status = "ok" if report.ok else "FAILED"
            lines.append(
                f"    {report.validator}: {status} - {report.checked} checked, {report.passed} passed, "
                f"{len(report.failures)} failed, {len(report.skipped)} skipped ({report.seconds:.1f} s)"
            )
            for note in report.notes:
                lines.append(f"        note: {note}")
            for finding in report.failures:
                lines.append(f"        FAIL {finding.check} {finding.resource}: {finding.message}")
            reasons: dict[tuple[str, str], list[str]] = defaultdict(list)
            for skip, resource_name in report.skipped:
                reasons[(skip.check, skip.reason)].append(resource_name)
            for (check, reason), names in sorted(reasons.items()):
                lines.append(f"        skipped {check} on {len(names)} resource(s): {reason}")
        lines.append("")
    lines.append(f"synth of {result.stack} took {seconds:.2f} s (program {result.seconds:.2f} s)")
    return "\n".join(lines)


def write_out(result: SynthResult, directory: Path, reports: list[CheckReport] | None = None) -> None:
    """Every resource as JSON, every Kubernetes object as a YAML manifest, the cost estimate and, when the
    checks ran, their failures: readable and deterministic (``readable.py``), and what ``synth --against``
    compares between two commits."""
    directory.mkdir(parents=True, exist_ok=True)
    resources = [
        readable_resource(
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "custom": r.custom,
                "inputs": r.inputs,
                "options": r.options,
                "outputs": r.outputs,
            }
        )
        for r in result.resources
    ]
    _write_json(directory / "resources.json", resources)
    _write_json(directory / "outputs.json", parsed_json_strings(result.outputs))
    estimate = monthly_cost(result.settings, result.resources)
    _write_json(
        directory / COST_FILE,
        {
            "layers": estimate.layers,
            "total": estimate.total,
            "unpriced": estimate.unpriced,
            "lines": [dataclasses.asdict(line) for line in estimate.lines],
        },
    )
    if reports is not None:
        findings = sorted(
            (
                {"validator": report.validator, "check": f.check, "resource": f.resource, "message": f.message}
                for report in reports
                for f in report.failures
            ),
            key=lambda finding: (finding["validator"], finding["check"], finding["resource"], finding["message"]),
        )
        _write_json(directory / CHECKS_FILE, {"validators": sorted(r.validator for r in reports), "failures": findings})
    manifests_dir = directory / "manifests"
    manifests_dir.mkdir(exist_ok=True)
    for resource in result.kubernetes_objects():
        manifest = manifest_of(resource)
        filename = object_name(manifest).replace("/", "_") + ".yaml"
        (manifests_dir / filename).write_text(yaml_text(manifest))


def _write_json(path: Path, document: object) -> None:
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
