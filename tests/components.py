"""Declaring one component on its own under the offline engine's mocks (for variants of its settings that
would otherwise need another run of the whole program)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import pulumi
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import wait_for_rpcs

from silhouette_infra.synth.engine import CapturedResource
from silhouette_infra.synth.engine.mocks import AwsLikeMocks, CapturingMonitor

T = TypeVar("T")


def declare_alone(build: Callable[[], T], stack: str = "staging") -> tuple[T, list[CapturedResource]]:
    """Run ``build`` (which declares resources) in a fresh mocked Pulumi runtime; its result and every
    resource it registered, with inputs and options."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        runtime_settings.reset_options(project="silhouette", stack=stack)
        monitor = CapturingMonitor(AwsLikeMocks())
        pulumi.runtime.set_mocks(monitor.aws_mocks, project="silhouette", stack=stack, preview=False, monitor=monitor)
        result = build()
        loop.run_until_complete(wait_for_rpcs())
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    return result, monitor.captured
