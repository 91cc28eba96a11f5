"""Rules that span more than one field. Each returns (key path, message) pairs so that the loader
can report every problem at once, each under the key a user has to change."""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Iterator
from datetime import UTC, datetime

from silhouette_infra.kubernetes.images import in_stack_repository, registry_of
from silhouette_infra.kubernetes.quantities import cpu_millicores, memory_mib
from silhouette_infra.planning import instance_types
from silhouette_infra.planning.capacity import Resources, Workload, capacity, demand, pod_requests
from silhouette_infra.planning.instance_types import Service
from silhouette_infra.planning.layout import LayoutError, plan_subnets
from silhouette_infra.planning.recovery import rpo_issues
from silhouette_infra.planning.release import plan_release
from silhouette_infra.planning.sizing import required_quota
from silhouette_infra.planning.throughput import throughput_table
from silhouette_infra.settings.models import Settings
from silhouette_infra.settings.versions import (
    AMAZON_MQ_RABBITMQ_INSTANCE_FAMILIES,
    ELASTICACHE_ENGINE_VERSIONS,
)

Issue = tuple[str, str]


def availability_zone_names(settings: Settings) -> list[str]:
    """Full AZ names: suffixes ('a') are appended to the region."""
    region = settings.aws.region
    return [zone if zone.startswith(region) else f"{region}{zone}" for zone in settings.network.availability_zones]


def check(settings: Settings) -> list[Issue]:
    return [
        *_aws(settings),
        *_network(settings),
        *_cluster(settings),
        *_instance_types(settings),
        *_capacity(settings),
        *_data_services(settings),
        *_backup(settings),
        *_edge(settings),
        *_images(settings),
        *_apps(settings),
        *_release(settings),
        *_worker(settings),
        *_throughput(settings),
        *_alert_email(settings),
        *_production(settings),
        *rpo_issues(settings),
        *_recovery_sources(settings),
    ]


def _aws(settings: Settings) -> Iterator[Issue]:
    if settings.aws.dr_region == settings.aws.region:
        yield (
            "aws.dr_region",
            f"must differ from aws.region ({settings.aws.region}) to survive a regional outage",
        )


def _network(settings: Settings) -> Iterator[Issue]:
    network = settings.network
    vpc = ipaddress.IPv4Network(network.vpc_cidr)
    if not 16 <= vpc.prefixlen <= 20:
        yield "network.vpc_cidr", f"expected a /16 to /20 network for 3 tiers x 3 AZs, got {network.vpc_cidr}"
    if not vpc.is_private:
        yield "network.vpc_cidr", f"expected an RFC 1918 private range, got {network.vpc_cidr}"
    for index, zone in enumerate(network.availability_zones):
        full = zone if len(zone) > 1 else f"{settings.aws.region}{zone}"
        if not (full.startswith(settings.aws.region) and len(full) == len(settings.aws.region) + 1):
            yield (
                f"network.availability_zones[{index}]",
                f"expected an AZ suffix (a-f) or a zone of {settings.aws.region}, got {zone!r}",
            )
    names = availability_zone_names(settings)
    if len(set(names)) != len(names):
        yield "network.availability_zones", f"zones must be distinct, got {network.availability_zones}"
    try:
        plan_subnets(
            network.vpc_cidr,
            len(names),
            public_prefix=network.public_subnet_prefix,
            private_prefix=network.private_subnet_prefix,
            isolated_prefix=network.isolated_subnet_prefix,
        )
    except LayoutError as error:
        yield "network.vpc_cidr", f"subnets do not fit: {error}"
    for index, peered in enumerate(network.peered_cidrs):
        if ipaddress.IPv4Network(peered).overlaps(vpc):
            yield f"network.peered_cidrs[{index}]", f"{peered} overlaps the VPC {vpc}"


