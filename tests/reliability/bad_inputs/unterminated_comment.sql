CREATE TABLE uc (v TEXT);
/* never closed
INSERT INTO uc VALUES (1);
