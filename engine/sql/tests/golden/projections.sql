-- CREATE STREAM ... AS SELECT: projections, literals, functions, filters.
CREATE STREAM all_cols AS SELECT * FROM orders;
CREATE STREAM renamed AS SELECT order_id, amount AS total, paid flag FROM orders;
CREATE STREAM arithmetic AS SELECT order_id, amount * 2 + 1, (amount - 3) / 4 % 5, 12*4+2, 2 * 3 - 4 AS v1, 6 / 3 + 4 AS v2, -amount, - -amount, -(5) FROM orders;
CREATE STREAM literals AS select order_id, TRUE, True, false, NULL AS n, -00002147483647 AS MIN, 000002147483647 AS MAX, 9223372036854775807 AS big, 1.50 AS dec, .5 AS half, 1.5E3 AS dbl, -2.5e-3 AS neg, 'it''s' AS s FROM orders;
CREATE STREAM strings AS SELECT order_id, 'prefix-' + pageid + '-postfix' AS thing, pageid || '!' AS bang FROM pageviews;
CREATE STREAM casts AS SELECT order_id, cast(amount as STRING) AS s, CAST(paid AS BOOLEAN), CAST(order_id AS BIGINT), CAST(NULL AS VARCHAR), CAST(amount AS DECIMAL(5, 2)), CAST(s AS ARRAY<INT>), CAST(m AS MAP<STRING, STRUCT<a INT>>) FROM orders;
CREATE STREAM funcs AS SELECT userid, LPAD(pageid, 10, '*') AS padded, SUBSTRING(pageid, 2), SUBSTRING(pageid, 0, 2), SUBSTRING(CAST(null AS STRING), 1), INSTR(pageid, 'or', 4), INITCAP(userid), TRIM(pageid), LTRIM(pageid), RTRIM(pageid), CONCAT(userid, '-', pageid), CONCAT_WS(',', userid, pageid), COALESCE(userid, 'none'), IFNULL(userid, 'x'), ROUND(viewtime / 3.0, 2), CEIL(1.5), FLOOR(viewtime), ABS(-viewtime), LEN(pageid), UCASE(pageid), LCASE(pageid), REPLACE(pageid, 'a', 'b'), RPAD(pageid, 3, '_'), AS_VALUE(userid) AS uid FROM pageviews;
CREATE STREAM filtered AS SELECT * FROM orders WHERE order_id IN (1, 2, 3) AND amount NOT IN (10, 20.5) AND order_id IN (amount, amount * 2, NULL);
CREATE STREAM ranges AS SELECT pageid AS thing FROM pageviews WHERE viewtime BETWEEN 2 AND 4 OR pageid NOT BETWEEN 'b' AND 'c' OR ROWTIME BETWEEN 1514764800001 AND 1514764801000;
CREATE STREAM likes AS SELECT userid FROM pageviews WHERE pageid LIKE '%foo%' OR pageid NOT LIKE 'x!%' ESCAPE '!' OR userid LIKE pageid;
CREATE STREAM nulls AS SELECT userid, userid IS NULL AS u_null, pageid IS NOT NULL AS p_set FROM pageviews WHERE userid IS NULL OR viewtime IS NOT DISTINCT FROM 3 OR viewtime IS DISTINCT FROM 4;
CREATE STREAM times AS SELECT userid FROM pageviews WHERE ROWTIME > 1514764800001 AND ROWTIME>'2018-01-01T00:00:00.001' AND ROWPARTITION = 0 AND ROWOFFSET >= 10;
CREATE STREAM comparisons AS SELECT viewtime < 1, viewtime <= 2, viewtime > 3, viewtime >= 4, viewtime = 5, viewtime <> 6, viewtime != 7, pageid < 'b2' FROM pageviews;
CREATE STREAM logic AS SELECT * FROM pageviews WHERE ((viewtime=1 OR viewtime=2) AND (pageid='0x10' OR pageid='0x11')) OR NOT (userid = 'a' AND pageid = 'b') AND NOT viewtime > 3;
CREATE STREAM keyed WITH (KEY_FORMAT='JSON') AS SELECT * FROM orders;
CREATE TABLE users_copy WITH (FORMAT='JSON', KAFKA_TOPIC='users_copy', PARTITIONS=2) AS SELECT * FROM users;
CREATE OR REPLACE STREAM IF NOT EXISTS aliased AS SELECT o.order_id, o.amount FROM orders AS o;
CREATE STREAM aliased2 AS SELECT o.order_id, O.amount FROM orders o WHERE o.paid;
