"""The Cloudflare v4 API client for D1: envelope, models, retries, upload, table queries."""
