"""What counts as stateful: the resource types whose replacement loses data, and the properties that replace
them. Derived from the one table of replacing properties (``replacing.py``: every type the program declares,
with where each list comes from), so that the policy pack (which protects these types), synth's replacement
guard and the review diff share one list.
"""

from __future__ import annotations

from typing import Final

from silhouette_infra.compliance.replacing import REPLACING

REPLACING_PROPERTIES: Final[dict[str, tuple[str, ...]]] = {
    type_token: entry.properties for type_token, entry in REPLACING.items() if entry.stateful
}

STATEFUL_TYPES: Final = frozenset(REPLACING_PROPERTIES)
