"""Silhouette platform: load and validate the stack's settings, build the layers, export outputs."""

import pulumi

from silhouette_infra.platform import build_platform
from silhouette_infra.settings import load_settings, pulumi_config

stack = pulumi.get_stack()
settings = load_settings(stack, pulumi_config())
for name, value in build_platform(settings, stack).items():
    pulumi.export(name, value)
