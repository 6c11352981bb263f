CREATE STREAM out AS SELECT id, cast(f0 as NULL) FROM input;
