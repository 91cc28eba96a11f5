"""Typed, validated settings of the platform (one pydantic model tree, per-stack profiles)."""

from silhouette_infra.settings.loader import SettingsError, load_settings, pulumi_config
from silhouette_infra.settings.models import Settings
from silhouette_infra.settings.rules import availability_zone_names

__all__ = ["Settings", "SettingsError", "availability_zone_names", "load_settings", "pulumi_config"]
