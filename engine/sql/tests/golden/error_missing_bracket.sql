CREATE STREAM s (a INT, b MAP<STRING, INT) WITH (kafka_topic='s');
