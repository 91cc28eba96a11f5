"""The Kubernetes schema validator: strict schemas per cluster version, CRD allow-list, checks beyond the schema.

The stacks declare no Kubernetes objects yet, so every test builds synthetic registrations
(``CapturedResource``, as the mock monitor captures them) and turns them into manifests with
``manifest_of``, exactly as ``run`` does.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import kubernetes_validate
import pytest

from silhouette_infra.settings.versions import EKS_KUBERNETES_VERSIONS
from silhouette_infra.synth.checks import kubernetes_schema
from silhouette_infra.synth.checks.base import CheckReport, Finding, Skip
from silhouette_infra.synth.checks.kubernetes_schema import (
    CRD_ALLOW_LIST,
    PORT_CHECK,
    QUANTITY_CHECK,
    SCHEMA_CHECK,
    UnsupportedKubernetesVersionError,
    parse_quantity,
    schema_directory,
    schema_version_for,
    validate_manifests,
)
from silhouette_infra.synth.engine.manifests import manifest_of
from silhouette_infra.synth.engine.mocks import MOCK_ACCOUNT_ID, CapturedResource
from silhouette_infra.synth.engine.run import SynthResult, stack_config
from silhouette_infra.validation.loader import load_settings

VERSION = "1.35"


# --------------------------------------------------------------------------- synthetic registrations
def captured(type_token: str, name: str, inputs: dict[str, Any]) -> CapturedResource:
    return CapturedResource(
        urn=f"urn:pulumi:test::silhouette::{type_token}::{name}",
        type=type_token,
        name=name,
        custom=True,
        inputs=inputs,
        options={},
    )


def manifest(type_token: str, inputs: dict[str, Any]) -> dict[str, Any]:
    name = str((inputs.get("metadata") or {}).get("name", "unnamed"))
    return manifest_of(captured(type_token, name, inputs))


def metadata(name: str = "backend", namespace: str | None = "apps") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {"app.kubernetes.io/name": name}}
    if namespace:
        meta["namespace"] = namespace
    return meta


def deployment(**spec_overrides: Any) -> dict[str, Any]:
    container = {
        "name": "backend",
        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/backend:1.4.2",
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    spec: dict[str, Any] = {
        "replicas": 3,
        "selector": {"matchLabels": {"app.kubernetes.io/name": "backend"}},
        "template": {
            "metadata": {"labels": {"app.kubernetes.io/name": "backend"}},
            "spec": {"serviceAccountName": "backend", "containers": [container]},
        },
    }
    spec.update(spec_overrides)
    return manifest("kubernetes:apps/v1:Deployment", {"metadata": metadata(), "spec": spec})


def service() -> dict[str, Any]:
    return manifest(
        "kubernetes:core/v1:Service",
        {
            "metadata": metadata(),
            "spec": {
                "selector": {"app.kubernetes.io/name": "backend"},
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
            },
        },
    )


def hpa() -> dict[str, Any]:
    return manifest(
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
        {
            "metadata": metadata(),
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "backend"},
                "minReplicas": 2,
                "maxReplicas": 6,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                    }
                ],
            },
        },
    )


def pdb() -> dict[str, Any]:
    return manifest(
        "kubernetes:policy/v1:PodDisruptionBudget",
        {
            "metadata": metadata(),
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "backend"}}},
        },
    )


def network_policy() -> dict[str, Any]:
    return manifest(
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        {
            "metadata": metadata(),
            "spec": {
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "backend"}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [
                    {
                        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress"}}}],
                        "ports": [{"protocol": "TCP", "port": 8080}],
                    }
                ],
                "egress": [
                    {"to": [{"ipBlock": {"cidr": "10.1.0.0/16"}}], "ports": [{"protocol": "TCP", "port": 5432}]}
                ],
            },
        },
    )


def config_map() -> dict[str, Any]:
    return manifest(
        "kubernetes:core/v1:ConfigMap",
        {"metadata": metadata("backend-config"), "data": {"LOG_LEVEL": "info", "port": "8080"}},
    )


def external_secret() -> dict[str, Any]:
    return manifest(
        "kubernetes:external-secrets.io/v1:ExternalSecret",
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "ExternalSecret",
            "metadata": metadata("backend-database"),
            "spec": {
                "refreshInterval": "1h",
                "secretStoreRef": {"kind": "ClusterSecretStore", "name": "aws-secrets-manager"},
                "target": {"name": "backend-database", "creationPolicy": "Owner"},
                "data": [{"secretKey": "password", "remoteRef": {"key": "silhouette/staging/postgres"}}],
            },
        },
    )


def cluster_secret_store() -> dict[str, Any]:
    return manifest(
        "kubernetes:external-secrets.io/v1:ClusterSecretStore",
        {
            "metadata": {"name": "aws-secrets-manager"},
            "spec": {"provider": {"aws": {"service": "SecretsManager", "region": "us-east-1"}}},
        },
    )


def service_monitor() -> dict[str, Any]:
    return manifest(
        "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
        {
            "metadata": metadata(),
            "spec": {
                "selector": {"matchLabels": {"app.kubernetes.io/name": "backend"}},
                "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}],
            },
        },
    )


def prometheus_rule() -> dict[str, Any]:
    return manifest(
        "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
        {
            "metadata": metadata(),
            "spec": {
                "groups": [
                    {
                        "name": "backend",
                        "rules": [
                            {
                                "alert": "BackendDown",
                                "expr": 'up{job="backend"} == 0',
                                "for": "5m",
                                "labels": {"severity": "page"},
                                "annotations": {"summary": "Backend is down"},
                            }
                        ],
                    }
                ]
            },
        },
    )


def target_group_binding() -> dict[str, Any]:
    return manifest(
        "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding",
        {
            "metadata": metadata(),
            "spec": {
                "serviceRef": {"name": "backend", "port": 80},
                "targetGroupARN": f"arn:aws:elasticloadbalancing:us-east-1:{MOCK_ACCOUNT_ID}:targetgroup/backend/0a1b",
                "targetType": "ip",
            },
        },
    )


def validate(*manifests: dict[str, Any], version: str = VERSION) -> CheckReport:
    return validate_manifests(list(manifests), version)


def messages(report: CheckReport, check: str | None = None) -> list[str]:
    return [f"{f.resource}: {f.message}" for f in report.failures if check is None or f.check == check]


# --------------------------------------------------------------------------- valid objects pass
VALID_BUILT_INS = {
    "Deployment apps/v1": deployment,
    "Service v1": service,
    "HorizontalPodAutoscaler autoscaling/v2": hpa,
    "PodDisruptionBudget policy/v1": pdb,
    "NetworkPolicy networking.k8s.io/v1": network_policy,
    "ConfigMap v1": config_map,
}


@pytest.mark.parametrize("build", VALID_BUILT_INS.values(), ids=VALID_BUILT_INS.keys())
def test_valid_built_in_objects_pass_the_strict_schema(build: Any) -> None:
    report = validate(build())
    assert report.validator == "kubernetes_schema"
    assert report.failures == [], messages(report)
    assert (report.checked, report.passed) == (1, 1)
    assert "1 objects schema-validated" in report.notes[0]


@pytest.mark.parametrize("build", VALID_BUILT_INS.values(), ids=VALID_BUILT_INS.keys())
def test_valid_objects_are_also_accepted_by_kubernetes_validate_itself(build: Any) -> None:
    """Our cached validators resolve the same files and $refs as kubernetes-validate's strict mode."""
    kubernetes_validate.validate(build(), VERSION, strict=True)


