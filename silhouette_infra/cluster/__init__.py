"""Cluster layer: EKS, managed node groups, EKS add-ons, cluster add-ons, storage and registries."""
