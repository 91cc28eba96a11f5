"""The offline review of a pull request, `synth --against REF` (issue 12, part 3): what a change adds, removes,
changes and replaces, as text and as the PR comment, and an exit code that stops a change deleting or
replacing a stateful resource unless a committed acknowledgement says why.

The end-to-end tests build a git repository of their own from this working tree with a few commits (a
harmless setting, a change that replaces the RDS instance, its acknowledgement, a broken stack file) and run
the real command in it, each review once per module. The command synthesises two commits itself (one in the
repository, one in a temporary worktree), a few seconds each; the others are this working tree's code with
another stack file, whose synths the review cache is given from the session's runs (``seed``)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from silhouette_infra.synth import against
from silhouette_infra.synth.acknowledgements import Acknowledgement, AcknowledgementError, load_acknowledgements
from silhouette_infra.synth.checks import checkov
from silhouette_infra.synth.diff import (
    MISSING,
    CostDelta,
    FindingsDelta,
    Review,
    dotted,
    findings_delta,
    layer_of_urn,
    list_items_removed_and_added,
    property_changes,
    replaces,
    resource_change,
    resource_changes,
)
from silhouette_infra.synth.engine.stack_file import read_stack_config
from silhouette_infra.synth.readable import computed_outputs, parsed_json_strings, readable_resource, yaml_text
from silhouette_infra.synth.review_report import marker, render_markdown, render_text, verdict
from silhouette_infra.synth.summary import write_out
from tests.support import commit_edit, copy_of_the_project, git, synth

RDS = "aws:rds/instance:Instance"
STACK_FILE = "Pulumi.staging.yaml"
POSTGRES_SETTINGS = '  silhouette:postgres:\n    major_version: "17"\n'
MODELS_FILE = "silhouette_infra/settings/models.py"
RETENTION_FIELD = "backup_retention_days: int = Field(14, ge=1, le=35,"


# ---------------------------------------------------------------- end to end, in a repository of our own


@dataclass(frozen=True)
class ReviewRun:
    returncode: int
    stdout: str
    stderr: str
    markdown: str


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """base -> harmless (a PostgreSQL setting updated in place) -> replaced (the master user name, which
    RDS cannot change: a new instance) -> acknowledged (the replacement's URN in the committed file); and a
    branch from harmless whose code refuses that setting's value (a lower maximum).

    base and harmless differ from this working tree only by their stack file: the review cache is given their
    synths from this process's runs (``seed``). The command synthesises replaced itself (in the repository),
    and broken in a temporary worktree, where only that commit's own code fails."""
    repo = copy_of_the_project(tmp_path_factory.mktemp("review") / "repo")
    scratch = tmp_path_factory.mktemp("seeds")
    git(repo, "tag", "base")
    seed(repo, "base", scratch)
    commit_edit(
        repo, STACK_FILE, POSTGRES_SETTINGS, POSTGRES_SETTINGS + "    backup_retention_days: 10\n", "longer PITR"
    )
    git(repo, "tag", "harmless")
    seed(repo, "harmless", scratch)
    commit_edit(
        repo,
        "silhouette_infra/data/postgres.py",
        'MASTER_USERNAME = "silhouette_admin"',
        'MASTER_USERNAME = "silhouette_owner"',
        "rename the master user",
    )
    git(repo, "tag", "replaced")
    git(repo, "checkout", "--quiet", "harmless")
    commit_edit(repo, MODELS_FILE, RETENTION_FIELD, RETENTION_FIELD.replace("le=35", "le=5"), "a lower maximum")
    git(repo, "tag", "broken")
    return repo


def seed(repo: Path, tag: str, scratch: Path) -> None:
    """The review cache of ``repo`` holds the synth (``--no-checks``) of ``tag``, the commit checked out, written
    as ``synth --out`` writes it from the session's run of its stack file: its code is this working tree's, the
    code this process runs. Were that not what the command's own synth of the commit writes, the reviews below
    would report changes that are not there."""
    config = read_stack_config(repo / STACK_FILE)
    write_out(synth("staging", config), scratch / tag)
    cache = against.SynthCache(repo)
    cache.put(cache.key(git(repo, "rev-parse", tag), "staging", checks=False), scratch / tag)


def review(repo: Path, at: str, against: str, *options: str) -> ReviewRun:
    git(repo, "checkout", "--quiet", at)
    (repo / "review" / "staging.md").unlink(missing_ok=True)
    command = [sys.executable, "-m", "silhouette_infra", "synth", "--stack", "staging", "--no-checks"]
    completed = subprocess.run(
        [*command, "--against", against, "--out", "review", *options],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    written = repo / "review" / "staging.md"
    return ReviewRun(
        completed.returncode, completed.stdout, completed.stderr, written.read_text() if written.exists() else ""
    )


@pytest.fixture(scope="module")
def harmless(repository: Path) -> ReviewRun:
    return review(repository, "harmless", "base")


@pytest.fixture(scope="module")
def replaced(repository: Path) -> ReviewRun:
    """Synthesises the head, ``replaced``, in the repository."""
    return review(repository, "replaced", "harmless")


@pytest.fixture(scope="module")
def reverted(repository: Path, replaced: ReviewRun) -> ReviewRun:
    """harmless reviewed against replaced: the rename undone, with ``replaced`` (synthesised as a head) the base."""
    return review(repository, "harmless", "replaced")


@pytest.fixture(scope="module")
def broken(repository: Path) -> ReviewRun:
    """Starts the synth of ``broken`` in a temporary worktree."""
    return review(repository, "harmless", "broken")


@pytest.fixture(scope="module")
def acknowledged(repository: Path, replaced: ReviewRun) -> ReviewRun:
    """The replacement again, with its URN (copied from the failed review, as a user would) acknowledged."""
    urn = next(line.split(": ", 1)[1] for line in replaced.stdout.splitlines() if line.startswith("NOT ACKNOWLEDGED"))
    git(repository, "checkout", "--quiet", "replaced")
    document = {"acknowledgements": [{"urn": urn, "reason": "the test database holds nothing to keep"}]}
    (repository / "review-acknowledgements.yaml").write_text(yaml.safe_dump(document))
    git(repository, "commit", "--quiet", "--all", "--message", "acknowledge the replacement")
    git(repository, "tag", "acknowledged")
    return review(repository, "acknowledged", "harmless")


def test_a_setting_updated_in_place_passes_and_names_the_property(harmless: ReviewRun) -> None:
    assert harmless.returncode == 0, f"review of a harmless change exited {harmless.returncode}:\n{harmless.stderr}"
    text = harmless.stdout
    assert f"~ update {RDS} postgres in silhouette:data:Postgres [stateful]" in text, text
    assert "      backupRetentionPeriod:\n    -   7\n    +   10" in text, text
    assert "resources: 1 updated, " in text, f"only the RDS instance changes:\n{text}"
    assert "replaces" not in text, f"a backup retention change replaces nothing:\n{text}"
    assert "checks: checks were not run (--no-checks)" in text, text
    assert "OK: no stateful resource is deleted or replaced" in text, text


def test_the_markdown_comment_starts_with_its_marker_and_shows_the_diff(harmless: ReviewRun) -> None:
    markdown = harmless.markdown
    assert markdown.splitlines()[0] == marker("staging") == "<!-- silhouette-review:staging -->", markdown[:200]
    assert "### Offline review of `staging`" in markdown, markdown
    assert f"| ~ update | `postgres` | `{RDS}` | silhouette:data:Postgres |" in markdown, markdown
    assert "```diff\n  backupRetentionPeriod:\n-   7\n+   10\n```" in markdown, markdown
    assert ":white_check_mark:" in markdown, markdown


def test_a_commit_synthesised_by_an_earlier_review_comes_from_the_cache(
    replaced: ReviewRun, reverted: ReviewRun
) -> None:
    """The replacement's review synthesised its head; undoing it reviews against that commit: a commit's synth is
    kept whatever side it was on. Undoing the rename replaces the database again, so that review fails too."""
    assert "(1 side(s) synthesised" in replaced.stderr and "1 from the cache" in replaced.stderr, replaced.stderr
    assert "(0 side(s) synthesised" in reverted.stderr and "2 from the cache" in reverted.stderr, reverted.stderr
    assert reverted.returncode == 1, f"exit {reverted.returncode}:\n{reverted.stdout}"
    assert '      username  (replaces):\n    -   "silhouette_owner"\n    +   "silhouette_admin"' in reverted.stdout


def test_committing_an_acknowledgement_synthesises_nothing_again(acknowledged: ReviewRun) -> None:
    """The acknowledgement commit differs from the replacement's only by review-acknowledgements.yaml, which the
    synth never reads: both sides come from the cache."""
    assert "(0 side(s) synthesised" in acknowledged.stderr and "2 from the cache" in acknowledged.stderr, (
        acknowledged.stderr
    )


def test_replacing_the_database_fails_and_says_which_property_replaces_it(replaced: ReviewRun) -> None:
    assert replaced.returncode == 1, (
        f"replacing RDS must fail the review, exit {replaced.returncode}:\n{replaced.stderr}"
    )
    text = replaced.stdout
    assert f"+- replace {RDS} postgres in silhouette:data:Postgres [stateful]" in text, text
    # The head was synthesised by the command in a process of its own (its own hash seed), the base in this one:
    # nothing but the renamed user differs, so the program declares the same thing whichever process runs it.
    [summary] = [line for line in text.splitlines() if line.startswith("resources: ")]
    assert re.fullmatch(r"resources: 1 replaced, \d+ unchanged", summary), f"only the database changes: {summary}"
    assert '      username  (replaces):\n    -   "silhouette_admin"\n    +   "silhouette_owner"' in text, text
    assert f"NOT ACKNOWLEDGED replace: urn:pulumi:staging::silhouette::silhouette:data:Postgres${RDS}::postgres" in text
    assert "FAILED: 1 stateful resource(s) deleted or replaced without an acknowledgement" in text, text
    assert ":x:" in replaced.markdown and "| +- replace :warning: | `postgres` |" in replaced.markdown, (
        replaced.markdown
    )


def test_an_acknowledged_replacement_passes_and_shows_the_reason(acknowledged: ReviewRun) -> None:
    assert acknowledged.returncode == 0, (
        f"exit {acknowledged.returncode}:\n{acknowledged.stdout}\n{acknowledged.stderr}"
    )
    assert "acknowledged replace: urn:pulumi:staging::" in acknowledged.stdout, acknowledged.stdout
    assert "(the test database holds nothing to keep)" in acknowledged.stdout, acknowledged.stdout


def test_a_ref_whose_program_fails_is_one_line_and_exit_2(broken: ReviewRun) -> None:
    """The worktree runs the ref's code: this working tree's accepts the stack file, broken's refuses it."""
    run = broken
    assert run.returncode == 2, f"exit {run.returncode}:\n{run.stdout}\n{run.stderr}"
    assert run.stderr.startswith("synth --against: the program fails at broken ("), run.stderr
    assert "backup_retention_days" in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert run.stderr.count("\n") == 1, f"one line expected:\n{run.stderr}"


@pytest.mark.parametrize(
    ("setup", "against", "expected"),
    [
        ("none", "no-such-ref", "synth --against: unknown git ref 'no-such-ref'"),
        ("dirty", "base", "synth --against: the working tree has uncommitted changes (1 path(s), first: M README.md)"),
        ("bad-acknowledgements", "base", "review-acknowledgements.yaml: entry 1: 'reason' must say why"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(repository: Path, setup: str, against: str, expected: str) -> None:
    git(repository, "checkout", "--quiet", "harmless")
    readme = repository / "README.md"
    acknowledgements = repository / "review-acknowledgements.yaml"
    original = readme.read_text(), acknowledgements.read_text()
    if setup == "dirty":
        readme.write_text(original[0] + "\nan uncommitted line\n")
    if setup == "bad-acknowledgements":
        acknowledgements.write_text(
            yaml.safe_dump({"acknowledgements": [{"urn": "urn:pulumi:a::b::c::d", "reason": ""}]})
        )
    try:
        run = review(repository, "harmless", against)
    finally:
        readme.write_text(original[0])
        acknowledgements.write_text(original[1])
    assert run.returncode == 2, f"{setup}: exit {run.returncode}\n{run.stdout}\n{run.stderr}"
    assert run.stderr.startswith(expected), f"{setup}: {run.stderr}"
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr, f"{setup}: one line expected:\n{run.stderr}"


def test_the_temporary_worktree_is_removed(repository: Path, broken: ReviewRun) -> None:
    worktrees = git(repository, "worktree", "list", "--porcelain")
    assert worktrees.count("worktree ") == 1, f"a review left a worktree behind:\n{worktrees}"


# ---------------------------------------------------------------- the pure parts


def _record(urn_name: str, inputs: dict[str, object], type_token: str = "aws:iam/role:Role", **options: object):  # type: ignore[no-untyped-def]
    return {
        "urn": f"urn:pulumi:staging::silhouette::silhouette:keys:Keys${type_token}::{urn_name}",
        "type": type_token,
        "name": urn_name,
        "custom": True,
        "inputs": inputs,
        "options": {"protect": False, **options},
        "outputs": {},
    }


def test_policies_are_compared_as_documents_not_strings() -> None:
    statement = {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}
    before: dict[str, Any] = {"Version": "2012-10-17", "Statement": [statement]}
    reordered = json.dumps(before, sort_keys=True, indent=4)
    assert resource_change(_record("r", {"policy": json.dumps(before)}), _record("r", {"policy": reordered})) is None
    after = {**before, "Statement": [{**before["Statement"][0], "Action": ["s3:GetObject", "s3:PutObject"]}]}
    change = resource_change(_record("r", {"policy": json.dumps(before)}), _record("r", {"policy": json.dumps(after)}))
    assert change is not None and [c.name for c in change.changes] == ["policy.Statement[0].Action"], change
    assert list_items_removed_and_added(["s3:GetObject"], ["s3:GetObject", "s3:PutObject"]) == ([], ["s3:PutObject"])


def test_property_changes_name_each_leaf() -> None:
    changes = property_changes({"a": {"b": 1, "c": [1, 2]}, "gone": 1}, {"a": {"b": 2, "c": [1, 3]}, "new": "x"})
    assert [(dotted(c.path), c.old, c.new) for c in changes] == [
        ("a.b", 1, 2),
        ("a.c[1]", 2, 3),
        ("gone", 1, MISSING),
        ("new", MISSING, "x"),
    ]


@pytest.mark.parametrize(
    ("type_token", "path", "replace_on_changes", "expected"),
    [
        (RDS, ("username",), [], True),
        (RDS, ("backupRetentionPeriod",), [], False),
        ("aws:eks/nodeGroup:NodeGroup", ("launchTemplate", "id"), [], True),
        ("aws:eks/nodeGroup:NodeGroup", ("launchTemplate", "version"), [], False),
        ("aws:eks/nodeGroup:NodeGroup", ("launchTemplate",), [], True),  # the whole block appears or goes
        ("aws:mq/broker:Broker", ("encryptionOptions", "kmsKeyId"), [], True),
        ("kubernetes:apps/v1:Deployment", ("metadata", "name"), [], True),
        ("kubernetes:apps/v1:Deployment", ("spec", "replicas"), [], False),
        ("kubernetes:apps/v1:Deployment", ("spec", "replicas"), ["spec.replicas"], True),
        ("aws:iam/role:Role", ("tags", "Name"), ["*"], True),
        ("silhouette:keys:Keys", ("anything",), [], False),
    ],
)
def test_replacement_classification(
    type_token: str, path: tuple[str, ...], replace_on_changes: list[str], expected: bool
) -> None:
    assert replaces(type_token, path, replace_on_changes) is expected, f"{type_token} {dotted(path)}"


def test_deleted_created_and_moved_resources() -> None:
    kept, gone, moved_old = _record("kept", {"x": 1}), _record("gone", {}), _record("old-name", {"x": 1})
    moved_new = _record("new-name", {"x": 1}, aliases=[moved_old["urn"]])
    added = _record("added", {})
    changes, unchanged = resource_changes([kept, gone, moved_old], [kept, moved_new, added])
    assert unchanged == 1 and [(c.action, c.name, c.moved_from) for c in changes] == [
        ("delete", "gone", ""),
        ("update", "new-name", moved_old["urn"]),
        ("create", "added", ""),
    ], changes


def test_a_deleted_stateful_resource_needs_an_acknowledgement_of_its_stack() -> None:
    bucket = _record("audit", {"bucket": "b"}, "aws:s3/bucket:Bucket")
    changes, _ = resource_changes([bucket], [])
    review_ = Review("staging", "main (1)", "pr (2)", tuple(changes), CostDelta(None, None), FindingsDelta(note="-"))
    assert [c.urn for c in verdict(review_, []).blocking] == [bucket["urn"]]
    other_stack = Acknowledgement(bucket["urn"].replace(":staging::", ":production::"), "not this stack's")
    unused = Acknowledgement(_record("other", {})["urn"], "an old replacement, merged")
    result = verdict(review_, [Acknowledgement(bucket["urn"], "emptied first"), other_stack, unused])
    assert result.ok and result.unused == (unused,), result
    text = render_text(review_, result)
    assert "acknowledged delete: " in text and "unused acknowledgement" in text, text
    assert render_markdown(review_, result).startswith(marker("staging") + "\n"), "marker first"


def test_a_provider_change_counts_as_a_replacement() -> None:
    before = _record("key", {}, "aws:kms/key:Key", provider="urn:a::provider-1")
    after = _record("key", {}, "aws:kms/key:Key", provider="urn:b::provider-2")
    change = resource_change(before, after)
    assert change is not None and change.action == "replace" and change.loses_data, change


def test_new_and_resolved_findings() -> None:
    def finding(check: str) -> dict[str, str]:
        return {"validator": "checkov_aws", "check": check, "resource": "aws_s3_bucket.audit", "message": "m"}

    delta = findings_delta(
        {"failures": [finding("CKV_1"), finding("CKV_2")]}, {"failures": [finding("CKV_2"), finding("CKV_3")]}, ""
    )
    assert [f["check"] for f in delta.new] == ["CKV_3"] and [f["check"] for f in delta.resolved] == ["CKV_1"]
    assert findings_delta(None, {"failures": []}, "not run").note == "not run"


def test_layer_of_a_urn() -> None:
    assert layer_of_urn(f"urn:pulumi:s::p::silhouette:data:Postgres${RDS}::postgres") == "silhouette:data:Postgres"
    assert layer_of_urn("urn:pulumi:s::p::pulumi:providers:aws::aws") == "providers"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("acknowledgements: {}", "review-acknowledgements.yaml: 'acknowledgements' must be a list"),
        ("other: []", "review-acknowledgements.yaml: expected one key, 'acknowledgements'"),
        (
            "acknowledgements: [{urn: x, reason: long enough reason here}]",
            "review-acknowledgements.yaml: entry 1: 'urn'",
        ),
        (
            "acknowledgements: [{urn: 'urn:pulumi:s::p::t::n'}]",
            "review-acknowledgements.yaml: entry 1: expected exactly",
        ),
        ("acknowledgements: [", "review-acknowledgements.yaml: not valid YAML"),
    ],
)
def test_invalid_acknowledgements_name_the_file_and_entry(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "review-acknowledgements.yaml"
    path.write_text(content)
    with pytest.raises(AcknowledgementError) as raised:
        load_acknowledgements(path)
    assert str(raised.value).startswith(expected), str(raised.value)


def test_the_worktree_synth_finds_checkov_by_the_same_variable() -> None:
    assert against.CHECKOV_ENV_VAR == checkov.CHECKOV_ENV_VAR, "synth/against.py and checks/checkov.py disagree"


def test_the_committed_acknowledgements_file_is_valid() -> None:
    load_acknowledgements(Path(__file__).resolve().parents[1] / "review-acknowledgements.yaml")


# ---------------------------------------------------------------- what synth --out writes


def test_yaml_literal_blocks_round_trip() -> None:
    document = {"b": "line one\nline two\n", "a": "one line", "c": "trailing space \nx"}
    text = yaml_text(document)
    assert "b: |\n  line one\n  line two\n" in text and text.index("a:") < text.index("b:"), text
    assert yaml.safe_load(text) == document


def test_readable_resources_are_idempotent() -> None:
    record = _record("r", {"policy": '{"Statement": []}', "name": "r"})
    record["outputs"] = {"name": "r", "arn": "arn:aws:iam::1:role/r", "policy": '{"Statement": []}'}
    once = readable_resource(record)
    assert once["inputs"]["policy"] == {"Statement": []} and once["outputs"] == {"arn": "arn:aws:iam::1:role/r"}
    assert readable_resource(once) == once
    assert parsed_json_strings("[not json") == "[not json" and computed_outputs({"a": 1}, {"a": 1, "b": 2}) == {"b": 2}
