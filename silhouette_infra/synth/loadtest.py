"""The figures of the k6 load test (``loadtest/slo.json``), generated from each stack's SLO settings.

``loadtest/api.js`` reads its thresholds and rates from that file only, and ``make docs`` writes it from
``silhouette:observability.slo`` of every stack file, so the script cannot keep an objective the alerts no
longer use: ``tests/test_loadtest.py`` fails when the file is stale and when the script's thresholds differ
from the settings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from silhouette_infra.observability.alerts import availability_budget
from silhouette_infra.settings.models import SloSettings
from silhouette_infra.synth.engine import known_stacks, stack_config
from silhouette_infra.synth.engine.run import PROJECT_ROOT
from silhouette_infra.validation.loader import load_settings

SLO_JSON = PROJECT_ROOT / "loadtest" / "slo.json"


def figures(slo: SloSettings) -> dict[str, Any]:
    """What the load test needs of one stack's objectives.

    ``error_rate`` is the API's error budget as the alerts count it: the stricter of the availability and
    error-rate objectives (``availability_budget``).
    """
    return {
        "latency_p95_ms": slo.latency_p95_ms,
        "error_rate": availability_budget(slo),
        "api_requests_per_second": slo.api_requests_per_second,
        "workflows_per_hour": slo.workflows_per_hour,
        "workflow_peak_factor": slo.workflow_peak_factor,
    }


def render() -> str:
    stacks = {stack: figures(load_settings(stack, stack_config(stack)).observability.slo) for stack in known_stacks()}
    document = {
        "generated_by": "python -m silhouette_infra docs, from silhouette:observability.slo of each stack file; "
        "do not edit",
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
