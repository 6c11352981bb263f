-- CREATE STREAM / TABLE with columns: keys, types, quoting and WITH properties.
CREATE STREAM pageviews (viewtime BIGINT, userid VARCHAR, pageid STRING)
  WITH (KAFKA_TOPIC='pageviews', VALUE_FORMAT='JSON');
CREATE STREAM orders (order_id INT KEY, amount DOUBLE, paid BOOLEAN) WITH (kafka_topic='orders', format='JSON');
CREATE TABLE users (user_id BIGINT PRIMARY KEY, name varchar, age integer) WITH (kafka_topic='users', value_format='AVRO', key_format='KAFKA', partitions=3, replicas=1);
CREATE TABLE pairs (k1 INT PRIMARY KEY, k2 INT PRIMARY KEY, v INT) WITH (kafka_topic='pairs',format='JSON');
CREATE STREAM raw (v INT) WITH (kafka_topic='raw', value_format='DELIMITED', value_delimiter='|');
CREATE STREAM odd_names (`the key` STRING KEY, `SELECT` VARCHAR, `with.dot` VARCHAR, `*bad!chars*` INT, `MixedCase` INT, `back``tick` INT, "double quoted" INT) WITH (kafka_topic='odd', value_format='JSON');
CREATE STREAM typed (
  b BOOLEAN, i INT, i2 INTEGER, l BIGINT, d DOUBLE, s STRING, v VARCHAR, byt BYTES,
  dt DATE, t TIME, ts TIMESTAMP, dec DECIMAL(10, 2),
  arr ARRAY<STRING>, nested ARRAY<ARRAY<INT>>, m MAP<STRING, ARRAY<BIGINT>>,
  addr STRUCT<street STRING, zip INT, geo STRUCT<lat DOUBLE, lon DOUBLE>>,
  empty STRUCT<>, custom ADDRESS_TYPE
) WITH (kafka_topic='typed', value_format='JSON', timestamp='ts', timestamp_format='yyyy-MM-dd''T''HH:mm:ssX');
CREATE STREAM with_headers (k STRING KEY, hs ARRAY<STRUCT<key STRING, value BYTES>> HEADERS, trace BYTES HEADER('trace-id'), v INT) WITH (kafka_topic='h', format='JSON');
CREATE STREAM inferred WITH (KAFKA_TOPIC='inferred', VALUE_FORMAT='AVRO', VALUE_SCHEMA_ID=42, KEY_FORMAT='AVRO', KEY_SCHEMA_ID=7);
CREATE OR REPLACE STREAM IF NOT EXISTS replaced (k STRING KEY, v INT) WITH (kafka_topic='r', value_format='JSON', wrap_single_value=false);
CREATE SOURCE TABLE lookup (id STRING PRIMARY KEY, label STRING) WITH (kafka_topic='lookup', value_format='JSON');
CREATE SOURCE STREAM readonly (id STRING KEY, text STRING) WITH (kafka_topic='ro', value_format='DELIMITED');
CREATE TABLE IF NOT EXISTS counts (`timestamp` VARCHAR PRIMARY KEY, value BIGINT, key INT, user INT, region VARCHAR) WITH ('kafka_topic'='counts', "VALUE_FORMAT"='JSON', partitions=-1, retention_ms=NULL, flag=TRUE, ratio=0.5, big=1e3);
