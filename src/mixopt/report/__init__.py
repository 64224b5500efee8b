"""Tables and figures built from run records, each with a sidecar naming the records per cell."""
