"""The dated price table of the cost estimate: every unit price it uses that is not an instance-hour, with
where it was read and when. Pure data, no Pulumi.

US East (N. Virginia), USD, on-demand list prices, no free tier counted unless the line says so. Each price
was read on the date given from the page named: an AWS pricing page where the stored copy showed the figure,
otherwise a third-party page quoting AWS's us-east-1 rate (named as such, so a reader knows to re-check it on
the AWS page given in ``aws_page``). A charge the estimate needs but whose price no page confirmed is in
``UNPRICED`` with the reason; the estimate lists it as an unpriced line and never guesses.

Instance-hour prices (EC2 nodes, RDS, ElastiCache, Amazon MQ) live in the instance catalogue,
``planning/instance_types.py``, with their sources.
"""

from __future__ import annotations

from dataclasses import dataclass

READ_ON = "2026-11-29"


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str
    source: str  # the page the figure was read from
    aws_page: str  # the AWS pricing page that is the authority
    read: str = READ_ON
    note: str = ""


_VPC = "https://aws.amazon.com/vpc/pricing/"
_PRIVATELINK = "https://aws.amazon.com/privatelink/pricing/"
_CLOUDWATCH = "https://aws.amazon.com/cloudwatch/pricing/"
_WAF = "https://aws.amazon.com/waf/pricing/"
_KMS = "https://aws.amazon.com/kms/pricing/"

PRICES: dict[str, Price] = {
    "eks_cluster_hour": Price(
        0.10,
        "per cluster-hour (standard support)",
        "https://www.factualminds.com/blog/amazon-eks-pricing-control-plane-addons-auto-mode/",
        "https://aws.amazon.com/eks/pricing/",
    ),
    "nat_gateway_hour": Price(
        0.045, "per NAT gateway-hour", "https://basavytix.com/blog/aws-nat-gateway-pricing", _VPC
    ),
    "nat_gateway_gb": Price(
        0.045,
        "per GB processed (both directions)",
        "https://basavytix.com/blog/aws-nat-gateway-pricing",
        _VPC,
    ),
    "public_ipv4_hour": Price(
        0.005,
        "per public IPv4 address-hour (the NAT gateways' Elastic IPs)",
        "https://cloudburn.io/blog/aws-nat-gateway-pricing",
        _VPC,
    ),
    "interface_endpoint_hour": Price(
        0.01,
        "per interface endpoint-hour in each AZ",
        "https://gist.github.com/jousby/8a5e422d94821074b957a59d125b27a8 (a comment quoting about $0.01 an hour)",
        _PRIVATELINK,
    ),
    "interface_endpoint_gb": Price(
        0.01,
        "per GB processed by interface endpoints (first PB a month)",
        "https://aws.amazon.com/jp/privatelink/pricing/",
        _PRIVATELINK,
    ),
    "waf_web_acl_month": Price(5.0, "per web ACL-month", "https://c3x.dev/blog/aws-waf-cost-explained/", _WAF),
    "waf_rule_month": Price(
        1.0,
        "per rule or managed rule group-month",
        "https://c3x.dev/blog/aws-waf-cost-explained/",
        _WAF,
        note="some managed groups (Bot Control) carry their own fee; the stack uses none of those",
    ),
    "waf_million_requests": Price(
        0.60, "per million requests inspected", "https://c3x.dev/blog/aws-waf-cost-explained/", _WAF
    ),
    "logs_ingested_gb": Price(
        0.50,
        "per GB ingested (Standard log class)",
        "https://c3x.dev/blog/cloudwatch-logs-cost-optimization",
        _CLOUDWATCH,
    ),
    "logs_stored_gb_month": Price(
        0.03,
        "per GB-month stored (compressed)",
        "https://c3x.dev/blog/cloudwatch-logs-cost-optimization",
        _CLOUDWATCH,
    ),
    "alarm_month": Price(
        0.10,
        "per standard-resolution alarm metric-month",
        "https://002-workshop-application-performance-monitoring.huyanh.click/5-optimization",
        _CLOUDWATCH,
    ),
    "secret_month": Price(
        0.40,
        "per secret-month",
        "https://hivebook.wiki/wiki/aws-secrets-manager-rotated-secrets-dynamic-db-credentials-kms",
        "https://aws.amazon.com/secrets-manager/pricing/",
    ),
    "secrets_10k_calls": Price(
        0.05,
        "per 10,000 API calls",
        "https://hivebook.wiki/wiki/aws-secrets-manager-rotated-secrets-dynamic-db-credentials-kms",
        "https://aws.amazon.com/secrets-manager/pricing/",
    ),
    "kms_key_month": Price(
        1.0,
        "per customer managed key-month, plus $1 a month for each rotated backing key",
        _KMS,
        _KMS,
    ),
    "kms_10k_requests": Price(
        0.03,
        "per 10,000 symmetric requests beyond 20,000 free a month",
        "https://www.wring.co/blog/aws-kms-pricing-guide",
        _KMS,
    ),
    "guardduty_million_cloudtrail_events": Price(
        4.0,
        "per million CloudTrail management events analysed (first tier)",
        "https://www.factualminds.com/blog/amazon-guardduty-pricing-data-sources-multi-account/",
        "https://aws.amazon.com/guardduty/pricing/",
    ),
    "guardduty_flow_dns_gb": Price(
        1.0,
        "per GB of VPC flow logs and DNS logs analysed (first tier)",
        "https://www.factualminds.com/blog/amazon-guardduty-pricing-data-sources-multi-account/",
        "https://aws.amazon.com/guardduty/pricing/",
    ),
    "config_item": Price(
        0.003,
        "per configuration item recorded (continuous recording)",
        "https://saac03.antoniogalanti.com/aws-saa-c03/0.1/security_deployment_operations/config.html",
        "https://aws.amazon.com/config/pricing/",
    ),
    "config_rule_evaluation": Price(
        0.001,
        "per rule evaluation (first tier)",
        "https://saac03.antoniogalanti.com/aws-saa-c03/0.1/security_deployment_operations/config.html",
        "https://aws.amazon.com/config/pricing/",
    ),
    "xray_million_traces": Price(
        5.0,
        "per million traces recorded beyond 100,000 free a month",
        "https://aws.amazon.com/de/xray/pricing/",
        "https://aws.amazon.com/xray/pricing/",
    ),
    "s3_standard_gb_month": Price(
        0.023,
        "per GB-month, S3 Standard (first 50 TB)",
        "https://go-cloud.io/?p=10624",
        "https://aws.amazon.com/s3/pricing/",
    ),
    "inter_region_gb": Price(
        0.02,
        "per GB transferred to another region",
        "https://kindatechnical.com/aws-eks/lesson-31-understanding-eks-pricing.html",
        "https://aws.amazon.com/ec2/pricing/on-demand/",
    ),
    "ebs_gp3_gb_month": Price(
        0.08,
        "per GB-month of EBS gp3 (3,000 IOPS and 125 MB/s included)",
        "https://handbook.getfinops.cloud/gp2-vs-gp3-cost-savings/",
        "https://aws.amazon.com/ebs/pricing/",
    ),
    "rds_gp3_gb_month": Price(
        0.115,
        "per GB-month of RDS gp3 storage, per copy (a Multi-AZ standby is billed again)",
        "https://www.usage.ai/blogs/aws/reserved-instances/rds/pricing-calculator/",
        "https://aws.amazon.com/rds/postgresql/pricing/",
    ),
    "rds_backup_gb_month": Price(
        0.095,
        "per GB-month of backup storage beyond 100 % of the provisioned storage (free up to it)",
        "https://www.usage.ai/blogs/aws/reserved-instances/rds/pricing-calculator/",
        "https://aws.amazon.com/rds/postgresql/pricing/",
    ),
}

