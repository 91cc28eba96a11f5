"""The validators synth and the tests run on every stack: strict Kubernetes schemas, checkov and the
compliance policy pack."""

from __future__ import annotations

from silhouette_infra.synth.checks.base import CheckReport
from silhouette_infra.synth.engine.run import SynthResult


def run_checks_many(results: list[SynthResult]) -> dict[str, list[CheckReport]]:
    """Every validator over several stacks; checkov runs once for all of them (its start-up dominates),
    and the schemas are checked while it scans."""
    from silhouette_infra.synth.checks import checkov

    scan = checkov.start_many({result.stack: result.resources for result in results})
    from silhouette_infra.synth.checks import kubernetes_schema, policy  # imported while checkov scans

    schema_reports = {result.stack: kubernetes_schema.run(result) for result in results}
    policy_reports = {result.stack: policy.run(result) for result in results}
    checkov_reports = scan.reports()
    return {
        result.stack: [
            schema_reports[result.stack],
            policy_reports[result.stack],
            *checkov_reports[result.stack].values(),
        ]
        for result in results
    }


def run_checks(result: SynthResult) -> list[CheckReport]:
    """Every validator over one stack."""
    return run_checks_many([result])[result.stack]
