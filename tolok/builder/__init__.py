"""Building a project in the browser: data in, KPIs defined, the YAML written."""
