"""What a statement does, read from its first tokens: kind, target table, VALUES, columns."""

from __future__ import annotations

import re

from d1tui.convert.sql.split import Token, iter_tokens, value_tuples


def is_internal(table: str) -> bool:
    """True for D1's ``_cf_*`` and SQLite's ``sqlite_*`` tables."""
    low = table.lower()
    return low.startswith("_cf_") or low.startswith("sqlite_")


def create_kind(toks: list[Token]) -> str:
    """TABLE, INDEX, VIEW or TRIGGER for a CREATE/DROP statement; '' otherwise."""
    for t in toks[1:4]:
        if t.is_word("TABLE", "INDEX", "VIEW", "TRIGGER"):
            return t.value.upper()
    return ""


def name_after(toks: list[Token], i: int) -> str | None:
    """The (possibly schema-qualified) name starting at ``toks[i]``; the schema is dropped."""
    if i >= len(toks):
        return None
    if not toks[i].quoted and not (toks[i].value[:1].isalpha() or toks[i].value[:1] == "_"):
        return None
    if i + 2 < len(toks) and toks[i + 1].value == "." and not toks[i + 1].quoted:
        return toks[i + 2].value
    return toks[i].value


def target_table(toks: list[Token]) -> str | None:
    """The table a statement writes (or an index/trigger is on); None when not found."""
    first = toks[0].value.upper()
    i = 1
    if first in ("INSERT", "REPLACE"):
        while i < len(toks) and not toks[i].is_word("INTO"):
            i += 1
        return name_after(toks, i + 1)
    if first == "DELETE":
        return name_after(toks, 2) if len(toks) > 1 and toks[1].is_word("FROM") else None
    if first == "UPDATE":
        if len(toks) > 2 and toks[1].is_word("OR"):
            i = 3
        return name_after(toks, i)
    if first in ("CREATE", "DROP"):
        kind = create_kind(toks)
        at = next((k for k, t in enumerate(toks) if t.is_word(kind)), 0) + 1
        if len(toks) > at + 1 and toks[at].is_word("IF"):
            at += 3 if toks[at + 1].is_word("NOT") else 2
        if kind == "INDEX" and first == "CREATE":
            on = next((k for k, t in enumerate(toks) if t.is_word("ON")), -1)
            return name_after(toks, on + 1) if on > 0 else None
        return name_after(toks, at) if kind in ("TABLE", "VIEW", "INDEX") else None
    return None


def column_list(prefix: str) -> list[str] | None:
    """The ``(a, b)`` column names of an ``INSERT INTO t (a, b) VALUES`` prefix, or None."""
    names: list[str] = []
    inside = False
    for t in iter_tokens(prefix):
        if not t.quoted and t.value == "(":
            inside = True
        elif not t.quoted and t.value == ")":
            return names or None
        elif inside and (t.quoted or t.value != ","):
            names.append(t.value)
    return None


def values_offset(text: str) -> int | None:
    """Offset just after the VALUES keyword of a plain INSERT, or None (SELECT, DEFAULT…)."""
    depth = 0
    for t in iter_tokens(text):
        if t.value == "(" and not t.quoted:
            depth += 1
        elif t.value == ")" and not t.quoted:
            depth -= 1
        elif depth == 0 and t.is_word("VALUES"):
            return t.end
        elif depth == 0 and t.is_word("SELECT", "DEFAULT", "WITH"):
            return None
    return None


_NAME = r'"[^"]*(?:""[^"]*)*"|\[[^\]]*\]|`[^`]*(?:``[^`]*)*`|[^\W\d][\w$]*'
_PLAIN_INSERT = re.compile(
    rf"INSERT\s+INTO\s+(?:(?:{_NAME})\s*\.\s*)?({_NAME})\s*(?:\([^()]*\)\s*)?VALUES\b\s*", re.I
)
_QUOTED = re.compile(r"""'[^']*(?:''[^']*)*'|"[^"]*(?:""[^"]*)*"|`[^`]*(?:``[^`]*)*`|\[[^\]]*\]""")
_FLAT_TUPLES = re.compile(r"\([^()]*\)(?:,\([^()]*\))*;?")


def plain_insert(text: str) -> tuple[str, int] | None:
    """(table, offset after VALUES) for ``INSERT INTO t [(cols)] VALUES …``, the common shape."""
    m = _PLAIN_INSERT.match(text)
    if m is None:
        return None
    name = m.group(1)
    if name[0] in '"`':
        name = name[1:-1].replace(name[0] * 2, name[0])
    elif name[0] == "[":
        name = name[1:-1]
    return name, m.end()


def count_tuples(text: str, pos: int) -> int | None:
    """How many ``(…)`` tuples follow VALUES at ``pos``; None if anything else follows them."""
    compact = _QUOTED.sub("0", text[pos:])
    if "--" not in compact and "/*" not in compact:
        compact = "".join(compact.split())
        if _FLAT_TUPLES.fullmatch(compact):
            return compact.count("(")
    spans = value_tuples(text, pos)
    return None if spans is None else len(spans)
