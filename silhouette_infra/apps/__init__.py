"""Application layer: the backend and frontend web services, their release strategies and the ingress."""
