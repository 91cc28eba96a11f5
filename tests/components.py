"""Declaring one component on its own under the offline engine's mocks (for variants of its settings that
would otherwise need another run of the whole program)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from silhouette_infra.synth.engine import CapturedResource
from silhouette_infra.synth.engine.run import mocked_runtime

T = TypeVar("T")


def declare_alone(build: Callable[[], T], stack: str = "staging") -> tuple[T, list[CapturedResource]]:
    """Run ``build`` (which declares resources) in a fresh mocked Pulumi runtime; its result and every
    resource it registered, with inputs and options."""
    with mocked_runtime(stack) as runtime:
        result = build()
        runtime.settle()
    return result, runtime.monitor.captured
