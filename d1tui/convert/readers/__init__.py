"""Readers of source files, streaming rows that know their line.

``by_format.py`` opens a file with the reader its format needs; ``csv_file.py`` (with
``csv_locate.py`` for the column of an error), ``json_file.py`` (JSON and NDJSON) and
``sqlite_file.py`` (SQLite databases → SQL); ``rowsource.py`` is what they all return.
"""
