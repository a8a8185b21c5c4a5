"""Running compiled KPIs on a warehouse: connections, file sources, batched queries."""
