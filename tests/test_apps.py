"""Application layer requirements (issue: application layer), asserted on each stack's Kubernetes objects."""

from __future__ import annotations

import json
from typing import Any

from silhouette_infra.kubernetes.quantities import cpu_millicores, memory_mib
from silhouette_infra.planning.release import migration_job_name
from silhouette_infra.planning.sizing import namespace_quota, required_quota
from silhouette_infra.synth.engine import CapturedResource, SynthResult
from silhouette_infra.synth.engine.manifests import manifest_of
from tests.variants import (
    CANARY_WEIGHT,
    NEW_IMAGE,
    production_with_a_hosted_zone,
    staging_with_an_existing_certificate,
)

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
SERVICE = "kubernetes:core/v1:Service"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"


def _in_app_namespace(result: SynthResult, type_token: str) -> list[CapturedResource]:
    namespace = f"silhouette-{result.stack}"
    return [r for r in result.of_type(type_token) if r.inputs["metadata"].get("namespace") == namespace]


def _deployments(result: SynthResult) -> dict[str, CapturedResource]:
    return {d.inputs["metadata"]["name"]: d for d in _in_app_namespace(result, DEPLOYMENT)}


def _pod_spec(deployment: CapturedResource) -> dict[str, Any]:
    spec: dict[str, Any] = deployment.inputs["spec"]["template"]["spec"]
    return spec


def test_app_namespace_enforces_the_restricted_pod_security_standard(stack: SynthResult) -> None:
    namespaces = {
        n.inputs["metadata"]["name"]: n.inputs["metadata"]["labels"]
        for n in stack.of_type("kubernetes:core/v1:Namespace")
    }
    app = namespaces[f"silhouette-{stack.stack}"]
    assert app["pod-security.kubernetes.io/enforce"] == "restricted"
    assert "monitoring" in namespaces


