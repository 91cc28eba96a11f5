"""Edge layer (docs/architecture.md layer 7): the TLS certificate, the WAF web ACL and the public DNS name.

The Application Load Balancer itself is created by the AWS Load Balancer Controller from the apps
layer's Ingress, which names this layer's ``certificate_arn`` and ``web_acl_arn`` (and sets the TLS
policy and the HTTP redirect); once the ALB exists, ``dns_record`` points the domain at it.

The certificate comes one of three ways (``certificate_mode``):

* ``dns_validated`` (``edge.hosted_zone_id`` set): an ACM certificate for the domain, its DNS
  validation CNAME written to the Route 53 zone, and a ``CertificateValidation`` that waits until
  ACM has issued it. ``certificate_arn`` resolves only then, so the Ingress never names a pending
  certificate. ACM renews it for as long as the CNAME stays in the zone.
* ``existing`` (only ``edge.certificate_arn`` set): that certificate is used and nothing is created.
  It must be in the stack's region (an ALB only uses certificates of its own region), and renewing or
  re-importing it is the operator's job.
* ``operator_validated`` (neither set): the certificate is requested with DNS validation and the
  CNAME ACM asks for is exported as ``validation_records``; an operator creates it at whatever DNS
  provider hosts the domain. Until ACM has issued the certificate the ALB cannot serve HTTPS (the
  controller keeps retrying the listener and succeeds once it is issued). No ``CertificateValidation``
  is declared: it would hold ``pulumi up`` until the record exists, and the operator only learns the
  record from this stack's outputs once ``up`` has finished.

When a hosted zone and a certificate ARN are both set, the zone wins, as the setting's description
says: the certificate ARN is then unused.

AWS Shield Advanced (``edge.shield_advanced``, off by default: $3,000 a month with a one-year commitment)
subscribes the account and protects the ALB, found by the name the Ingress gives it once the controller has
created it (``shield``), and the Route 53 zone when one is configured; with proactive engagement contacts, the
Shield Response Team gets its access role and the contacts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from silhouette_infra.aws.context import LayerArgs
from silhouette_infra.aws.naming import Naming
from silhouette_infra.aws.roles import service_role
from silhouette_infra.settings.models import EdgeSettings

CertificateMode = Literal["dns_validated", "existing", "operator_validated"]

# ECDSA P-256 instead of RSA 2048: 128-bit security instead of 112, smaller handshakes, cheaper for the
# ALB, and ACM issues and renews it like an RSA certificate. Clients able to negotiate the Ingress's TLS 1.2+
# policy (ELBSecurityPolicy-TLS13-*) support ECDSA in practice, so no client is lost.
# https://docs.aws.amazon.com/acm/latest/userguide/acm-certificate-characteristics.html
KEY_ALGORITHM = "EC_prime256v1"

# CloudWatch Logs destinations of WAF must be named aws-waf-logs-*.
# https://docs.aws.amazon.com/waf/latest/developerguide/logging-cw-logs.html
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"

# A rate-based rule counts over 60, 120, 300 or 600 s; the setting is per 5 minutes.
# https://docs.aws.amazon.com/waf/latest/APIReference/API_RateBasedStatement.html
RATE_WINDOW_SECONDS = 300

# Headers that carry credentials (bearer tokens, API keys, session cookies): never written to the WAF log.
REDACTED_HEADERS = ("authorization", "cookie")

# The role the Shield Response Team assumes to read and update the web ACL during an attack, and the managed
# policy it needs; the account needs the Business or Enterprise Support plan
# (https://docs.aws.amazon.com/cli/latest/reference/shield/associate-drt-role.html).
SHIELD_RESPONSE_TEAM = "drt.shield.amazonaws.com"
SHIELD_RESPONSE_TEAM_POLICY = "arn:aws:iam::aws:policy/service-role/AWSShieldDRTAccessPolicy"

# The backend's API prefix on the shared ALB; the only paths that may send bodies over 8 KB (below).
API_PATH_PREFIX = "/api/"

# AWS managed rule groups, in evaluation order: cheap IP reputation first, then the core rule set,
# known bad inputs (Log4j, Spring4Shell ...), SQL injection. With our two rules about 1,130 WCUs, under
# the 1,500 a web ACL includes in its base price
# (https://docs.aws.amazon.com/waf/latest/developerguide/aws-waf-capacity-units.html).
# https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-list.html
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)
COMMON_RULE_SET = "AWSManagedRulesCommonRuleSet"
# The core rule set's SizeRestrictions_BODY blocks every body over 8 KB, the most an ALB passes to WAF.
# Workflow definitions the API receives are JSON documents well over that, so the rule counts (it still
# labels the request) and OVERSIZED_BODY_RULE blocks the label everywhere except under API_PATH_PREFIX:
# the frontend takes no large bodies, and the backend validates and limits its own. A body beyond 8 KB
# is inspected by the body rules of the managed groups in its first 8 KB only (oversize handling CONTINUE).
# https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html
# https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-label-match-examples.html
BODY_SIZE_RULE = "SizeRestrictions_BODY"
BODY_SIZE_LABEL = "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body"
OVERSIZED_BODY_RULE = "BlockOversizedBodyOutsideApi"
RATE_LIMIT_RULE = "RateLimitPerIp"

# Route 53 hosted zone of Application Load Balancers per region: the zone id of an alias record to an ALB.
# https://docs.aws.amazon.com/general/latest/gr/elb.html
ALB_HOSTED_ZONE_IDS: Mapping[str, str] = {
    "af-south-1": "Z268VQBMOI5EKX",
    "ap-east-1": "Z3DQVH9N71FHZ0",
    "ap-northeast-1": "Z14GRHDCWA56QT",
    "ap-northeast-2": "ZWKZPGTI48KDX",
    "ap-northeast-3": "Z5LXEXXYW11ES",
    "ap-south-1": "ZP97RAFLXTNZK",
    "ap-south-2": "Z0173938T07WNTVAEPZN",
    "ap-southeast-1": "Z1LMS91P8CMLE5",
    "ap-southeast-2": "Z1GM3OXH4ZPM65",
    "ap-southeast-3": "Z08888821HLRG5A9ZRTER",
    "ap-southeast-4": "Z09517862IB2WZLPXG76F",
    "ca-central-1": "ZQSVJUPU6J1EY",
    "ca-west-1": "Z06473681N0SF6OS049SD",
    "eu-central-1": "Z215JYRZR1TBD5",
    "eu-central-2": "Z06391101F2ZOEP8P5EB3",
    "eu-north-1": "Z23TAZ6LKFMNIO",
    "eu-south-1": "Z3ULH7SSC9OV64",
    "eu-south-2": "Z0956581394HF5D5LXGAP",
    "eu-west-1": "Z32O12XQLNTSW2",
    "eu-west-2": "ZHURV8PSTC4K8",
    "eu-west-3": "Z3Q77PNBQS71R4",
    "il-central-1": "Z09170902867EHPV2DABU",
    "me-central-1": "Z08230872XQRWHG2XF6I",
    "me-south-1": "ZS929ML54UICD",
    "sa-east-1": "Z2P70J7HTTTPLU",
    "us-east-1": "Z35SXDOTRQ7X7K",
    "us-east-2": "Z3AADJGX6KTTL2",
    "us-gov-east-1": "Z166TLBEWOO7G0",
    "us-gov-west-1": "Z33AYJ8TM3BH4J",
    "us-west-1": "Z368ELLRRE2KJ0",
    "us-west-2": "Z1H1FL5HABSF5",
}


def alb_hosted_zone_id(region: str) -> str:
    """The canonical hosted zone of ALBs in ``region``, for an alias record (AWS's published table)."""
    try:
        return ALB_HOSTED_ZONE_IDS[region]
    except KeyError:
        raise ValueError(
            f"no ALB hosted zone id known for region {region!r}; add it to ALB_HOSTED_ZONE_IDS from "
            "https://docs.aws.amazon.com/general/latest/gr/elb.html"
        ) from None


def certificate_mode(settings: EdgeSettings) -> CertificateMode:
    """How the certificate is obtained; see the module docstring."""
    if settings.hosted_zone_id:
        return "dns_validated"
    if settings.certificate_arn:
        return "existing"
    return "operator_validated"


def waf_log_group_name(naming: Naming) -> str:
    return f"{WAF_LOG_GROUP_PREFIX}{naming.prefix}"


def validation_records(options: Sequence[Any] | None) -> list[dict[str, str]]:
    """The DNS records ACM asks for (``domain_validation_options``) as plain data: the domain each one
    proves, and the record's name, type and value."""
    return [
        {
            "domain": option.domain_name,
            "name": option.resource_record_name,
            "type": option.resource_record_type,
            "value": option.resource_record_value,
        }
        for option in options or []
    ]


def _visibility(metric_name: str) -> aws.wafv2.WebAclRuleVisibilityConfigArgsDict:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric_name, "sampled_requests_enabled": True}


