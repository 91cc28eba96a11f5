"""The Silhouette compliance policy pack: `pulumi preview --policy-pack policy` (and, per stack,
`--policy-pack-config policy/<stack>.json`, which sets the enforcement: mandatory in production, advisory in
staging). The rules are silhouette_infra/compliance, the same functions `make synth` runs offline."""

import sys
from pathlib import Path

# The pack runs from this directory in its own virtual environment (requirements.txt); the rules live in the
# repository's package beside it, which needs nothing but the standard library and pulumi-policy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pulumi_policy import PolicyPack

from silhouette_infra.compliance.pack import PACK_NAME
from silhouette_infra.compliance.sdk import DEFAULT_ENFORCEMENT, sdk_policies

PolicyPack(name=PACK_NAME, enforcement_level=DEFAULT_ENFORCEMENT, policies=sdk_policies())
