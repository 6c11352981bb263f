-- CREATE TABLE ... AS SELECT with GROUP BY, HAVING and windows.
CREATE TABLE per_user AS SELECT userid, COUNT(*) AS views, COUNT() AS views2, COUNT(1), SUM(viewtime), AVG(viewtime) AS avg, MIN(viewtime), MAX(viewtime) AS max, COLLECT_LIST(pageid) AS pages FROM pageviews GROUP BY userid;
CREATE TABLE per_pair AS SELECT userid, pageid, COUNT(*) FROM pageviews GROUP BY pageid, userid HAVING COUNT(*) > 1;
CREATE TABLE by_expr AS SELECT LEN(pageid), COUNT(*) AS count FROM pageviews GROUP BY LEN(pageid);
CREATE TABLE by_sum AS SELECT userid + pageid AS g, AS_VALUE(userid + pageid), COUNT(*) * 2, viewtime * SUM(viewtime) FROM pageviews GROUP BY userid + pageid;
CREATE TABLE by_tuple AS SELECT userid, pageid, COUNT(*) FROM pageviews GROUP BY (userid, pageid);
CREATE TABLE by_paren_expr AS SELECT COUNT(*) FROM pageviews GROUP BY (viewtime + 1) * 2;
CREATE TABLE by_literal WITH (KEY_FORMAT='JSON') AS SELECT 1 AS k, pageid, COUNT(1) AS id FROM pageviews GROUP BY pageid, 1;
CREATE TABLE by_rowtime AS SELECT ROWTIME AS rt, COUNT(*) FROM pageviews GROUP BY ROWTIME;
CREATE TABLE avg_ratio AS select userid, abs(sum(viewtime)/count(userid)) * 10 as avg from pageviews GROUP BY userid;
CREATE TABLE tumbled AS SELECT userid, COUNT(*), WINDOWSTART AS ws, WindowEnd AS we, count(1) * windowend FROM pageviews WINDOW TUMBLING (SIZE 30 SECONDS) GROUP BY userid;
CREATE TABLE tumbling_full AS SELECT userid, COUNT(*) FROM pageviews WINDOW TUMBLING (SIZE 1 HOUR, RETENTION 7 DAYS, GRACE PERIOD 10 MINUTES) GROUP BY userid EMIT FINAL;
CREATE TABLE hopped AS SELECT userid, MIN(viewtime) FROM pageviews WINDOW HOPPING (SIZE 30 SECONDS, ADVANCE BY 10 SECONDS) GROUP BY userid;
CREATE TABLE hopping_full AS SELECT userid, MIN(viewtime) FROM pageviews WINDOW HOPPING (SIZE 1 MINUTE, ADVANCE BY 500 MILLISECONDS, RETENTION 2 DAY, GRACE PERIOD 0 MILLISECOND) GROUP BY userid;
CREATE TABLE session AS SELECT userid, MAX(viewtime) FROM pageviews WINDOW SESSION (30 SECONDS) GROUP BY userid;
CREATE TABLE session_grace AS SELECT userid, MAX(viewtime) FROM pageviews WINDOW SESSION (5 MINUTES, GRACE PERIOD 1 MINUTE) GROUP BY userid;
CREATE TABLE where_then_window AS SELECT userid, COUNT(*) FROM pageviews WHERE viewtime > 0 WINDOW TUMBLING (SIZE 1 DAY) GROUP BY userid HAVING COUNT(*) > 2;
CREATE TABLE from_table AS SELECT age, COUNT(*) AS count FROM users GROUP BY age;
CREATE TABLE topk AS SELECT userid, TOPK(viewtime, 3), EARLIEST_BY_OFFSET(pageid), LATEST_BY_OFFSET(pageid, 2), COUNT_DISTINCT(pageid), COLLECT_SET(pageid) FROM pageviews GROUP BY userid;
