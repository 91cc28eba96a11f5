"""Cross-cutting requirements: explicit providers, default tags, components, protection, outputs."""

from __future__ import annotations

import json

import pytest

from silhouette_infra.synth.engine import SynthResult, run_stack
from tests.variants import ALLOWED_ACCOUNT, production_with_a_hosted_zone

PROVIDER = "pulumi:providers:aws"
REQUIRED_TAGS = {"Project", "Environment", "ManagedBy", "CostCenter", "DataClassification"}


def test_every_aws_resource_uses_the_stacks_explicit_provider(stack: SynthResult) -> None:
    """The primary region's provider, or the DR region's for the DR copies (backups, replica buckets)."""
    primary = stack.named(PROVIDER, "aws-primary")
    dr = stack.named(PROVIDER, "aws-dr")
    dr_layers = {"silhouette:backup:Backup", "silhouette:data:Postgres", "silhouette:audit:Audit"}
    for resource in stack.aws_resources():
        provider = resource.options["provider"]
        where = f"{stack.stack}: {resource.type} {resource.name} uses provider {provider!r}"
        if provider == f"{dr.urn}::{dr.id}":
            component = stack.component_of(resource)
            assert component is not None and component.type in dr_layers, where
            assert "dr" in resource.name or "replica" in resource.name, where
        else:
            assert provider == f"{primary.urn}::{primary.id}", where


def test_providers_tag_everything_and_target_the_stack_and_dr_regions(stack: SynthResult) -> None:
    primary = stack.named(PROVIDER, "aws-primary")
    dr = stack.named(PROVIDER, "aws-dr")
    assert primary.inputs["region"] == stack.settings.aws.region
    assert dr.inputs["region"] == stack.settings.aws.dr_region == "us-west-2"
    for provider in (primary, dr):
        tags = json.loads(provider.inputs["defaultTags"])["tags"]
        assert set(tags) >= REQUIRED_TAGS, f"{provider.name}: default tags {sorted(tags)}"
        assert tags["Environment"] == stack.settings.environment
        assert tags["ManagedBy"] == "pulumi"


def test_resources_add_only_their_name_tag(stack: SynthResult) -> None:
    """One tagging mechanism: the provider's default tags. A resource repeating them would drift."""
    for resource in stack.aws_resources():
        tags = resource.inputs.get("tags") or {}
        assert not REQUIRED_TAGS & set(tags), f"{resource.type} {resource.name} sets default tags itself: {tags}"


def test_the_account_is_looked_up_once_through_the_primary_provider(stack: SynthResult) -> None:
    """One STS GetCallerIdentity per run, shared by every layer, on the provider allowed_account_ids pins."""
    primary = stack.named(PROVIDER, "aws-primary")
    lookups = [
        provider for token, provider in stack.invokes if token == "aws:index/getCallerIdentity:getCallerIdentity"
    ]
    assert lookups == [f"{primary.urn}::{primary.id}"], f"{stack.stack}: getCallerIdentity invoked as {lookups}"


def test_allowed_account_ids_pin_the_provider_to_the_configured_account() -> None:
    result = production_with_a_hosted_zone()
    for provider in result.of_type(PROVIDER):
        assert json.loads(provider.inputs["allowedAccountIds"]) == [ALLOWED_ACCOUNT], provider.name


def test_every_resource_belongs_to_a_silhouette_component(stack: SynthResult) -> None:
    for resource in stack.resources:
        if resource.type.startswith(("pulumi:providers:", "silhouette:")):
            continue
        component = stack.component_of(resource)
        assert component is not None, f"{resource.type} {resource.name} is not inside a silhouette:* component"
    for component in stack.resources:
        if component.type.startswith("silhouette:"):
            assert component.type.count(":") == 2 and not component.custom, component.type


@pytest.mark.parametrize("name", ["vpc_id", "public_subnet_ids", "private_subnet_ids", "isolated_subnet_ids"])
def test_network_outputs_are_exported(stack: SynthResult, name: str) -> None:
    value = stack.outputs[name]
    assert value and "<unknown>" not in json.dumps(value), f"{stack.stack}: output {name} = {value!r}"


def test_two_runs_of_a_stack_declare_the_same_thing(staging: SynthResult) -> None:
    """A fresh run after whatever this process ran before (the tests run many): nothing one run leaves behind
    changes the next. Across processes, each with its own hash seed, the review of a replaced database shows
    the same (test_review_diff.py: nothing but the database differs)."""
    again = run_stack("staging")
    assert [(r.urn, r.inputs) for r in again.resources] == [(r.urn, r.inputs) for r in staging.resources]
