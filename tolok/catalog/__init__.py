"""Built-in KPI templates and `tolok init` project templates with generated sample data."""
