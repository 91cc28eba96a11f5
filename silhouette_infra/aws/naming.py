"""The one naming helper: physical AWS names are ``silhouette-<stack>-<what>``."""

from __future__ import annotations

from dataclasses import dataclass

PROJECT = "silhouette"


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

    def log_group(self, *parts: str) -> str:
        return "/" + "/".join([PROJECT, self.stack, *parts])
