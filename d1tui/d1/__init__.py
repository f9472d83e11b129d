"""Cloudflare D1 client and the import protocol; plain Python, no Textual."""
