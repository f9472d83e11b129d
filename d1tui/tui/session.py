"""What the person has chosen so far, shared by the screens of one app run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from d1tui.api.client import DatabaseInfo, TableInfo
    from d1tui.convert.detect import ReadOptions
    from d1tui.convert.prepare import FakeSpec, Target
    from d1tui.importer.prepared import PreparedImport
    from d1tui.settings.config import Settings


@dataclass
class Source:
    """A file to import (``path``) or fake rows to generate (``fake``)."""

    path: Path | None = None
    options: ReadOptions | None = None
    fake: FakeSpec | None = None

    @property
    def label(self) -> str:
        """A short name for titles: the file name or ``N fake rows``."""
        if self.fake is not None:
            return f"{self.fake.rows:,} fake rows (seed {self.fake.seed})"
        return self.path.name if self.path else "?"


@dataclass
class TargetChoice:
    """The target table: an existing one (``existing``) or a new one named ``table``."""

    table: str
    create: bool
    existing: TableInfo | None = None


@dataclass
class Session:
    """Choices carried from one screen to the next."""

    settings: Settings
    database: DatabaseInfo | None = None
    source: Source = field(default_factory=Source)
    target_choice: TargetChoice | None = None
    target: Target | None = None
    prepared: PreparedImport | None = None
    prepare_seconds: float = 0.0

    @property
    def database_label(self) -> str:
        """Name of the chosen database (or its id when only that is known)."""
        if self.database is not None:
            return self.database.name
        return self.settings.database.value or "?"
