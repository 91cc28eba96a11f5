"""The figures of the k6 load test (``loadtest/slo.json``), generated from each stack's settings.

``loadtest/api.js`` reads its thresholds and rates from that file only, and ``make docs`` writes it from every
stack file (the thresholds from ``silhouette:observability.slo``, the rates from the throughput targets of
``silhouette:apps.throughput``), so the script cannot keep an objective the alerts or the throughput model no
longer use: ``tests/test_loadtest.py`` fails when the file is stale and when the script differs from the
settings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from silhouette_infra.observability.alerts import availability_budget
from silhouette_infra.settings.models import Settings
from silhouette_infra.synth.engine import known_stacks, stack_config
from silhouette_infra.synth.engine.run import PROJECT_ROOT
from silhouette_infra.validation.loader import load_settings

SLO_JSON = PROJECT_ROOT / "loadtest" / "slo.json"


def figures(settings: Settings) -> dict[str, Any]:
    """What the load test needs of one stack: its API objectives and its throughput targets.

    ``error_rate`` is the API's error budget as the alerts count it: the stricter of the availability and
    error-rate objectives (``availability_budget``).
    """
    slo, targets = settings.observability.slo, settings.apps.throughput
    return {
        "latency_p95_ms": slo.latency_p95_ms,
        "error_rate": availability_budget(slo),
        "api_requests_per_second": targets.api_requests_per_second,
        "workflows_per_hour": targets.workflows_per_hour,
        "workflow_peak_factor": targets.workflow_peak_factor,
    }


def render() -> str:
    stacks = {stack: figures(load_settings(stack, stack_config(stack))) for stack in known_stacks()}
    document = {
        "generated_by": "python -m silhouette_infra docs, from silhouette:observability.slo and "
        "silhouette:apps.throughput of each stack file; do not edit",
        "stacks": stacks,
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def is_current(path: Path = SLO_JSON) -> bool:
    return path.is_file() and path.read_text() == render()


def update(path: Path = SLO_JSON) -> bool:
    """Write the file when it differs; True when it changed."""
    text = render()
    if path.is_file() and path.read_text() == text:
        return False
    path.write_text(text)
    return True
