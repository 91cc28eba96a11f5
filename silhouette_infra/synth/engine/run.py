"""Run the real program for one stack under mocks and return everything it declared."""

from __future__ import annotations

import asyncio
import gc
import os
import runpy
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from silhouette_infra.settings.models import Settings
from silhouette_infra.synth.engine.manifests import is_kubernetes_object
from silhouette_infra.synth.engine.mocks import DEFAULT_REGION, AwsLikeMocks, CapturedResource, CapturingMonitor, _plain
from silhouette_infra.synth.engine.stack_file import known_stacks as stack_file_known_stacks
from silhouette_infra.synth.engine.stack_file import read_stack_config, stack_file
from silhouette_infra.validation.loader import SettingsError, load_settings

PROJECT_ROOT = Path(__file__).resolve().parents[3]
PROJECT_NAME = "silhouette"
T = TypeVar("T")


@dataclass
class SynthResult:
    """What one mocked run of a stack declared."""

    stack: str
    settings: Settings
    resources: list[CapturedResource]
    outputs: dict[str, Any]
    seconds: float
    invokes: list[tuple[str, str]] = field(default_factory=list)  # (token, provider) of every data-source call
    by_urn: dict[str, CapturedResource] = field(init=False)

    def __post_init__(self) -> None:
        self.by_urn = {resource.urn: resource for resource in self.resources}

    def of_type(self, type_token: str) -> list[CapturedResource]:
        return [resource for resource in self.resources if resource.type == type_token]

    def named(self, type_token: str, name: str) -> CapturedResource:
        matches = [resource for resource in self.of_type(type_token) if resource.name == name]
        if len(matches) != 1:
            known = sorted(resource.name for resource in self.of_type(type_token))
            raise KeyError(f"{self.stack}: expected one {type_token} named {name!r}; have {known}")
        return matches[0]

    def children_of(self, parent: CapturedResource) -> list[CapturedResource]:
        return [resource for resource in self.resources if resource.parent_urn == parent.urn]

    def component_of(self, resource: CapturedResource) -> CapturedResource | None:
        """The nearest ``silhouette:*`` component above ``resource``."""
        parent = self.by_urn.get(resource.parent_urn)
        while parent is not None and not parent.type.startswith("silhouette:"):
            parent = self.by_urn.get(parent.parent_urn)
        return parent

    def type_counts(self) -> Counter[str]:
        return Counter(resource.type for resource in self.resources)

    def kubernetes_objects(self) -> list[CapturedResource]:
        return [resource for resource in self.resources if is_kubernetes_object(resource)]

    def aws_resources(self) -> list[CapturedResource]:
        return [resource for resource in self.resources if resource.type.startswith("aws:") and resource.custom]


def stack_config(stack: str) -> dict[str, str]:
    """The config of ``Pulumi.<stack>.yaml`` as the CLI would pass it (``StackFileError`` when it cannot)."""
    return read_stack_config(stack_file(PROJECT_ROOT, stack))


def known_stacks() -> list[str]:
    return stack_file_known_stacks(PROJECT_ROOT)


@dataclass
class MockedRuntime:
    """A fresh Pulumi runtime under the offline mocks: its event loop and the monitor capturing every
    registration (inputs and options)."""

    loop: asyncio.AbstractEventLoop
    mocks: AwsLikeMocks
    monitor: CapturingMonitor

    def settle(self) -> None:
        """Wait for every outstanding registration and invoke."""
        from pulumi.runtime.stack import wait_for_rpcs

        self.loop.run_until_complete(wait_for_rpcs())


