"""Container image references: what an image setting may say, and how it becomes a pullable reference.

Pure functions, no Pulumi: the settings validate with them and the workload builder pins with them.

An application image setting is either
- a tag (``1.4.2``) or digest (``sha256:<64 hex>``) in the stack's own ECR repository
  (``silhouette/<stack>/<workload>``: immutable tags, scan on push, KMS), the default; or
- a full reference (``registry/path:tag`` and/or ``@sha256:...``) from a registry that
  ``apps.allowed_registries`` lists.
A moving tag (``latest``, or no tag at all, which means ``latest``) is refused either way: it lets two
nodes run different code under one Deployment revision and makes a rollback pull something new.
"""

from __future__ import annotations

import re

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_REPOSITORY = re.compile(
    r"^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)+$|^[a-z0-9]+([._-][a-z0-9]+)*$"
)


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """``registry:5000/team/app:1.2@sha256:...`` -> (repository, tag, digest)."""
    name, _, digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1 :], digest or None
    return name, None, digest or None


def require_pinned(image: str) -> str:
    """``image`` itself if it names an exact tag (not ``latest``) or a sha256 digest; ``ValueError`` otherwise."""
    repository, tag, digest = split_image(image)
    if not repository or not _REPOSITORY.match(repository):
        raise ValueError(f"image {image!r}: not an image reference (registry/path:tag)")
    if digest is not None and not DIGEST.match(digest):
        raise ValueError(f"image {image!r}: digest must be sha256:<64 hex digits>")
    if tag is not None and not TAG.match(tag):
        raise ValueError(f"image {image!r}: {tag!r} is not a valid tag")
    if tag == "latest":
        raise ValueError(f"image {image!r}: 'latest' moves; pin an exact release tag or a digest")
    if tag is None and digest is None:
        raise ValueError(f"image {image!r}: no tag means 'latest'; pin an exact release tag or a digest")
    return image


def is_digest_pinned(image: str) -> bool:
    return split_image(require_pinned(image))[2] is not None


def image_tag(image: str) -> str | None:
    return split_image(require_pinned(image))[1]


def in_stack_repository(setting: str) -> bool:
    """A setting without a ``/`` is a tag or digest in the stack's own repository."""
    return "/" not in setting


def reference_in(repository_url: str, version: str) -> str:
    """The pullable reference of a tag or digest in ``repository_url``."""
    return f"{repository_url}@{version}" if version.startswith("sha256:") else f"{repository_url}:{version}"


def registry_of(reference: str) -> str:
    """The registry host of a full reference; Docker Hub's short names (``neo4j``, ``amazon/aws-cli``)
    belong to ``docker.io``."""
    first, _, rest = reference.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def check_application_image(setting: str) -> str:
    """Validate an application image setting (see the module docstring); returns it unchanged."""
    if in_stack_repository(setting):
        if setting == "latest":
            raise ValueError("'latest' moves; use an exact release tag (e.g. 1.4.2) or a sha256 digest")
        if not (TAG.match(setting) or DIGEST.match(setting)):
            raise ValueError(
                "expected a tag of the stack's ECR repository (e.g. 1.4.2), a digest (sha256:<64 hex>) or a full "
                "reference registry/path:tag from apps.allowed_registries"
            )
        return setting
    return require_pinned(setting)
