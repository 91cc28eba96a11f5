"""Kubernetes objects against the strict OpenAPI schemas of the cluster's Kubernetes version.

The schemas are the ones ``kubernetes-validate`` ships (``kubernetes-json-schema/v<X.Y.Z>-local-strict``:
one file per kind, ``<kind>-<group>-<version>.json``, whose ``$ref``\\ s point into the directory's
``_definitions.json``). ``kubernetes-validate`` itself stops at the first error of an object and
re-reads both files on every call; here each version's definitions are read once, each kind's schema
once, and one ``jsonschema`` validator per kind reports *every* error of an object.

Beyond the schema (which has no notion of them), cheap generic checks the API server would also
enforce: quantity syntax, port ranges and port names, label and annotation syntax, object names.
Allow-listed custom resources, whose CRD schemas are not shipped, get a structural check.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING, Any

import jsonschema  # type: ignore[import-untyped]
from referencing import Registry, Resource

from silhouette_infra.synth.checks.base import CheckReport, Finding, Skip, apply_skips, load_skips
from silhouette_infra.synth.checks.crd_schemas import CRD_SPEC_SCHEMAS
from silhouette_infra.synth.engine.manifests import manifest_of, object_name
from silhouette_infra.synth.engine.mocks import unwrap_secrets

if TYPE_CHECKING:
    from silhouette_infra.synth.engine.run import SynthResult

VALIDATOR = "kubernetes_schema"
SCHEMA_CHECK = "kubernetes-schema"
QUANTITY_CHECK = "kubernetes-quantity"
PORT_CHECK = "kubernetes-port"
LABEL_CHECK = "kubernetes-label"
NAME_CHECK = "kubernetes-name"

# Custom resources we declare whose CRDs are installed by Helm charts at deploy time, so no schema
# exists offline: (apiVersion, kind) -> what it is. Each gets a structural check only. Versions are
# the ones current chart releases serve (external-secrets added v1 in 0.16.2 and stopped serving
# v1beta1 in 0.17.0; prometheus-operator v1; aws-load-balancer-controller v2 serves TargetGroupBinding
# as v1beta1).
CRD_ALLOW_LIST: dict[tuple[str, str], str] = {
    ("external-secrets.io/v1", "ExternalSecret"): "External Secrets: a Kubernetes Secret synced from a store",
    ("external-secrets.io/v1", "SecretStore"): "External Secrets: a namespaced secret store",
    ("external-secrets.io/v1", "ClusterSecretStore"): "External Secrets: a cluster-wide secret store",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "Prometheus Operator: scrape targets behind a Service",
    ("monitoring.coreos.com/v1", "PodMonitor"): "Prometheus Operator: scrape targets on pods",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "Prometheus Operator: alerting and recording rules",
    ("elbv2.k8s.aws/v1beta1", "TargetGroupBinding"): "AWS Load Balancer Controller: Service -> target group",
}
_CRD_TOP_LEVEL = ("apiVersion", "kind", "metadata", "spec")

# The captured-input conventions of silhouette_infra.synth.engine.mocks.
_UNKNOWN = "<unknown>"

_SCHEMA_ROOT = "kubernetes-json-schema"
_DEFINITIONS = "_definitions.json"
_QUANTITY_DEF = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_OBJECT_META_DEF = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


class UnsupportedKubernetesVersionError(ValueError):
    """kubernetes-validate ships no schemas for this Kubernetes version."""


# --------------------------------------------------------------------------- syntax of values
# k8s.io/apimachinery/pkg/api/resource: <sign><digits>[.<digits>]<suffix>, suffix one of the binary
# SI (Ki..Ei), decimal SI (m, "", k, M..E) or an exponent (e3, E-2).
_QUANTITY = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))([KMGTPE]i|[mkMGTPE]|[eE][+-]?\d+)?$")
_QUANTITY_FACTORS = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    **{unit + "i": Decimal(1024) ** power for power, unit in enumerate("KMGTPE", start=1)},
}
# k8s.io/apimachinery/pkg/util/validation
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME_PART = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_IANA_SVC_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_TOTAL_ANNOTATION_BYTES = 256 * 1024

# Port fields (any object's spec) and the values they accept; 0 means "allocate/unset" for these two.
_PORT_FIELDS = ("containerPort", "port", "targetPort", "endPort", "hostPort", "nodePort")
_ZERO_MEANS_UNSET = ("hostPort", "nodePort")
# Names are DNS-1123 subdomains except for these kinds (apimachinery ValidateObjectMeta name functions).
_RBAC_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")


def parse_quantity(value: object) -> Decimal:
    """A Kubernetes quantity as a number: ``'250m'`` -> 0.25, ``'1Gi'`` -> 1073741824, ``0.5`` -> 0.5.

    Accepts what the API server's ``Quantity.UnmarshalJSON`` accepts (a string, or a JSON number);
    raises ``ValueError`` otherwise.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{value!r} is not a string or a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    text = value.strip() if isinstance(value, str) else json.dumps(value)
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError(f"{value!r} is not a valid Kubernetes quantity (e.g. '250m', '1Gi', '0.5')")
    number, suffix = match.group(1), match.group(2) or ""
    try:
        if suffix[:1] in ("e", "E") and len(suffix) > 1:
            return Decimal(number) * Decimal(10) ** int(suffix[1:])
        return Decimal(number) * _QUANTITY_FACTORS[suffix]
    except (InvalidOperation, ArithmeticError) as error:  # pragma: no cover - overflow of huge exponents
        raise ValueError(f"{value!r} is out of range for a Kubernetes quantity") from error


