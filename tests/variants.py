"""The options the stack files leave off, proven in a few shared runs instead of one run each.

A mocked run of the whole program costs 1.3 to 2 s; a test of an option still wants the whole program (the
Shield protection must name the ALB that the Ingress names, the canary's weight must reach that Ingress). So
the options that do not touch each other are switched on together, and each test reads the run that has its
option (``support.synth``: once per session, whichever test file asks first). A test of one option asserts on
what that option declares, never on the absence of something another option of the same run adds.
"""

from __future__ import annotations

from typing import Any

from silhouette_infra.settings.versions import EKS_KUBERNETES_VERSIONS
from silhouette_infra.synth.engine import SynthResult
from silhouette_infra.validation.loader import load_settings
from tests.support import config_with, stack_config, synth

ZONE = "Z0EXAMPLE12345"
EXISTING_CERTIFICATE = "arn:aws:acm:us-east-1:111122223333:certificate/0f6a9c1e-5d2b-4c8e-9a7f-3b1d2e4f5a6b"
SHIELD_CONTACTS = [
    {"email_address": "oncall@silhouette.example.com", "phone_number": "+14155550100", "contact_notes": "on call"},
    {"email_address": "security@silhouette.example.com"},
]
ADMIN_ROLE = "arn:aws:iam::123456789012:role/platform-admins"
VIEWER_ROLE = "arn:aws:iam::123456789012:role/auditors"
PUBLIC_API_CIDR = "198.51.100.0/24"
ALLOWED_ACCOUNT = "210987654321"
NEW_IMAGE = "1.1.0"  # a tag of the stack's own backend repository
# The canary's weight in the run that has one (the release planner's tests, test_release.py, try another).
CANARY_WEIGHT = 50
# The stack file's repository "frontend" renamed "web" (its image then from ghcr.io): a change the stateful
# guard must catch.
RENAMED_REPOSITORIES: dict[str, Any] = {
    "registry": {"repositories": ["backend", "web"]},
    "apps": {"allowed_registries": ["ghcr.io"], "frontend": {"image": "ghcr.io/silhouette/frontend:1.0.0"}},
}


# Real types the settings accept and the price table (planning/prices.py) lacks: the estimate names them unpriced.
UNPRICED_TYPES: dict[str, dict[str, str]] = {
    "postgres": {"instance_class": "db.m7g.large"},
    "redis": {"node_type": "cache.r7g.large"},
}


# Test inputs, not pins to deploy: plausible add-on versions for each minor of the table. A real upgrade
# takes them from `aws eks describe-addon-versions --kubernetes-version <minor>` (README, step 2).
KUBE_PROXY_TEST_PINS = {version: f"v{version}.0-eksbuild.1" for version in EKS_KUBERNETES_VERSIONS}
AUTOSCALER_TEST_TAGS = {version: f"v{version}.0" for version in EKS_KUBERNETES_VERSIONS}
NEWEST_KUBERNETES = max(EKS_KUBERNETES_VERSIONS, key=lambda version: tuple(int(part) for part in version.split(".")))


def pins(stack: str, version: str) -> tuple[str, str]:
    """kube-proxy's version and the autoscaler's tag on ``version``: the stack's own where it already runs that
    version (walking to it changes nothing), else the test pins."""
    settings = load_settings(stack, stack_config(stack))
    if settings.cluster.kubernetes_version == version:
        return settings.cluster.addon_versions.kube_proxy, settings.cluster_addons.cluster_autoscaler_image_tag
    return KUBE_PROXY_TEST_PINS[version], AUTOSCALER_TEST_TAGS[version]


def walked_to(stack: str, version: str) -> dict[str, Any]:
    """Step 2 of the README's "Upgrading Kubernetes safely": the cluster, kube-proxy and the autoscaler on
    ``version``, as ``config_with`` sections."""
    kube_proxy, autoscaler = pins(stack, version)
    return {
        "cluster": {"kubernetes_version": version, "addon_versions": {"kube_proxy": kube_proxy}},
        "cluster_addons": {"cluster_autoscaler_image_tag": autoscaler},
    }


def upgraded_config(stack: str, version: str) -> dict[str, str]:
    """The stack file walked to Kubernetes ``version``, and nothing else changed."""
    return config_with(stack, **walked_to(stack, version))


