"""Application layer: platform namespaces, web services, release strategies, ingress, network policies."""
