"""boto3 clients with the standard retry mode, and every AWS failure as one line an operator can act on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    WaiterError,
)

# Standard mode retries throttling and transient errors (3 attempts by default, exponential backoff),
# where boto3's default legacy mode retries fewer errors
# (https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html).
RETRIES = Config(retries={"mode": "standard"})
ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
THROTTLED = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown"}
NO_CREDENTIALS = {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException"}


class OpsError(Exception):
    """A failure the tool reports as one line (no traceback) and exit code 2."""


class AwsClients:
    """One client per service and region, made from one session (tests pass theirs, to hook its events)."""

    def __init__(self, session: boto3.Session | None = None) -> None:
        self._session = session or boto3.Session()
        self._clients: dict[tuple[str, str], Any] = {}

    def get(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self._session.client(service, region_name=region, config=RETRIES)
        return self._clients[key]

    def put(self, service: str, region: str, client: Any) -> None:
        """Use ``client`` for ``service`` in ``region`` (tests: a client with botocore's Stubber)."""
        self._clients[(service, region)] = client


def paged(client: Any, operation: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Every item under ``key`` of every page of ``operation``."""
    for page in client.get_paginator(operation).paginate(**params):
        yield from page.get(key, [])


def explain(error: Exception) -> str:
    """One line for an AWS failure: what was refused or failed, and what to do about it."""
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or run on a role)"
    if isinstance(error, NoRegionError):
        return "no AWS region: the stack outputs carry none (output 'region')"
    if isinstance(error, EndpointConnectionError):
        return f"cannot reach AWS: {error}"
    if isinstance(error, WaiterError):
        return f"gave up waiting: {error}"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        operation = error.operation_name
        if code in ACCESS_DENIED:
            return f"access denied to {operation}: {message} (the role needs this permission)"
        if code in THROTTLED:
            return f"AWS throttled {operation} after the standard retries: try again in a few minutes"
        if code in NO_CREDENTIALS:
            return f"the AWS credentials were refused ({code}): refresh them"
        return f"{operation} failed: {code}: {message}"
    if isinstance(error, BotoCoreError):
        return f"AWS SDK error: {error}"
    return str(error)
