"""Messages the TUI's thread workers post to its screens (one per streamed event)."""

from __future__ import annotations

from textual.message import Message

from d1tui.events import ImportEvent, PrepareProgress


class PrepareProgressed(Message):
    """The SQL file is being written: input read and statements produced so far."""

    def __init__(self, progress: PrepareProgress) -> None:
        super().__init__()
        self.progress = progress

    def can_replace(self, message: Message) -> bool:
        """A newer progress figure supersedes an older one still in the queue."""
        return isinstance(message, PrepareProgressed)


class ImportEventPosted(Message):
    """One event of ``run_import``, forwarded from the import worker."""

    def __init__(self, event: ImportEvent) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        """Progress of the same kind supersedes itself; stage and poll events never do."""
        if not isinstance(message, ImportEventPosted):
            return False
        mine, theirs = self.event, message.event
        return type(mine) is type(theirs) and bool(getattr(mine, "can_replace", False))