def _is_quantity(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, str | int | float) or value == _UNKNOWN:
        return True  # the schema's type keywords report what is neither a string nor a number
    try:
        parse_quantity(value)
    except ValueError:
        return False
    return True


def _is_int_of(bits: int) -> Any:
    bound = 1 << (bits - 1)

    def check(value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, int):
            return True  # the type keyword reports non-integers
        return -bound <= value < bound

    return check


# Only the formats checked here are asserted (quantity is our annotation on the Quantity definition).
_FORMATS = jsonschema.FormatChecker(formats=())
_FORMATS.checks("quantity")(_is_quantity)
_FORMATS.checks("int32")(_is_int_of(32))
_FORMATS.checks("int64")(_is_int_of(64))


def _strict_integer(_checker: object, instance: object) -> bool:
    # jsonschema counts 3.0 as an integer; the API server's decoder does not, so neither do we.
    return isinstance(instance, int) and not isinstance(instance, bool)


_StrictValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _strict_integer),
)


# --------------------------------------------------------------------------- schemas, loaded once
def _schema_files() -> Traversable:
    return resources.files("kubernetes_validate").joinpath(_SCHEMA_ROOT)


@cache
def available_versions() -> tuple[str, ...]:
    """Kubernetes versions kubernetes-validate ships strict schemas for, oldest first (``'1.35.0'``)."""
    found = []
    for entry in _schema_files().iterdir():
        match = re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)-local-strict", entry.name)
        if match:
            found.append(tuple(int(part) for part in match.groups()))
    return tuple(".".join(map(str, version)) for version in sorted(found))


def schema_version_for(kubernetes_version: str) -> str:
    """The schema set for a cluster version: the newest shipped one not newer than it (as kubernetes-validate).

    ``'1.35'`` -> ``'1.35.0'``. Raises ``UnsupportedKubernetesVersionError`` outside the shipped range.
    (kubernetes-validate compares these as strings, which would order 1.9 after 1.10; compared as numbers here.)
    """
    match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", kubernetes_version.strip())
    versions = available_versions()
    shipped = f"{versions[0]} to {versions[-1]}" if versions else "none"
    if not match:
        raise UnsupportedKubernetesVersionError(f"{kubernetes_version!r} is not a Kubernetes version like '1.35'")
    wanted = (int(match.group(1)), int(match.group(2)))
    minors = [v for v in versions if tuple(int(p) for p in v.split(".")[:2]) <= wanted]
    newest = tuple(int(p) for p in versions[-1].split(".")[:2]) if versions else (0, 0)
    if not minors or wanted > newest:
        raise UnsupportedKubernetesVersionError(
            f"kubernetes-validate {_kubernetes_validate_version()} has no schemas for Kubernetes "
            f"{kubernetes_version} (it ships {shipped})"
        )
    return minors[-1]


