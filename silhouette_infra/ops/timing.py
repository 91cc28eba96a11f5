"""Ages, written the way an operator reads them."""

from __future__ import annotations

from datetime import datetime, timedelta


def age_minutes(now: datetime, then: datetime) -> float:
    return (now - then).total_seconds() / 60


def human(minutes: float) -> str:
    """``125`` -> ``2 h 5 min``; ``3000`` -> ``2 d 2 h``."""
    delta = timedelta(minutes=max(minutes, 0))
    days, hours, mins = delta.days, delta.seconds // 3600, (delta.seconds % 3600) // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"
