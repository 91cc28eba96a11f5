"""CloudWatch alarms on the managed services, to an encrypted SNS topic (docs/architecture.md layer 11).

What is decided here, and why:

* **The topic's own KMS key.** CloudWatch cannot publish to a topic encrypted with the AWS managed key
  ``alias/aws/sns``, whose policy cannot be changed; a customer-managed key must allow
  ``cloudwatch.amazonaws.com`` ``kms:Decrypt`` and ``kms:GenerateDataKey*``
  (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
  The topic policy lets CloudWatch publish only for alarms of this account, and only over TLS.
* **RDS**: CPU, free storage below 10 % of the allocated storage, connections near ``max_connections``.
  No ``ReplicaLag`` alarm: the data layer creates no read replica, and a Multi-AZ *instance* standby is
  replicated synchronously and cannot be read, so RDS publishes no replica lag for it.
* **ElastiCache**: engine CPU, memory, evictions per node (``<group>-00N``); replication lag on every node
  when there is more than one (after a failover the replica is another node; the primary publishes none,
  which counts as not breaching).
* **Amazon MQ**: queue depth (``MessageCount``, broker-level) and memory. Memory is per node (dimensions
  Broker and Node, node names only known after creation), so the alarm is a Metrics Insights query, the
  highest ``RabbitMQMemUsed`` of any node of the broker, against 80 % of the memory high watermark.
* **Data-service objectives** (``data_slo_alarm_specs``), where only CloudWatch has the metrics (no exporter
  of the managed services runs in the cluster; availability is the application's client view, a Prometheus
  burn-rate alert in ``alerts.py``). Each description links its runbook, a README heading:

  - PostgreSQL latency: ``ReadLatency`` and ``WriteLatency``, the average time of one disk I/O in seconds
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-metrics.html), above the query p95 objective:
    when one I/O alone takes the whole budget, no query that reads the disk meets it.
  - Redis latency per node: ``GetTypeCmdsLatency`` and ``SetTypeCmdsLatency``, the average server-side
    latency of read and write commands in microseconds, above the cache p95 objective
    (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheMetrics.Redis.html). Not
    ``SuccessfulReadRequestLatency``: ElastiCache publishes it for Valkey 7.2 and later only
    (https://aws.amazon.com/blogs/database/monitor-server-side-latency-for-amazon-elasticache-for-valkey/),
    and the default engine is Redis OSS 7.1.
  - Redis hit ratio: ``CacheHits / (CacheHits + CacheMisses)`` summed over every node of the group (the
    ratio ``CacheHitRate`` gives per node), below the objective; no lookups, no datapoint, not breaching.
  - RabbitMQ throughput: the consumers' ``AckRate`` short of what they owe, the ``PublishRate`` up to the
    objective (``IF(m1 > objective, objective, m1) - m2``), both broker-level rates sampled in messages per
    second (https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/rabbitmq-logging-monitoring.html).
    Sampled rates are noisy, so the alarm allows a shortfall of ``THROUGHPUT_SHORTFALL_PERCENT`` of the
    objective; more than the objective published is the queue-depth alarm's business. No publish-to-consume
    latency is published by Amazon MQ: the queue's latency objective is the Prometheus alert's only.
* **ALB**: the share of 5xx answers (the ALB's own and the targets') and the targets' p95 response time,
  against the API's objectives. The ALB belongs to the load balancer controller, which creates it after
  the Ingress; the Ingress gives it a fixed name (``load-balancer-name``) and the platform looks it up by
  that name once the Ingress reports its address, for the ``LoadBalancer`` dimension (``app/<name>/<id>``).
  These alarms see what users see even when Prometheus does not (no healthy target: the ALB answers 503
  itself); the error-rate alarm pages at the same 14.4x budget burn as the fast Prometheus alert.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from silhouette_infra.aws.context import LayerArgs
from silhouette_infra.aws.keys import customer_managed_key, delegate_to_account
from silhouette_infra.aws.naming import Naming
from silhouette_infra.observability.alerts import PAGE_BURN_RATE, availability_budget
from silhouette_infra.planning.throughput import instance_memory_gib, postgres_max_connections
from silhouette_infra.settings.models import (
    ObservabilitySettings,
    PostgresSettings,
    RabbitMqSettings,
    RedisSettings,
    SloSettings,
)

PERIOD_SECONDS = 300
EVALUATION_PERIODS = 3  # 15 minutes: long enough to ignore a spike, short enough to act before users notice
GIB = 1024**3
CPU_PERCENT = 80
MEMORY_PERCENT = 80
CONNECTIONS_PERCENT = 80
PINNED_PERCENT = 50
FREE_STORAGE_PERCENT = 10
REPLICATION_LAG_SECONDS = 5
QUEUE_DEPTH_MESSAGES = 10_000
THROUGHPUT_SHORTFALL_PERCENT = 10  # of the queue's throughput objective: below it, sampling noise
# Amazon MQ for RabbitMQ blocks publishers when a node uses 40 % of its memory (vm_memory_high_watermark).
RABBITMQ_MEMORY_HIGH_WATERMARK = 0.4


def rabbitmq_memory_alarm_bytes(settings: RabbitMqSettings) -> int:
    return int(
        instance_memory_gib(settings.host_instance_type) * GIB * RABBITMQ_MEMORY_HIGH_WATERMARK * MEMORY_PERCENT / 100
    )


@dataclass(frozen=True)
class Metric:
    """One input of a metric-math expression, named ``id`` in it."""

    id: str
    namespace: str
    name: str
    dimensions: Mapping[str, pulumi.Input[str]]
    statistic: str = "Sum"


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm: a metric (namespace, name, dimensions, statistic or percentile such as ``p95``), or an
    ``expression`` (metric math over ``inputs``, or a Metrics Insights query when there are none)."""

    name: str
    description: str
    threshold: float
    comparison: str = "GreaterThanThreshold"
    namespace: str = ""
    metric: str = ""
    dimensions: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    statistic: str = "Average"
    expression: str = ""
    inputs: tuple[Metric, ...] = ()
    treat_missing_data: str = "missing"