def schema_directory(kubernetes_version: str) -> Traversable:
    """The strict schema directory used for a cluster version (``v1.35.0-local-strict``)."""
    return _schema_files().joinpath(f"v{schema_version_for(kubernetes_version)}-local-strict")


def _kubernetes_validate_version() -> str:
    from kubernetes_validate.version import __version__

    return str(__version__)


def _split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def schema_file_name(api_version: str, kind: str) -> str:
    """kubernetes-validate's file for a kind: ``rbac.authorization.k8s.io/v1`` Role -> ``role-rbac-v1.json``."""
    # The same mapping as kubernetes_validate.utils.validate: drop the group's domain, '/' -> '-'.
    mangled = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{mangled}.json"


# JSON Schema 2020-12 keywords whose values are schemas (a map of them, one, or a list of them): the
# only places a "$ref" is a reference (JSONSchemaProps has a *property* named "$ref").
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
_SCHEMA_ONE = (
    "additionalProperties",
    "items",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
)
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_ANNOTATIONS = ("description", "title", "default", "examples", "readOnly", "writeOnly", "deprecated", "$comment")


@dataclass
class _SchemaSet:
    """One Kubernetes version's strict schemas: definitions read once, one validator per kind.

    Each ``$ref`` is resolved once through the ``referencing`` registry (the same resolution
    kubernetes-validate uses) and replaced by the shared, already-resolved definition: validation
    then never looks a reference up again, which halves its time. Recursive definitions become
    cycles between the shared dicts, which jsonschema follows lazily.
    """

    version: str
    directory: Traversable
    registry: Registry[Any]
    definitions_id: str
    served: dict[str, list[str]]  # kind -> apiVersions this version serves it as
    validators: dict[tuple[str, str], Any] = field(default_factory=dict)
    resolved: dict[int, dict[str, Any]] = field(default_factory=dict)  # id(definition) -> inlined copy
    metadata_validator: Any = None

    @property
    def minor(self) -> str:
        """``'1.35'`` for the ``1.35.0`` schemas."""
        return ".".join(self.version.split(".")[:2])

    def validator(self, api_version: str, kind: str) -> Any:
        """The validator of a built-in kind, or None if this version has no schema for it."""
        key = (api_version, kind)
        if key not in self.validators:
            self.validators[key] = self._build(api_version, kind)
        return self.validators[key]

    def _build(self, api_version: str, kind: str) -> Any:
        path = self.directory.joinpath(schema_file_name(api_version, kind))
        if not path.is_file():
            return None
        schema = json.loads(path.read_text())
        # The file name drops the group's domain, so check the kind really is this group/version/kind
        # (``policy.example.com/v1 PodDisruptionBudget`` must not validate as ``policy/v1``).
        group, version = _split_api_version(api_version)
        declared = schema.get("x-kubernetes-group-version-kind") or []
        if {"group": group, "version": version, "kind": kind} not in declared:
            return None
        resolver = self.registry.resolver(base_uri=str(schema.get("$id", "")))
        return _StrictValidator(self._inline(schema, resolver), format_checker=_FORMATS)

    def object_meta_validator(self) -> Any:
        if self.metadata_validator is None:
            schema = {"$ref": f"{self.definitions_id}#/$defs/{_OBJECT_META_DEF}"}
            self.metadata_validator = _StrictValidator(
                self._inline(schema, self.registry.resolver()), format_checker=_FORMATS
            )
        return self.metadata_validator

    def _inline(self, schema: Any, resolver: Any) -> Any:
        if not isinstance(schema, dict):
            return schema  # a boolean schema
        ref = schema.get("$ref")
        if isinstance(ref, str):
            resolved = resolver.lookup(ref)
            target = self._resolved(resolved.contents, resolved.resolver)
            rest = {key: value for key, value in schema.items() if key != "$ref"}
            if all(key in _ANNOTATIONS or key.startswith("x-") for key in rest):
                return target
            return {"allOf": [target], **self._inline_keywords(rest, resolver)}
        return self._inline_keywords(schema, resolver)

    def _resolved(self, contents: dict[str, Any], resolver: Any) -> dict[str, Any]:
        key = id(contents)  # the registry keeps every definition alive, so ids are stable
        if key not in self.resolved:
            inlined: dict[str, Any] = {}
            self.resolved[key] = inlined  # before recursing: recursive definitions find it
            inlined.update(self._inline(contents, resolver))
        return self.resolved[key]

    def _inline_keywords(self, schema: dict[str, Any], resolver: Any) -> dict[str, Any]:
        inlined: dict[str, Any] = {}
        for key, value in schema.items():
            if key in _SCHEMA_MAPS and isinstance(value, dict):
                inlined[key] = {name: self._inline(sub, resolver) for name, sub in value.items()}
            elif key in _SCHEMA_ONE:
                inlined[key] = self._inline(value, resolver)
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                inlined[key] = [self._inline(sub, resolver) for sub in value]
            else:
                inlined[key] = value
        return inlined


