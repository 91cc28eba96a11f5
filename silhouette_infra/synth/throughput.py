"""The throughput table (planning/throughput.py) as synth prints it and as the README shows it."""

from __future__ import annotations

from silhouette_infra.planning.throughput import throughput_table
from silhouette_infra.settings.models import Settings
from silhouette_infra.synth.engine.run import stack_config
from silhouette_infra.validation.loader import load_settings

STACKS = ("production", "staging")


def _number(value: float) -> str:
    return f"{value:,.0f}"


def summary_lines(settings: Settings) -> list[str]:
    """The table in synth's report: target, capacity at the declared maximum, headroom, per line."""
    lines = ["throughput (planning/throughput.py; targets and per-pod figures in apps.throughput)"]
    for line in throughput_table(settings):
        lines.append(
            f"    {line.name}: need {_number(line.target)} {line.unit}, "
            f"{'allowed' if line.unit == 'connections' else 'capacity at maximum'} {_number(line.capacity)}, "
            f"headroom {line.headroom_percent:+.0f} % - {line.basis}"
        )
    throughput = settings.apps.throughput
    lines.append(f"    backend figure: {throughput.backend_figure_source}")
    lines.append(f"    worker figure: {throughput.worker_figure_source}")
    return lines


def render_markdown() -> str:
    """The README's table for the committed stacks (their stack files over their profiles)."""
    rows = [
        "| stack | line | needed | at the declared maximum | headroom | how |",
        "|---|---|---|---|---|---|",
    ]
    sources: list[str] = []
    for stack in STACKS:
        settings = load_settings(stack, stack_config(stack))
        for line in throughput_table(settings):
            rows.append(
                f"| {stack} | {line.name} ({line.unit}) | {_number(line.target)} | {_number(line.capacity)} | "
                f"{line.headroom_percent:+.0f} % | {line.basis} |"
            )
        throughput = settings.apps.throughput
        sources.append(
            f"- {stack}: backend {throughput.backend_requests_per_second_per_pod:g} req/s per pod "
            f"({throughput.backend_figure_source}); worker {throughput.worker_workflows_per_minute_per_pod:g} "
            f"workflows/min per pod ({throughput.worker_figure_source})."
        )
    return "\n".join([*rows, "", "Per-pod figures:", "", *sources])