def _cluster(settings: Settings) -> Iterator[Issue]:
    cluster = settings.cluster
    service = ipaddress.IPv4Network(cluster.service_ipv4_cidr)
    others = [("network.vpc_cidr", settings.network.vpc_cidr)] + [
        (f"network.peered_cidrs[{i}]", cidr) for i, cidr in enumerate(settings.network.peered_cidrs)
    ]
    for key, cidr in others:
        if service.overlaps(ipaddress.IPv4Network(cidr)):
            yield "cluster.service_ipv4_cidr", f"{service} overlaps {key} ({cidr}); pods could not reach it"
    if not 12 <= service.prefixlen <= 24:
        yield "cluster.service_ipv4_cidr", f"EKS accepts a /12 to /24 service CIDR, got {service}"
    seen: set[str] = set()
    for index, group in enumerate(cluster.node_groups):
        path = f"cluster.node_groups[{index}]"
        if group.name in seen:
            yield f"{path}.name", f"node group name {group.name!r} is used twice"
        seen.add(group.name)
        if group.min_size > group.desired_size:
            yield f"{path}.min_size", f"min_size {group.min_size} is above desired_size {group.desired_size}"
        if group.desired_size > group.max_size:
            yield (
                f"{path}.desired_size",
                f"desired_size {group.desired_size} is above max_size {group.max_size}",
            )
    if cluster.log_retention_days < settings.audit.audit_log_retention_days:
        yield (
            "cluster.log_retention_days",
            f"{cluster.log_retention_days} days is shorter than audit.audit_log_retention_days "
            f"({settings.audit.audit_log_retention_days}): the control-plane log group holds the Kubernetes audit log",
        )
    if not any(group.runs_applications for group in cluster.node_groups):
        yield "cluster.node_groups", "at least one node group must have runs_applications: true"
    autoscaler = settings.cluster_addons.cluster_autoscaler_image_tag
    if ".".join(autoscaler.removeprefix("v").split(".")[:2]) != cluster.kubernetes_version:
        yield (
            "cluster_addons.cluster_autoscaler_image_tag",
            f"cluster-autoscaler {autoscaler} does not match Kubernetes {cluster.kubernetes_version}; "
            "the autoscaler supports only its own minor version",
        )
    proxy_minor = ".".join(cluster.addon_versions.kube_proxy.removeprefix("v").split(".")[:2])
    if proxy_minor != cluster.kubernetes_version:
        yield (
            "cluster.addon_versions.kube_proxy",
            f"kube-proxy {cluster.addon_versions.kube_proxy} does not match Kubernetes {cluster.kubernetes_version}; "
            "EKS requires the same minor version",
        )


# Daemon sets on every node: aws-node, kube-proxy, ebs-csi-node, pod identity agent, log shipper, node exporter.
DAEMONSET_OVERHEAD = Resources(cpu_millicores=300, memory_mib=512)


def workloads_at_full_scale(settings: Settings) -> list[Workload]:
    """What the application node groups must hold when every HPA is at its maximum."""
    apps = settings.apps
    # Every Deployment of the release plan at its maximum: blue-green keeps both colours, canary adds one.
    workloads = [
        Workload(
            name,
            Resources(cpu_millicores(workload.cpu_request), memory_mib(workload.memory_request)),
            plan_release(name, workload, apps).max_replicas,
        )
        for name, workload in (("backend", apps.backend), ("frontend", apps.frontend))
    ]
    worker = apps.worker
    workloads.append(
        Workload(
            "worker",
            Resources(cpu_millicores(worker.cpu_request), memory_mib(worker.memory_request)),
            worker.max_replicas,
        )
    )
    neo4j = settings.neo4j
    workloads.append(
        Workload("neo4j", Resources(cpu_millicores(neo4j.cpu_request), memory_mib(neo4j.memory_request)), 1)
    )
    # The Neo4j backup CronJob's pod (data/neo4j.py; tests/test_capacity.py holds these to its manifest):
    # its export init container, then its upload container. One at a time (concurrencyPolicy Forbid).
    # Its dump goes to an EBS volume of its own, so it asks the node for no disk.
    backup_pod = pod_requests(init_containers=[Resources(250, 1024)], containers=[Resources(100, 256)])
    workloads.append(Workload("neo4j-backup", backup_pod, 1))
    return workloads


