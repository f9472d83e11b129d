"""D1's import protocol as a generator of events: init, upload, ingest, poll, verify."""