def _managed_group_rule(group: str, priority: int) -> aws.wafv2.WebAclRuleArgsDict:
    statement: aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgsDict = {"vendor_name": "AWS", "name": group}
    if group == COMMON_RULE_SET:
        statement["rule_action_overrides"] = [{"name": BODY_SIZE_RULE, "action_to_use": {"count": {}}}]
    return {
        "name": group,
        "priority": priority,
        "statement": {"managed_rule_group_statement": statement},
        "override_action": {"none": {}},  # the group's own actions (block) apply
        "visibility_config": _visibility(group),
    }


def _oversized_body_rule(priority: int) -> aws.wafv2.WebAclRuleArgsDict:
    outside_api: aws.wafv2.WebAclRuleStatementArgsDict = {
        "not_statement": {
            "statement": {
                "byte_match_statement": {
                    "search_string": API_PATH_PREFIX,
                    "positional_constraint": "STARTS_WITH",
                    "field_to_match": {"uri_path": {}},
                    # No decoding: an encoded path (/%61pi/) is not exempt.
                    "text_transformations": [{"priority": 0, "type": "NONE"}],
                }
            }
        }
    }
    return {
        "name": OVERSIZED_BODY_RULE,
        "priority": priority,
        "statement": {
            "and_statement": {
                "statements": [{"label_match_statement": {"scope": "LABEL", "key": BODY_SIZE_LABEL}}, outside_api]
            }
        },
        "action": {"block": {}},
        "visibility_config": _visibility(OVERSIZED_BODY_RULE),
    }


