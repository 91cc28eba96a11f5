"""Edge layer (docs/architecture.md layer 7): ACM certificate, WAFv2 web ACL with logging, DNS record.

The committed stacks configure neither a hosted zone nor a certificate ARN, so they run the
``operator_validated`` mode; the other two modes read the option runs of variants.py (production with a
hosted zone, staging with an existing certificate).
"""

from __future__ import annotations

from typing import Any, cast

import pulumi_aws as aws
import pytest
from pydantic import ValidationError

from silhouette_infra.aws.naming import Naming
from silhouette_infra.edge import (
    ALB_HOSTED_ZONE_IDS,
    API_PATH_PREFIX,
    BODY_SIZE_LABEL,
    KEY_ALGORITHM,
    MANAGED_RULE_GROUPS,
    OVERSIZED_BODY_RULE,
    RATE_LIMIT_RULE,
    Edge,
    EdgeArgs,
    alb_hosted_zone_id,
    certificate_mode,
    validation_records,
    waf_log_group_name,
    web_acl_rules,
)
from silhouette_infra.settings.models import EdgeSettings
from silhouette_infra.synth.engine import CapturedResource, SynthResult
from tests.components import declare_alone, stack_context
from tests.support import STACKS, config_with
from tests.variants import (
    EXISTING_CERTIFICATE,
    ZONE,
    production_with_a_hosted_zone,
    staging_with_an_existing_certificate,
)

COMPONENT = "silhouette:edge:Edge"
CERTIFICATE = "aws:acm/certificate:Certificate"
VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
RECORD = "aws:route53/record:Record"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
PROVIDER = "pulumi:providers:aws"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
CERTIFICATE_ANNOTATION = "alb.ingress.kubernetes.io/certificate-arn"
WEB_ACL_ANNOTATION = "alb.ingress.kubernetes.io/wafv2-acl-arn"

# What the capture records for a value the engine does not know yet.
UNKNOWN_MARKERS = ("<unknown>", "pulumi.output.Unknown")


@pytest.fixture(scope="module")
def with_hosted_zone() -> SynthResult:
    return production_with_a_hosted_zone()


@pytest.fixture(scope="module")
def with_existing_certificate() -> SynthResult:
    return staging_with_an_existing_certificate()


def _edge_resources(result: SynthResult) -> list[CapturedResource]:
    return [r for r in result.aws_resources() if (c := result.component_of(r)) is not None and c.type == COMPONENT]


def _of_type(result: SynthResult, type_token: str) -> list[CapturedResource]:
    return [r for r in _edge_resources(result) if r.type == type_token]


def _ingress_annotations(result: SynthResult) -> dict[str, str]:
    """The annotations of the public Ingress, from which the load balancer controller builds the ALB."""
    (ingress,) = result.of_type(INGRESS)
    return dict(ingress.inputs["metadata"]["annotations"])


def _rules(settings: EdgeSettings) -> list[dict[str, Any]]:
    """``web_acl_rules`` as plain data (its TypedDicts type every value as a Pulumi input)."""
    return cast(list[dict[str, Any]], web_acl_rules(settings))


def _is_unknown(value: Any) -> bool:
    return isinstance(value, str) and any(marker in value for marker in UNKNOWN_MARKERS)


# ---------------------------------------------------------------------------------------- pure decisions
def test_alb_alias_zone_is_awss_canonical_zone_of_the_region() -> None:
    """An alias record to an ALB names the ALB's canonical hosted zone, one per region
    (https://docs.aws.amazon.com/general/latest/gr/elb.html)."""
    assert alb_hosted_zone_id("us-east-1") == "Z35SXDOTRQ7X7K"
    assert alb_hosted_zone_id("us-west-2") == "Z1H1FL5HABSF5"
    assert alb_hosted_zone_id("eu-west-1") == "Z32O12XQLNTSW2"
    assert alb_hosted_zone_id("eu-central-1") == "Z215JYRZR1TBD5"
    assert len(set(ALB_HOSTED_ZONE_IDS.values())) == len(ALB_HOSTED_ZONE_IDS), "one zone per region"
    with pytest.raises(ValueError, match=r"mars-north-1.*docs\.aws\.amazon\.com/general/latest/gr/elb\.html"):
        alb_hosted_zone_id("mars-north-1")


@pytest.mark.parametrize("stack_name", STACKS)
def test_every_stack_region_has_an_alb_alias_zone(stack_name: str) -> None:
    from silhouette_infra.validation.loader import load_settings

    region = load_settings(stack_name, config_with(stack_name)).aws.region
    assert alb_hosted_zone_id(region).startswith("Z")


