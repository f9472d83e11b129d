"""D1's rules for SQL: limits, the authorizer (PRAGMA allow-list, reserved _cf_ tables), errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

STATEMENT_LIMIT = 100_000
"""Longest statement D1 accepts, in UTF-8 bytes."""

TOO_LONG = "statement too long: SQLITE_TOOBIG"
BUSY_IMPORTING = "D1_ERROR: Currently processing a long-running import."

# SQLite primary result codes: D1 reports these names, never the extended ones.
_PRIMARY_NAMES = {
    1: "SQLITE_ERROR",
    2: "SQLITE_INTERNAL",
    3: "SQLITE_PERM",
    4: "SQLITE_ABORT",
    5: "SQLITE_BUSY",
    6: "SQLITE_LOCKED",
    7: "SQLITE_NOMEM",
    8: "SQLITE_READONLY",
    9: "SQLITE_INTERRUPT",
    10: "SQLITE_IOERR",
    11: "SQLITE_CORRUPT",
    12: "SQLITE_NOTFOUND",
    13: "SQLITE_FULL",
    14: "SQLITE_CANTOPEN",
    15: "SQLITE_PROTOCOL",
    16: "SQLITE_EMPTY",
    17: "SQLITE_SCHEMA",
    18: "SQLITE_TOOBIG",
    19: "SQLITE_CONSTRAINT",
    20: "SQLITE_MISMATCH",
    21: "SQLITE_MISUSE",
    22: "SQLITE_NOLFS",
    23: "SQLITE_AUTH",
    24: "SQLITE_FORMAT",
    25: "SQLITE_RANGE",
    26: "SQLITE_NOTADB",
    27: "SQLITE_NOTICE",
    28: "SQLITE_WARNING",
}

# D1's allowed PRAGMAs. The client's copy (data/sqldump.py) is separate on purpose: the emulator
# stands in for D1 and imports nothing from the client.
ALLOWED_PRAGMAS = frozenset(
    {
        "table_list",
        "table_info",
        "table_xinfo",
        "index_list",
        "index_info",
        "index_xinfo",
        "quick_check",
        "foreign_key_check",
        "foreign_key_list",
        "case_sensitive_like",
        "ignore_check_constraints",
        "legacy_alter_table",
        "recursive_triggers",
        "reverse_unordered_selects",
        "foreign_keys",
        "defer_foreign_keys",
        "optimize",
    }
)

_LIMITS = (
    (sqlite3.SQLITE_LIMIT_SQL_LENGTH, STATEMENT_LIMIT),
    (sqlite3.SQLITE_LIMIT_LENGTH, 2_000_000),
    (sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100),
    (sqlite3.SQLITE_LIMIT_COLUMN, 100),
    (sqlite3.SQLITE_LIMIT_FUNCTION_ARG, 32),
    (sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 50),
    (sqlite3.SQLITE_LIMIT_ATTACHED, 0),
)

# Authorizer actions that name a table in arg1 / arg2.
_TABLE_IN_ARG1 = {
    sqlite3.SQLITE_CREATE_TABLE,
    sqlite3.SQLITE_CREATE_TEMP_TABLE,
    sqlite3.SQLITE_DROP_TABLE,
    sqlite3.SQLITE_DROP_TEMP_TABLE,
    sqlite3.SQLITE_INSERT,
    sqlite3.SQLITE_UPDATE,
    sqlite3.SQLITE_DELETE,
    sqlite3.SQLITE_READ,
}
_TABLE_IN_ARG2 = {
    sqlite3.SQLITE_ALTER_TABLE,
    sqlite3.SQLITE_CREATE_INDEX,
    sqlite3.SQLITE_CREATE_TEMP_INDEX,
    sqlite3.SQLITE_CREATE_TRIGGER,
    sqlite3.SQLITE_CREATE_TEMP_TRIGGER,
    sqlite3.SQLITE_DROP_INDEX,
    sqlite3.SQLITE_DROP_TEMP_INDEX,
    sqlite3.SQLITE_DROP_TRIGGER,
    sqlite3.SQLITE_DROP_TEMP_TRIGGER,
}


class SqlError(Exception):
    """A statement failed; `text` is D1's wording, e.g. `no such table: x: SQLITE_ERROR`."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def error_text(exc: BaseException) -> str:
    """Render a sqlite3 exception the way D1 does: `<sqlite message>: SQLITE_<PRIMARY CODE>`."""
    message = str(exc.args[0]) if exc.args else str(exc)
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        name = _PRIMARY_NAMES.get(code & 0xFF, "SQLITE_ERROR")
        if name == "SQLITE_AUTH" or message == "not authorized":
            # D1's wording for every denial (SQLite may say "access to X is prohibited", and
            # reports a denied CREATE during schema reparse as SQLITE_SCHEMA).
            return "not authorized: SQLITE_AUTH"
    elif message.startswith("Incorrect number of bindings"):
        name = "SQLITE_RANGE"
    elif message == "query string is too large":
        return TOO_LONG
    else:
        name = "SQLITE_ERROR"
    return f"{message}: {name}"


def is_reserved_table(name: str | None) -> bool:
    """Tables D1 keeps for itself (`_cf_KV` and friends)."""
    return name is not None and name.lower().startswith("_cf_")


class Authorizer:
    """SQLite authorizer that applies D1's rules only while `enabled` (i.e. to the user's SQL)."""

    def __init__(self) -> None:
        self.enabled = False

    def __call__(
        self, action: int, arg1: str | None, arg2: str | None, _db: str | None, _trig: str | None
    ) -> int:
        """Decide one action: SQLITE_OK or SQLITE_DENY (reported as `not authorized`)."""
        if not self.enabled:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_PRAGMA:
            allowed = arg1 is not None and arg1.lower() in ALLOWED_PRAGMAS
            return sqlite3.SQLITE_OK if allowed else sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_TRANSACTION:
            # BEGIN is left to fail on its own ("cannot start a transaction within a
            # transaction"); COMMIT/ROLLBACK would end the all-or-nothing unit early.
            return sqlite3.SQLITE_OK if arg1 == "BEGIN" else sqlite3.SQLITE_DENY
        if action in (sqlite3.SQLITE_SAVEPOINT, sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
            return sqlite3.SQLITE_DENY
        if action in _TABLE_IN_ARG1 and is_reserved_table(arg1):
            return sqlite3.SQLITE_DENY
        if action in _TABLE_IN_ARG2 and is_reserved_table(arg2):
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK


def connect(path: Path) -> tuple[sqlite3.Connection, Authorizer]:
    """Open a database file with D1's limits, foreign keys on and the rules authorizer."""
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    for limit, value in _LIMITS:
        conn.setlimit(limit, value)
    conn.execute("PRAGMA foreign_keys = ON")
    authorizer = Authorizer()
    conn.set_authorizer(authorizer)
    return conn, authorizer


def check_length(statement: str) -> None:
    """Refuse a statement longer than D1's limit, as D1 words it."""
    if len(statement.encode("utf-8", "surrogatepass")) > STATEMENT_LIMIT:
        raise SqlError(TOO_LONG)