def _rate_limit_rule(limit: int, priority: int) -> aws.wafv2.WebAclRuleArgsDict:
    # The ALB is the edge (no CloudFront or proxy in front of it), so the source IP is the client's own.
    return {
        "name": RATE_LIMIT_RULE,
        "priority": priority,
        "statement": {
            "rate_based_statement": {
                "limit": limit,
                "aggregate_key_type": "IP",
                "evaluation_window_sec": RATE_WINDOW_SECONDS,
            }
        },
        "action": {"block": {}},
        "visibility_config": _visibility(RATE_LIMIT_RULE),
    }


def web_acl_rules(settings: EdgeSettings) -> list[aws.wafv2.WebAclRuleArgsDict]:
    """The rules of the web ACL in priority order: the managed groups, the oversized-body rule right
    after the core rule set whose label it reads (labels reach only later rules), the rate limit last."""
    rules: list[aws.wafv2.WebAclRuleArgsDict] = []
    for group in MANAGED_RULE_GROUPS:
        rules.append(_managed_group_rule(group, priority=len(rules)))
        if group == COMMON_RULE_SET:
            rules.append(_oversized_body_rule(priority=len(rules)))
    rules.append(_rate_limit_rule(settings.waf_rate_limit_per_5min, priority=len(rules)))
    return rules


@dataclass
class EdgeArgs(LayerArgs):
    settings: EdgeSettings
    logs_key_arn: pulumi.Input[str]  # KMS 'logs' key for the WAF log group
    log_retention_days: int


