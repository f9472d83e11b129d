"""SQL text for D1: exact literals and packed INSERTs, statement splitting, dump cleaning.

``inserts.py`` is the reference packer (literals and INSERTs under the statement limit);
``split.py`` finds statement boundaries; ``head.py`` reads what a statement does from its first
tokens; ``dump.py`` turns a dump into SQL D1's import accepts; ``dump_rows.py`` re-sends rows too
long for one statement.
"""
