-- DEFINE and ${name} substitution, in the order of the statements.
DEFINE topic = 'pageviews_topic';
DEFINE format = 'JSON';
DEFINE name = 'pv_stream';
DEFINE threshold = '100';
DEFINE quoted = '`Mixed Name`';
CREATE STREAM ${name} (viewtime BIGINT, pageid STRING) WITH (kafka_topic='${topic}', value_format='${format}');
SELECT * FROM ${name} WHERE viewtime > ${threshold} AND pageid <> '${missing}' EMIT CHANGES;
SELECT ${quoted} FROM ${name} EMIT CHANGES; -- ${name} in a comment stays
DEFINE format = 'AVRO';
CREATE STREAM pv_copy WITH (value_format='${format}') AS SELECT * FROM ${name};
UNDEFINE threshold;
SHOW VARIABLES;
