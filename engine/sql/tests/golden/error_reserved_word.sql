CREATE STREAM s (a INT, size INT) WITH (kafka_topic='s');
