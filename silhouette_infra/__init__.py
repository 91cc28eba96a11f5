"""Silhouette platform infrastructure: one Pulumi program, checked offline by ``python -m silhouette_infra``."""
