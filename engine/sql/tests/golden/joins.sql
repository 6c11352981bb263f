-- Stream-table, stream-stream and table-table joins.
CREATE STREAM enriched AS SELECT * FROM orders JOIN users ON AS_VALUE(orders.order_id) = users.user_id;
CREATE STREAM enriched_left as SELECT o.order_id, name, amount FROM orders o left join users u on o.order_id = u.user_id;
CREATE STREAM enriched_inner AS SELECT o.order_id, u.name FROM orders AS o INNER JOIN users AS u ON o.order_id = u.user_id;
CREATE STREAM rowtimes AS SELECT *, o.ROWTIME, u.ROWTIME FROM orders o JOIN users u ON o.amount = u.user_id;
CREATE STREAM three_way AS SELECT o.order_id, o.amount, u.name, p.v FROM orders o JOIN users u ON o.order_id = u.user_id LEFT JOIN pairs p ON o.order_id + 1 = p.k1;
CREATE STREAM wildcards AS SELECT order_id, users.*, pairs.* FROM orders JOIN users ON order_id = user_id LEFT JOIN pairs ON amount = k1;
CREATE STREAM quoted_join AS SELECT * FROM odd_names l LEFT JOIN lookup r ON l.`SELECT` = r.`id`;
CREATE STREAM ss_within AS SELECT a.order_id, a.amount, b.amount FROM orders a JOIN orders_b b WITHIN 1 MINUTE ON a.order_id = b.order_id;
CREATE STREAM ss_before_after AS SELECT a.order_id FROM orders a JOIN orders_b b WITHIN (11 seconds, 10 seconds) on a.order_id = b.order_id;
CREATE STREAM ss_grace AS SELECT a.order_id FROM orders a left join orders_b b WITHIN 1 minute GRACE PERIOD 1 minute on a.order_id = b.order_id;
CREATE STREAM ss_right AS SELECT * FROM orders a RIGHT JOIN orders_b b WITHIN 11 seconds ON a.order_id = b.order_id;
CREATE STREAM ss_right_outer AS SELECT * FROM orders a RIGHT OUTER JOIN orders_b b WITHIN 11 SECONDS ON a.order_id = b.order_id;
CREATE STREAM ss_full AS SELECT ROWKEY AS id, a.order_id, b.order_id FROM orders a full outer join orders_b b WITHIN (1 HOUR, 2 HOURS) GRACE PERIOD 5 MINUTES on a.order_id = b.order_id;
CREATE STREAM ss_full2 AS SELECT * FROM orders a FULL JOIN orders_b b WITHIN 5 SECONDS ON ABS(a.order_id) = ABS(b.order_id) WHERE b.amount < 5;
CREATE STREAM mixed AS SELECT a.order_id FROM orders a JOIN orders_b b WITHIN 10 seconds ON a.order_id = b.order_id JOIN users u ON b.order_id = u.user_id;
CREATE STREAM left_outer AS SELECT a.order_id FROM orders a LEFT OUTER JOIN users u ON a.order_id = u.user_id;
CREATE TABLE tt_join AS SELECT u.user_id, u.name, l.label FROM users u FULL OUTER JOIN lookup l ON u.name = l.id;
