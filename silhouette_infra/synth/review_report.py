"""The review as text (the terminal, the CI log) and as markdown (the pull request comment), and its verdict."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from silhouette_infra.synth.acknowledgements import ACKNOWLEDGEMENTS_FILE, Acknowledgement
from silhouette_infra.synth.diff import (
    MISSING,
    PropertyChange,
    ResourceChange,
    Review,
    list_items_removed_and_added,
    show,
)

SYMBOL = {"create": "+", "delete": "-", "update": "~", "replace": "+-"}
# GitHub refuses comments over 65,536 characters: the markdown stays below, cutting resource details last.
MARKDOWN_LIMIT = 60_000


def marker(stack: str) -> str:
    """The hidden first line of a stack's pull request comment, which the workflow finds to update it."""
    return f"<!-- silhouette-review:{stack} -->"


@dataclass(frozen=True)
class Verdict:
    """Which deletions and replacements of stateful resources are acknowledged, which are not, and which of
    this stack's acknowledgements match nothing."""

    blocking: tuple[ResourceChange, ...]
    acknowledged: tuple[tuple[ResourceChange, Acknowledgement], ...]
    unused: tuple[Acknowledgement, ...]

    @property
    def ok(self) -> bool:
        return not self.blocking


def verdict(review: Review, acknowledgements: list[Acknowledgement]) -> Verdict:
    mine = {ack.urn: ack for ack in acknowledgements if ack.stack == review.stack}
    blocking, acknowledged, used = [], [], set()
    for change in review.resources:
        if not change.loses_data:
            continue
        ack = mine.get(change.urn) or mine.get(change.moved_from)
        if ack is None:
            blocking.append(change)
        else:
            acknowledged.append((change, ack))
            used.add(ack.urn)
    unused = tuple(ack for urn, ack in mine.items() if urn not in used)
    return Verdict(tuple(blocking), tuple(acknowledged), unused)


def summary_line(review: Review) -> str:
    counts = review.counts()
    parts = [f"{counts[action]} {word}" for action, word in _WORDS if counts[action]]
    return ", ".join([*parts, f"{review.unchanged} unchanged"])


_WORDS = (("delete", "deleted"), ("replace", "replaced"), ("update", "updated"), ("create", "created"))


def cost_line(review: Review) -> str:
    cost = review.cost
    if cost.before is None or cost.after is None:
        return "monthly cost: no estimate on one side (its synth wrote no cost.json)"
    moved = [f"{layer} {_usd(after - before, sign=True)}" for layer, before, after in cost.rows() if before != after]
    change = cost.total_after - cost.total_before
    if not moved:
        return f"monthly cost: {_usd(cost.total_after)}, unchanged"
    before, after = _usd(cost.total_before), _usd(cost.total_after)
    return f"monthly cost: {before} -> {after} ({_usd(change, sign=True)}): {', '.join(moved)}"


def _usd(amount: float, sign: bool = False) -> str:
    text = f"${abs(amount):,.0f}"
    return ("-" if amount < 0 else "+" if sign else "") + text


def change_lines(change: PropertyChange) -> list[str]:
    """One property change as diff lines: a heading, then ``-`` old and ``+`` new."""
    heading = f"  {change.name}" + ("  (replaces)" if change.replaces else "") + ":"
    old, new = change.old, change.new
    if isinstance(old, str) and isinstance(new, str) and ("\n" in old or "\n" in new):
        body = list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=1))[2:]
        return [heading, *(line[0] + "   " + line[1:] if line[:1] in "+- " else "    " + line for line in body)]
    if isinstance(old, list) and isinstance(new, list):
        removed, added = list_items_removed_and_added(old, new)
        return [heading, *(f"-   {show(item)}" for item in removed), *(f"+   {show(item)}" for item in added)]
    lines = [heading]
    if old is not MISSING:
        lines.append(f"-   {show(old)}")
    if new is not MISSING:
        lines.append(f"+   {show(new)}")
    return lines


def _title(change: ResourceChange) -> str:
    tags = [tag for tag, on in (("stateful", change.stateful), ("protected", change.protected)) if on]
    if not change.table_known:
        tags.append("replacing properties unknown: type not in compliance/replacing.py")
    moved = f" (moved from {change.moved_from})" if change.moved_from else ""
    return f"{SYMBOL[change.action]} {change.action} {change.type} {change.name} in {change.layer}{moved}" + (
        f" [{', '.join(tags)}]" if tags else ""
    )