def _instance_types(settings: Settings) -> Iterator[Issue]:
    """Every instance type is in the one catalogue that capacity, alarms and cost read."""
    used: list[tuple[str, str, Service]] = [
        (f"cluster.node_groups[{index}].instance_types[{position}]", name, "ec2")
        for index, group in enumerate(settings.cluster.node_groups)
        for position, name in enumerate(group.instance_types)
    ]
    used += [
        ("postgres.instance_class", settings.postgres.instance_class, "rds"),
        ("redis.node_type", settings.redis.node_type, "elasticache"),
        ("rabbitmq.host_instance_type", settings.rabbitmq.host_instance_type, "mq"),
    ]
    for path, name, service in used:
        if instance_types.lookup(name, service) is None:
            yield path, instance_types.unknown_message(name, service)


def _capacity(settings: Settings) -> Iterator[Issue]:
    """The application node groups at their maximum must hold every workload at its maximum, with headroom."""
    groups = [(i, g) for i, g in enumerate(settings.cluster.node_groups) if g.runs_applications]
    unknown = any(
        instance_types.lookup(name, "ec2") is None
        for group in settings.cluster.node_groups
        for name in group.instance_types
    )
    if unknown or not groups:
        return  # _instance_types names every unknown type
    offered = Resources(0, 0)
    for _, group in groups:
        offered = offered + capacity(group.instance_types, group.max_size)
    usable = offered.times(1 - settings.cluster.capacity_headroom_percent / 100)
    nodes = sum(group.max_size for _, group in groups)
    needed = demand(workloads_at_full_scale(settings), DAEMONSET_OVERHEAD, nodes)
    if not needed.fits_in(usable):
        index, group = max(groups, key=lambda item: item[1].max_size)
        names = ", ".join(repr(g.name) for _, g in groups)
        yield (
            f"cluster.node_groups[{index}].max_size",
            f"node group {group.name!r} is too small: application groups ({names}) at their maximum offer "
            f"{usable.cpu_millicores / 1000:.1f} vCPU / {usable.memory_mib / 1024:.1f} GiB after "
            f"{settings.cluster.capacity_headroom_percent} % headroom, but the workloads at maximum replicas need "
            f"{needed.cpu_millicores / 1000:.1f} vCPU / {needed.memory_mib / 1024:.1f} GiB",
        )


def _data_services(settings: Settings) -> Iterator[Issue]:
    postgres, redis, rabbitmq, neo4j = settings.postgres, settings.redis, settings.rabbitmq, settings.neo4j
    if postgres.max_allocated_storage_gib <= postgres.allocated_storage_gib:
        yield (
            "postgres.max_allocated_storage_gib",
            f"must exceed allocated_storage_gib ({postgres.allocated_storage_gib}) for storage autoscaling, "
            f"got {postgres.max_allocated_storage_gib}",
        )
    retention = postgres.performance_insights_retention_days
    if not (retention == 7 or (retention % 31 == 0 and 31 <= retention <= 731)):
        yield (
            "postgres.performance_insights_retention_days",
            f"expected 7 or a multiple of 31 up to 731, got {retention}",
        )

    versions = ELASTICACHE_ENGINE_VERSIONS[redis.engine]
    if redis.engine_version not in versions:
        yield (
            "redis.engine_version",
            f"{redis.engine} supports {', '.join(versions)}, got {redis.engine_version!r}",
        )
    if redis.automatic_failover and redis.num_cache_clusters < 2:
        yield "redis.automatic_failover", "needs num_cache_clusters >= 2 (a replica to promote)"
    if redis.multi_az and not redis.automatic_failover:
        yield "redis.multi_az", "ElastiCache requires automatic_failover for Multi-AZ"

    family = rabbitmq.host_instance_type.rsplit(".", 1)[0]
    families = AMAZON_MQ_RABBITMQ_INSTANCE_FAMILIES[rabbitmq.engine_version]
    if family not in families:
        yield (
            "rabbitmq.host_instance_type",
            f"RabbitMQ {rabbitmq.engine_version} runs on {', '.join(families)}, got {rabbitmq.host_instance_type}",
        )
    if rabbitmq.deployment_mode == "CLUSTER_MULTI_AZ" and rabbitmq.host_instance_type == "mq.t3.micro":
        yield "rabbitmq.host_instance_type", "mq.t3.micro supports SINGLE_INSTANCE only"

    tag = neo4j.image.split("@")[0].rsplit(":", 1)[1]
    if not tag.startswith(f"{neo4j.version}."):
        yield "neo4j.image", f"image tag {tag!r} is not a Neo4j {neo4j.version} release"
    yield from _requests_within_limits(
        "neo4j", neo4j.cpu_request, neo4j.cpu_limit, neo4j.memory_request, neo4j.memory_limit
    )


