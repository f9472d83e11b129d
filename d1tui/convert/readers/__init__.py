"""Readers of source files: CSV/TSV, JSON/NDJSON and SQLite, streaming rows that know their line."""
