"""Triage: validation checks on each finding, deduplication into cases, finder-pipeline
reputation, and the analyst decisions that validate or reject."""