# --------------------------------------------------------------------------- strict schema errors
def test_unknown_field_in_deployment_spec_is_rejected_in_strict_mode() -> None:
    bad = deployment(replica=3)
    report = validate(bad)
    assert messages(report) == [
        "Deployment/apps/backend: $.spec.replica: unknown field 'replica' (not in the strict Kubernetes 1.35 schema)"
    ]
    assert report.failures[0].check == SCHEMA_CHECK
    assert report.passed == 0
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, VERSION, strict=True)


def test_unknown_field_deep_in_a_pod_template_is_named_by_its_full_path() -> None:
    bad = deployment()
    bad["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFileSystem"] = True
    report = validate(bad)
    assert messages(report) == [
        "Deployment/apps/backend: $.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem: "
        "unknown field 'readOnlyRootFileSystem' (not in the strict Kubernetes 1.35 schema)"
    ]


def test_wrong_type_is_rejected_with_its_path() -> None:
    report = validate(deployment(replicas="three"))
    assert messages(report) == ["Deployment/apps/backend: $.spec.replicas: 'three' is not of type 'integer', 'null'"]


def test_integral_float_where_an_integer_is_required_is_reported_not_coerced() -> None:
    """jsonschema counts 3.0 as an integer; the API server's decoder rejects it, and so do we."""
    report = validate(deployment(replicas=3.0))
    assert len(report.failures) == 1
    assert report.failures[0].message.startswith("$.spec.replicas: 3.0 is a float where the schema requires an integer")


