"""SQL text → statements, streaming: quotes, comments and trigger bodies never split."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import BinaryIO

from d1tui.errors import BadInputError, Location

_NORMAL, _SQUOTE, _DQUOTE, _BACKTICK, _BRACKET, _LINE, _BLOCK = range(7)
PIECE = 1 << 20  # longest piece of a line read at once
DRAIN_AT = 4 << 20  # characters of one statement before its finished rows are taken out
_CLOSERS = {_SQUOTE: "'", _DQUOTE: '"', _BACKTICK: "`", _BRACKET: "]"}
_OPENERS = {"'": _SQUOTE, '"': _DQUOTE, "`": _BACKTICK, "[": _BRACKET}
_WHAT = {_SQUOTE: "string", _DQUOTE: "quoted identifier", _BACKTICK: "quoted identifier"}
# Text that cannot end a statement: anything but ; ' " ` [ -- /*, and whole quoted runs.
_RUN = re.compile(
    r"""(?:[^;'"`\[/-]+|-(?!-)|/(?!\*)|'[^']*(?:''[^']*)*'|"[^"]*(?:""[^"]*)*"|`[^`]*(?:``[^`]*)*`"""
    r"""|\[[^\]]*\])*"""
)
_WS = re.compile(r"\s*")
_GAP = r"(?:\s|--[^\n]*(?:\n|$)|/\*.*?(?:\*/|$))+"
_TRIGGER_HEAD = re.compile(rf"CREATE{_GAP}(?:(?:TEMP|TEMPORARY){_GAP})?TRIGGER\b", re.I | re.S)
_COMMENTS = re.compile(r"--[^\n]*(?:\n|$)|/\*.*?(?:\*/|$)|\s+", re.S)

