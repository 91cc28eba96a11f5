"""The committed acknowledgements that let a review through when it deletes or replaces stateful resources.

``review-acknowledgements.yaml`` at the repository root lists each deliberate deletion or replacement by
the resource's URN (which names the stack) and the reason, reviewed with the pull request that makes it::

    acknowledgements:
      - urn: "urn:pulumi:staging::silhouette::...::aws:rds/instance:Instance::postgres"
        reason: "staging database rebuilt from the nightly snapshot (PR #123); no data to keep"

An entry that matches no deletion or replacement is reported (unused: the change is gone, or the URN
has a typo), so that the file does not keep old permissions around.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

ACKNOWLEDGEMENTS_FILE = "review-acknowledgements.yaml"
MIN_REASON_LENGTH = 20  # as for the checks' skips: a reason, not a placeholder


class AcknowledgementError(ValueError):
    """The acknowledgements file is not what the review expects; the message names the file and entry."""


@dataclass(frozen=True)
class Acknowledgement:
    urn: str
    reason: str

    @property
    def stack(self) -> str:
        """``urn:pulumi:<stack>::...`` -> the stack."""
        return self.urn.split("::", 1)[0].removeprefix("urn:pulumi:")


def load_acknowledgements(path: Path) -> list[Acknowledgement]:
    """Every entry of ``path`` (none when the file does not exist), validated."""
    if not path.exists():
        return []
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise AcknowledgementError(f"{path.name}: not valid YAML ({error.__class__.__name__})") from None
    if not isinstance(document, dict) or set(document) - {"acknowledgements"}:
        raise AcknowledgementError(f"{path.name}: expected one key, 'acknowledgements' (a list)")
    entries = document.get("acknowledgements")
    entries = [] if entries is None else entries
    if not isinstance(entries, list):
        raise AcknowledgementError(f"{path.name}: 'acknowledgements' must be a list")
    acknowledgements = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        where = f"{path.name}: entry {number}"
        if not isinstance(entry, dict) or set(entry) != {"urn", "reason"}:
            raise AcknowledgementError(f"{where}: expected exactly the keys 'urn' and 'reason'")
        urn, reason = entry["urn"], entry["reason"]
        if not isinstance(urn, str) or not urn.startswith("urn:pulumi:") or urn.count("::") < 3:
            raise AcknowledgementError(f"{where}: 'urn' must be a Pulumi URN (urn:pulumi:<stack>::...), got {urn!r}")
        if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_LENGTH:
            raise AcknowledgementError(f"{where}: 'reason' must say why, in at least {MIN_REASON_LENGTH} characters")
        if urn in seen:
            raise AcknowledgementError(f"{where}: {urn} is acknowledged twice")
        seen.add(urn)
        acknowledgements.append(Acknowledgement(urn, reason.strip()))
    return acknowledgements