def test_certificate_mode_prefers_the_hosted_zone_then_an_existing_certificate() -> None:
    assert certificate_mode(EdgeSettings(hosted_zone_id=ZONE)) == "dns_validated"
    assert certificate_mode(EdgeSettings(hosted_zone_id=ZONE, certificate_arn=EXISTING_CERTIFICATE)) == "dns_validated"
    assert certificate_mode(EdgeSettings(certificate_arn=EXISTING_CERTIFICATE)) == "existing"
    assert certificate_mode(EdgeSettings()) == "operator_validated"


def test_validation_records_are_acms_cnames_as_plain_data() -> None:
    option = aws.acm.outputs.CertificateDomainValidationOption(
        domain_name="app.example.com",
        resource_record_name="_abc.app.example.com.",
        resource_record_type="CNAME",
        resource_record_value="_def.xyz.acm-validations.aws.",
    )
    assert validation_records([option]) == [
        {
            "domain": "app.example.com",
            "name": "_abc.app.example.com.",
            "type": "CNAME",
            "value": "_def.xyz.acm-validations.aws.",
        }
    ]
    assert validation_records(None) == [], "before ACM answers there is nothing to create"


def test_waf_log_group_name_has_the_prefix_waf_requires() -> None:
    """WAF logs only to CloudWatch Logs groups named aws-waf-logs-*
    (https://docs.aws.amazon.com/waf/latest/developerguide/logging-cw-logs.html)."""
    assert waf_log_group_name(Naming("production")) == "aws-waf-logs-silhouette-production"


def test_rate_limit_below_wafs_minimum_is_refused() -> None:
    """A rate-based rule's limit is 10 to 2,000,000,000 requests per evaluation window
    (https://docs.aws.amazon.com/waf/latest/APIReference/API_RateBasedStatement.html)."""
    with pytest.raises(ValidationError):
        EdgeSettings(waf_rate_limit_per_5min=9)
    (rate_rule,) = [r for r in _rules(EdgeSettings(waf_rate_limit_per_5min=10)) if r["name"] == RATE_LIMIT_RULE]
    assert rate_rule["statement"]["rate_based_statement"]["limit"] == 10


def test_rules_run_managed_groups_then_the_body_exception_then_the_rate_limit() -> None:
    rules = _rules(EdgeSettings())
    assert [r["name"] for r in rules] == [
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesCommonRuleSet",
        OVERSIZED_BODY_RULE,
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesSQLiRuleSet",
        RATE_LIMIT_RULE,
    ]
    assert [r["priority"] for r in rules] == list(range(len(rules))), "unique, in list order"
    assert tuple(r["name"] for r in rules if "override_action" in r) == MANAGED_RULE_GROUPS


# ---------------------------------------------------------------------------------------- committed stacks
def test_certificate_is_requested_with_dns_validation_and_its_cname_exported(stack: SynthResult) -> None:
    """Without a hosted zone the operator creates ACM's CNAME; nothing waits for issuance."""
    (certificate,) = _of_type(stack, CERTIFICATE)
    inputs = certificate.inputs
    assert inputs["domainName"] == stack.settings.edge.domain
    assert (inputs["validationMethod"], inputs["keyAlgorithm"]) == ("DNS", KEY_ALGORITHM)
    assert inputs["options"] == {"certificateTransparencyLoggingPreference": "ENABLED"}
    assert certificate.options["delete_before_replace"] is False, "a new certificate exists before the old goes"
    assert not _of_type(stack, VALIDATION), "a CertificateValidation would hold `pulumi up` until the CNAME exists"
    assert not _of_type(stack, RECORD), "no hosted zone: no Route 53 record"
    assert isinstance(stack.outputs["certificate_validation_records"], list)


def test_the_alb_serves_this_certificate_behind_this_web_acl(stack: SynthResult) -> None:
    (certificate,) = _of_type(stack, CERTIFICATE)
    (web_acl,) = _of_type(stack, WEB_ACL)
    annotations = _ingress_annotations(stack)
    assert annotations[CERTIFICATE_ANNOTATION] == certificate.outputs["arn"]
    assert annotations[WEB_ACL_ANNOTATION] == web_acl.outputs["arn"]


