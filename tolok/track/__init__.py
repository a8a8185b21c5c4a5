"""Tracking: targets, status, pace, forecasts, roll-ups — pure functions over results."""
