"""The README's "Upgrading Kubernetes safely" procedure works for every version in the project's table
(issue 10, item 7): set the cluster version, kube-proxy and the cluster autoscaler to one minor, and the
settings validate and the AWS checks pass.

checkov's CKV_AWS_339 knows only the versions of its own release; ``skips.yaml`` defers it to the table
(``settings/versions.py``) cluster by cluster, so a version outside the table still fails.

Cost: each stack runs once per version under mocks (about 1.5 s each once the SDKs are imported): on its own
version, the stack file's run; on the newest of the table, the stack's option run that walks there
(``variants.WALKED_TO_THE_NEWEST``, shared with the tests of its other options); else a run of the walk alone.
Only checkov's ``terraform_plan`` scan runs (the Kubernetes objects are left out of what checkov is given; the
schema and Kubernetes checks of the manifests are not version-specific here and run in every synth). Each
version's scan runs in the session's warm checkov process while the next version's program runs.
"""

from __future__ import annotations

import dataclasses
import datetime
from functools import cache
from pathlib import Path

import pytest

from silhouette_infra.settings.versions import EKS_KUBERNETES_VERSIONS, EKS_STANDARD_SUPPORT_ENDS
from silhouette_infra.synth.checks import checkov
from silhouette_infra.synth.checks.base import CheckReport, Skip, load_skips, resolve_conditions
from silhouette_infra.synth.engine import CapturedResource, SynthResult
from silhouette_infra.synth.engine.manifests import is_kubernetes_object
from silhouette_infra.validation.loader import load_settings
from tests.support import STACKS, synth
from tests.variants import NEWEST_KUBERNETES, WALKED_TO_THE_NEWEST, pins, upgraded_config

# The minor after the newest: outside the table, and too new for checkov's list.
VERSION_OUTSIDE_THE_TABLE = f"1.{int(NEWEST_KUBERNETES.split('.')[1]) + 1}"
CLUSTER = "aws_eks_cluster.eks"
WALKS = [(stack, version) for version in EKS_KUBERNETES_VERSIONS for stack in STACKS]


def walked(stack: str, version: str) -> SynthResult:
    """The run of ``stack`` walked to ``version``: for the newest of the table, the stack's option run that walks
    there (variants.py: the options it adds must pass the same checks); else the stack file with only the walk."""
    if version == NEWEST_KUBERNETES:
        return WALKED_TO_THE_NEWEST[stack]()
    return synth(stack, upgraded_config(stack, version))


def with_cluster_version(resources: list[CapturedResource], version: str) -> list[CapturedResource]:
    """The same resources, the EKS cluster component declaring ``version``."""
    return [
        dataclasses.replace(r, inputs={**r.inputs, "version": version}) if r.type == "eks:index:Cluster" else r
        for r in resources
    ]


@cache
def _aws_reports() -> dict[str, CheckReport]:
    """checkov_aws report by ``<stack>@<version>``, and of production with a cluster version outside the table."""
    checkov.prewarm()  # imports checkov while the first version's programs run
    scans = []
    for number, version in enumerate(EKS_KUBERNETES_VERSIONS):
        declared = {
            stack: [r for r in walked(stack, version).resources if not is_kubernetes_object(r)] for stack in STACKS
        }
        if number == 0:
            declared[f"production-on-{VERSION_OUTSIDE_THE_TABLE}"] = with_cluster_version(
                declared["production"], VERSION_OUTSIDE_THE_TABLE
            )
        scans.append((version, checkov.start_many(declared)))
    return {
        f"{stack}@{version}": reports[checkov.AWS]
        for version, scan in scans
        for stack, reports in scan.reports().items()
    }


# --------------------------------------------------------------------------------------- the table
def test_every_supported_version_has_its_end_of_standard_support_recorded() -> None:
    assert set(EKS_STANDARD_SUPPORT_ENDS) == set(EKS_KUBERNETES_VERSIONS)
    for version, ends in EKS_STANDARD_SUPPORT_ENDS.items():
        assert ends is None or isinstance(ends, datetime.date), f"{version}: a date, or None while AWS publishes none"


