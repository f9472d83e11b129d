"""One module per screen of the import flow, plus the dialogs."""
