"""Going to people instead of waiting for them: reports now; alerts, digests and schedules
to come (issue 9)."""
