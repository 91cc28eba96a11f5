"""Release strategies and namespace sizing as pure decisions (issue: application layer, points 1 and 6)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from silhouette_infra.apps.component import ingress_annotations, ingress_rules
from silhouette_infra.apps.web_service import hpa_spec, pdb_spec
from silhouette_infra.kubernetes.quantities import cpu_millicores, memory_mib
from silhouette_infra.planning.release import COLOR_LABEL, NAME_LABEL, TRACK_LABEL, migration_job_name, plan_release
from silhouette_infra.planning.sizing import limit_range, namespace_quota, required_quota
from silhouette_infra.settings.models import Settings
from silhouette_infra.validation.loader import SettingsError, load_settings

NEW = "1.1.0"  # a tag of the stack's own backend repository


def _settings(stack: str = "production", **release: Any) -> Settings:
    return load_settings(stack, {"silhouette:apps": json.dumps({"release": release})} if release else {})


def test_rolling_is_one_backend_deployment_behind_its_service() -> None:
    settings = _settings()
    plan = plan_release("backend", settings.apps.backend, settings.apps)
    assert [v.name for v in plan.variants] == ["backend"]
    assert plan.service_selector == {NAME_LABEL: "backend"}
    assert plan.active_color is None and plan.canary_weight_percent is None


def test_blue_green_runs_both_colours_and_the_service_selects_the_active_one() -> None:
    settings = _settings(strategy="blue_green", green_image=NEW, active_color="green")
    plan = plan_release("backend", settings.apps.backend, settings.apps)
    images = {v.name: v.image for v in plan.variants}
    assert images == {"backend-blue": settings.apps.backend.image, "backend-green": NEW}
    assert plan.service_selector == {NAME_LABEL: "backend", COLOR_LABEL: "green"}
    for variant in plan.variants:
        assert variant.labels[COLOR_LABEL] in variant.name, "each colour's pods carry their colour"
    switched_back = _settings(strategy="blue_green", green_image=NEW, active_color="blue")
    back = plan_release("backend", switched_back.apps.backend, switched_back.apps)
    assert back.service_selector[COLOR_LABEL] == "blue", "rollback is the settings change of active_color"


def test_canary_gets_its_weight_of_api_traffic_through_weighted_target_groups() -> None:
    settings = _settings(strategy="canary", canary_image=NEW, canary_weight_percent=25)
    plan = plan_release("backend", settings.apps.backend, settings.apps)
    stable, canary = plan.variants
    assert (stable.image, canary.image) == (settings.apps.backend.image, NEW)
    assert plan.service_selector[TRACK_LABEL] == "stable" and plan.canary_selector[TRACK_LABEL] == "canary"
    assert canary.max_replicas == 5, "25 % of 20 replicas"
    annotations = ingress_annotations(
        certificate_arn="arn:cert",
        web_acl_arn="arn:waf",
        plan=plan,
        production=True,
        load_balancer_name="silhouette-production-alb",
    )
    action = json.loads(annotations["alb.ingress.kubernetes.io/actions.backend-weighted"])
    weights = {group["serviceName"]: group["weight"] for group in action["forwardConfig"]["targetGroups"]}
    assert weights == {"backend": 75, "backend-canary": 25}
    api = ingress_rules("app.example.com", plan)[0]["http"]["paths"][0]
    assert api["path"] == "/api" and api["backend"]["service"] == {
        "name": "backend-weighted",
        "port": {"name": "use-annotation"},
    }


def test_canary_needs_its_own_image() -> None:
    with pytest.raises(SettingsError, match=re.escape("apps.release.canary_image: strategy canary needs")):
        _settings(strategy="canary")


def test_frontend_always_rolls() -> None:
    settings = _settings(strategy="blue_green")
    assert [v.name for v in plan_release("frontend", settings.apps.frontend, settings.apps).variants] == ["frontend"]


def test_each_backend_image_gets_its_own_migration_job() -> None:
    assert migration_job_name(NEW) != migration_job_name("1.0.0")
    assert re.fullmatch(r"backend-migrations-[0-9a-f]{10}", migration_job_name(NEW))


@pytest.mark.parametrize("stack", ["production", "staging"])
def test_quota_lets_every_hpa_reach_its_maximum_during_a_rollout(stack: str) -> None:
    settings = _settings(stack)
    quota = namespace_quota(settings.apps)
    need = required_quota(settings.apps)
    assert quota.requests_cpu_millicores >= need.requests_cpu_millicores
    assert quota.requests_memory_mib >= need.requests_memory_mib and quota.pods >= need.pods
    backend = settings.apps.backend
    # the backend alone at maximum with a 25 % surge must fit
    assert need.pods >= backend.max_replicas + settings.apps.frontend.max_replicas


def test_a_quota_that_would_block_scale_out_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match=re.escape("apps.quota_cpu: 2 would block scale-out")):
        load_settings("production", {"silhouette:apps": json.dumps({"quota_cpu": "2"})})


def test_limit_range_admits_the_largest_container() -> None:
    apps = _settings().apps
    limits = limit_range(apps)
    cpu = [apps.backend.cpu_limit, apps.frontend.cpu_limit, apps.worker.cpu_limit]
    memory = [apps.backend.memory_limit, apps.frontend.memory_limit, apps.worker.memory_limit]
    assert limits["max"]["cpu"] == f"{max(cpu_millicores(c) for c in cpu):.0f}m", "LimitRange max cpu"
    assert limits["max"]["memory"] == f"{max(memory_mib(m) for m in memory):.0f}Mi", "LimitRange max memory"


def test_hpa_scales_on_cpu_and_scales_down_slowly() -> None:
    settings = _settings()
    variant = plan_release("backend", settings.apps.backend, settings.apps).variants[0]
    spec = hpa_spec("backend", variant, 70)
    assert (spec["minReplicas"], spec["maxReplicas"]) == (3, 20)
    assert spec["metrics"][0]["resource"]["target"]["averageUtilization"] == 70
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] >= 300


def test_pdb_always_allows_one_eviction() -> None:
    assert pdb_spec({NAME_LABEL: "backend"})["maxUnavailable"] == 1
