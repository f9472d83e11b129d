CREATE TABLE us (v TEXT);
INSERT INTO us VALUES ('never closed);
