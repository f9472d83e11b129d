"""SQL text: exact literals and packed INSERTs, statement splitting, dump cleaning for D1."""
