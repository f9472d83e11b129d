"""The Cloudflare v4 API client for D1: one ``D1Client`` (``client.py``) and its parts.

``envelope.py`` reads answers and turns failures into typed errors; ``models.py`` holds the
answers as dataclasses; ``retry.py`` decides when to repeat a call; ``upload.py`` PUTs to the
signed URL; ``tables.py`` reads tables and row counts; ``local.py`` starts the embedded emulator
and hands back settings for it.
"""
