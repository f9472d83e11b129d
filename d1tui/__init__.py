"""d1tui: bulk-import data into Cloudflare D1 through its REST import API, and watch every step."""

__version__ = "0.1.0"