# Tokens for reading the head of a statement (keywords, names) and VALUES tuples.
_TOKEN = re.compile(
    r"""(?P<skip>\s+|--[^\n]*(?:\n|$)|/\*.*?(?:\*/|$))
    |(?P<word>[^\W\d][\w$]*)
    |"(?P<dq>[^"]*(?:""[^"]*)*)"
    |`(?P<bq>[^`]*(?:``[^`]*)*)`
    |\[(?P<br>[^\]]*)\]
    |'(?P<sq>[^']*(?:''[^']*)*)'
    |(?P<other>.)""",
    re.X | re.S,
)
_VALUE_SPECIAL = re.compile(r"""[()'"`\[;,]|--|/\*""")


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL statement with the 1-based line and column where it starts in its file."""

    text: str
    line: int
    column: int


# Given a long statement still being read, returns (head, rest): the text to keep in place of
# what it consumed, the second part verbatim from the end of the statement so far; or None.
Drain = Callable[[Statement], "tuple[str, str] | None"]


@dataclass(frozen=True, slots=True)
class Token:
    """A word, a quoted name (``quoted`` true, unescaped) or one punctuation character."""

    value: str
    quoted: bool
    start: int
    end: int

    def is_word(self, *words: str) -> bool:
        """True when this is an unquoted keyword equal (case-insensitively) to one of ``words``."""
        return not self.quoted and self.value.upper() in words


class _Splitter:
    """A state machine fed one line at a time; keeps only the current statement."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.state = _NORMAL
        self.parts: list[str] = []
        self.length = 0  # characters in ``parts``
        self.started = False
        self.discard = False  # inside a comment before a statement starts
        self.line = self.column = 0
        self.quote_at = (0, 0)
        self.trigger: bool | None = None
        self.segment = 0  # statement offset just after the last top-level ';'
        self.lineno, self.base = 1, 0  # line of the next piece, columns before it on that line
        self.drain: Drain | None = None
        self.drainable = True

    def feed(self, line: str) -> Iterator[Statement]:
        """Consume a piece of a line (at most one line break, at its end); yield statements."""
        yield from self._scan(line, self.lineno, self.base)
        if line.endswith("\n"):
            self.lineno, self.base = self.lineno + 1, 0
        else:
            self.base += len(line)
        if self.started and self.length > DRAIN_AT and self.drainable:
            # Safe in any state: only tuples complete so far are taken, the open one stays.
            self._drain()

    def _drain(self) -> None:
        """Let the owner take the finished rows out of a very long INSERT still being read."""
        assert self.drain is not None
        text = "".join(self.parts)
        kept = self.drain(Statement(text, self.line, self.column))
        if kept is None:
            self.drainable = False
            return
        self.line += text.count("\n", 0, len(text) - len(kept[1])) - kept[0].count("\n")
        self.parts, self.length = [kept[0] + kept[1]], len(kept[0]) + len(kept[1])

    def _scan(self, line: str, lineno: int, base: int) -> Iterator[Statement]:
        pos, n, chunk = 0, len(line), 0
        while pos < n:
            state = self.state
            if state == _NORMAL:
                if not self.started:
                    pos = _WS.match(line, pos).end()  # type: ignore[union-attr]
                    if pos >= n:
                        break
                    if line.startswith("--", pos):
                        self.state, self.discard = _LINE, True
                        continue
                    if line.startswith("/*", pos):
                        self.state, self.discard = _BLOCK, True
                        pos += 2
                        continue
                    self.started, self.line, self.column = True, lineno, base + pos + 1
                    self.trigger, self.segment, chunk = None, 0, pos
                pos = _RUN.match(line, pos).end()  # type: ignore[union-attr]
                if pos >= n:
                    break
                c = line[pos : pos + 2] if line[pos] in "-/" else line[pos]
                pos += len(c)
                if c == ";":
                    if self._ends_here(line, chunk, pos - 1):
                        self._append(line[chunk:pos])
                        yield self._finish()
                        chunk = pos
                elif c == "--":
                    self.state = _LINE
                elif c == "/*":
                    self.state = _BLOCK
                else:
                    self.state = _OPENERS[c]
                    self.quote_at = (lineno, base + pos)
            elif state in (_BLOCK, _LINE):
                end = line.find("*/" if state == _BLOCK else "\n", pos)
                if end < 0:
                    pos = n
                    break
                pos, self.state = end + (2 if state == _BLOCK else 1), _NORMAL
                if self.discard:
                    self.discard, chunk = False, pos
            else:
                closer = _CLOSERS[state]
                end = line.find(closer, pos)
                if end < 0:
                    pos = n
                    break
                if state != _BRACKET and line.startswith(closer, end + 1):
                    pos = end + 2
                else:
                    pos, self.state = end + 1, _NORMAL
        if self.started:
            self._append(line[chunk:])

    def _append(self, text: str) -> None:
        if text:
            self.parts.append(text)
            self.length += len(text)

    def _ends_here(self, line: str, chunk: int, semi: int) -> bool:
        """True when the ';' at ``line[semi]`` ends the statement (not one in a trigger body)."""
        if self.trigger is None:
            head = ""
            for part in self.parts:
                head += part
                if len(head) > 400:
                    break
            else:
                head += line[chunk : chunk + 400]
            self.trigger = _TRIGGER_HEAD.match(head) is not None
        if not self.trigger:
            return True
        # Like sqlite3_complete(): inside CREATE TRIGGER only "; END;" ends the statement.
        text = "".join(self.parts) + line[chunk:semi]
        previous, self.segment = self.segment, len(text) + 1
        return previous > 0 and _COMMENTS.sub("", text[previous:]).upper() == "END"

    def _finish(self) -> Statement:
        stmt = Statement("".join(self.parts), self.line, self.column)
        self.parts, self.length, self.started = [], 0, False
        return stmt

    def close(self) -> Iterator[Statement]:
        """End of input: the last statement without ';', or an error for an open quote."""
        if self.state in _WHAT or self.state == _BRACKET:
            line, col = self.quote_at
            what = _WHAT.get(self.state, "[identifier]")
            raise BadInputError(
                f"unterminated {what}: the quote opened here is never closed",
                where=Location(self.path, line=line, column=col),
            )
        if self.started:
            text = "".join(self.parts).rstrip()
            if _COMMENTS.sub("", text):
                yield Statement(text, self.line, self.column)
            self.parts, self.started = [], False


def split_lines(
    lines: Iterable[str], path: Path = Path("<sql>"), *, drain: Drain | None = None
) -> Iterator[Statement]:
    """Split decoded text, given in pieces that end at most at one line break, into statements.

    ``drain``, when given, is offered every very long statement while it is still being read
    (see ``Drain``), so that a multi-row INSERT of any size needs bounded memory.
    """
    splitter = _Splitter(path)
    splitter.drain = drain
    splitter.drainable = drain is not None
    carry = ""
    for given in lines:
        piece = carry + given
        # '-', '/' or '*' at a cut may start "--", "/*" or "*/": keep them for the next piece.
        cut = len(piece.rstrip("-/*"))
        piece, carry = piece[:cut], piece[cut:]
        if piece:
            yield from splitter.feed(piece)
    if carry:
        yield from splitter.feed(carry)
    yield from splitter.close()


def split_sql(text: str) -> list[Statement]:
    """Split a whole SQL text into statements (convenience for small inputs)."""
    return list(split_lines(text.splitlines(keepends=True)))