def redis_node_ids(replication_group_id: str, nodes: int) -> list[str]:
    """ElastiCache names the clusters of a replication group ``<group>-001``, ``-002`` ..."""
    return [f"{replication_group_id}-{index:03d}" for index in range(1, nodes + 1)]


def alarm_specs(
    *,
    postgres: PostgresSettings,
    redis: RedisSettings,
    rabbitmq: RabbitMqSettings,
    slo: SloSettings,
    postgres_identifier: str,
    proxy_name: str,
    planned_client_connections: int,
    redis_replication_group_id: str,
    rabbitmq_broker_name: str,
    load_balancer: pulumi.Input[str],
    runbook_base_url: str,
) -> list[AlarmSpec]:
    """Every CloudWatch alarm of the stack (see the module docstring for what is left out and why)."""
    return [
        *_postgres_alarms(postgres, postgres_identifier),
        *proxy_alarm_specs(proxy_name, planned_client_connections),
        *_redis_alarms(redis, redis_replication_group_id),
        *_rabbitmq_alarms(rabbitmq, rabbitmq_broker_name),
        *alb_alarm_specs(slo, load_balancer),
        *data_slo_alarm_specs(
            slo,
            redis,
            postgres_identifier=postgres_identifier,
            redis_replication_group_id=redis_replication_group_id,
            rabbitmq_broker_name=rabbitmq_broker_name,
            runbook_base_url=runbook_base_url,
        ),
    ]


