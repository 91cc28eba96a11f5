"""docs/compliance.md, the control matrix, is generated from the pack and the stacks (issue 16, part 2): it is never
stale, and every control the project claims has a policy behind it."""

from __future__ import annotations

from silhouette_infra.compliance.controls import CONTROLS, OUT_OF_SCOPE
from silhouette_infra.compliance.pack import POLICIES
from silhouette_infra.synth.compliance_docs import DOCUMENT, STACKS, render
from tests.support import synth


def test_the_control_matrix_is_current() -> None:
    expected = render({stack: synth(stack).resources for stack in STACKS})
    assert DOCUMENT.read_text() == expected, "docs/compliance.md is stale: run `make docs` and commit it"


def test_every_claimed_control_is_implemented_by_a_policy() -> None:
    unimplemented = [control for control in CONTROLS if not any(control in p.controls for p in POLICIES)]
    assert unimplemented == [], f"controls in the matrix with no policy: {unimplemented}"


def test_the_matrix_states_what_infrastructure_cannot_provide() -> None:
    text = DOCUMENT.read_text()
    for topic in ("Erasure", "Business Associate Agreements", "Incident response", "Access reviews"):
        assert any(what.startswith(topic) for what, _ in OUT_OF_SCOPE), topic
        assert f"**{topic}" in text, f"docs/compliance.md does not state {topic!r}"
