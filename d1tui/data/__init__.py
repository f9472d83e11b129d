"""Files and fake rows to safe, batched SQL for D1; plain Python, no Textual."""