def _postgres_alarms(postgres: PostgresSettings, identifier: str) -> list[AlarmSpec]:
    """CPU, free storage against the allocated storage, connections against the class's max_connections."""
    instance = {"DBInstanceIdentifier": identifier}
    return [
        AlarmSpec(
            "postgres-cpu",
            f"PostgreSQL CPU above {CPU_PERCENT} % for 15 minutes",
            CPU_PERCENT,
            namespace="AWS/RDS",
            metric="CPUUtilization",
            dimensions=instance,
        ),
        AlarmSpec(
            "postgres-free-storage",
            f"PostgreSQL free storage below {FREE_STORAGE_PERCENT} % of the allocated storage",
            postgres.allocated_storage_gib * GIB * FREE_STORAGE_PERCENT / 100,
            comparison="LessThanThreshold",
            namespace="AWS/RDS",
            metric="FreeStorageSpace",
            dimensions=instance,
            statistic="Minimum",
        ),
        AlarmSpec(
            "postgres-connections",
            f"PostgreSQL connections above {CONNECTIONS_PERCENT} % of max_connections",
            postgres_max_connections(postgres.instance_class) * CONNECTIONS_PERCENT // 100,
            namespace="AWS/RDS",
            metric="DatabaseConnections",
            dimensions=instance,
            statistic="Maximum",
        ),
    ]


def proxy_alarm_specs(proxy_name: str, planned_client_connections: int) -> list[AlarmSpec]:
    """RDS Proxy (AWS/RDS, dimension ProxyName; RDS User Guide, "Monitoring RDS Proxy metrics with Amazon
    CloudWatch"): its database connections near the limit it may open, more clients than the throughput model
    planned, and pinned sessions that defeat the pooling."""
    proxy = {"ProxyName": proxy_name}
    return [
        AlarmSpec(
            "postgres-proxy-connections",
            f"RDS Proxy holds more than {CONNECTIONS_PERCENT} % of the database connections it may open",
            CONNECTIONS_PERCENT,
            expression="100 * m1 / m2",
            inputs=(
                Metric("m1", "AWS/RDS", "DatabaseConnections", proxy, statistic="Maximum"),
                Metric("m2", "AWS/RDS", "MaxDatabaseConnectionsAllowed", proxy, statistic="Minimum"),
            ),
        ),
        AlarmSpec(
            "postgres-proxy-clients",
            f"More than {planned_client_connections} client connections to RDS Proxy: the pods hold more than "
            "the throughput model's pools at maximum (apps.throughput)",
            planned_client_connections,
            namespace="AWS/RDS",
            metric="ClientConnections",
            dimensions=proxy,
            statistic="Maximum",
        ),
        AlarmSpec(
            "postgres-proxy-pinning",
            f"More than {PINNED_PERCENT} % of RDS Proxy's database connections pinned to one client session: "
            "the pool no longer multiplexes",
            PINNED_PERCENT,
            expression="100 * m1 / m2",
            inputs=(
                Metric("m1", "AWS/RDS", "DatabaseConnectionsCurrentlySessionPinned", proxy, statistic="Average"),
                Metric("m2", "AWS/RDS", "DatabaseConnections", proxy, statistic="Average"),
            ),
            treat_missing_data="notBreaching",  # no connections, nothing pinned
        ),
    ]


def _redis_alarms(redis: RedisSettings, replication_group_id: str) -> list[AlarmSpec]:
    """Per node, in node order: engine CPU, memory, evictions, and replication lag when there are replicas."""
    nodes = redis_node_ids(replication_group_id, redis.num_cache_clusters)
    specs: list[AlarmSpec] = []
    for node in nodes:
        cache = {"CacheClusterId": node}
        specs += [
            AlarmSpec(
                f"{node}-engine-cpu",
                f"Redis engine thread of {node} above {CPU_PERCENT} %",
                CPU_PERCENT,
                namespace="AWS/ElastiCache",
                metric="EngineCPUUtilization",
                dimensions=cache,
            ),
            AlarmSpec(
                f"{node}-memory",
                f"Redis memory of {node} above {MEMORY_PERCENT} % of maxmemory",
                MEMORY_PERCENT,
                namespace="AWS/ElastiCache",
                metric="DatabaseMemoryUsagePercentage",
                dimensions=cache,
            ),
            AlarmSpec(
                f"{node}-evictions",
                f"Redis {node} evicts keys for 15 minutes: the cache is too small",
                0,
                namespace="AWS/ElastiCache",
                metric="Evictions",
                dimensions=cache,
                statistic="Sum",
            ),
        ]
        if len(nodes) > 1:
            specs.append(
                AlarmSpec(
                    f"{node}-replication-lag",
                    f"Redis replica {node} more than {REPLICATION_LAG_SECONDS} s behind its primary",
                    REPLICATION_LAG_SECONDS,
                    namespace="AWS/ElastiCache",
                    metric="ReplicationLag",
                    dimensions=cache,
                    statistic="Maximum",
                    treat_missing_data="notBreaching",
                )
            )
    return specs


