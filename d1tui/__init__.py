"""d1tui: bulk-import data into Cloudflare D1 through its REST import API, and watch every step.

Where a change goes (DESIGN §3; the arrows are import-linter contracts in pyproject.toml):

- ``errors.py``, ``events.py``: the vocabulary every layer raises and every front end renders.
- ``settings/``: where credentials, the target and every directory come from.
- ``api/``: the Cloudflare v4 client for D1 (envelope, models, retries, upload, table queries),
  and ``api/local.py``, the embedded emulator as a ready D1.
- ``importer/``: D1's import protocol (init → upload → ingest → poll → verify) as events.
- ``convert/``: a file or fake rows → one hashed ``.sql`` file (readers, SQL, fast path, Faker).
- ``emulator/``: the local D1 API (stdlib HTTP + sqlite3); shares no code with the rest.
- ``cli/``: the ``d1tui`` commands; ``tui/``: the Textual app, the only place that imports it.
"""

__version__ = "0.1.0"
