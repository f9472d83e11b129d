"""Allow ``python -m d1tui``."""

from d1tui.cli import main

raise SystemExit(main())