def test_missing_required_field_is_rejected() -> None:
    bad = deployment()
    del bad["spec"]["template"]["spec"]["containers"][0]["name"]
    assert messages(validate(bad)) == [
        "Deployment/apps/backend: $.spec.template.spec.containers[0]: 'name' is a required property"
    ]


def test_all_errors_of_one_object_are_reported_not_only_the_first() -> None:
    bad = deployment(replicas="3", paused="no", revisionHistoryLimt=5)
    container = bad["spec"]["template"]["spec"]["containers"][0]
    container["imagePullPolicy"] = 1
    container["resources"]["limits"]["memory"] = "1GB"
    container["ports"][0]["containerPort"] = 70000
    report = validate(bad)
    paths = sorted(f.message.split(":")[0] for f in report.failures)
    assert paths == [
        "$.spec.paused",
        "$.spec.replicas",
        "$.spec.revisionHistoryLimt",
        "$.spec.template.spec.containers[0].imagePullPolicy",
        "$.spec.template.spec.containers[0].ports[0].containerPort",
        "$.spec.template.spec.containers[0].resources.limits.memory",
    ]
    assert {f.resource for f in report.failures} == {"Deployment/apps/backend"}
    assert (report.checked, report.passed) == (1, 0)
    # kubernetes-validate stops at one of them; it is among ours.
    with pytest.raises(kubernetes_validate.ValidationError) as raised:
        kubernetes_validate.validate(bad, VERSION, strict=True)
    first = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in raised.value.path)
    assert any(path.startswith(first) for path in paths), (first, paths)


# --------------------------------------------------------------------------- objects without a schema
@pytest.mark.parametrize(
    ("type_token", "served_as"),
    [
        ("kubernetes:extensions/v1beta1:Ingress", "networking.k8s.io/v1"),
        ("kubernetes:policy/v1beta1:PodDisruptionBudget", "policy/v1"),
        ("kubernetes:batch/v1beta1:CronJob", "batch/v1"),
        ("kubernetes:autoscaling/v2beta2:HorizontalPodAutoscaler", "autoscaling/v1, autoscaling/v2"),
    ],
)
def test_removed_api_version_has_no_schema_and_fails(type_token: str, served_as: str) -> None:
    bad = manifest(type_token, {"metadata": metadata(), "spec": {}})
    report = validate(bad)
    [finding] = report.failures
    kind = bad["kind"]
    assert finding.resource == f"{kind}/apps/backend"
    assert finding.message.startswith(
        f"$: no schema exists for apiVersion {bad['apiVersion']} kind {kind} in Kubernetes 1.35"
    )
    assert f"serves {kind} as {served_as}" in finding.message


@pytest.mark.parametrize(
    "type_token",
    [
        "kubernetes:apps/v1:Deploymnt",
        "kubernetes:karpenter.sh/v1:NodePool",
        "kubernetes:external-secrets.io/v1beta1:ExternalSecret",  # external-secrets >= 0.17 no longer serves v1beta1
    ],
)
def test_unknown_kind_has_no_schema_and_fails(type_token: str) -> None:
    bad = manifest(type_token, {"metadata": metadata(), "spec": {}})
    [finding] = validate(bad).failures
    assert finding.check == SCHEMA_CHECK
    assert (
        f"no schema exists for apiVersion {bad['apiVersion']} kind {bad['kind']} in Kubernetes 1.35" in finding.message
    )
    assert "CRD_ALLOW_LIST" in finding.message


def test_group_of_another_domain_does_not_borrow_a_built_in_schema() -> None:
    """kubernetes-validate's file name drops the group's domain: policy.example.com/v1 must not become policy/v1."""
    impostor = manifest("kubernetes:policy.example.com/v1:PodDisruptionBudget", pdb())
    [finding] = validate(impostor).failures
    assert "no schema exists for apiVersion policy.example.com/v1 kind PodDisruptionBudget" in finding.message