class Edge(pulumi.ComponentResource):
    """ACM certificate, WAFv2 web ACL with logging, and the domain's alias record."""

    certificate_arn: pulumi.Output[str]
    web_acl_arn: pulumi.Output[str]
    url: str
    validation_records: pulumi.Output[list[dict[str, str]]]

    def __init__(self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("silhouette:edge:Edge", name, None, opts)
        self._settings = args.settings
        self._naming = args.naming
        self.url = f"https://{args.settings.domain}"
        self._certificate(args)
        self.web_acl_arn = self._web_acl(args)
        self.register_outputs(
            {
                "certificate_arn": self.certificate_arn,
                "web_acl_arn": self.web_acl_arn,
                "url": self.url,
                "validation_records": self.validation_records,
            }
        )

    # ------------------------------------------------------------------------------------ certificate
    def _certificate(self, args: EdgeArgs) -> None:
        settings, naming = args.settings, args.naming
        mode = certificate_mode(settings)
        if mode == "existing":
            self.certificate_arn = pulumi.Output.from_input(str(settings.certificate_arn))
            self.validation_records = pulumi.Output.from_input([])
            return
        # A change that replaces the certificate (domain, key algorithm) creates the new one first
        # (Pulumi's default, delete_before_replace=False), points the dependants (the Ingress) at it, and
        # deletes the old one last; ACM refuses to delete a certificate an ALB still uses.
        certificate = aws.acm.Certificate(
            "certificate",
            domain_name=settings.domain,
            validation_method="DNS",
            key_algorithm=KEY_ALGORITHM,
            options=aws.acm.CertificateOptionsArgs(certificate_transparency_logging_preference="ENABLED"),
            tags=naming.name_tag("certificate"),
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=False),
        )
        records = certificate.domain_validation_options.apply(validation_records)
        if mode == "operator_validated":
            self.certificate_arn = certificate.arn
            self.validation_records = records
            return
        record = aws.route53.Record(
            "certificate-validation-record",
            zone_id=str(settings.hosted_zone_id),
            name=records.apply(lambda found: _field_of_domain(found, settings.domain, "name")),
            type=records.apply(lambda found: _field_of_domain(found, settings.domain, "type")),
            records=[records.apply(lambda found: _field_of_domain(found, settings.domain, "value"))],
            ttl=300,
            # ACM's validation CNAME is the same for every certificate of this domain in this account: a
            # replacement certificate, or one requested earlier, finds it already there.
            allow_overwrite=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        validation = aws.acm.CertificateValidation(
            "certificate-validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[record.fqdn],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.certificate_arn = validation.certificate_arn
        self.validation_records = pulumi.Output.from_input([])

    # ------------------------------------------------------------------------------------ WAF
    def _web_acl(self, args: EdgeArgs) -> pulumi.Output[str]:
        naming = args.naming
        child = pulumi.ResourceOptions(parent=self)
        web_acl = aws.wafv2.WebAcl(
            "web-acl",
            name=naming.physical("web-acl"),
            description=f"{naming.prefix}: AWS managed rules and a per-IP rate limit in front of the ALB",
            # An ALB takes only a REGIONAL web ACL of its own region (CLOUDFRONT is for distributions).
            scope="REGIONAL",
            default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
            rules=web_acl_rules(args.settings),
            visibility_config=_visibility(naming.physical("web-acl")),
            tags=naming.name_tag("web-acl"),
            opts=child,
        )
        log_group = aws.cloudwatch.LogGroup(
            "waf-logs",
            name=waf_log_group_name(naming),
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags=naming.name_tag("waf-logs"),
            opts=child,
        )
        # WAF adds the log group's resource policy for the log delivery service itself when logging starts
        # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-CWL.html).
        aws.wafv2.WebAclLoggingConfiguration(
            "waf-logging",
            resource_arn=web_acl.arn,
            log_destination_configs=[log_group.arn],
            redacted_fields=[
                aws.wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
                    single_header=aws.wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(name=header)
                )
                for header in REDACTED_HEADERS
            ],
            opts=child,
        )
        return web_acl.arn

    def dns_record(self, alb_hostname: pulumi.Input[str], region: str) -> aws.route53.Record | None:
        """The alias A record of the domain to the ALB the Ingress created, when a hosted zone is configured.

        Call it once, with the hostname from the Ingress status; without a hosted zone the operator points
        the domain at the ALB at their DNS provider and this returns ``None``.
        """
        if not self._settings.hosted_zone_id:
            return None
        return aws.route53.Record(
            "site-alias-record",
            zone_id=self._settings.hosted_zone_id,
            name=self._settings.domain,
            type="A",
            aliases=[
                aws.route53.RecordAliasArgs(
                    name=alb_hostname,
                    zone_id=alb_hosted_zone_id(region),
                    evaluate_target_health=True,
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def shield(self, load_balancer_name: pulumi.Input[str]) -> None:
        """AWS Shield Advanced when ``edge.shield_advanced`` is on: the subscription, a protection of the ALB
        (looked up by ``load_balancer_name``, which resolves once the controller has created it), one of the
        Route 53 zone when ``hosted_zone_id`` is set, and proactive engagement when contacts are listed.

        The subscription keeps ``skip_destroy``: it cannot be cancelled within its year (AWS only lets auto-renew
        be turned off in its last 30 days), so turning the switch off removes it from the stack and leaves the
        commitment as it is.
        """
        settings = self._settings
        if not settings.shield_advanced:
            return
        child = pulumi.ResourceOptions(parent=self)
        subscription = aws.shield.Subscription(
            "shield-subscription", auto_renew="ENABLED", skip_destroy=True, opts=child
        )
        after_subscription = pulumi.ResourceOptions(parent=self, depends_on=[subscription])
        alb = aws.lb.get_load_balancer_output(name=load_balancer_name, opts=pulumi.InvokeOutputOptions(parent=self))
        aws.shield.Protection(
            "shield-alb",
            name=self._naming.physical("alb"),
            resource_arn=alb.arn,
            tags=self._naming.name_tag("shield-alb"),
            opts=after_subscription,
        )
        if settings.hosted_zone_id:
            aws.shield.Protection(
                "shield-hosted-zone",
                name=self._naming.physical("hosted-zone"),
                resource_arn=f"arn:aws:route53:::hostedzone/{settings.hosted_zone_id}",
                tags=self._naming.name_tag("shield-hosted-zone"),
                opts=after_subscription,
            )
        if settings.shield_proactive_engagement_contacts:
            self._proactive_engagement(subscription)

    def _proactive_engagement(self, subscription: aws.shield.Subscription) -> None:
        role = service_role(
            "shield-response-team",
            naming=self._naming,
            service=SHIELD_RESPONSE_TEAM,
            description="Assumed by the AWS Shield Response Team during an attack (proactive engagement)",
            managed_policy_arns=[SHIELD_RESPONSE_TEAM_POLICY],
            parent=self,
        )
        association = aws.shield.DrtAccessRoleArnAssociation(
            "shield-response-team-access",
            role_arn=role.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[subscription]),
        )
        aws.shield.ProactiveEngagement(
            "shield-proactive-engagement",
            enabled=True,
            emergency_contacts=[
                aws.shield.ProactiveEngagementEmergencyContactArgs(
                    email_address=contact.email_address,
                    phone_number=contact.phone_number,
                    contact_notes=contact.contact_notes,
                )
                for contact in self._settings.shield_proactive_engagement_contacts
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[association]),
        )


def _field_of_domain(records: list[dict[str, str]], domain: str, field: str) -> Any:
    """One field of the validation record of ``domain``.

    ACM publishes the record once the certificate exists. Until then (a preview, or an offline engine
    that does not model ACM) the value is unknown, never invented.
    """
    for record in records:
        if record["domain"] == domain:
            return record[field]
    return pulumi.UNKNOWN