# --------------------------------------------------------------------------------------- the walk
@pytest.mark.parametrize(("stack", "version"), WALKS)
def test_settings_accept_every_supported_version_with_matching_add_ons(stack: str, version: str) -> None:
    settings = load_settings(stack, upgraded_config(stack, version))
    assert settings.cluster.kubernetes_version == version
    kube_proxy, autoscaler = pins(stack, version)
    assert settings.cluster.addon_versions.kube_proxy == kube_proxy, f"{stack}@{version}: kube-proxy"
    assert settings.cluster_addons.cluster_autoscaler_image_tag == autoscaler, f"{stack}@{version}: autoscaler"
    assert kube_proxy.startswith(f"v{version}."), f"{stack}@{version}: kube-proxy {kube_proxy} on another minor"


@pytest.mark.checkov
@pytest.mark.parametrize(("stack", "version"), WALKS)
def test_aws_checks_pass_on_every_supported_version(stack: str, version: str) -> None:
    report = _aws_reports()[f"{stack}@{version}"]
    assert report.failures == [], [f"{f.check} {f.resource}: {f.message}" for f in report.failures]
    deferred = [skip for skip, resource in report.skipped if skip.check == "CKV_AWS_339"]
    for skip in deferred:  # where checkov does not know the version yet, the table decides, with its reason
        assert skip.resources == (CLUSTER,)
        assert "silhouette_infra/settings/versions.py" in skip.reason
        assert f"{CLUSTER}: Kubernetes {version} is in EKS_KUBERNETES_VERSIONS" in skip.reason


@pytest.mark.checkov
def test_a_cluster_on_a_version_outside_the_table_keeps_its_checkov_failure() -> None:
    report = _aws_reports()[f"production-on-{VERSION_OUTSIDE_THE_TABLE}@{EKS_KUBERNETES_VERSIONS[0]}"]
    assert [(f.check, f.resource) for f in report.failures] == [("CKV_AWS_339", CLUSTER)]
    assert not any(skip.check == "CKV_AWS_339" for skip, _ in report.skipped)


# --------------------------------------------------------------------------------------- the skip
def test_the_eks_version_skip_covers_only_clusters_whose_version_the_table_lists() -> None:
    [recorded] = [skip for skip in load_skips(checkov.AWS, "production") if skip.check == "CKV_AWS_339"]
    assert recorded.condition == "kubernetes_version_in_settings_table"
    assert not recorded.covers("CKV_AWS_339", CLUSTER), "unresolved, a conditional skip covers nothing"
    planned = {
        "aws_eks_cluster.listed": {"version": NEWEST_KUBERNETES},
        "aws_eks_cluster.unlisted": {"version": VERSION_OUTSIDE_THE_TABLE},
        "aws_eks_cluster.unset": {},
    }
    [resolved] = resolve_conditions([recorded], planned)
    assert resolved.covers("CKV_AWS_339", "aws_eks_cluster.listed")
    assert not resolved.covers("CKV_AWS_339", "aws_eks_cluster.unlisted")
    ends = EKS_STANDARD_SUPPORT_ENDS[NEWEST_KUBERNETES]
    support = f"standard support until {ends.isoformat()}" if ends else "end of standard support not yet recorded"
    assert resolved.reason.endswith(
        f"aws_eks_cluster.listed: Kubernetes {NEWEST_KUBERNETES} is in EKS_KUBERNETES_VERSIONS ({support})"
    )


def test_a_skip_with_an_unknown_condition_is_an_error(tmp_path: Path) -> None:
    skips = tmp_path / "skips.yaml"
    skips.write_text(
        "checkov_aws:\n  - check: CKV_AWS_339\n    when: version_looks_fine\n"
        "    reason: a reason long enough to pass the bar on length\n"
    )
    with pytest.raises(ValueError, match="unknown condition 'version_looks_fine'"):
        load_skips(checkov.AWS, path=skips)


def test_unconditional_skips_resolve_to_themselves() -> None:
    skip = Skip(checkov.AWS, "CKV_AWS_1", ("aws_s3_bucket.*",), "a recorded reason of some length")
    assert resolve_conditions([skip], {}) == [skip]