# --------------------------------------------------------------------------- allow-listed CRDs
VALID_CRDS = {
    "ExternalSecret": external_secret,
    "ClusterSecretStore": cluster_secret_store,
    "ServiceMonitor": service_monitor,
    "PrometheusRule": prometheus_rule,
    "TargetGroupBinding": target_group_binding,
}


@pytest.mark.parametrize("build", VALID_CRDS.values(), ids=VALID_CRDS.keys())
def test_allow_listed_crd_passes_the_structural_check(build: Any) -> None:
    crd = build()
    assert (crd["apiVersion"], crd["kind"]) in CRD_ALLOW_LIST
    report = validate(crd)
    assert report.failures == [], messages(report)
    assert "1 allow-listed custom resources checked structurally" in report.notes[0]


def test_allow_list_names_no_built_in_kind() -> None:
    """An allow-listed (apiVersion, kind) with a shipped schema would silently skip the real schema."""
    for api_version, kind in CRD_ALLOW_LIST:
        for version in EKS_KUBERNETES_VERSIONS:
            assert (
                not schema_directory(version).joinpath(kubernetes_schema.schema_file_name(api_version, kind)).is_file()
            )


def test_malformed_crd_fails_the_structural_check_with_every_problem() -> None:
    bad = external_secret()
    bad["metadata"] = {"name": "Backend_Database", "labels": {"tier": 1}, "annotation": {}}
    bad["spec"] = ["not", "an", "object"]
    bad["status"] = {}
    report = validate(bad)
    found = messages(report)
    assert all(m.startswith("ExternalSecret/Backend_Database: $.") for m in found), found
    text = "\n".join(found)
    assert "$.status: unknown top-level field 'status'" in text
    assert "$.spec: must be an object, got a list" in text
    assert "$.metadata.labels.tier: 1 is not of type 'string'" in text
    assert "$.metadata.annotation: unknown field 'annotation'" in text
    assert "$.metadata.name: 'Backend_Database' is not a DNS-1123 subdomain" in text
    assert len(found) == 5


def test_crd_without_a_name_or_spec_fails() -> None:
    bad = manifest("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", {"metadata": {"namespace": "apps"}})
    found = messages(validate(bad))
    assert found == [
        "ServiceMonitor/apps/<unnamed>: $.metadata.name: missing; set it explicitly "
        "(Pulumi auto-naming happens in the provider, not here)",
        "ServiceMonitor/apps/<unnamed>: $.spec: must be an object, got missing",
    ]


# --------------------------------------------------------------------------- beyond the schema
@pytest.mark.parametrize(
    ("quantity", "value"),
    [
        ("250m", Decimal("0.25")),
        ("1Gi", Decimal(2**30)),
        ("0.5", Decimal("0.5")),
        (0.5, Decimal("0.5")),
        (2, Decimal(2)),
        ("1e3", Decimal(1000)),
        ("1.5k", Decimal(1500)),
        ("128974848", Decimal(128974848)),
        ("100M", Decimal(10**8)),
        (".5", Decimal("0.5")),
    ],
)
def test_valid_quantities_parse(quantity: str | float, value: Decimal) -> None:
    """Grammar of k8s.io/apimachinery/pkg/api/resource.Quantity.

    https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/
    """
    assert parse_quantity(quantity) == value


@pytest.mark.parametrize("quantity", ["1GB", "1gi", "250 m", "one", "", "1K", "1e", "--1", True, None, float("nan")])
def test_invalid_quantities_do_not_parse(quantity: Any) -> None:
    with pytest.raises(ValueError):
        parse_quantity(quantity)


@pytest.mark.parametrize("bad", ["1GB", "500 Mi", "1.5.0"])
def test_bad_quantity_in_resources_is_rejected(bad: str) -> None:
    broken = deployment()
    broken["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"] = bad
    [finding] = validate(broken).failures
    assert finding.check == QUANTITY_CHECK
    assert finding.message == (
        f"$.spec.template.spec.containers[0].resources.requests.memory: {bad!r} is not a valid Kubernetes quantity "
        "(e.g. '250m', '1Gi', '0.5')"
    )


