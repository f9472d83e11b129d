CREATE TABLE wm (id INTEGER);
DELETE FROM sqlite_master;
