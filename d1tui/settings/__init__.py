"""Where credentials, the target database and every directory come from (no Textual).

``config.py`` merges flags, environment, ``.env``, wrangler config and the saved profile, and
remembers where each value came from; ``profile.py`` saves and loads the profile (token in the
OS keyring); ``secret.py`` is the masked token type; ``jsonc.py`` reads ``wrangler.jsonc``.
"""
