PRAGMA foreign_keys=OFF;
PRAGMA defer_foreign_keys=TRUE;
CREATE TABLE ap (id INTEGER);
INSERT INTO ap VALUES (1), (2);
