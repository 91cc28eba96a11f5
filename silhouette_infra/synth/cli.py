"""Offline tools of the Silhouette Pulumi program, with no cloud account and no Pulumi CLI.

synth runs a stack's real program under Pulumi's mocks, prints per layer what it declares and checks it;
synth --against REF compares it with the same stack at a git ref (the offline review of a pull request);
docs regenerates the README's configuration reference and loadtest/slo.json from the settings.
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import cache
from pathlib import Path

from silhouette_infra.synth.acknowledgements import ACKNOWLEDGEMENTS_FILE


def _synth(args: argparse.Namespace) -> int:
    if args.against:
        return _review(args)
    if args.format != "text" or args.acknowledgements:
        print("synth: --format and --acknowledgements go with --against REF", file=sys.stderr)
        return 2
    # One short-lived command: no cyclic garbage collection while it runs, the checks after the
    # program included (they gain as much).
    from silhouette_infra.synth.engine.run import cyclic_gc_paused

    with cyclic_gc_paused():
        if args.program == "bootstrap":
            return _synth_bootstrap(args)
        return _synth_without_cyclic_gc(args)


def _synth_bootstrap(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    from silhouette_infra.bootstrap.settings import BootstrapSettingsError
    from silhouette_infra.synth.bootstrap import check, render, run_bootstrap
    from silhouette_infra.synth.engine.stack_file import StackFileError

    if args.out:
        print("--out is for the platform's stacks; the bootstrap prints its summary only", file=sys.stderr)
        return 2
    try:
        result = run_bootstrap(args.stack)
    except (StackFileError, BootstrapSettingsError) as error:
        print(f"bootstrap: {error}", file=sys.stderr)
        return 2
    report = None if args.no_checks else check(result)
    print(render(result, report, started))
    return 0 if report is None or report.ok else 1


def _synth_without_cyclic_gc(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    from silhouette_infra.synth.engine import run_stack
    from silhouette_infra.synth.engine.stack_file import StackFileError
    from silhouette_infra.validation.loader import SettingsError

    if not args.no_checks:
        from silhouette_infra.synth.checks import checkov

        checkov.prewarm()  # checkov imports itself while the program runs
    try:
        result = run_stack(args.stack)
    except (StackFileError, SettingsError) as error:
        print(error, file=sys.stderr)
        return 2
    # Only now: the summary imports the layers' modules for their facts, which a refused stack file never needs.
    from silhouette_infra.synth.summary import render, write_out

    reports = None
    if not args.no_checks:
        from silhouette_infra.synth.checks import run_checks

        reports = run_checks(result)
    if args.out:
        write_out(result, Path(args.out) / args.stack, reports)
    print(render(result, reports, time.perf_counter() - started))
    if args.out:
        print(f"wrote {Path(args.out) / args.stack}/resources.json, outputs.json and manifests/")
    return 0 if reports is None or all(report.ok for report in reports) else 1


def _review(args: argparse.Namespace) -> int:
    """``synth --against REF``: exit 0, 1 when a stateful resource would be deleted or replaced without an
    acknowledgement, 2 on bad input (unknown ref, dirty tree, failing program, invalid acknowledgements)."""
    # Only the light modules: the synths run in subprocesses, so this process leaves both cores to them.
    from silhouette_infra.synth.acknowledgements import AcknowledgementError, load_acknowledgements
    from silhouette_infra.synth.against import PROJECT_ROOT, ReviewError, review_against
    from silhouette_infra.synth.review_report import render_markdown, render_text, verdict

    acknowledgements_file = Path(args.acknowledgements) if args.acknowledgements else None
    try:
        acknowledgements = load_acknowledgements(acknowledgements_file or PROJECT_ROOT / ACKNOWLEDGEMENTS_FILE)
        compared = review_against(args.stack, args.against, checks=not args.no_checks)
    except ReviewError as error:
        print(f"synth --against: {error}", file=sys.stderr)
        return 2
    except AcknowledgementError as error:
        print(error, file=sys.stderr)
        return 2
    result = verdict(compared.review, acknowledgements)
    markdown = render_markdown(compared.review, result)
    print(markdown if args.format == "markdown" else render_text(compared.review, result))
    if args.out:
        path = Path(args.out) / f"{args.stack}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(markdown)
        print(f"wrote {path}", file=sys.stderr)
    print(
        f"review of {args.stack} took {compared.seconds:.1f} s ({compared.synthesised} side(s) synthesised in "
        f"{compared.synth_seconds:.1f} s, {2 - compared.synthesised} from the cache of earlier reviews)",
        file=sys.stderr,
    )
    return 0 if result.ok else 1


def _docs(args: argparse.Namespace) -> int:
    from silhouette_infra.synth import loadtest
    from silhouette_infra.synth.docs import README, render_reference, update_readme

    if args.print:
        print(render_reference())
        return 0
    changed = update_readme(README)
    print(f"{README.name}: configuration reference {'updated' if changed else 'already up to date'}")
    changed = loadtest.update()
    print(f"loadtest/{loadtest.SLO_JSON.name}: {'updated' if changed else 'already up to date'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = args.handler
    return int(handler(args))


@cache
def _parser() -> argparse.ArgumentParser:
    """Built once per process (parsing does not change it): each build looks up argparse's translations on
    disk, some 2.5 ms, and the tests call ``main`` hundreds of times."""
    parser = argparse.ArgumentParser(
        prog="python -m silhouette_infra",
        description=__doc__,
        epilog="From the repository root: 'make synth STACK=staging' runs synth with every check (STACK=production "
        "too), 'make test' runs ruff, mypy and the test suite.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    synth = commands.add_parser("synth", help="run a stack offline under mocks and check what it declares")
    synth.add_argument(
        "--program",
        choices=["platform", "bootstrap"],
        default="platform",
        help="the platform (Pulumi.<stack>.yaml, the default) or the bootstrap (bootstrap/Pulumi.<stack>.yaml)",
    )
    synth.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml)")
    synth.add_argument(
        "--out",
        help="write resources.json, outputs.json, cost.json, checks.json and Kubernetes manifests under OUT/<stack>; "
        "with --against, the markdown review to OUT/<stack>.md",
    )
    synth.add_argument("--no-checks", action="store_true", help="skip the validators (settings are still validated)")
    synth.add_argument(
        "--against",
        metavar="REF",
        help="review: synthesise the stack at git REF and in the (clean) working tree and print what changes; "
        "exit 1 when a stateful resource is deleted or replaced without an acknowledgement",
    )
    synth.add_argument(
        "--format", choices=["text", "markdown"], default="text", help="with --against: text, or the PR comment"
    )
    synth.add_argument(
        "--acknowledgements",
        metavar="FILE",
        help="with --against: the acknowledged deletions and replacements "
        f"(default: {ACKNOWLEDGEMENTS_FILE} at the repository root)",
    )
    synth.set_defaults(handler=_synth)
    docs = commands.add_parser(
        "docs", help="regenerate the README's configuration reference and loadtest/slo.json from the settings"
    )
    docs.add_argument("--print", action="store_true", help="print the reference instead of updating README.md")
    docs.set_defaults(handler=_docs)
    return parser
