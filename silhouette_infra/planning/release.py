"""Pure release planning: which backend Deployments exist, what each runs, which one gets traffic.

Rollback is always a settings change: rolling -> the previous image; blue_green -> the previous
active_color; canary -> canary_weight_percent 0 (or strategy back to rolling).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from silhouette_infra.kubernetes.labels import NAME_LABEL as NAME_LABEL  # the label the release plan selects on
from silhouette_infra.settings.models import AppsSettings, WorkloadSettings

COLOR_LABEL = "silhouette.io/color"
TRACK_LABEL = "silhouette.io/track"


@dataclass(frozen=True)
class Variant:
    """One Deployment of a service."""

    name: str
    image: str
    labels: dict[str, str]
    min_replicas: int
    max_replicas: int


@dataclass(frozen=True)
class ReleasePlan:
    variants: list[Variant]
    service_selector: dict[str, str]  # what the service's main Service routes to
    active_color: str | None = None
    canary_weight_percent: int | None = None
    canary_selector: dict[str, str] = field(default_factory=dict)

    @property
    def images(self) -> list[str]:
        return sorted({variant.image for variant in self.variants})

    @property
    def max_replicas(self) -> int:
        """Pods of the service at maximum: every Deployment of the plan (blue-green keeps both colours, canary
        adds its own)."""
        return sum(variant.max_replicas for variant in self.variants)

    @property
    def serving_image(self) -> str:
        """The image of the Deployment the main Service routes to (the active colour, the stable track)."""
        selected = [
            variant
            for variant in self.variants
            if all(variant.labels.get(key) == value for key, value in self.service_selector.items())
        ]
        return selected[0].image if selected else self.variants[0].image


def plan_release(service: str, workload: WorkloadSettings, apps: AppsSettings) -> ReleasePlan:
    """Rolling for every service but the backend, whose strategy comes from ``apps.release``."""
    base = {NAME_LABEL: service}
    release = apps.release
    if service != "backend" or release.strategy == "rolling":
        return ReleasePlan(
            variants=[Variant(service, workload.image, base, workload.min_replicas, workload.max_replicas)],
            service_selector=base,
        )
    if release.strategy == "blue_green":
        images = {"blue": release.blue_image or workload.image, "green": release.green_image or workload.image}
        variants = [
            Variant(
                f"{service}-{color}",
                image,
                {**base, COLOR_LABEL: color},
                workload.min_replicas,
                workload.max_replicas,
            )
            for color, image in images.items()
        ]
        return ReleasePlan(
            variants=variants,
            service_selector={**base, COLOR_LABEL: release.active_color},
            active_color=release.active_color,
        )
    weight = release.canary_weight_percent
    canary_max = max(1, math.ceil(workload.max_replicas * weight / 100))
    return ReleasePlan(
        variants=[
            Variant(
                service, workload.image, {**base, TRACK_LABEL: "stable"}, workload.min_replicas, workload.max_replicas
            ),
            Variant(
                f"{service}-canary",
                release.canary_image or workload.image,
                {**base, TRACK_LABEL: "canary"},
                1,
                canary_max,
            ),
        ],
        service_selector={**base, TRACK_LABEL: "stable"},
        canary_weight_percent=weight,
        canary_selector={**base, TRACK_LABEL: "canary"},
    )


def migration_job_name(image: str) -> str:
    """One migration Job per backend image: a new image runs its migrations once, before it rolls out."""
    return f"backend-migrations-{hashlib.sha256(image.encode()).hexdigest()[:10]}"
