"""The one naming helper: physical AWS names are ``silhouette-<stack>-<what>``."""

from __future__ import annotations

from dataclasses import dataclass

PROJECT = "silhouette"
# AWS Backup selects every stateful resource carrying this tag (value: the stack's name prefix).
BACKUP_TAG_KEY = "Backup"


@dataclass(frozen=True)
class Naming:
    stack: str

    @property
    def prefix(self) -> str:
        return f"{PROJECT}-{self.stack}"

    def physical(self, *parts: str) -> str:
        """Name of an AWS object, unique per stack: ``physical("flow-logs")`` -> ``silhouette-staging-flow-logs``."""
        return "-".join([self.prefix, *parts])

    def name_tag(self, *parts: str) -> dict[str, str]:
        """The ``Name`` tag the console shows; every other tag comes from the provider's default tags."""
        return {"Name": self.physical(*parts)}

    @property
    def secrets_prefix(self) -> str:
        """Every Secrets Manager secret of the stack lives under this prefix, the only one External Secrets
        may read: a security boundary, so it is defined here and nowhere else."""
        return f"{PROJECT}/{self.stack}/"

    def secret(self, service: str) -> str:
        """The Secrets Manager name of one service's secret: ``silhouette/<stack>/<service>``."""
        return f"{self.secrets_prefix}{service}"

    def backup_tag(self) -> dict[str, str]:
        """The tag AWS Backup selects a stateful resource by."""
        return {BACKUP_TAG_KEY: self.prefix}

    def log_group(self, *parts: str) -> str:
        return "/" + "/".join([PROJECT, self.stack, *parts])
