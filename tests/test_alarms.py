"""CloudWatch alarms on the managed services, to an encrypted SNS topic (docs/architecture.md layer 11)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from silhouette_infra.observability.alarms import (
    GIB,
    THROUGHPUT_SHORTFALL_PERCENT,
    redis_node_ids,
    topic_key_policy,
    topic_policy,
)
from silhouette_infra.planning.throughput import connection_line, instance_memory_gib, postgres_max_connections
from silhouette_infra.synth.engine import MOCK_ACCOUNT_ID, CapturedResource, SynthResult

COMPONENT = "silhouette:observability:Alarms"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
README = Path(__file__).resolve().parents[1] / "README.md"


def _alarms(result: SynthResult) -> dict[str, dict[str, Any]]:
    (component,) = result.of_type(COMPONENT)
    return {
        r.name.removeprefix("alarm-"): r.inputs for r in result.of_type(ALARM) if result.component_of(r) is component
    }


def _topic(result: SynthResult) -> CapturedResource:
    return result.named(TOPIC, "alarms-topic")


def _statement(policy: dict[str, Any], sid: str) -> dict[str, Any]:
    (found,) = [s for s in policy["Statement"] if s["Sid"] == sid]
    return dict(found)


# ------------------------------------------------------------------------------------------ the topic
def test_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use(stack: SynthResult) -> None:
    """CloudWatch cannot publish to a topic under the AWS managed key; a CMK must allow cloudwatch.amazonaws.com
    kms:Decrypt and kms:GenerateDataKey* (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html)."""
    key = stack.named("aws:kms/key:Key", "alarms-key")
    assert _topic(stack).inputs["kmsMasterKeyId"] == key.outputs["arn"], "alarm topic: the alarms CMK"
    assert key.inputs["enableKeyRotation"] is True
    cloudwatch = _statement(json.loads(key.inputs["policy"]), "CloudWatchPublishesAlarms")
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert set(cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert key.protect == stack.settings.protect_stateful


def test_only_this_accounts_alarms_publish_over_tls() -> None:
    policy = topic_policy(topic_arn="arn:aws:sns:us-east-1:1:t", account_id=MOCK_ACCOUNT_ID, region="us-east-1")
    allow = _statement(policy, "CloudWatchAlarmsOfThisAccount")
    assert allow["Condition"]["ArnLike"] == {"aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{MOCK_ACCOUNT_ID}:alarm:*"}
    assert _statement(policy, "DenyInsecureTransport")["Effect"] == "Deny"
    key = topic_key_policy(account_id=MOCK_ACCOUNT_ID)
    assert all(s["Principal"] != "*" for s in key["Statement"])


def test_every_alarm_notifies_the_topic(stack: SynthResult) -> None:
    topic_arn = _topic(stack).outputs["arn"]
    alarms = _alarms(stack)
    assert alarms
    for name, alarm in alarms.items():
        assert alarm["alarmActions"] == [topic_arn] and alarm["okActions"] == [topic_arn], name


def test_each_alarm_email_is_subscribed(stack: SynthResult) -> None:
    subscriptions = stack.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert sorted(s.inputs["endpoint"] for s in subscriptions) == sorted(stack.settings.observability.alarm_emails)
    assert all(s.inputs["protocol"] == "email" for s in subscriptions)


# ----------------------------------------------------------------------------------------------- RDS
def test_postgres_alarms_on_cpu_storage_and_connections(stack: SynthResult) -> None:
    alarms = _alarms(stack)
    settings = stack.settings.postgres
    dimensions = {"DBInstanceIdentifier": f"silhouette-{stack.stack}-postgres"}
    cpu = alarms["postgres-cpu"]
    assert (cpu["metricName"], cpu["threshold"], cpu["dimensions"]) == ("CPUUtilization", 80, dimensions)
    storage = alarms["postgres-free-storage"]
    assert storage["comparisonOperator"] == "LessThanThreshold"
    assert storage["threshold"] == settings.allocated_storage_gib * GIB * 0.1, "10 % of the allocated storage"
    connections = alarms["postgres-connections"]
    assert connections["threshold"] == postgres_max_connections(settings.instance_class) * 80 // 100
    assert not any("replica-lag" in name for name in alarms), "Multi-AZ instance standby: no ReplicaLag metric"


def test_max_connections_follows_rds_formula() -> None:
    """LEAST(DBInstanceClassMemory/9531392, 5000)
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.MaxConnections)."""
    assert instance_memory_gib("db.r6g.xlarge") == 32
    assert instance_memory_gib("db.t4g.medium") == 4
    assert postgres_max_connections("db.r6g.xlarge") == 3604
    assert postgres_max_connections("db.r6g.16xlarge") == 5000
    assert postgres_max_connections("db.r6i.24xlarge") == 5000, "db.r6i.24xlarge: a real class the alarms must size"
    with pytest.raises(KeyError, match=r"db\.z1d\.large"):
        instance_memory_gib("db.z1d.large")


# ----------------------------------------------------------------------------------------- ElastiCache
def test_each_cache_node_alarms_on_cpu_memory_evictions(stack: SynthResult) -> None:
    alarms = _alarms(stack)
    nodes = redis_node_ids(f"silhouette-{stack.stack}-redis", stack.settings.redis.num_cache_clusters)
    for node in nodes:
        for suffix, metric in (
            ("engine-cpu", "EngineCPUUtilization"),
            ("memory", "DatabaseMemoryUsagePercentage"),
            ("evictions", "Evictions"),
        ):
            alarm = alarms[f"{node}-{suffix}"]
            assert (alarm["metricName"], alarm["dimensions"]) == (metric, {"CacheClusterId": node})


def test_replication_lag_is_watched_only_with_replicas(production: SynthResult, staging: SynthResult) -> None:
    lag = {name: a for name, a in _alarms(production).items() if name.endswith("replication-lag")}
    assert sorted(lag) == [
        "silhouette-production-redis-001-replication-lag",
        "silhouette-production-redis-002-replication-lag",
    ]
    assert all(a["treatMissingData"] == "notBreaching" for a in lag.values()), "the primary publishes no lag"
    assert not any(name.endswith("replication-lag") for name in _alarms(staging)), "staging: one node"


# ----------------------------------------------------------------------------------------- Amazon MQ
def test_rabbitmq_alarms_on_queue_depth_and_node_memory(stack: SynthResult) -> None:
    alarms = _alarms(stack)
    broker = f"silhouette-{stack.stack}-rabbitmq"
    depth = alarms["rabbitmq-queue-depth"]
    assert (depth["metricName"], depth["dimensions"]) == ("MessageCount", {"Broker": broker})
    (query,) = alarms["rabbitmq-memory"]["metricQueries"]
    assert query["expression"] == (
        f"SELECT MAX(RabbitMQMemUsed) FROM SCHEMA(\"AWS/AmazonMQ\", Broker, Node) WHERE Broker = '{broker}'"
    )
    memory = instance_memory_gib(stack.settings.rabbitmq.host_instance_type) * GIB
    assert alarms["rabbitmq-memory"]["threshold"] == int(memory * 0.4 * 0.8), "80 % of the 40 % high watermark"


# ----------------------------------------------------------------------------------------------- ALB
def test_ingress_names_the_alb_the_alarms_look_up(stack: SynthResult) -> None:
    """The load balancer controller creates the ALB: the Ingress fixes its name, and the alarms read the
    LoadBalancer dimension (app/<name>/<id>) from a lookup by that name."""
    name = f"silhouette-{stack.stack}-alb"
    ingress = stack.named("kubernetes:networking.k8s.io/v1:Ingress", "ingress")
    assert ingress.inputs["metadata"]["annotations"]["alb.ingress.kubernetes.io/load-balancer-name"] == name
    dimension = _alarms(stack)["alb-target-p95"]["dimensions"]["LoadBalancer"]
    assert dimension.startswith(f"app/{name}/"), f"alarm alb-target-p95: LoadBalancer dimension {dimension!r}"


def test_alb_alarms_on_the_api_error_rate_and_p95(stack: SynthResult) -> None:
    """Issue 6: ALB 5xx rate and target latency p95, against the API's objectives."""
    slo = stack.settings.observability.slo
    alarms = _alarms(stack)
    latency = alarms["alb-target-p95"]
    assert (latency["namespace"], latency["metricName"]) == ("AWS/ApplicationELB", "TargetResponseTime")
    assert latency["extendedStatistic"] == "p95" and "statistic" not in latency, "alb-target-p95: a percentile"
    assert latency["threshold"] == slo.latency_p95_ms / 1000, "alb-target-p95: threshold in seconds"
    errors = alarms["alb-5xx-rate"]
    queries = {q["id"]: q for q in errors["metricQueries"]}
    assert queries["e1"]["expression"] == "100 * (FILL(m1, 0) + FILL(m2, 0)) / m3"
    assert [q["id"] for q in errors["metricQueries"] if q.get("returnData")] == ["e1"], "only e1 is the value"
    read = {q["metric"]["metricName"] for key, q in queries.items() if key != "e1"}
    assert read == {"HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "RequestCount"}
    assert all(queries[key]["metric"]["stat"] == "Sum" for key in ("m1", "m2", "m3")), "rates from sums"
    assert errors["threshold"] == pytest.approx(14.4 * 0.1), "alb-5xx-rate: the page-level 14.4x burn of 0.1 %"
    assert errors["treatMissingData"] == "notBreaching", "alb-5xx-rate: no traffic is no error"


def test_rds_proxy_alarms_watch_its_connections_by_proxy_name(stack: SynthResult) -> None:
    """Issue 15: CloudWatch alarms on RDS Proxy's connection metrics (AWS/RDS, dimension ProxyName)."""
    alarms = _alarms(stack)
    proxy = stack.named("aws:rds/proxy:Proxy", "postgres-proxy").inputs["name"]
    clients = alarms["postgres-proxy-clients"]
    assert (clients["namespace"], clients["metricName"], clients["dimensions"]) == (
        "AWS/RDS",
        "ClientConnections",
        {"ProxyName": proxy},
    )
    assert clients["threshold"] == connection_line(stack.settings).target, "clients beyond the planned pools"
    for name, metrics in (
        ("postgres-proxy-connections", {"DatabaseConnections", "MaxDatabaseConnectionsAllowed"}),
        ("postgres-proxy-pinning", {"DatabaseConnectionsCurrentlySessionPinned", "DatabaseConnections"}),
    ):
        queries = [q for q in alarms[name]["metricQueries"] if "metric" in q]
        assert {q["metric"]["metricName"] for q in queries} == metrics, name
        assert all(q["metric"]["dimensions"] == {"ProxyName": proxy} for q in queries), name


# ------------------------------------------------------------------------- data-service objectives
def test_postgres_io_latency_alarms_at_the_query_objective(stack: SynthResult) -> None:
    """Issue 15: the database's latency objective, from RDS ReadLatency/WriteLatency (seconds per I/O)."""
    slo = stack.settings.observability.slo
    alarms = _alarms(stack)
    for kind, metric in (("read", "ReadLatency"), ("write", "WriteLatency")):
        alarm = alarms[f"postgres-{kind}-latency"]
        assert (alarm["namespace"], alarm["metricName"]) == ("AWS/RDS", metric), f"postgres-{kind}-latency: metric"
        assert alarm["dimensions"] == {"DBInstanceIdentifier": f"silhouette-{stack.stack}-postgres"}
        assert alarm["threshold"] == slo.database_p95_ms / 1000, f"postgres-{kind}-latency: objective in seconds"


def test_each_cache_node_alarms_on_command_latency_at_the_cache_objective(stack: SynthResult) -> None:
    """Issue 15: the cache's latency objective, per node, in the metrics' microseconds."""
    slo = stack.settings.observability.slo
    alarms = _alarms(stack)
    for node in redis_node_ids(f"silhouette-{stack.stack}-redis", stack.settings.redis.num_cache_clusters):
        for kind, metric in (("read", "GetTypeCmdsLatency"), ("write", "SetTypeCmdsLatency")):
            alarm = alarms[f"{node}-{kind}-latency"]
            assert (alarm["metricName"], alarm["dimensions"]) == (metric, {"CacheClusterId": node}), node
            assert alarm["threshold"] == slo.cache_p95_ms * 1000, f"{node}-{kind}-latency: objective in microseconds"


def test_cache_hit_ratio_alarm_sums_hits_and_misses_of_every_node(stack: SynthResult) -> None:
    """Issue 15: hit ratio above 90 %, for the group: hits over lookups summed over each node."""
    alarm = _alarms(stack)["redis-hit-ratio"]
    queries = {q["id"]: q for q in alarm["metricQueries"]}
    nodes = redis_node_ids(f"silhouette-{stack.stack}-redis", stack.settings.redis.num_cache_clusters)
    read = sorted(
        (q["metric"]["metricName"], q["metric"]["dimensions"]["CacheClusterId"])
        for q in queries.values()
        if "metric" in q
    )
    assert read == sorted((name, node) for name in ("CacheHits", "CacheMisses") for node in nodes), "redis-hit-ratio"
    ids = {
        name: [key for key, q in queries.items() if q.get("metric", {}).get("metricName") == name]
        for name in ("CacheHits", "CacheMisses")
    }
    hits, lookups = " + ".join(ids["CacheHits"]), " + ".join(ids["CacheHits"] + ids["CacheMisses"])
    assert queries["e1"]["expression"] == f"100 * ({hits}) / ({lookups})", "redis-hit-ratio: hits over lookups"
    assert alarm["comparisonOperator"] == "LessThanThreshold"
    assert alarm["threshold"] == stack.settings.observability.slo.cache_hit_ratio_percent
    assert alarm["treatMissingData"] == "notBreaching", "redis-hit-ratio: no lookups is no miss"


def test_queue_throughput_alarm_compares_acks_with_publishes_up_to_the_objective(stack: SynthResult) -> None:
    """Issue 15: queue throughput of 100 msg/s, from Amazon MQ's broker-level PublishRate and AckRate."""
    objective = stack.settings.observability.slo.queue_messages_per_second
    alarm = _alarms(stack)["rabbitmq-throughput"]
    queries = {q["id"]: q for q in alarm["metricQueries"]}
    assert queries["e1"]["expression"] == f"IF(m1 > {objective}, {objective}, m1) - m2"
    broker = {"Broker": f"silhouette-{stack.stack}-rabbitmq"}
    assert (queries["m1"]["metric"]["metricName"], queries["m1"]["metric"]["dimensions"]) == ("PublishRate", broker)
    assert (queries["m2"]["metric"]["metricName"], queries["m2"]["metric"]["dimensions"]) == ("AckRate", broker)
    assert queries["m1"]["metric"]["stat"] == queries["m2"]["metric"]["stat"] == "Average", "rates, not sums"
    assert alarm["threshold"] == objective * THROUGHPUT_SHORTFALL_PERCENT / 100


def test_every_data_objective_alarm_links_a_runbook_heading_of_the_readme(stack: SynthResult) -> None:
    """Each alert has a runbook: the data-objective alarms name a README heading in their description."""
    base = stack.settings.observability.runbook_base_url
    headings = {line.lstrip("#").strip() for line in README.read_text().splitlines() if line.startswith("####")}
    linked = {
        name: alarm["alarmDescription"].rsplit(f"Runbook: {base}#", 1)
        for name, alarm in _alarms(stack).items()
        if "Runbook: " in alarm["alarmDescription"]
    }
    expected = {"postgres-read-latency", "postgres-write-latency", "redis-hit-ratio", "rabbitmq-throughput"}
    assert expected <= set(linked), f"alarms without a runbook link: {sorted(expected - set(linked))}"
    for name, parts in linked.items():
        assert len(parts) == 2 and parts[1] in headings, f"alarm {name}: runbook anchor is no README heading"


METRIC_ID = re.compile(r"\b[a-z][a-zA-Z0-9_]*\b")


def test_every_metric_math_alarm_is_well_formed(stack: SynthResult) -> None:
    """CloudWatch: exactly one query returns the alarm's value; the expression reads only declared ids; ids
    start with a lower-case letter (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html);
    period x evaluation periods within the one-day limit of an alarm's evaluation range."""
    for name, alarm in _alarms(stack).items():
        assert alarm["evaluationPeriods"] * alarm.get("period", 300) <= 86_400, f"alarm {name}: evaluation range"
        if "metricQueries" not in alarm:
            continue
        queries = {q["id"]: q for q in alarm["metricQueries"]}
        assert [key for key, q in queries.items() if q.get("returnData")] == ["e1"], f"alarm {name}: one value"
        inputs = {key for key in queries if key != "e1"}
        expression = queries["e1"]["expression"]
        if expression.startswith("SELECT"):
            assert not inputs, f"alarm {name}: a Metrics Insights query reads no other query"
            continue
        read = set(METRIC_ID.findall(expression))
        assert read == inputs, f"alarm {name}: expression reads {sorted(read)}, queries declare {sorted(inputs)}"
        assert all(re.fullmatch(r"[a-z][a-zA-Z0-9_]*", key) for key in queries), f"alarm {name}: query ids"