@cache
def _schema_set(schema_version: str) -> _SchemaSet:
    directory = _schema_files().joinpath(f"v{schema_version}-local-strict")
    definitions = json.loads(directory.joinpath(_DEFINITIONS).read_text())
    defs = definitions["$defs"]
    # Quantity is {"oneOf": [string, number]} in the schema; our format asserts its syntax too.
    defs[_QUANTITY_DEF] = {**defs[_QUANTITY_DEF], "format": "quantity"}
    served: dict[str, list[str]] = {}
    for definition in defs.values():
        for gvk in definition.get("x-kubernetes-group-version-kind") or []:
            api_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
            if directory.joinpath(schema_file_name(api_version, gvk["kind"])).is_file():
                served.setdefault(gvk["kind"], []).append(api_version)
    resource: Resource[Any] = Resource.from_contents(definitions)
    registry: Registry[Any] = (resource @ Registry()).crawl()
    return _SchemaSet(schema_version, directory, registry, definitions["$id"], served)


# --------------------------------------------------------------------------- errors -> findings
def _json_path(base: str, path: Iterable[str | int]) -> str:
    for element in path:
        if isinstance(element, int):
            base += f"[{element}]"
        elif re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", element):
            base += f".{element}"
        else:
            base += "['" + element.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return base


def _describe(error: Any) -> str:
    if error.validator == "type" and isinstance(error.instance, float):
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        if "integer" in expected:
            return (
                f"{error.instance!r} is a float where the schema requires an integer; the API server rejects it "
                "(integral numbers should have been captured as int)"
            )
    if error.validator in ("oneOf", "anyOf") and error.context:
        reasons = list(dict.fromkeys(_describe(sub) for sub in error.context))
        return f"{error.message} ({'; '.join(reasons)})"
    return str(error.message)


