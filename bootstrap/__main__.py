"""Silhouette bootstrap: load the account's settings, declare the state backend and the CI identity, export
what the platform's stacks and the workflows need (README, Bootstrap)."""

import pulumi

from silhouette_infra.bootstrap.program import build_bootstrap, raw_config
from silhouette_infra.bootstrap.settings import BootstrapSettingsError, load_bootstrap_settings

stack = pulumi.get_stack()
try:
    settings = load_bootstrap_settings(stack, raw_config())
except BootstrapSettingsError as error:
    raise pulumi.RunError(str(error)) from error
for name, value in build_bootstrap(settings, stack).items():
    pulumi.export(name, value)
