"""Kubernetes resource quantities as numbers (CPU in millicores, memory in MiB)."""

from __future__ import annotations

_MEMORY_UNITS_MIB = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 1024 * 1024}


def cpu_millicores(quantity: str) -> int:
    """'250m' -> 250, '1.5' -> 1500."""
    if quantity.endswith("m"):
        return int(quantity[:-1])
    return round(float(quantity) * 1000)


def memory_mib(quantity: str) -> float:
    """'512Mi' -> 512, '1Gi' -> 1024."""
    for unit, factor in _MEMORY_UNITS_MIB.items():
        if quantity.endswith(unit):
            return float(quantity[: -len(unit)]) * factor
    raise ValueError(f"unsupported memory quantity {quantity!r}")
