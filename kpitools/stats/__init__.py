"""Estimate layer: intervals, tests, durations, staffing, changes, spikes and launches."""