def _schema_errors(validator: Any, instance: Any, base: str, schema: str) -> Iterator[tuple[str, str]]:
    """(check, message) for every error of ``instance``; unknown fields one by one, at their own path."""
    for error in validator.iter_errors(instance):
        if error.instance == _UNKNOWN:
            continue  # a value only known at deploy time; nothing to check offline
        path = _json_path(base, error.absolute_path)
        if error.validator == "additionalProperties" and error.validator_value is False:
            known = error.schema.get("properties") or {}
            for key in sorted(k for k in error.instance if k not in known):
                where = _json_path(path, [key])
                yield SCHEMA_CHECK, f"{where}: unknown field {key!r} (not in the {schema})"
        elif error.validator == "format" and error.validator_value == "quantity":
            yield (
                QUANTITY_CHECK,
                f"{path}: {error.instance!r} is not a valid Kubernetes quantity (e.g. '250m', '1Gi', '0.5')",
            )
        else:
            yield SCHEMA_CHECK, f"{path}: {_describe(error)}"


# --------------------------------------------------------------------------- checks beyond the schema
JsonPath = tuple[str | int, ...]

# Maps of free-form strings: nothing inside them is a port, a quantity or a metadata block.
_STRING_MAPS = frozenset(("labels", "annotations", "matchLabels", "data", "stringData", "binaryData", "selector"))


def _beyond_schema(manifest: Mapping[str, Any], built_in: bool) -> Iterator[tuple[str, str]]:
    """One walk over the object for the checks the schema cannot express.

    ``built_in``: the object was schema-validated, so its field meanings are known (IntOrString port
    names) and quantity syntax was already asserted by the schema's ``quantity`` format.
    """
    stack: list[tuple[JsonPath, Any]] = [((), manifest)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, list):
            stack.extend(((*path, index), item) for index, item in enumerate(value))
            continue
        if not isinstance(value, Mapping):
            continue
        for key, item in value.items():
            key = str(key)
            if key == "metadata" and isinstance(item, Mapping):
                yield from _labels_and_annotations(item, (*path, key))
                continue
            if key in _PORT_FIELDS or key in ("name", "number"):
                yield from _port_findings(path, key, item, value, built_in)
            elif key == "resources" and isinstance(item, Mapping):
                yield from _resource_findings(item, (*path, key), check_syntax=not built_in)
            if key not in _STRING_MAPS and isinstance(item, Mapping | list):
                stack.append(((*path, key), item))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_IANA_RULE = "(at most 15 lowercase letters, digits and '-', with a letter, no '--')"


def _is_iana_svc_name(name: str) -> bool:
    return len(name) <= 15 and bool(_IANA_SVC_NAME.match(name)) and "--" not in name and any(c.isalpha() for c in name)


def _port_findings(
    parent: JsonPath, key: str, value: Any, container: Mapping[str, Any], built_in: bool
) -> Iterator[tuple[str, str]]:
    """Port numbers in 1-65535 (0 = unset for hostPort/nodePort); port names are IANA_SVC_NAMEs."""
    # "number": an Ingress backend's service.port.number
    if (key in _PORT_FIELDS or (key == "number" and parent[-1:] == ("port",))) and _is_number(value):
        low = 0 if key in _ZERO_MEANS_UNSET else 1
        if not low <= value <= 65535:
            yield PORT_CHECK, f"{_json_path('$', (*parent, key))}: port {value!r} is outside {low}-65535"
    elif not built_in or not isinstance(value, str) or value == _UNKNOWN:
        return
    elif key in ("port", "targetPort"):
        # IntOrString: a string is a port *name*, never a number in quotes.
        where = _json_path("$", (*parent, key))
        if value.isdigit():
            yield PORT_CHECK, f"{where}: {value!r} is a numeric string, taken as a port name; use the integer {value}"
        elif not _is_iana_svc_name(value):
            yield PORT_CHECK, f"{where}: port name {value!r} is not an IANA_SVC_NAME {_IANA_RULE}"
    elif key == "name" and "containerPort" in container and not _is_iana_svc_name(value):
        where = _json_path("$", (*parent, key))
        yield PORT_CHECK, f"{where}: container port name {value!r} is not an IANA_SVC_NAME {_IANA_RULE}"


