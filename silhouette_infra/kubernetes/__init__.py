"""Ground floor, Kubernetes: the hardened-workload builder, typed declare, quantities and image references.
Knows no layer of the platform."""
