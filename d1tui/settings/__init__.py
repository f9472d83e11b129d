"""Where credentials, the target database and every directory come from (no Textual)."""
