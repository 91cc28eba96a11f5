"""Ground floor, AWS: naming and tags, IAM documents and role builders, the secure bucket and KMS key builders.
Knows no layer of the platform."""