def test_web_acl_is_regional_in_the_stack_region(stack: SynthResult) -> None:
    """An ALB is protected by a REGIONAL web ACL of its own region; CLOUDFRONT is for distributions
    (https://docs.aws.amazon.com/waf/latest/APIReference/API_CreateWebACL.html)."""
    (web_acl,) = _of_type(stack, WEB_ACL)
    assert web_acl.inputs["scope"] == "REGIONAL"
    primary = stack.named(PROVIDER, "aws-primary")
    assert primary.inputs["region"] == stack.settings.aws.region
    for resource in _edge_resources(stack):
        assert resource.options["provider"] == f"{primary.urn}::{primary.id}", f"{resource.name}: primary region"
    assert web_acl.inputs["defaultAction"] == {"allow": {}}


def test_web_acl_applies_the_managed_groups_and_a_per_ip_rate_limit(stack: SynthResult) -> None:
    (web_acl,) = _of_type(stack, WEB_ACL)
    rules = sorted(web_acl.inputs["rules"], key=lambda rule: rule["priority"])
    groups = [r for r in rules if "managedRuleGroupStatement" in r["statement"]]
    assert [g["statement"]["managedRuleGroupStatement"]["name"] for g in groups] == list(MANAGED_RULE_GROUPS)
    for group in groups:
        assert group["overrideAction"] == {"none": {}}, f"{group['name']}: the group's block actions apply"
        assert group["statement"]["managedRuleGroupStatement"]["vendorName"] == "AWS"
    assert rules[-1]["name"] == RATE_LIMIT_RULE, "the rate limit runs after the managed groups"
    assert rules[-1]["action"] == {"block": {}}
    assert rules[-1]["statement"]["rateBasedStatement"] == {
        "limit": stack.settings.edge.waf_rate_limit_per_5min,
        "aggregateKeyType": "IP",
        "evaluationWindowSec": 300,
    }
    for visible in [*rules, web_acl.inputs]:
        config = visible["visibilityConfig"]
        assert config["cloudwatchMetricsEnabled"] and config["sampledRequestsEnabled"], visible.get("name")
        assert config["metricName"]


def test_large_bodies_reach_only_the_api(stack: SynthResult) -> None:
    """The core rule set blocks bodies over 8 KB (SizeRestrictions_BODY); workflow definitions posted
    to the API are larger, so the rule only labels, and a later rule blocks the label outside the API
    (https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html,
    https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-label-match-examples.html)."""
    (web_acl,) = _of_type(stack, WEB_ACL)
    rules = {rule["name"]: rule for rule in web_acl.inputs["rules"]}
    common = rules["AWSManagedRulesCommonRuleSet"]
    assert common["statement"]["managedRuleGroupStatement"]["ruleActionOverrides"] == [
        {"name": "SizeRestrictions_BODY", "actionToUse": {"count": {}}}
    ], "only the body-size rule is relaxed"
    exception = rules[OVERSIZED_BODY_RULE]
    assert exception["priority"] > common["priority"], "labels are visible only to later rules"
    assert exception["action"] == {"block": {}}
    label, outside_api = exception["statement"]["andStatement"]["statements"]
    assert label == {"labelMatchStatement": {"scope": "LABEL", "key": BODY_SIZE_LABEL}}
    assert outside_api["notStatement"]["statement"]["byteMatchStatement"] == {
        "searchString": API_PATH_PREFIX,
        "positionalConstraint": "STARTS_WITH",
        "fieldToMatch": {"uriPath": {}},
        "textTransformations": [{"priority": 0, "type": "NONE"}],
    }


def test_waf_logs_go_to_an_encrypted_aws_waf_logs_group_without_credentials(stack: SynthResult) -> None:
    """WAF's CloudWatch Logs destination must be named aws-waf-logs-*
    (https://docs.aws.amazon.com/waf/latest/developerguide/logging-cw-logs.html)."""
    (log_group,) = _of_type(stack, LOG_GROUP)
    assert log_group.inputs["name"] == f"aws-waf-logs-silhouette-{stack.stack}"
    assert log_group.inputs["kmsKeyId"] == stack.named("aws:kms/key:Key", "logs-key").outputs["arn"]
    assert log_group.inputs["retentionInDays"] == stack.settings.edge.waf_log_retention_days
    (logging,) = _of_type(stack, LOGGING)
    (web_acl,) = _of_type(stack, WEB_ACL)
    assert logging.inputs["resourceArn"] == web_acl.outputs["arn"]
    assert logging.inputs["logDestinationConfigs"] == [log_group.outputs["arn"]]
    assert logging.inputs["redactedFields"] == [
        {"singleHeader": {"name": "authorization"}},
        {"singleHeader": {"name": "cookie"}},
    ]