def _rabbitmq_alarms(rabbitmq: RabbitMqSettings, broker_name: str) -> list[AlarmSpec]:
    """Queue depth of the broker, and the highest memory use of any of its nodes."""
    return [
        AlarmSpec(
            "rabbitmq-queue-depth",
            f"More than {QUEUE_DEPTH_MESSAGES} messages waiting in RabbitMQ: consumers are behind",
            QUEUE_DEPTH_MESSAGES,
            namespace="AWS/AmazonMQ",
            metric="MessageCount",
            dimensions={"Broker": broker_name},
            statistic="Maximum",
        ),
        AlarmSpec(
            "rabbitmq-memory",
            f"A RabbitMQ node above {MEMORY_PERCENT} % of its memory high watermark (publishers get blocked at 100 %)",
            rabbitmq_memory_alarm_bytes(rabbitmq),
            expression=(
                'SELECT MAX(RabbitMQMemUsed) FROM SCHEMA("AWS/AmazonMQ", Broker, Node) '
                f"WHERE Broker = '{broker_name}'"
            ),
        ),
    ]


def alb_alarm_specs(slo: SloSettings, load_balancer: pulumi.Input[str]) -> list[AlarmSpec]:
    """The API's error rate (5xx of the ALB and of the targets over all requests) and the targets' p95."""
    alb = {"LoadBalancer": load_balancer}
    budget_percent = availability_budget(slo) * 100
    error_percent = round(PAGE_BURN_RATE * budget_percent, 6)
    return [
        AlarmSpec(
            "alb-5xx-rate",
            f"More than {error_percent:g} % of requests answered 5xx for 15 minutes: the error budget of "
            f"{budget_percent:g} % burns {PAGE_BURN_RATE:g}x too fast",
            error_percent,
            expression="100 * (FILL(m1, 0) + FILL(m2, 0)) / m3",
            inputs=(
                Metric("m1", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", alb),
                Metric("m2", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", alb),
                Metric("m3", "AWS/ApplicationELB", "RequestCount", alb),
            ),
            treat_missing_data="notBreaching",  # no requests, no errors
        ),
        AlarmSpec(
            "alb-target-p95",
            f"Targets' p95 response time above {slo.latency_p95_ms} ms for 15 minutes",
            slo.latency_p95_ms / 1000,
            namespace="AWS/ApplicationELB",
            metric="TargetResponseTime",
            dimensions=alb,
            statistic="p95",
            treat_missing_data="notBreaching",
        ),
    ]


def _runbook(runbook_base_url: str, heading: str) -> str:
    """A README runbook heading's anchor (``#### redis-hit-ratio`` is ``#redis-hit-ratio``)."""
    return f" Runbook: {runbook_base_url}#{heading}"


def data_slo_alarm_specs(
    slo: SloSettings,
    redis: RedisSettings,
    *,
    postgres_identifier: str,
    redis_replication_group_id: str,
    rabbitmq_broker_name: str,
    runbook_base_url: str,
) -> list[AlarmSpec]:
    """The data services' latency, cache hit ratio and queue throughput objectives, from their CloudWatch
    metrics (see the module docstring for each metric and why)."""
    instance = {"DBInstanceIdentifier": postgres_identifier}
    postgres = [
        AlarmSpec(
            f"postgres-{kind}-latency",
            f"PostgreSQL average {kind} I/O above the {slo.database_p95_ms} ms query p95 objective for 15 minutes."
            + _runbook(runbook_base_url, "postgres-io-latency"),
            slo.database_p95_ms / 1000,
            namespace="AWS/RDS",
            metric=metric,
            dimensions=instance,
        )
        for kind, metric in (("read", "ReadLatency"), ("write", "WriteLatency"))
    ]
    nodes = redis_node_ids(redis_replication_group_id, redis.num_cache_clusters)
    cache_latency = [
        AlarmSpec(
            f"{node}-{kind}-latency",
            f"Redis {node}: average {kind} command latency above the {slo.cache_p95_ms} ms p95 objective for "
            f"15 minutes." + _runbook(runbook_base_url, "redis-command-latency"),
            slo.cache_p95_ms * 1000,  # the metric is in microseconds
            namespace="AWS/ElastiCache",
            metric=metric,
            dimensions={"CacheClusterId": node},
            treat_missing_data="notBreaching",  # no such command in the period
        )
        for node in nodes
        for kind, metric in (("read", "GetTypeCmdsLatency"), ("write", "SetTypeCmdsLatency"))
    ]
    hits = tuple(Metric(f"h{i}", "AWS/ElastiCache", "CacheHits", {"CacheClusterId": n}) for i, n in enumerate(nodes))
    misses = tuple(
        Metric(f"m{i}", "AWS/ElastiCache", "CacheMisses", {"CacheClusterId": n}) for i, n in enumerate(nodes)
    )
    lookups = " + ".join(metric.id for metric in (*hits, *misses))
    objective = slo.queue_messages_per_second
    broker = {"Broker": rabbitmq_broker_name}
    return [
        *postgres,
        *cache_latency,
        AlarmSpec(
            "redis-hit-ratio",
            f"Redis hit ratio below the {slo.cache_hit_ratio_percent:g} % objective for 15 minutes."
            + _runbook(runbook_base_url, "redis-hit-ratio"),
            slo.cache_hit_ratio_percent,
            comparison="LessThanThreshold",
            expression=f"100 * ({' + '.join(metric.id for metric in hits)}) / ({lookups})",
            inputs=(*hits, *misses),
            treat_missing_data="notBreaching",  # no lookups: nothing to miss
        ),
        AlarmSpec(
            "rabbitmq-throughput",
            f"RabbitMQ consumers acknowledge over {objective * THROUGHPUT_SHORTFALL_PERCENT / 100:g} msg/s "
            f"({THROUGHPUT_SHORTFALL_PERCENT} % of the {objective} msg/s objective) less than is published "
            f"(publishes counted up to the objective) for 15 minutes."
            + _runbook(runbook_base_url, "rabbitmq-throughput"),
            objective * THROUGHPUT_SHORTFALL_PERCENT / 100,
            expression=f"IF(m1 > {objective}, {objective}, m1) - m2",
            inputs=(
                Metric("m1", "AWS/AmazonMQ", "PublishRate", broker, statistic="Average"),
                Metric("m2", "AWS/AmazonMQ", "AckRate", broker, statistic="Average"),
            ),
            treat_missing_data="notBreaching",
        ),
    ]


def topic_key_policy(*, account_id: str, partition: str = "aws") -> dict[str, Any]:
    """Delegated to IAM of this account; CloudWatch may use it to publish alarms of this account."""
    return {
        "Version": "2012-10-17",
        "Id": "silhouette-alarms",
        "Statement": [
            delegate_to_account(account_id, partition),
            {
                "Sid": "CloudWatchPublishesAlarms",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
        ],
    }


def topic_policy(*, topic_arn: str, account_id: str, region: str, partition: str = "aws") -> dict[str, Any]:
    """CloudWatch alarms of this account may publish; nothing is accepted without TLS."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CloudWatchAlarmsOfThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:*"},
                },
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]", "-", text.lower())


@dataclass
class AlarmsArgs(LayerArgs):
    observability: ObservabilitySettings
    # The services the alarms watch (thresholds follow their sizes) and the names the data layer gave them.
    postgres: PostgresSettings
    redis: RedisSettings
    rabbitmq: RabbitMqSettings
    key_deletion_window_days: int  # the stack's KMS setting, for the alarm topic's own key
    postgres_identifier: str
    proxy_name: str
    planned_client_connections: int  # the throughput model's pools at maximum (planning/throughput.py)
    redis_replication_group_id: str
    rabbitmq_broker_name: str
    load_balancer_name: pulumi.Input[str]  # resolves only once the ALB exists (Apps.load_balancer_ready_name)


class Alarms(pulumi.ComponentResource):
    """The encrypted alarm topic, its email subscriptions, and the managed services' alarms."""

    topic_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AlarmsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("silhouette:observability:Alarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        naming, region = args.naming, args.region
        account_id = args.account_id
        key = customer_managed_key(
            "alarms-key",
            naming=naming,
            purpose="alarms",
            description="SNS topic of the CloudWatch alarms",
            policy=account_id.apply(lambda account: json.dumps(topic_key_policy(account_id=account))),
            deletion_window_days=args.key_deletion_window_days,
            protect=args.protect,
            opts=child,
        )
        topic = aws.sns.Topic(
            "alarms-topic",
            name=naming.physical("alarms"),
            kms_master_key_id=key.arn,
            tags=naming.name_tag("alarms"),
            opts=child,
        )
        aws.sns.TopicPolicy(
            "alarms-topic-policy",
            arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, account_id).apply(
                lambda values: json.dumps(
                    topic_policy(topic_arn=str(values[0]), account_id=str(values[1]), region=region)
                )
            ),
            opts=child,
        )
        for email in args.observability.alarm_emails:
            aws.sns.TopicSubscription(
                f"alarms-email-{_slug(email)}", topic=topic.arn, protocol="email", endpoint=email, opts=child
            )
        for spec in alarm_specs(
            postgres=args.postgres,
            redis=args.redis,
            rabbitmq=args.rabbitmq,
            slo=args.observability.slo,
            postgres_identifier=args.postgres_identifier,
            proxy_name=args.proxy_name,
            planned_client_connections=args.planned_client_connections,
            redis_replication_group_id=args.redis_replication_group_id,
            rabbitmq_broker_name=args.rabbitmq_broker_name,
            runbook_base_url=args.observability.runbook_base_url,
            # app/<name>/<id>: the ALB metrics' LoadBalancer dimension
            load_balancer=aws.lb.get_load_balancer_output(
                name=args.load_balancer_name, opts=pulumi.InvokeOutputOptions(parent=self)
            ).arn_suffix,
        ):
            self._alarm(spec, naming, topic.arn)
        self.topic_arn = topic.arn
        self.register_outputs({"topic_arn": self.topic_arn})

    def _alarm(self, spec: AlarmSpec, naming: Naming, topic_arn: pulumi.Output[str]) -> None:
        percentile = spec.statistic.startswith("p")
        metric: dict[str, Any] = (
            {"metric_queries": _metric_queries(spec)}
            if spec.expression
            else {
                "namespace": spec.namespace,
                "metric_name": spec.metric,
                "dimensions": spec.dimensions,
                "extended_statistic" if percentile else "statistic": spec.statistic,
                "period": PERIOD_SECONDS,
            }
        )
        aws.cloudwatch.MetricAlarm(
            f"alarm-{spec.name}",
            name=naming.physical(spec.name),
            alarm_description=spec.description,
            comparison_operator=spec.comparison,
            threshold=spec.threshold,
            evaluation_periods=EVALUATION_PERIODS,
            datapoints_to_alarm=EVALUATION_PERIODS,
            treat_missing_data=spec.treat_missing_data,
            alarm_actions=[topic_arn],
            ok_actions=[topic_arn],
            tags=naming.name_tag(spec.name),
            opts=pulumi.ResourceOptions(parent=self),
            **metric,
        )


def _metric_queries(spec: AlarmSpec) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgs]:
    """The expression (the alarm's value) and the metrics it reads, which are not returned."""
    return [
        aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id="e1", expression=spec.expression, period=PERIOD_SECONDS if not spec.inputs else None, return_data=True
        ),
        *(
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=metric.id,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace=metric.namespace,
                    metric_name=metric.name,
                    dimensions=metric.dimensions,
                    stat=metric.statistic,
                    period=PERIOD_SECONDS,
                ),
                return_data=False,
            )
            for metric in spec.inputs
        ),
    ]
