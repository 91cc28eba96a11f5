"""Ground floor, AWS: naming and tags, IAM documents and role builders. Knows no layer of the platform."""
