"""A file or fake rows to one hashed, D1-ready .sql file; plain Python, no Textual."""
