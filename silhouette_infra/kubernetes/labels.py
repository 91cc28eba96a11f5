"""Labels and annotations every layer shares: defined once here."""

from __future__ import annotations

from typing import Final

NAME_LABEL: Final = "app.kubernetes.io/name"
# Every object the platform declares in its own namespaces says it is part of Silhouette.
PART_OF: Final = {"app.kubernetes.io/part-of": "silhouette"}
MANAGED_BY: Final = {"app.kubernetes.io/managed-by": "pulumi"}
# On a ServiceAccount: the IAM role its pods assume through IRSA.
ROLE_ARN_ANNOTATION: Final = "eks.amazonaws.com/role-arn"
# On a pod: the containers (comma-separated names) the pod identity webhook gives no AWS credentials.
SKIP_AWS_CREDENTIALS_ANNOTATION: Final = "eks.amazonaws.com/skip-containers"
