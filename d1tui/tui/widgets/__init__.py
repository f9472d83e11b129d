"""Reusable widgets of the d1tui screens."""
