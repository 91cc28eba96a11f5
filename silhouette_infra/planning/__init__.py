"""Pure planners, no Pulumi: subnet layout, node capacity, namespace sizing, release plans and the
instance catalogue. The settings rules call them; the layers turn their plans into resources."""
