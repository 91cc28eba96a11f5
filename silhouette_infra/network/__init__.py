"""Network layer: the pure subnet layout and the VPC component."""