def test_bad_quantity_outside_container_resources_is_rejected() -> None:
    """Every Quantity field of the schema is checked, e.g. a ResourceQuota's spec.hard."""
    quota = manifest(
        "kubernetes:core/v1:ResourceQuota",
        {"metadata": metadata("apps-quota"), "spec": {"hard": {"requests.cpu": "8", "requests.memory": "16 GB"}}},
    )
    assert messages(validate(quota), QUANTITY_CHECK) == [
        "ResourceQuota/apps/apps-quota: $.spec.hard['requests.memory']: '16 GB' is not a valid Kubernetes quantity "
        "(e.g. '250m', '1Gi', '0.5')"
    ]


def test_bad_quantity_in_an_allow_listed_crd_is_rejected() -> None:
    crd = service_monitor()
    crd["spec"]["resources"] = {"limits": {"memory": "1GB"}}
    assert [f.check for f in validate(crd).failures] == [QUANTITY_CHECK]


def test_request_above_limit_is_rejected() -> None:
    """The API server rejects requests greater than limits.

    https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
    """
    broken = deployment()
    broken["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "1500m"
    assert messages(validate(broken), QUANTITY_CHECK) == [
        "Deployment/apps/backend: $.spec.template.spec.containers[0].resources.requests.cpu: "
        "request '1500m' exceeds the limit '1'; requests must be <= limits"
    ]


def test_container_port_70000_is_rejected() -> None:
    broken = deployment()
    broken["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = 70000
    report = validate(broken)
    assert messages(report, PORT_CHECK) == [
        "Deployment/apps/backend: $.spec.template.spec.containers[0].ports[0].containerPort: "
        "port 70000 is outside 1-65535"
    ]
    assert len(report.failures) == 1


@pytest.mark.parametrize(("field", "value"), [("port", 0), ("port", 70000), ("targetPort", 65536), ("targetPort", -1)])
def test_service_port_outside_range_is_rejected(field: str, value: int) -> None:
    broken = service()
    broken["spec"]["ports"][0][field] = value
    assert messages(validate(broken), PORT_CHECK) == [
        f"Service/apps/backend: $.spec.ports[0].{field}: port {value} is outside 1-65535"
    ]


def test_port_outside_range_in_a_crd_is_rejected() -> None:
    crd = target_group_binding()
    crd["spec"]["serviceRef"]["port"] = 70000
    assert messages(validate(crd), PORT_CHECK) == [
        "TargetGroupBinding/apps/backend: $.spec.serviceRef.port: port 70000 is outside 1-65535"
    ]


def test_numeric_string_target_port_and_long_port_name_are_rejected() -> None:
    """A string IntOrString port is a name: an IANA_SVC_NAME of at most 15 characters.

    https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#ports (ContainerPort.name)
    """
    broken = service()
    broken["spec"]["ports"][0]["targetPort"] = "8080"
    bad_deployment = deployment()
    bad_deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["name"] = "http-metrics-port"
    found = messages(validate(broken, bad_deployment), PORT_CHECK)
    assert found == [
        "Service/apps/backend: $.spec.ports[0].targetPort: '8080' is a numeric string, taken as a port name; "
        "use the integer 8080",
        "Deployment/apps/backend: $.spec.template.spec.containers[0].ports[0].name: container port name "
        "'http-metrics-port' is not an IANA_SVC_NAME (at most 15 lowercase letters, digits and '-', with a letter, "
        "no '--')",
    ]


def test_invalid_label_value_and_object_names_are_rejected() -> None:
    bad_labels = deployment()
    bad_labels["spec"]["template"]["metadata"]["labels"]["version"] = "1.4.2+build.7"
    bad_service = service()
    bad_service["metadata"]["name"] = "1backend"
    found = messages(validate(bad_labels, bad_service))
    assert found == [
        "Deployment/apps/backend: $.spec.template.metadata.labels.version: label value '1.4.2+build.7' must be at "
        "most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
        "Service/apps/1backend: $.metadata.name: '1backend' is not a DNS-1035 label (at most 63 lowercase letters, "
        "digits and '-', starting with a letter)",
    ]


def test_secret_values_are_validated_as_the_api_server_receives_them() -> None:
    """Captured secret inputs are wrapped ({"__secret__": v}); the object sent carries v."""
    secret = manifest(
        "kubernetes:core/v1:Secret",
        {"metadata": metadata("backend-token"), "type": "Opaque", "stringData": {"token": {"__secret__": "s3cr3t"}}},
    )
    report = validate(secret)
    assert report.failures == [], messages(report)


# --------------------------------------------------------------------------- the cluster version
def test_validator_honours_the_kubernetes_version() -> None:
    """Service.spec.trafficDistribution exists since 1.30; autoscaling/v2beta2 was removed in 1.26."""
    with_traffic_distribution = service()
    with_traffic_distribution["spec"]["trafficDistribution"] = "PreferClose"
    assert validate(with_traffic_distribution, version="1.35").ok
    assert messages(validate(with_traffic_distribution, version="1.29")) == [
        "Service/apps/backend: $.spec.trafficDistribution: unknown field 'trafficDistribution' "
        "(not in the strict Kubernetes 1.29 schema)"
    ]

    old_hpa = manifest("kubernetes:autoscaling/v2beta2:HorizontalPodAutoscaler", hpa())
    assert validate(old_hpa, version="1.25").ok
    assert not validate(old_hpa, version="1.26").ok


def test_every_supported_eks_version_has_a_strict_schema_directory() -> None:
    for version in EKS_KUBERNETES_VERSIONS:
        directory = schema_directory(version)
        assert directory.name == f"v{version}.0-local-strict"
        assert directory.joinpath("_definitions.json").is_file()
        assert directory.joinpath("deployment-apps-v1.json").is_file()


@pytest.mark.parametrize(("asked", "used"), [("1.35", "1.35.0"), ("v1.36", "1.36.0"), ("1.35.4", "1.35.0")])
def test_schema_version_is_the_shipped_minor(asked: str, used: str) -> None:
    assert schema_version_for(asked) == used


@pytest.mark.parametrize("version", ["1.99", "1.20", "latest"])
def test_unsupported_kubernetes_version_is_a_failure_not_a_pass(version: str) -> None:
    with pytest.raises(UnsupportedKubernetesVersionError):
        schema_version_for(version)
    report = validate(deployment(), version=version)
    [finding] = report.failures
    assert finding.check == SCHEMA_CHECK
    assert report.passed == 0


# --------------------------------------------------------------------------- skips, run(), speed
def test_recorded_skip_moves_a_finding_out_of_the_failures() -> None:
    skip = Skip("kubernetes_schema", PORT_CHECK, ("Service/apps/*",), "synthetic skip written for this test")
    broken = service()
    broken["spec"]["ports"][0]["port"] = 0
    report = validate_manifests([broken], VERSION, skips=[skip])
    assert report.failures == []
    assert report.skipped == [(skip, "Service/apps/backend")]
    assert report.passed == 1


def test_run_validates_the_kubernetes_objects_of_a_stack_at_its_version() -> None:
    settings = load_settings("staging", stack_config("staging"))
    broken = captured("kubernetes:core/v1:Service", "backend", {"metadata": metadata(), "spec": {"portz": []}})
    helm = captured("kubernetes:helm.sh/v3:Release", "ingress", {"chart": "x", "values": {"anything": 1}})
    bucket = captured("aws:s3/bucketV2:BucketV2", "logs", {"bucket": "logs"})
    result = SynthResult(stack="staging", settings=settings, resources=[broken, helm, bucket], outputs={}, seconds=0.0)
    report = kubernetes_schema.run(result)
    version = settings.cluster.kubernetes_version
    assert report.checked == 1
    assert report.failures == [
        Finding(
            SCHEMA_CHECK,
            "Service/apps/backend",
            f"$.spec.portz: unknown field 'portz' (not in the strict Kubernetes {version} schema)",
        )
    ]
    assert f"Kubernetes {version}" in report.notes[0]


def test_three_hundred_objects_of_six_kinds_all_validate() -> None:
    """Each of the 300 objects is validated, and each passes (how long validation takes: ``make bench``)."""
    builders = [deployment, service, hpa, pdb, network_policy, config_map]
    manifests = []
    for index in range(300):
        item = copy.deepcopy(builders[index % len(builders)]())
        item["metadata"]["name"] = f"app-{index}"
        manifests.append(item)
    report = validate_manifests(manifests, VERSION)
    assert report.failures == [], messages(report)[:3]
    assert report.checked == report.passed == 300