def staging_with_an_existing_certificate() -> SynthResult:
    """staging with an ACM certificate of its own (nothing requested), Shield Advanced with proactive engagement
    and no zone, a blue/green release with green active, the frontend's repository renamed, a database and
    cache of types the price table lacks, and the cluster walked to the newest Kubernetes of the table."""
    renamed_apps = RENAMED_REPOSITORIES["apps"]
    return synth(
        "staging",
        config_with(
            "staging",
            edge={
                "certificate_arn": EXISTING_CERTIFICATE,
                "shield_advanced": True,
                "shield_proactive_engagement_contacts": SHIELD_CONTACTS,
            },
            registry=RENAMED_REPOSITORIES["registry"],
            **UNPRICED_TYPES,
            **walked_to("staging", NEWEST_KUBERNETES),
            apps={
                **renamed_apps,
                "release": {"strategy": "blue_green", "green_image": NEW_IMAGE, "active_color": "green"},
            },
        ),
    )


def production_with_a_hosted_zone() -> SynthResult:
    """production with its own Route 53 zone (the certificate validated there, the domain an alias to the ALB),
    Shield Advanced protecting the ALB and the zone, a canary release, admin and read-only roles on the cluster,
    the API endpoint public to one CIDR, its providers pinned to one account, and the cluster walked to the
    newest Kubernetes of the table."""
    walk = walked_to("production", NEWEST_KUBERNETES)
    return synth(
        "production",
        config_with(
            "production",
            aws={"allowed_account_ids": [ALLOWED_ACCOUNT]},
            edge={"hosted_zone_id": ZONE, "shield_advanced": True},
            apps={"release": {"strategy": "canary", "canary_image": NEW_IMAGE, "canary_weight_percent": CANARY_WEIGHT}},
            cluster={
                **walk["cluster"],
                "admin_role_arns": [ADMIN_ROLE],
                "readonly_role_arns": [VIEWER_ROLE],
                "endpoint_public_access_cidrs": [PUBLIC_API_CIDR],
            },
            cluster_addons=walk["cluster_addons"],
        ),
    )


OPTION_RUNS = (staging_with_an_existing_certificate, production_with_a_hosted_zone)

# The option run of each stack that walks to the newest Kubernetes: the upgrade's checks read it
# (test_kubernetes_upgrade.py) instead of a run of their own.
WALKED_TO_THE_NEWEST = {"staging": staging_with_an_existing_certificate, "production": production_with_a_hosted_zone}


# ------------------------------------------------------------------------------ the dr stack after a failover
# What the failover command writes into the dr stack's file for the DR region test_failover.py seeds in moto (its
# account, us-west-2): the newest of each source. test_failover asserts the command writes exactly these, and the
# dr stack's tests read the run of them (test_dr_stack.py), so the failover and the restore share one run.
MOTO_ACCOUNT = "123456789012"
DR_REGION = "us-west-2"
DR_KEY = f"arn:aws:kms:{DR_REGION}:{MOTO_ACCOUNT}:key/6f1c2a9e-3b7d-4e8a-9c15-2d4b8e7f0a31"
BACKUP_REPLICA = f"silhouette-production-backups-{DR_REGION}-{MOTO_ACCOUNT}"
REDIS_REPLICA = f"silhouette-production-redis-exports-{DR_REGION}-{MOTO_ACCOUNT}"
FAILED_OVER_SOURCES = {
    "postgres_automated_backups_arn": f"arn:aws:rds:{DR_REGION}:{MOTO_ACCOUNT}:auto-backup:ab-4xq7znmw3bfa2c6kd5ye",
    "postgres_restore_time": "latest",
    "rabbitmq_definitions_object": f"arn:aws:s3:::{BACKUP_REPLICA}/rabbitmq-definitions/production/20261128T0930Z.json",
    "rabbitmq_definitions_key_arn": DR_KEY,
    "neo4j_dump_object": f"arn:aws:s3:::{BACKUP_REPLICA}/neo4j/production/20261128T0600Z.cypher.gz",
    "neo4j_dump_key_arn": DR_KEY,
    "redis_rdb_object": f"arn:aws:s3:::{REDIS_REPLICA}/silhouette-production-redis-2026-11-28-03-00-0001.rdb",
}


def dr_failed_over() -> SynthResult:
    """The dr stack once the failover command's lines have run: recovery mode cold, every source named, PostgreSQL
    to its latest restorable time."""
    return synth("dr", config_with("dr", recovery={"mode": "cold", "sources": FAILED_OVER_SOURCES}))
