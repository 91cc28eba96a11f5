"""The RPO table (planning/recovery.py) as synth prints it."""

from __future__ import annotations

from silhouette_infra.planning.recovery import recovery_table
from silhouette_infra.settings.models import Settings


def rpo_lines(settings: Settings) -> list[str]:
    """Per stateful service: its freshest source in the DR region and the data a regional loss costs."""
    target = settings.recovery.rpo_minutes
    scope = f"objective {target} min" if settings.is_production else "no objective outside production"
    lines = [f"recovery points in {settings.aws.dr_region} (planning/recovery.py; {scope})"]
    for row in recovery_table(settings):
        best = row.best
        if best is None:
            lines.append(f"    {row.service}: no recovery source in {settings.aws.dr_region}")
            continue
        line = f"    {row.service}: RPO {best.rpo_minutes:.0f} min - {best.name}"
        if best.transfer_minutes:
            line += f" (+{best.transfer_minutes:.0f} min to reach {settings.aws.dr_region})"
        if best.unbounded:
            line += f"; not bounded by AWS: {', '.join(best.unbounded)}"
        if row.note:
            line += f"; {row.note}"
        lines.append(line)
    return lines