def _resource_findings(resources_: Mapping[str, Any], path: JsonPath, check_syntax: bool) -> Iterator[tuple[str, str]]:
    """requests/limits: valid quantities, not negative, requests <= limits (the API server's rules)."""
    parsed: dict[str, dict[str, Decimal]] = {"requests": {}, "limits": {}}
    for section in ("requests", "limits"):
        amounts = resources_.get(section)
        if not isinstance(amounts, Mapping):
            continue
        for resource, amount in amounts.items():
            if amount is None or amount == _UNKNOWN:
                continue
            try:
                number = parse_quantity(amount)
            except ValueError as error:
                if check_syntax:
                    yield QUANTITY_CHECK, f"{_json_path('$', (*path, section, str(resource)))}: {error}"
                continue
            if number < 0:
                where = _json_path("$", (*path, section, str(resource)))
                yield QUANTITY_CHECK, f"{where}: {amount!r} is negative; requests and limits must be >= 0"
            parsed[section][str(resource)] = number
    for resource, request in parsed["requests"].items():
        limit = parsed["limits"].get(resource)
        if limit is not None and request > limit:
            where = _json_path("$", (*path, "requests", resource))
            yield (
                QUANTITY_CHECK,
                (
                    f"{where}: request {resources_['requests'][resource]!r} exceeds the limit "
                    f"{resources_['limits'][resource]!r}; requests must be <= limits"
                ),
            )


def _labels_and_annotations(metadata: Mapping[str, Any], path: JsonPath) -> Iterator[tuple[str, str]]:
    """Label keys and values, annotation keys and size (apimachinery's ValidateLabels/ValidateAnnotations)."""
    labels = metadata.get("labels")
    if isinstance(labels, Mapping):
        for key, value in labels.items():
            problem = _qualified_name_problem(str(key))
            if problem:
                yield LABEL_CHECK, f"{_json_path('$', (*path, 'labels', str(key)))}: label key {key!r} {problem}"
            # non-strings are the schema's to report
            if isinstance(value, str) and value != _UNKNOWN and (len(value) > 63 or not _LABEL_VALUE.match(value)):
                yield (
                    LABEL_CHECK,
                    (
                        f"{_json_path('$', (*path, 'labels', str(key)))}: label value {value!r} must be at most 63 "
                        "characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
                    ),
                )
    annotations = metadata.get("annotations")
    if isinstance(annotations, Mapping):
        size = 0
        for key, value in annotations.items():
            problem = _qualified_name_problem(str(key))
            if problem:
                yield (
                    LABEL_CHECK,
                    f"{_json_path('$', (*path, 'annotations', str(key)))}: annotation key {key!r} {problem}",
                )
            size += len(str(key).encode()) + len(str(value).encode())
        if size > _TOTAL_ANNOTATION_BYTES:
            where = _json_path("$", (*path, "annotations"))
            yield LABEL_CHECK, f"{where}: annotations total {size} bytes, more than the 256 KiB the API server accepts"


def _qualified_name_problem(key: str) -> str | None:
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)):
        return f"has prefix {prefix!r} that is not a DNS-1123 subdomain"
    if len(name) > 63 or not _QUALIFIED_NAME_PART.match(name):
        return (
            "must be at most 63 characters of letters, digits, '-', '_' and '.' after an optional "
            "'<DNS subdomain>/' prefix, starting and ending with a letter or digit"
        )
    return None