def _edge(settings: Settings) -> Iterator[Issue]:
    edge = settings.edge
    if edge.hosted_zone_id and edge.certificate_arn:
        yield (
            "edge.certificate_arn",
            "set either hosted_zone_id (a certificate validated in Route 53) or certificate_arn",
        )
    contacts = edge.shield_proactive_engagement_contacts
    if contacts and not edge.shield_advanced:
        yield ("edge.shield_proactive_engagement_contacts", "proactive engagement needs edge.shield_advanced: true")
    if contacts and not any(contact.phone_number for contact in contacts):
        # AssociateProactiveEngagementDetails: the emergency contact list must include a phone number.
        yield ("edge.shield_proactive_engagement_contacts", "at least one contact needs a phone_number")


def _backup(settings: Settings) -> Iterator[Issue]:
    backup = settings.backup
    if backup.transition_to_glacier_days <= backup.transition_to_ia_days:
        yield (
            "backup.transition_to_glacier_days",
            f"must be after transition_to_ia_days ({backup.transition_to_ia_days}), "
            f"got {backup.transition_to_glacier_days}",
        )


def _images(settings: Settings) -> Iterator[Issue]:
    """Application images come from the stack's own ECR repositories, or from a registry the stack allows."""
    apps, release = settings.apps, settings.apps.release
    used = [
        ("apps.backend.image", "backend", apps.backend.image),
        ("apps.frontend.image", "frontend", apps.frontend.image),
        ("apps.release.blue_image", "backend", release.blue_image),
        ("apps.release.green_image", "backend", release.green_image),
        ("apps.release.canary_image", "backend", release.canary_image),
    ]
    for path, repository, image in used:
        if image is None:
            continue
        if in_stack_repository(image):
            if repository not in settings.registry.repositories:
                yield (
                    path,
                    f"{image!r} is a tag of the stack's {repository!r} ECR repository, which registry.repositories "
                    f"does not create ({', '.join(settings.registry.repositories)})",
                )
        elif registry_of(image) not in apps.allowed_registries:
            yield (
                path,
                f"registry {registry_of(image)!r} is not allowed: push the image to the stack's ECR repository and "
                f"give only its tag, or list {registry_of(image)!r} in apps.allowed_registries",
            )


def _apps(settings: Settings) -> Iterator[Issue]:
    for name in ("backend", "frontend"):
        workload = getattr(settings.apps, name)
        if workload.min_replicas > workload.max_replicas:
            yield (
                f"apps.{name}.min_replicas",
                f"min_replicas {workload.min_replicas} is above max_replicas {workload.max_replicas}",
            )
        yield from _requests_within_limits(
            f"apps.{name}",
            workload.cpu_request,
            workload.cpu_limit,
            workload.memory_request,
            workload.memory_limit,
        )


