"""The one way errors are shown: title, server message, codes and a hint."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from d1tui.errors import BadInputError, D1Error
from d1tui.humanize import safe_text

# How the TUI names each reading option a hint may point at (the CLI names its flags).
TUI_CONTROLS = {
    "encoding": "^o Reading options › encoding",
    "delimiter": "^o Reading options › delimiter",
    "quotechar": "^o Reading options › quote char",
    "no_headers": "^o Reading options › no header row",
    "types": "^o Reading options › column types",
    "pk": "^o Reading options › primary key",
    "tables": "^o Reading options › tables",
}


def describe_error(error: BaseException) -> Text:
    """Title, detail, codes, server messages and hint of an error as styled text."""
    text = Text()
    if isinstance(error, D1Error):
        codes = "".join(f" [{c}]" for c in error.codes)
        text.append(f"✘ {error.title}{codes}", style="bold")
        detail = error.detail
        if isinstance(error, BadInputError) and error.where is not None:
            detail = f"{error.where}: {detail}"
        text.append(f" — {safe_text(detail)}")
        for message in error.server_messages:
            if message and message != error.detail:
                text.append(f"\n  {safe_text(message)}")
        hint = error.hint_naming(TUI_CONTROLS) if isinstance(error, BadInputError) else error.hint
        if hint:
            text.append(f"\n  hint: {safe_text(hint)}", style="italic")
    else:
        text.append(f"✘ {type(error).__name__}", style="bold")
        text.append(f" — {safe_text(error)}")
    return text


class ErrorPanel(Static):
    """Hidden until an error is shown; ``clear()`` hides it again."""

    DEFAULT_CSS = "ErrorPanel { display: none; } ErrorPanel.shown { display: block; }"

    def show_error(self, error: BaseException) -> None:
        """Show ``error`` in place of whatever was there."""
        self.error = error
        self.update(describe_error(error))
        self.add_class("shown")

    def clear(self) -> None:
        """Hide the panel."""
        self.update("")
        self.remove_class("shown")
