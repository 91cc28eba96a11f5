"""AWS Shield Advanced (issue 16, part 3): off by default (the subscription costs $3,000 a month with a one-year
commitment); switched on, it protects the ALB the controller created and the stack's Route 53 zone, and gives
the Shield Response Team its access role and the proactive-engagement contacts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from silhouette_infra.edge import SHIELD_RESPONSE_TEAM, SHIELD_RESPONSE_TEAM_POLICY
from silhouette_infra.synth.engine import SynthResult
from silhouette_infra.validation.loader import SettingsError, load_settings
from tests.support import STACKS, config_with, synth
from tests.variants import SHIELD_CONTACTS, ZONE, production_with_a_hosted_zone, staging_with_an_existing_certificate


def _shield(result: SynthResult) -> list[str]:
    return sorted(f"{r.type}::{r.name}" for r in result.resources if r.type.startswith("aws:shield/"))


@pytest.mark.parametrize("stack", STACKS)
def test_shield_advanced_is_off_by_default(stack: str) -> None:
    result = synth(stack)
    assert result.settings.edge.shield_advanced is False
    assert _shield(result) == [], f"{stack}: Shield Advanced resources without edge.shield_advanced"


def test_switched_on_it_subscribes_and_protects_the_alb_and_the_zone() -> None:
    result = production_with_a_hosted_zone()
    assert _shield(result) == [
        "aws:shield/protection:Protection::shield-alb",
        "aws:shield/protection:Protection::shield-hosted-zone",
        "aws:shield/subscription:Subscription::shield-subscription",
    ]
    subscription = result.named("aws:shield/subscription:Subscription", "shield-subscription")
    assert subscription.inputs["skipDestroy"] is True, "turning the switch off must not try to cancel the year"
    alb = result.named("aws:shield/protection:Protection", "shield-alb")
    (ingress,) = result.of_type("kubernetes:networking.k8s.io/v1:Ingress")
    alb_name = ingress.inputs["metadata"]["annotations"]["alb.ingress.kubernetes.io/load-balancer-name"]
    assert alb.inputs["resourceArn"].startswith("arn:aws:elasticloadbalancing:us-east-1:")
    assert f":loadbalancer/app/{alb_name}/" in alb.inputs["resourceArn"], (
        f"shield-alb protects {alb.inputs['resourceArn']}, not the ALB the Ingress names ({alb_name})"
    )
    zone = result.named("aws:shield/protection:Protection", "shield-hosted-zone")
    assert zone.inputs["resourceArn"] == f"arn:aws:route53:::hostedzone/{ZONE}"
    assert subscription.urn in alb.options["dependencies"], "a protection needs the subscription first"
    lookups = [token for token, _ in result.invokes if token == "aws:lb/getLoadBalancer:getLoadBalancer"]
    assert len(lookups) == 2, "the ALB is looked up by name for the alarms and for Shield"


def test_without_a_hosted_zone_only_the_alb_is_protected() -> None:
    shield = _shield(staging_with_an_existing_certificate())
    assert "aws:shield/protection:Protection::shield-alb" in shield
    assert "aws:shield/protection:Protection::shield-hosted-zone" not in shield


def test_proactive_engagement_sets_the_contacts_and_the_response_team_role() -> None:
    result = staging_with_an_existing_certificate()
    engagement = result.named("aws:shield/proactiveEngagement:ProactiveEngagement", "shield-proactive-engagement")
    assert engagement.inputs["enabled"] is True
    assert [c["emailAddress"] for c in engagement.inputs["emergencyContacts"]] == [
        c["email_address"] for c in SHIELD_CONTACTS
    ]
    assert engagement.inputs["emergencyContacts"][0]["phoneNumber"] == "+14155550100"
    role = result.named("aws:iam/role:Role", "shield-response-team-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": SHIELD_RESPONSE_TEAM}
    attachment = result.named(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "shield-response-team-AWSShieldDRTAccessPolicy"
    )
    assert attachment.inputs["policyArn"] == SHIELD_RESPONSE_TEAM_POLICY
    association = result.named(
        "aws:shield/drtAccessRoleArnAssociation:DrtAccessRoleArnAssociation", "shield-response-team-access"
    )
    assert association.urn in engagement.options["dependencies"], "the contacts need the response team's access"


@pytest.mark.parametrize(
    ("edge", "key", "expected"),
    [
        (
            {"shield_proactive_engagement_contacts": SHIELD_CONTACTS},
            "edge.shield_proactive_engagement_contacts",
            "needs edge.shield_advanced: true",
        ),
        (
            {"shield_advanced": True, "shield_proactive_engagement_contacts": [{"email_address": "a@example.com"}]},
            "edge.shield_proactive_engagement_contacts",
            "at least one contact needs a phone_number",
        ),
        (
            {
                "shield_advanced": True,
                "shield_proactive_engagement_contacts": [
                    {"email_address": "a@example.com", "phone_number": "555-0100"}
                ],
            },
            "edge.shield_proactive_engagement_contacts[0].phone_number",
            "should match pattern '^\\+[1-9]\\d{1,14}$' (got \"555-0100\")",
        ),
    ],
)
def test_bad_shield_settings_name_the_key(edge: dict[str, Any], key: str, expected: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings("staging", config_with("staging", edge=edge))
    message = str(raised.value)
    assert f"silhouette:{key}" in message and expected in message, message