def decoded_lines(path: Path, raw: BinaryIO, piece: int | None = None) -> Iterator[str]:
    """Decode UTF-8 (BOM allowed) in pieces of at most one line and ``piece`` bytes.

    Undecodable bytes are an error naming the line, column and byte offset.
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    offset, lineno, column = 0, 1, 0
    while data := raw.readline(piece or PIECE):
        try:
            text = decoder.decode(data)
        except UnicodeDecodeError as exc:
            at = max(exc.start - len(exc.object) + len(data), 0)
            column += len(data[:at].decode("utf-8", "replace"))
            raise BadInputError(
                f"not UTF-8 text (byte 0x{data[at]:02x}); save the file as UTF-8",
                where=Location(path, line=lineno, column=column + 1, byte_offset=offset + at),
            ) from None
        offset += len(data)
        if text.endswith("\n"):
            lineno, column = lineno + 1, 0
        else:
            column += len(text)
        if text:
            yield text
    try:
        tail = decoder.decode(b"", final=True) if offset else ""
    except UnicodeDecodeError as exc:  # the file ends inside a multi-byte character
        at = offset - len(exc.object) + exc.start
        raise BadInputError(
            "the file ends in the middle of a UTF-8 character (is it cut short?)",
            where=Location(path, line=lineno, column=column + 1, byte_offset=at),
        ) from None
    if tail:
        yield tail


def iter_statements(path: Path, *, drain: Drain | None = None) -> Iterator[Statement]:
    """Stream the statements of a UTF-8 SQL file, one at a time (bounded memory)."""
    with open(path, "rb") as f:
        yield from split_lines(decoded_lines(path, f), path, drain=drain)


def iter_tokens(text: str, start: int = 0) -> Iterator[Token]:
    """Tokens of ``text`` from ``start``: words, quoted names, punctuation; comments skipped."""
    pos = start
    while True:
        m = _TOKEN.match(text, pos)
        if m is None:
            return
        pos = m.end()
        kind = m.lastgroup
        if kind == "skip":
            continue
        value = m.group(kind or 0)
        if kind == "dq":
            value = value.replace('""', '"')
        elif kind == "bq":
            value = value.replace("``", "`")
        elif kind == "sq":
            value = value.replace("''", "'")
        yield Token(value, kind in ("dq", "bq", "br", "sq"), m.start(), pos)


def tokens(text: str, start: int = 0, limit: int = 64) -> list[Token]:
    """The first ``limit`` tokens of ``text`` from ``start``."""
    return list(islice(iter_tokens(text, start), limit))


def value_tuples(text: str, pos: int) -> list[tuple[int, int]] | None:
    """Spans of the ``(…)`` tuples after VALUES at ``pos``; None if anything else follows them."""
    spans: list[tuple[int, int]] = []
    n = len(text)
    while True:
        pos = _skip_gap(text, pos)
        if pos >= n or text[pos] != "(":
            return None
        end = _close_paren(text, pos)
        if end < 0:
            return None
        spans.append((pos, end))
        pos = _skip_gap(text, end)
        if pos < n and text[pos] == ",":
            pos += 1
            continue
        if pos >= n or (text[pos] == ";" and _skip_gap(text, pos + 1) >= n):
            return spans
        return None


def _skip_gap(text: str, pos: int) -> int:
    while True:
        m = _COMMENTS.match(text, pos)
        if m is None or m.end() == pos:
            return pos
        pos = m.end()


def _close_paren(text: str, pos: int) -> int:
    """Offset just past the ')' matching the '(' at ``pos``, or -1."""
    depth = 0
    while True:
        m = _VALUE_SPECIAL.search(text, pos)
        if m is None:
            return -1
        c, pos = m.group(), m.end()
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return pos
        elif c in "'\"`":
            while True:
                end = text.find(c, pos)
                if end < 0:
                    return -1
                if text.startswith(c, end + 1):
                    pos = end + 2
                else:
                    pos = end + 1
                    break
        elif c == "[":
            end = text.find("]", pos)
            if end < 0:
                return -1
            pos = end + 1
        elif c == "--":
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end + 1
        elif c == "/*":
            end = text.find("*/", pos)
            pos = len(text) if end < 0 else end + 2
        elif c == ";":
            return -1


def leading_tuples(text: str, pos: int) -> tuple[list[tuple[int, int]], int]:
    """Complete ``(…)`` tuples after VALUES at ``pos`` followed by ``,``; where the rest starts.

    For a statement still being read: the last tuple may be unfinished or followed by a clause.
    """
    spans: list[tuple[int, int]] = []
    n = len(text)
    while True:
        start = _skip_gap(text, pos)
        if start >= n or text[start] != "(":
            return spans, pos
        end = _close_paren(text, start)
        if end < 0:
            return spans, pos
        after = _skip_gap(text, end)
        if after >= n or text[after] != ",":
            return spans, pos
        spans.append((start, end))
        pos = after + 1
