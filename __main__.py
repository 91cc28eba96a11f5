"""Silhouette platform: load and validate the stack's settings, build the layers, export outputs."""

import pulumi

from silhouette_infra.validation.loader import SettingsError, load_settings, pulumi_config

stack = pulumi.get_stack()
try:
    settings = load_settings(stack, pulumi_config())
except SettingsError as error:
    # The language host prints a RunError's message alone, with no traceback (pulumi-language-python-exec).
    raise pulumi.RunError(str(error)) from error

# The layers, and with them the provider SDKs (about a second of imports), only for settings that were accepted:
# a refused stack file fails as soon as it is read.
from silhouette_infra.platform import build_platform  # noqa: E402

for name, value in build_platform(settings, stack).items():
    pulumi.export(name, value)