def _name_findings(manifest: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    metadata = manifest.get("metadata")
    if not isinstance(metadata, Mapping):
        return
    kind = manifest.get("kind")
    name = metadata.get("name")
    if isinstance(name, str) and name != _UNKNOWN:
        if kind in _RBAC_KINDS:
            if name in (".", "..") or "/" in name or "%" in name:
                yield NAME_CHECK, f"$.metadata.name: {name!r} may not be '.' or '..' nor contain '/' or '%'"
        elif kind == "Service":
            if len(name) > 63 or not _DNS1035_LABEL.match(name):
                yield (
                    NAME_CHECK,
                    (
                        f"$.metadata.name: {name!r} is not a DNS-1035 label (at most 63 lowercase letters, "
                        "digits and '-', starting with a letter)"
                    ),
                )
        elif kind == "Namespace":
            if len(name) > 63 or not _DNS1123_LABEL.match(name):
                yield NAME_CHECK, f"$.metadata.name: {name!r} is not a DNS-1123 label (at most 63 of [a-z0-9-])"
        elif len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
            yield (
                NAME_CHECK,
                (
                    f"$.metadata.name: {name!r} is not a DNS-1123 subdomain (lowercase letters, digits, '-' "
                    "and '.', starting and ending with a letter or digit, at most 253 characters)"
                ),
            )
    namespace = metadata.get("namespace")
    if (
        isinstance(namespace, str)
        and namespace != _UNKNOWN
        and (len(namespace) > 63 or not _DNS1123_LABEL.match(namespace))
    ):
        yield NAME_CHECK, f"$.metadata.namespace: {namespace!r} is not a DNS-1123 label (at most 63 of [a-z0-9-])"


def _structural_findings(manifest: Mapping[str, Any], schemas: _SchemaSet, what: str) -> Iterator[tuple[str, str]]:
    """An allow-listed custom resource: the shape every Kubernetes object has, without its CRD schema."""
    for key in sorted(k for k in manifest if k not in _CRD_TOP_LEVEL):
        allowed = ", ".join(_CRD_TOP_LEVEL)
        yield SCHEMA_CHECK, f"{_json_path('$', [key])}: unknown top-level field {key!r} ({what}; allowed: {allowed})"
    metadata = manifest.get("metadata")
    if not isinstance(metadata, Mapping):
        yield SCHEMA_CHECK, "$.metadata: missing or not an object; a custom resource needs metadata.name"
    else:
        name = metadata.get("name")
        if not isinstance(name, str) or not name:
            why = "set it explicitly (Pulumi auto-naming happens in the provider, not here)"
            yield SCHEMA_CHECK, f"$.metadata.name: missing; {why}"
        yield from _schema_errors(
            schemas.object_meta_validator(), metadata, "$.metadata", f"strict Kubernetes {schemas.minor} schema"
        )
    spec = manifest.get("spec")
    if not isinstance(spec, Mapping):
        got = "missing" if spec is None else f"a {type(spec).__name__}"
        yield SCHEMA_CHECK, f"$.spec: must be an object, got {got}"


# --------------------------------------------------------------------------- entry points
def _name_of(manifest: Mapping[str, Any]) -> str:
    if isinstance(manifest.get("kind"), str):
        return object_name(dict(manifest))
    return f"<no kind>/{(manifest.get('metadata') or {}).get('name', '<unnamed>')}"


@cache
def _crd_spec_validator(api_version: str, kind: str) -> Any:
    """A validator of the custom resource's spec (crd_schemas.py), with the same integer strictness as the
    built-in kinds."""
    _, schema = CRD_SPEC_SCHEMAS[(api_version, kind)]
    return _StrictValidator(schema, format_checker=_FORMATS)


def _check_object(
    manifest: Mapping[str, Any], schemas: _SchemaSet, kubernetes: str
) -> tuple[str, list[tuple[str, str]]]:
    """(how it was checked: schema, structural or none; [(check, message)])."""
    api_version, kind = manifest.get("apiVersion"), manifest.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
        return "none", [(SCHEMA_CHECK, "$: apiVersion and kind must both be non-empty strings")]
    problems: list[tuple[str, str]] = []
    validator = schemas.validator(api_version, kind)
    if validator is not None:
        how = "schema"
        problems.extend(_schema_errors(validator, manifest, "$", f"strict Kubernetes {kubernetes} schema"))
    elif (api_version, kind) in CRD_SPEC_SCHEMAS:
        how = "schema"
        what, _ = CRD_SPEC_SCHEMAS[(api_version, kind)]
        problems.extend(_structural_findings(manifest, schemas, what))
        if isinstance(manifest.get("spec"), Mapping):
            spec_validator = _crd_spec_validator(api_version, kind)
            problems.extend(_schema_errors(spec_validator, manifest["spec"], "$.spec", f"{kind} CRD"))
    elif (api_version, kind) in CRD_ALLOW_LIST:
        how = "structural"
        problems.extend(_structural_findings(manifest, schemas, CRD_ALLOW_LIST[(api_version, kind)]))
    else:
        how = "none"
        served = sorted(v for v in schemas.served.get(kind, []) if v != api_version)
        hint = (
            f"; Kubernetes {kubernetes} serves {kind} as {', '.join(served)}"
            if served
            else "; a custom resource must be added to CRD_ALLOW_LIST (synth/checks/kubernetes_schema.py)"
        )
        problems.append(
            (
                SCHEMA_CHECK,
                f"$: no schema exists for apiVersion {api_version} kind {kind} in Kubernetes {kubernetes}{hint}",
            )
        )
    problems.extend(_beyond_schema(manifest, built_in=validator is not None))
    problems.extend(_name_findings(manifest))
    return how, problems


def validate_manifests(
    manifests: list[dict[str, Any]], kubernetes_version: str, skips: Iterable[Skip] = ()
) -> CheckReport:
    """Validate every manifest against the strict schemas of ``kubernetes_version`` (e.g. ``'1.35'``).

    One finding per error (all errors of every object), each named ``Kind/namespace/name`` with the
    JSON path of the offending value in its message. ``skips`` (recorded in ``skips.yaml``) move
    covered findings to ``report.skipped``.
    """
    started = time.perf_counter()
    report = CheckReport(validator=VALIDATOR)
    skip_list = list(skips)
    try:
        schema_version = schema_version_for(kubernetes_version)
    except UnsupportedKubernetesVersionError as error:
        apply_skips(report, [Finding(SCHEMA_CHECK, f"Kubernetes {kubernetes_version}", str(error))], skip_list)
        report.checked = len(manifests)
        report.seconds = time.perf_counter() - started
        return report
    loaded = _schema_set.cache_info().currsize
    schemas = _schema_set(schema_version)
    kubernetes = schemas.minor
    loading = time.perf_counter() - started

    validating_started = time.perf_counter()
    findings: list[Finding] = []
    counts: dict[str, int] = {"schema": 0, "structural": 0, "none": 0}
    for raw in manifests:
        manifest = unwrap_secrets(raw)
        name = _name_of(manifest)
        how, problems = _check_object(manifest, schemas, kubernetes)
        counts[how] += 1
        report.checked += 1
        if all(any(skip.covers(check, name) for skip in skip_list) for check, _ in problems):
            report.passed += 1
        findings.extend(Finding(check, name, message) for check, message in problems)
    apply_skips(report, findings, skip_list)
    validating = time.perf_counter() - validating_started

    report.notes.append(
        f"strict schemas of Kubernetes {kubernetes} (kubernetes-validate {_kubernetes_validate_version()}, "
        f"v{schema_version}-local-strict); {counts['schema']} objects schema-validated, "
        f"{counts['structural']} allow-listed custom resources checked structurally, {counts['none']} without schema"
    )
    cached = "already loaded" if _schema_set.cache_info().currsize == loaded else f"loaded in {loading:.3f}s"
    report.notes.append(
        f"definitions {cached}; {len(schemas.validators)} kind validators cached; "
        f"{len(manifests)} objects validated in {validating:.3f}s"
    )
    report.seconds = time.perf_counter() - started
    return report


def run(result: SynthResult) -> CheckReport:
    """Validate every Kubernetes object a stack declares, honouring the skips recorded for this validator."""
    manifests = [manifest_of(resource) for resource in result.kubernetes_objects()]
    return validate_manifests(
        manifests, result.settings.cluster.kubernetes_version, load_skips(VALIDATOR, result.stack)
    )