def _worker(settings: Settings) -> Iterator[Issue]:
    worker, queues = settings.apps.worker, settings.rabbitmq.queues
    if worker.min_replicas > worker.max_replicas:
        yield (
            "apps.worker.min_replicas",
            f"min_replicas {worker.min_replicas} is above max_replicas {worker.max_replicas}",
        )
    if worker.queue not in queues:
        close = difflib.get_close_matches(worker.queue, queues, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        yield (
            "apps.worker.queue",
            f"queue {worker.queue!r} is not one of the broker's queues (rabbitmq.queues: {', '.join(queues)}){hint}",
        )
    duplicates = sorted({queue for queue in queues if queues.count(queue) > 1})
    if duplicates:
        yield "rabbitmq.queues", f"{', '.join(duplicates)} listed more than once"
    yield from _requests_within_limits(
        "apps.worker", worker.cpu_request, worker.cpu_limit, worker.memory_request, worker.memory_limit
    )


def _throughput(settings: Settings) -> Iterator[Issue]:
    """The declared maxima carry the targets, and the connection pools fit what the proxy may open."""
    if instance_types.lookup(settings.postgres.instance_class, "rds") is None:
        return  # _instance_types names the unknown class
    for line in throughput_table(settings):
        if line.fits:
            continue
        if line.unit == "connections":
            yield (
                line.key,
                (
                    f"{line.name}: the pools at maximum need {line.target:g} but RDS Proxy may open {line.capacity:g} "
                    f"({line.basis})"
                ),
            )
        else:
            yield (
                line.key,
                (
                    f"{line.name}: the declared maximum carries {line.capacity:g} {line.unit} but {line.target:g} are "
                    f"needed ({line.basis})"
                ),
            )


def _release(settings: Settings) -> Iterator[Issue]:
    release = settings.apps.release
    if release.strategy == "canary" and release.canary_image is None:
        yield "apps.release.canary_image", "strategy canary needs the canary's image"
    if release.strategy == "canary" and release.canary_image == settings.apps.backend.image:
        yield "apps.release.canary_image", "the canary must run a different image than the stable backend"
    need = required_quota(settings.apps)
    if settings.apps.quota_cpu and cpu_millicores(settings.apps.quota_cpu) < need.requests_cpu_millicores:
        yield (
            "apps.quota_cpu",
            f"{settings.apps.quota_cpu} would block scale-out: every HPA at maximum (with rollout surge and "
            f"migrations) requests {need.requests_cpu_millicores}m",
        )
    if settings.apps.quota_memory and memory_mib(settings.apps.quota_memory) < need.requests_memory_mib:
        yield (
            "apps.quota_memory",
            f"{settings.apps.quota_memory} would block scale-out: every HPA at maximum requests "
            f"{need.requests_memory_mib}Mi",
        )


def _requests_within_limits(
    path: str, cpu_request: str, cpu_limit: str, mem_request: str, mem_limit: str
) -> Iterator[Issue]:
    if cpu_millicores(cpu_request) > cpu_millicores(cpu_limit):
        yield f"{path}.cpu_request", f"request {cpu_request} is above the limit {cpu_limit}"
    if memory_mib(mem_request) > memory_mib(mem_limit):
        yield f"{path}.memory_request", f"request {mem_request} is above the limit {mem_limit}"


def _production(settings: Settings) -> Iterator[Issue]:
    """What the design requires of production: survive an AZ loss, keep data, stay private."""
    if not settings.is_production:
        return
    required = [
        (len(settings.network.availability_zones) >= 3, "network.availability_zones", "3 or more AZs"),
        (settings.network.nat_gateways == "one_per_az", "network.nat_gateways", "one_per_az"),
        (settings.postgres.multi_az, "postgres.multi_az", "Multi-AZ (true)"),
        (settings.postgres.deletion_protection, "postgres.deletion_protection", "true"),
        (settings.redis.num_cache_clusters >= 2, "redis.num_cache_clusters", "2 or more nodes"),
        (settings.redis.multi_az, "redis.multi_az", "Multi-AZ (true)"),
        (
            settings.rabbitmq.deployment_mode == "CLUSTER_MULTI_AZ",
            "rabbitmq.deployment_mode",
            "CLUSTER_MULTI_AZ",
        ),
        (settings.cluster.deletion_protection, "cluster.deletion_protection", "true"),
        (settings.protect_stateful, "protect_stateful", "true"),
        (settings.backup.copy_to_dr_region, "backup.copy_to_dr_region", "true (copies to the DR region)"),
        (settings.backup.replicate_bucket_to_dr_region, "backup.replicate_bucket_to_dr_region", "true"),
        (settings.audit.replicate_to_dr_region, "audit.replicate_to_dr_region", "true"),
        (settings.registry.replicate_to_dr_region, "registry.replicate_to_dr_region", "true"),
        (settings.apps.backend.min_replicas >= 2, "apps.backend.min_replicas", "2 or more replicas"),
        (settings.apps.frontend.min_replicas >= 2, "apps.frontend.min_replicas", "2 or more replicas"),
        (settings.apps.worker.min_replicas >= 2, "apps.worker.min_replicas", "2 or more replicas"),
    ]
    for ok, path, expected in required:
        if not ok:
            yield path, f"production requires {expected}"
    for index, cidr in enumerate(settings.cluster.endpoint_public_access_cidrs):
        if ipaddress.IPv4Network(cidr).prefixlen == 0:
            yield (
                f"cluster.endpoint_public_access_cidrs[{index}]",
                "production must not open the API endpoint to 0.0.0.0/0",
            )


def _recovery_sources(settings: Settings, now: datetime | None = None) -> Iterator[Issue]:
    """A stack restores from sources in its own region, and never from a point in time still to come."""
    sources = settings.recovery.sources
    if sources is None:
        return
    region = sources.postgres_automated_backups_arn.split(":")[3]
    if region != settings.aws.region:
        yield (
            "recovery.sources.postgres_automated_backups_arn",
            f"the backups are in {region}, the stack in {settings.aws.region}: name the automated backups "
            f"replicated to {settings.aws.region}",
        )
    encrypted_objects = [
        (
            "rabbitmq_definitions",
            "definitions",
            sources.rabbitmq_definitions_object,
            sources.rabbitmq_definitions_key_arn,
        ),
        ("neo4j_dump", "dump", sources.neo4j_dump_object, sources.neo4j_dump_key_arn),
    ]
    for prefix, what, stored, key in encrypted_objects:
        if (stored is None) != (key is None):
            yield (
                f"recovery.sources.{prefix}_key_arn",
                f"name both the {what} object and the key that encrypts it, or neither",
            )
        if key is not None and key.split(":")[3] != settings.aws.region:
            yield (
                f"recovery.sources.{prefix}_key_arn",
                f"the key is in {key.split(':')[3]}, the stack in {settings.aws.region}: name the key of the "
                f"backup bucket's replica in {settings.aws.region}",
            )
    if sources.postgres_restore_time != "latest":
        moment = datetime.fromisoformat(sources.postgres_restore_time.replace("Z", "+00:00"))
        current = now or datetime.now(UTC)
        if moment > current:
            yield (
                "recovery.sources.postgres_restore_time",
                f"{sources.postgres_restore_time} is in the future (now {current:%Y-%m-%dT%H:%M:%SZ})",
            )


def _alert_email(settings: Settings) -> Iterator[Issue]:
    """Alert e-mail through Amazon SES's SMTP endpoint (``email-smtp[-fips].<region>.amazonaws.com``) needs
    an SMTP user: SES refuses unauthenticated mail, so Alertmanager's e-mails would reach nobody
    (https://docs.aws.amazon.com/ses/latest/dg/smtp-credentials.html)."""
    observability = settings.observability
    host = observability.smtp_smarthost.rsplit(":", 1)[0]
    ses = host.startswith(("email-smtp.", "email-smtp-fips.")) and host.endswith(".amazonaws.com")
    if observability.alert_emails and ses and not observability.smtp_username:
        yield (
            "observability.smtp_username",
            f"alert_emails go through SES ({host}), which only accepts authenticated mail: set the SES SMTP "
            "user name here and its password as smtp-password in the alertmanager-receivers secret "
            "(README, before the first pulumi up), or leave alert_emails empty",
        )
