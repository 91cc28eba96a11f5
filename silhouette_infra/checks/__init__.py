"""The validators synth and the tests run on every stack: strict Kubernetes schemas and checkov."""

from __future__ import annotations

import time

from silhouette_infra.checks.base import CheckReport
from silhouette_infra.engine.run import SynthResult


def run_checks(result: SynthResult) -> list[CheckReport]:
    """Run every validator on one synthesised stack and return their reports."""
    from silhouette_infra.checks import checkov, kubernetes_schema

    started = time.perf_counter()
    schema = kubernetes_schema.run(result)
    schema.seconds = schema.seconds or time.perf_counter() - started
    return [schema, *checkov.run(result).values()]
