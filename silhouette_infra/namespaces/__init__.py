"""The platform namespaces: the application's and monitoring's, restricted, quota-bound, default-deny,
with exactly the design's flows."""