def test_every_selector_matches_its_pod_template(stack: SynthResult) -> None:
    for name, deployment in _deployments(stack).items():
        selector = deployment.inputs["spec"]["selector"]["matchLabels"]
        labels = deployment.inputs["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), f"{stack.stack}: Deployment {name} selector {selector} vs {labels}"
    for service in _in_app_namespace(stack, SERVICE):
        selector = service.inputs["spec"]["selector"]
        matched = [
            n
            for n, d in _deployments(stack).items()
            if selector.items() <= d.inputs["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert matched, f"{stack.stack}: Service {service.inputs['metadata']['name']} selects no Deployment"


def test_pods_are_hardened(stack: SynthResult) -> None:
    for name, deployment in _deployments(stack).items():
        pod = _pod_spec(deployment)
        assert (
            pod["securityContext"]["runAsNonRoot"] is True
            and pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        )
        assert pod["automountServiceAccountToken"] is False, f"{name}: no API token"
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            assert {"readinessProbe", "livenessProbe", "startupProbe"} <= set(container), f"{name}: probes"
            assert container["resources"]["requests"] and container["resources"]["limits"]
            assert not any("secretKeyRef" in json.dumps(env) for env in container.get("env", [])), (
                f"{name}: secrets as files"
            )
        assert deployment.inputs["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0, f"{name}: zero-downtime"
        zones = [c["topologyKey"] for c in pod["topologySpreadConstraints"]]
        assert "topology.kubernetes.io/zone" in zones and "kubernetes.io/hostname" in zones


def test_every_hpa_targets_an_existing_deployment_within_the_quota_and_the_nodes(stack: SynthResult) -> None:
    deployments = _deployments(stack)
    hpas = _in_app_namespace(stack, HPA)
    scaled = _in_app_namespace(stack, SCALED_OBJECT)
    targets = [r.inputs["spec"]["scaleTargetRef"]["name"] for r in [*hpas, *scaled]]
    assert sorted(targets) == sorted(deployments), "every Deployment has one autoscaler (an HPA or KEDA's)"
    apps = stack.settings.apps
    quota = namespace_quota(apps)
    need = required_quota(apps)
    at_max = 0.0
    for hpa in hpas:
        spec = hpa.inputs["spec"]
        deployment = deployments[spec["scaleTargetRef"]["name"]]
        (container,) = _pod_spec(deployment)["containers"]
        at_max += spec["maxReplicas"] * cpu_millicores(container["resources"]["requests"]["cpu"])
        assert spec["metrics"][0]["resource"]["target"]["averageUtilization"] == 70
    for scaled_object in scaled:
        spec = scaled_object.inputs["spec"]
        (container,) = _pod_spec(deployments[spec["scaleTargetRef"]["name"]])["containers"]
        at_max += spec["maxReplicaCount"] * cpu_millicores(container["resources"]["requests"]["cpu"])
    assert at_max <= need.requests_cpu_millicores <= quota.requests_cpu_millicores
    (resource_quota,) = _in_app_namespace(stack, "kubernetes:core/v1:ResourceQuota")
    assert resource_quota.inputs["spec"]["hard"] == quota.as_hard()
    assert cpu_millicores(resource_quota.inputs["spec"]["hard"]["requests.cpu"]) >= at_max
    assert memory_mib(resource_quota.inputs["spec"]["hard"]["requests.memory"]) > 0


def test_hpa_ranges_follow_the_settings_and_production_survives_a_node_loss(stack: SynthResult) -> None:
    """Each HPA scales between the replicas its settings give; in production the minimum is at least two, so
    losing one node (or one AZ, with the zone spread) never leaves a service without a pod."""
    ranges = {
        h.inputs["spec"]["scaleTargetRef"]["name"]: (h.inputs["spec"]["minReplicas"], h.inputs["spec"]["maxReplicas"])
        for h in _in_app_namespace(stack, HPA)
    }
    apps = stack.settings.apps
    expected = {
        name: (w.min_replicas, w.max_replicas) for name, w in (("backend", apps.backend), ("frontend", apps.frontend))
    }
    assert ranges == expected, f"{stack.stack}: HorizontalPodAutoscaler ranges"
    if stack.settings.environment == "production":
        for name, (minimum, _) in ranges.items():
            assert minimum >= 2, f"production HorizontalPodAutoscaler {name}: minReplicas {minimum} < 2"


def test_every_pdb_allows_an_eviction_at_minimum_replicas(stack: SynthResult) -> None:
    minimum = {
        h.inputs["spec"]["scaleTargetRef"]["name"]: h.inputs["spec"]["minReplicas"]
        for h in _in_app_namespace(stack, HPA)
    }
    for pdb in _in_app_namespace(stack, PDB):
        spec = pdb.inputs["spec"]
        name = pdb.inputs["metadata"]["name"]
        assert ("maxUnavailable" in spec) != ("minAvailable" in spec), f"{name}: exactly one of the two"
        if "maxUnavailable" in spec:
            assert spec["maxUnavailable"] >= 1, f"{name}: blocks every eviction"
        else:
            assert spec["minAvailable"] < minimum[name], f"{name}: blocks every eviction at {minimum[name]} replicas"


def test_no_service_account_has_api_access_and_default_is_never_bound(stack: SynthResult) -> None:
    accounts = {a.inputs["metadata"]["name"] for a in _in_app_namespace(stack, "kubernetes:core/v1:ServiceAccount")}
    assert {"backend", "frontend", "backend-migrations"} <= accounts
    for binding in stack.of_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"):
        assert all(subject["name"] != "default" for subject in binding.inputs["subjects"])
    for role in stack.of_type("kubernetes:rbac.authorization.k8s.io/v1:Role"):
        for rule in role.inputs["rules"]:
            assert "*" not in rule["verbs"] and "*" not in rule["resources"], role.inputs["metadata"]["name"]
    for name, deployment in _deployments(stack).items():
        assert _pod_spec(deployment)["serviceAccountName"] == name.split("-")[0], f"{name}: its own ServiceAccount"


def test_backend_reads_every_credential_from_external_secrets(stack: SynthResult) -> None:
    secrets = {
        s.inputs["metadata"]["name"]: s.inputs["spec"]
        for s in stack.of_type("kubernetes:external-secrets.io/v1:ExternalSecret")
        if s.inputs["metadata"]["namespace"] == f"silhouette-{stack.stack}"
    }
    # rabbitmq-keda: the workers' scaler credentials (tests/test_workers.py)
    assert set(secrets) == {
        "postgres-credentials",
        "redis-credentials",
        "rabbitmq-credentials",
        "neo4j-credentials",
        "rabbitmq-keda",
    }
    for spec in secrets.values():
        assert spec["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "aws-secrets-manager"}
    assert secrets["postgres-credentials"]["data"][0]["remoteRef"]["key"] == stack.outputs["postgres_secret_arn"]
    volumes = {v["name"] for v in _pod_spec(_deployments(stack)["backend"])["volumes"] if "secret" in v}
    assert volumes == set(secrets) - {"rabbitmq-keda"}, "the backend mounts every credential but KEDA's"


def test_config_map_carries_the_environment_and_feature_flags(stack: SynthResult) -> None:
    config = stack.named("kubernetes:core/v1:ConfigMap", "backend-config").inputs["data"]
    flags = stack.settings.apps.feature_flags
    assert config["ENABLE_AI_ML"] == str(flags.enable_ai_ml).lower()
    for flag in ("ENABLE_COLLABORATION", "ENABLE_COMPLIANCE", "ENABLE_ADVANCED_MONITORING"):
        assert flag in config
    assert config["ENVIRONMENT"] == stack.settings.environment and config["POSTGRES_SSLMODE"] == "verify-full"


def test_migrations_run_before_the_backend_rolls_out(stack: SynthResult) -> None:
    tag = stack.settings.apps.backend.image
    job = stack.named("kubernetes:batch/v1:Job", migration_job_name(tag))
    (container,) = job.inputs["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"{stack.outputs['repository_urls']['backend']}:{tag}", "migrations: backend image"
    assert container["args"] == ["migrate"]
    assert job.urn in _deployments(stack)["backend"].options["dependencies"], "backend waits for its migrations"


def test_ingress_is_https_only_with_tls13_behind_the_waf(stack: SynthResult) -> None:
    (ingress,) = stack.of_type(INGRESS)
    annotations = ingress.inputs["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    assert json.loads(annotations["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
    assert annotations["alb.ingress.kubernetes.io/ssl-policy"].startswith("ELBSecurityPolicy-TLS13")
    (web_acl,) = stack.of_type("aws:wafv2/webAcl:WebAcl")
    assert annotations["alb.ingress.kubernetes.io/wafv2-acl-arn"] == web_acl.outputs["arn"], "WAF attached"
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"]
    paths = {p["path"]: p["backend"]["service"]["name"] for p in ingress.inputs["spec"]["rules"][0]["http"]["paths"]}
    assert paths == {"/api": "backend", "/": "frontend"}
    assert ingress.inputs["spec"]["rules"][0]["host"] == stack.settings.edge.domain
    health = {
        s.inputs["metadata"]["name"]: s.inputs["metadata"]["annotations"]["alb.ingress.kubernetes.io/healthcheck-path"]
        for s in _in_app_namespace(stack, SERVICE)
    }
    assert set(health) == {"backend", "frontend"}


def test_blue_green_settings_deploy_both_colours_and_route_to_the_active_one() -> None:
    result = staging_with_an_existing_certificate()
    deployments = _deployments(result)
    assert {"backend-blue", "backend-green", "frontend", "worker"} == set(deployments)
    green_image = _pod_spec(deployments["backend-green"])["containers"][0]["image"]
    assert green_image == f"{result.outputs['repository_urls']['backend']}:{NEW_IMAGE}", "backend-green: image"
    worker_image = _pod_spec(deployments["worker"])["containers"][0]["image"]
    assert worker_image == green_image, "worker: the active colour's image"
    backend_service = next(s for s in _in_app_namespace(result, SERVICE) if s.inputs["metadata"]["name"] == "backend")
    assert backend_service.inputs["spec"]["selector"]["silhouette.io/color"] == "green"
    assert result.outputs["release"]["active_color"] == "green"
    jobs = {j.inputs["metadata"]["name"] for j in result.of_type("kubernetes:batch/v1:Job")}
    assert migration_job_name(NEW_IMAGE) in jobs


def test_canary_settings_send_the_weight_to_the_canary() -> None:
    result = production_with_a_hosted_zone()
    weight = CANARY_WEIGHT
    deployments = _deployments(result)
    assert set(deployments) == {"backend", "backend-canary", "frontend", "worker"}
    worker_image = _pod_spec(deployments["worker"])["containers"][0]["image"]
    assert worker_image == _pod_spec(deployments["backend"])["containers"][0]["image"], "worker: the stable image"
    (ingress,) = result.of_type(INGRESS)
    action = json.loads(ingress.inputs["metadata"]["annotations"]["alb.ingress.kubernetes.io/actions.backend-weighted"])
    weights = {g["serviceName"]: g["weight"] for g in action["forwardConfig"]["targetGroups"]}
    assert weights == {"backend": 100 - weight, "backend-canary": weight}
    assert result.outputs["release"]["canary_weight_percent"] == weight
    manifests = [manifest_of(r) for r in result.kubernetes_objects()]
    assert any(m["kind"] == "Service" and m["metadata"]["name"] == "backend-canary" for m in manifests)


def test_outputs_give_the_url_namespace_and_release(stack: SynthResult) -> None:
    assert stack.outputs["url"] == f"https://{stack.settings.edge.domain}"
    assert stack.outputs["app_namespace"] == f"silhouette-{stack.stack}"
    assert stack.outputs["release"]["strategy"] == "rolling"