def test_waf_logs_are_kept_the_configured_time_at_least_a_year(stack: SynthResult) -> None:
    """Request logs are security evidence: a year in both stacks (CKV_AWS_338), as settings say."""
    (logs,) = _of_type(stack, LOG_GROUP)
    assert logs.inputs["retentionInDays"] == stack.settings.edge.waf_log_retention_days >= 365


# ---------------------------------------------------------------------------------------- the other two modes
def test_hosted_zone_validates_the_certificate_in_route_53(with_hosted_zone: SynthResult) -> None:
    """ACM issues a DNS-validated certificate once its CNAME resolves, and renews it while the CNAME
    stays (https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html)."""
    result = with_hosted_zone
    (certificate,) = _of_type(result, CERTIFICATE)
    record = result.named(RECORD, "certificate-validation-record")
    (validation,) = _of_type(result, VALIDATION)
    assert record.inputs["zoneId"] == ZONE
    assert record.inputs["allowOverwrite"] is True, "the CNAME is shared by every certificate of the domain"
    acm = certificate.outputs.get("domainValidationOptions")
    fields = (record.inputs["name"], record.inputs["type"], record.inputs["records"])
    if acm:
        assert fields == (acm[0]["resourceRecordName"], "CNAME", [acm[0]["resourceRecordValue"]])
    else:  # the offline engine does not model ACM: the record is unknown, never invented
        assert _is_unknown(fields[0]) and _is_unknown(fields[1]) and _is_unknown(fields[2][0]), fields
    assert validation.inputs["certificateArn"] == certificate.outputs["arn"]
    assert record.urn in validation.options["dependencies"], "validation waits for the CNAME"
    assert result.outputs["certificate_validation_records"] == [], "nothing left for an operator"


def test_hosted_zone_points_the_domain_at_the_alb(with_hosted_zone: SynthResult) -> None:
    """An alias to an ALB names the ALB's DNS name and its region's canonical zone
    (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-to-elb-load-balancer.html)."""
    alias = with_hosted_zone.named(RECORD, "site-alias-record")
    assert (alias.inputs["zoneId"], alias.inputs["name"], alias.inputs["type"]) == (
        ZONE,
        with_hosted_zone.settings.edge.domain,
        "A",
    )
    (target,) = alias.inputs["aliases"]
    assert target["zoneId"] == alb_hosted_zone_id(with_hosted_zone.settings.aws.region)
    assert target["evaluateTargetHealth"] is True


def test_existing_certificate_is_used_and_nothing_is_requested(with_existing_certificate: SynthResult) -> None:
    result = with_existing_certificate
    assert not _of_type(result, CERTIFICATE) and not _of_type(result, VALIDATION) and not _of_type(result, RECORD)
    assert _ingress_annotations(result)[CERTIFICATE_ANNOTATION] == EXISTING_CERTIFICATE
    assert result.outputs["certificate_validation_records"] == []
    assert len(_of_type(result, WEB_ACL)) == 1, "the WAF does not depend on where the certificate comes from"


# ---------------------------------------------------------------------------------------- wiring helpers
def _declare_edge(settings: EdgeSettings) -> tuple[Edge, list[CapturedResource]]:
    """The component on its own under the offline engine's mocks, with the alias record declared."""

    def build() -> Edge:
        edge = Edge(
            "edge",
            EdgeArgs(stack_context(), settings=settings, logs_key_arn="arn:aws:kms:k", log_retention_days=90),
        )
        edge.dns_record("k8s-app-0123456789.us-east-1.elb.amazonaws.com", "us-east-1")
        return edge

    return declare_alone(build)


def test_domain_is_an_alias_to_the_alb_when_the_zone_is_ours() -> None:
    _, captured = _declare_edge(EdgeSettings(domain="app.example.com", hosted_zone_id=ZONE))
    (alias,) = [r for r in captured if r.type == RECORD and r.name == "site-alias-record"]
    assert (alias.inputs["zoneId"], alias.inputs["name"], alias.inputs["type"]) == (ZONE, "app.example.com", "A")
    assert alias.inputs["aliases"] == [
        {
            "name": "k8s-app-0123456789.us-east-1.elb.amazonaws.com",
            "zoneId": "Z35SXDOTRQ7X7K",
            "evaluateTargetHealth": True,
        }
    ]
    assert "allowOverwrite" not in alias.inputs, "an existing record for the domain is not silently taken over"


def test_no_dns_record_without_a_hosted_zone() -> None:
    edge, captured = _declare_edge(EdgeSettings(domain="app.example.com"))
    assert edge.dns_record("k8s-app.us-east-1.elb.amazonaws.com", "us-east-1") is None
    assert not [r for r in captured if r.type == RECORD]