@contextmanager
def mocked_runtime(
    stack: str, config: dict[str, str] | None = None, *, region: str = DEFAULT_REGION, project: str = PROJECT_NAME
) -> Iterator[MockedRuntime]:
    """The one place the mocked runtime is set up, for a whole program run and for one component alone.

    Config lives in a ContextVar and falls back to ``PULUMI_CONFIG*`` variables, so both are reset; each
    run gets its own event loop, closed on the way out.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config
    from pulumi.runtime import settings as runtime_settings

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        for variable in [name for name in os.environ if name.startswith("PULUMI_CONFIG")]:
            del os.environ[variable]
        runtime_settings.reset_options(project=project, stack=stack)
        runtime_config.CONFIG.set({})
        runtime_config._SECRET_KEYS.set(set())
        pulumi.runtime.set_all_config(dict(config or {}), [])
        mocks = AwsLikeMocks(primary_region=region)
        monitor = CapturingMonitor(mocks)
        pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
        yield MockedRuntime(loop, mocks, monitor)
    finally:
        loop.close()
        asyncio.set_event_loop(None)


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block; reference counting still frees everything else.

    Importing the SDKs and running the program create some 600,000 objects that all stay alive. Each
    of the collector's full passes walks every one of them and finds next to nothing to free: on
    these machines they took about 2 s of a 5 s production run. Cycles created meanwhile are
    collected as usual once the block is left.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def on_a_stack_of_its_own(function: Callable[[], T]) -> T:
    """``function()`` run in a thread of its own, its result returned and its exception raised here.

    Every resource the SDK registers records the call stack it was declared from (``traceback.extract_stack``,
    for the engine's source positions), and the cost grows with the depth of that stack. Under the Pulumi
    language host the program is at the top of it; called from a test, it sits under some 40 frames of pytest and
    pytest-xdist, which made a run of production about 12 % slower. A thread starts with an empty stack (and an
    empty context: the runtime's ContextVars are set inside, by ``mocked_runtime``); what is declared is the same.
    """
    outcome: list[tuple[bool, Any]] = []

    def target() -> None:
        try:
            outcome.append((True, function()))
        except BaseException as error:
            outcome.append((False, error))

    thread = threading.Thread(target=target, name="pulumi-program", daemon=True)  # Ctrl-C does not wait for it
    thread.start()
    thread.join()
    [(returned, value)] = outcome
    if not returned:
        raise value
    result: T = value
    return result


def run_stack(stack: str, config: dict[str, str] | None = None) -> SynthResult:
    """Run ``__main__.py`` for ``stack`` under mocks, on a stack of its own. ``config`` defaults to the stack
    file's.

    Invalid settings raise ``SettingsError`` from the program itself; ``error.declared`` lists what
    had been registered by then (nothing, if the program validates first as it must).
    """
    with cyclic_gc_paused():
        return on_a_stack_of_its_own(lambda: _run_stack(stack, config))


def _run_stack(stack: str, config: dict[str, str] | None) -> SynthResult:
    import pulumi

    started = time.perf_counter()
    config = stack_config(stack) if config is None else config
    try:
        settings: Settings | None = load_settings(stack, config)
    except SettingsError:
        settings = None  # the program itself refuses these settings, below
    region = settings.aws.region if settings else DEFAULT_REGION
    with mocked_runtime(stack, config, region=region) as runtime:
        try:
            runpy.run_path(str(PROJECT_ROOT / "__main__.py"), run_name="__main__")
        except pulumi.RunError as run_error:
            # The program must refuse bad settings before declaring anything; the tests check this.
            runtime.settle()
            error = run_error.__cause__ if isinstance(run_error.__cause__, SettingsError) else None
            if error is None:
                raise
            error.declared = [resource.urn for resource in runtime.monitor.captured]
            raise error from None
        runtime.settle()
        outputs = _exported(runtime)
    assert settings is not None, "the program declared a stack whose settings the loader refuses"
    return SynthResult(
        stack=stack,
        settings=settings,
        resources=sorted(runtime.monitor.captured, key=lambda resource: resource.urn),
        outputs=outputs,
        seconds=time.perf_counter() - started,
        invokes=list(runtime.mocks.invoked),
    )


@dataclass
class ProgramRun:
    """What one mocked run of a Pulumi program declared and exported."""

    resources: list[CapturedResource]
    outputs: dict[str, Any]
    seconds: float


def run_program(main: Path, *, project: str, stack: str, config: dict[str, str], region: str) -> ProgramRun:
    """Run another Pulumi program of the repository (``main``, e.g. ``bootstrap/__main__.py``) under the same
    mocks, on a stack of its own; a ``pulumi.RunError`` it raises propagates after the runtime settled."""
    with cyclic_gc_paused():
        return on_a_stack_of_its_own(
            lambda: _run_program(main, project=project, stack=stack, config=config, region=region)
        )


def _run_program(main: Path, *, project: str, stack: str, config: dict[str, str], region: str) -> ProgramRun:
    with mocked_runtime(stack, config, region=region, project=project) as runtime:
        started = time.perf_counter()
        try:
            runpy.run_path(str(main), run_name="__main__")
        finally:
            runtime.settle()
        outputs = _exported(runtime)
        return ProgramRun(
            sorted(runtime.monitor.captured, key=lambda resource: resource.urn), outputs, time.perf_counter() - started
        )


def _exported(runtime: MockedRuntime) -> dict[str, Any]:
    """The stack outputs of the program that just ran, resolved."""
    import pulumi

    root = pulumi.runtime.settings.get_root_resource()
    exported = getattr(root, "outputs", {})
    outputs = {name: runtime.loop.run_until_complete(_resolve(value)) for name, value in exported.items()}
    runtime.settle()
    return outputs


async def _resolve(value: Any) -> Any:
    """Resolve an exported value; secrets stay marked so that tests can tell them apart."""
    import pulumi

    output = pulumi.Output.from_input(value)
    resolved = await output.future(with_unknowns=True)
    is_secret = await output.is_secret()
    plain = _plain(resolved)
    return {"__secret__": plain} if is_secret else plain
