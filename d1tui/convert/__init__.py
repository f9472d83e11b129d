"""A file or fake rows → one hashed, D1-ready ``.sql`` file; plain Python, no Textual.

- ``prepare.py``: the entry point (file or fake rows → ``PreparedImport``), ``target.py`` says
  where rows go; ``detect.py`` tells a file's format, encoding and dialect from its head.
- ``readers/``: CSV/TSV, JSON/NDJSON and SQLite files as rows that know their line.
- ``schema.py`` (types, inference, mapping onto a table), ``values.py`` (a reader's text → the
  value a column stores), ``tabular.py`` (rows of one file → INSERTs), ``preview.py``.
- ``sql/``: exact literals and packed INSERTs, statement splitting, dump cleaning.
- ``fast/``: optional accelerators that write the exact path's bytes or decline.
- ``fake/``: Faker rows for any schema.
"""
