"""Schemas of the custom resources whose fields are checked offline, not only their shape.

KEDA's ScaledObject and TriggerAuthentication (keda.sh/v1alpha1): the openAPIV3Schema of the CRDs that chart
kedacore/keda 2.20.2 installs (kedacore/charts, keda/templates/crds/crd-scaledobjects.yaml and
crd-triggerauthentications.yaml at commit cbb9bb8 "prepare v2.20.2 release"), transcribed for the fields the
program uses, with their types, bounds, enums and required lists as upstream states them. Unlike the API
server (which prunes unknown fields), these schemas refuse any field they do not list: a new field is added
here from the same CRD, at the pinned chart version, before the program may use it.
"""

from __future__ import annotations

from typing import Any

_INT32 = {"type": "integer", "format": "int32"}
_STRING = {"type": "string"}


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


_SCALING_RULES = _object(
    {
        "policies": {
            "type": "array",
            "items": _object(
                {"periodSeconds": _INT32, "type": _STRING, "value": _INT32}, ("periodSeconds", "type", "value")
            ),
        },
        "selectPolicy": _STRING,
        "stabilizationWindowSeconds": _INT32,
    }
)

SCALED_OBJECT_SPEC = _object(
    {
        "scaleTargetRef": _object(
            {
                "apiVersion": _STRING,
                "envSourceContainerName": _STRING,
                "kind": _STRING,
                "name": {"type": "string", "minLength": 1},
            },
            ("name",),
        ),
        "minReplicaCount": {**_INT32, "minimum": 0},
        "maxReplicaCount": {**_INT32, "minimum": 1},
        "pollingInterval": {**_INT32, "minimum": 1},
        "cooldownPeriod": {**_INT32, "minimum": 0},
        "triggers": {
            "type": "array",
            "minItems": 1,
            "items": _object(
                {
                    "authenticationRef": _object(
                        {
                            "kind": {
                                "type": "string",
                                "enum": ["TriggerAuthentication", "ClusterTriggerAuthentication"],
                            },
                            "name": _STRING,
                        },
                        ("name",),
                    ),
                    "metadata": {"type": "object", "additionalProperties": _STRING},
                    "metricType": _STRING,
                    "name": _STRING,
                    "type": {"type": "string", "minLength": 1},
                    "useCachedMetrics": {"type": "boolean"},
                },
                ("metadata", "type"),
            ),
        },
        "advanced": _object(
            {
                "horizontalPodAutoscalerConfig": _object(
                    {
                        "behavior": _object({"scaleDown": _SCALING_RULES, "scaleUp": _SCALING_RULES}),
                        "name": _STRING,
                    }
                ),
                "restoreToOriginalReplicaCount": {"type": "boolean"},
            }
        ),
    },
    ("scaleTargetRef", "triggers"),
)

TRIGGER_AUTHENTICATION_SPEC = _object(
    {
        "secretTargetRef": {
            "type": "array",
            "items": _object({"key": _STRING, "name": _STRING, "parameter": _STRING}, ("key", "name", "parameter")),
        }
    }
)

# (apiVersion, kind) -> (what it is, the schema of its spec)
CRD_SPEC_SCHEMAS: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {
    ("keda.sh/v1alpha1", "ScaledObject"): ("KEDA: scales a workload on an event source", SCALED_OBJECT_SPEC),
    ("keda.sh/v1alpha1", "TriggerAuthentication"): (
        "KEDA: credentials of a scaler, from Secrets",
        TRIGGER_AUTHENTICATION_SPEC,
    ),
}