def _verdict_lines(result: Verdict) -> list[str]:
    lines = [f"NOT ACKNOWLEDGED {change.action}: {change.urn}" for change in result.blocking]
    lines += [f"acknowledged {change.action}: {change.urn} ({ack.reason})" for change, ack in result.acknowledged]
    lines += [
        f"unused acknowledgement (no deletion or replacement of it here: remove it): {ack.urn}" for ack in result.unused
    ]
    return lines


def _findings_lines(review: Review) -> list[str]:
    findings = review.findings
    if findings.note:
        return [findings.note]
    if not findings.new and not findings.resolved:
        return ["no new or resolved check failures"]
    return [
        *(f"new: {f['validator']} {f['check']} {f['resource']}: {f['message']}" for f in findings.new),
        *(f"resolved: {f['validator']} {f['check']} {f['resource']}" for f in findings.resolved),
    ]


def _closing(result: Verdict) -> str:
    if result.ok:
        return "OK: no stateful resource is deleted or replaced without an acknowledgement"
    return (
        f"FAILED: {len(result.blocking)} stateful resource(s) deleted or replaced without an acknowledgement in "
        f"{ACKNOWLEDGEMENTS_FILE} (README, 'Reviewing a change offline')"
    )


def render_text(review: Review, result: Verdict) -> str:
    lines = [
        f"review of {review.stack}: {review.head} against {review.base}",
        f"resources: {summary_line(review)}",
        cost_line(review),
        *(f"checks: {line}" for line in _findings_lines(review)),
        "",
    ]
    for change in review.resources:
        lines.append(_title(change))
        for property_change in change.changes:
            lines.extend("    " + line for line in change_lines(property_change))
    if review.resources:
        lines.append("")
    lines.extend(_verdict_lines(result))
    lines.append(_closing(result))
    return "\n".join(lines)


def render_markdown(review: Review, result: Verdict) -> str:
    """The pull request comment: the marker line first, the verdict, cost and checks, then every change."""
    icon = ":white_check_mark:" if result.ok else ":x:"
    head = [
        marker(review.stack),
        f"### Offline review of `{review.stack}`: {review.head} against {review.base}",
        "",
        f"{icon} **{_closing(result)}**",
        "",
        f"Resources: {summary_line(review)}.",
        "",
    ]
    head += [f"- {line}" for line in _verdict_lines(result)] + ([""] if _verdict_lines(result) else [])
    head += [*_markdown_cost(review), "#### Checks", "", *(f"- {line}" for line in _findings_lines(review)), ""]
    if not review.resources:
        return "\n".join([*head, "No resource changes."]) + "\n"
    table = ["#### Changes", "", "| | resource | type | layer |", "|---|---|---|---|"]
    table += [
        f"| {SYMBOL[c.action]} {c.action}{' :warning:' if c.loses_data else ''} | `{c.name}` | `{c.type}` | {c.layer} |"
        for c in review.resources
    ]
    details = [_markdown_details(change) for change in review.resources if change.changes]
    body = "\n".join([*head, *table, ""])
    kept: list[str] = []
    for block in details:
        if len(body) + sum(map(len, kept)) + len(block) > MARKDOWN_LIMIT:
            kept.append(
                f"\n{len(details) - len(kept)} more resource diff(s) cut to fit a comment: run "
                f"`make review BASE=<ref>` or see the job log for all of them.\n"
            )
            break
        kept.append(block)
    return body + "\n" + "".join(kept)


def _markdown_cost(review: Review) -> list[str]:
    cost = review.cost
    estimate = cost_line(review).removeprefix("monthly cost: ")
    lines = ["#### Monthly cost", "", f"{estimate} (list prices, synth/cost.py)"]
    rows = [(layer, before, after) for layer, before, after in cost.rows() if before != after]
    if rows and cost.before is not None and cost.after is not None:
        lines += ["", "| layer | before | after | change |", "|---|---:|---:|---:|"]
        lines += [
            f"| {layer} | {_usd(before)} | {_usd(after)} | {_usd(after - before, sign=True)} |"
            for layer, before, after in rows
        ]
    return [*lines, ""]


def _markdown_details(change: ResourceChange) -> str:
    lines = [line for property_change in change.changes for line in change_lines(property_change)]
    summary = f"{SYMBOL[change.action]} {change.action} <code>{change.name}</code> ({change.type})"
    return "\n".join(["<details>", f"<summary>{summary}</summary>", "", "```diff", *lines, "```", "</details>", ""])