# Charges the stack incurs whose price no page read for this table confirmed: listed as unpriced, not guessed.
UNPRICED: dict[str, str] = {
    "alb_hour": "Application Load Balancer hour in us-east-1 (the only stored copy read gave another region's rate)",
    "alb_lcu_hour": "ALB LCU-hour in us-east-1 (read only for another region)",
    "kms_requests_usage": "KMS requests beyond the free 20,000 (S3 Bucket Keys keep them few; usage not modelled)",
    "ebs_snapshot_gb_month": "EBS snapshot GB-month (AWS Backup of the Neo4j volume)",
    "s3_ia_glacier_gb_month": "S3 Standard-IA and Glacier Flexible Retrieval GB-month",
    "ecr_gb_month": "ECR storage GB-month",
    "rds_proxy_vcpu_hour": "RDS Proxy per vCPU-hour of the instance it fronts",
    "mq_storage": "Amazon MQ for RabbitMQ broker storage",
    "elasticache_snapshot": "ElastiCache snapshot storage beyond the free one per node",
    "security_hub_check": "Security Hub security checks",
    "guardduty_eks_runtime": "GuardDuty EKS audit-log and runtime-monitoring features",
    "cloudtrail_data_events": "CloudTrail data events and the trail's S3 storage",
    "s3_rtc_gb": "S3 Replication Time Control per GB replicated (every replicated bucket uses it, aws/replication.py)",
}
