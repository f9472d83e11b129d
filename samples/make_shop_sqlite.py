"""Write samples/shop.sqlite: two tables (customers, orders) with a foreign key, a few rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    country TEXT
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    total REAL NOT NULL,
    placed_at TEXT,
    note TEXT
);
CREATE INDEX orders_by_customer ON orders(customer_id);
"""
CUSTOMERS = [
    (1, "Ada Lovelace", "GB"),
    (2, "Zoë Ångström", "SE"),
    (3, "山田 太郎", "JP"),
    (4, "Nnamdi Okafor", None),
]
ORDERS = [
    (1, 1, 19.99, "2024-01-05 09:00:00", None),
    (2, 1, 5.0, "2024-01-06 10:30:00", "gift, wrapped"),
    (3, 2, 2855.63, "2024-02-01 12:00:00", 'said "thanks"'),
    (4, 3, 0.1, None, "🎁"),
    (5, 4, 42.0, "2024-03-15 08:15:00", "it's late"),
]


def main(path: Path = HERE / "shop.sqlite") -> Path:
    """(Re)write the sample database at ``path``."""
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    try:
        con.executescript(SCHEMA)
        con.executemany("INSERT INTO customers VALUES (?, ?, ?)", CUSTOMERS)
        con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", ORDERS)
        con.commit()
        con.execute("VACUUM")
    finally:
        con.close()
    return path


if __name__ == "__main__":
    print(main())
