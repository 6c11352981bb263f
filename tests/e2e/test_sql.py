"""The talk's ksqlDB statements (shared/seed-examples/logs.ksql), verbatim, over ksqlDB's REST
API on the SQL port, with kafka-python feeding the `logs` topic: the filtered stream, the
windowed counts (pull query and sink topic), a push query, errors, and a restart that keeps
streams, tables and queries and continues the counts without double counting."""
import collections
import json
import struct
import threading
import time

import pytest
import requests
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from conftest import SHARED_DIR

HOUR = 3_600_000
BASE = 1_700_000_000_000 - 1_700_000_000_000 % HOUR  # an hour boundary
KSQL = {"Accept": "application/vnd.ksql.v1+json", "Content-Type": "application/vnd.ksql.v1+json"}

# (app, level, msg, ms after BASE)
FIRST = [
    ("order-service", "ERROR", "db connection refused", 1_000),
    ("order-service", "INFO", "order 17 placed", 2_000),
    ("payment-service", "ERROR", "card declined", 3_000),
    ("order-service", "WARN", "slow query", 4_000),
    ("order-service", "ERROR", "timeout calling inventory", 5_000),
    ("inventory-service", "ERROR", "stock negative", 6_000),
    ("payment-service", "INFO", "refund done", 7_000),
    ("order-service", "ERROR", "order 18 failed", HOUR + 1_000),
]
SECOND = [
    ("order-service", "ERROR", "after restart", HOUR + 2_000),
    ("payment-service", "ERROR", "gateway down", 8_000),
    ("order-service", "INFO", "fine again", HOUR + 3_000),
]


def ksql(s, sql, props=None, ok=True):
    r = requests.post(s.url("sql") + "/ksql", headers=KSQL, timeout=30,
                      data=json.dumps({"ksql": sql, "streamsProperties": props or {}}))
    assert r.headers["Content-Type"].startswith("application/vnd.ksql.v1+json"), r.headers
    if ok:
        assert r.status_code == 200, r.text
    return r.status_code, r.json()


def query_stream(s, sql):
    r = requests.post(s.url("sql") + "/query-stream", data=json.dumps({"sql": sql}), timeout=30)
    assert r.status_code == 200, r.text
    lines = [json.loads(x) for x in r.text.splitlines() if x.strip()]
    return lines[0], lines[1:]


def produce(s, records):
    p = KafkaProducer(bootstrap_servers=s.bootstrap,
                      value_serializer=lambda v: json.dumps(v).encode())
    for app, level, msg, dt in records:
        ts = BASE + dt
        p.send("logs", {"timestamp": str(ts), "app": app, "level": level, "msg": msg},
               timestamp_ms=ts)
    p.flush()
    p.close()


def read_topic(s, topic):
    c = KafkaConsumer(bootstrap_servers=s.bootstrap, enable_auto_commit=False,
                      consumer_timeout_ms=1500)
    tps = [TopicPartition(topic, p) for p in c.partitions_for_topic(topic) or []]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    out = list(c)
    c.close()
    return out


def wait_for(what, fn, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def expected_counts(records):
    """{(app, window start): [msgs]} of the ERROR records, in produce order."""
    out = {}
    for app, level, msg, dt in records:
        if level == "ERROR":
            start = (BASE + dt) - (BASE + dt) % HOUR
            out.setdefault((app, start), []).append(msg)
    return out


def check_counts(s, records):
    expected = expected_counts(records)
    for app in {a for a, _ in expected}:
        want = sorted([[app, w, w + HOUR, len(m), m] for (a, w), m in expected.items() if a == app])

        def rows():
            header, rows = query_stream(s, "SELECT * FROM error_counts WHERE app='%s';" % app)
            return (header, rows) if sorted(rows) == want else None
        got = wait_for("counts", rows)
        assert got, "pull query for %s: want %r, got %r" % (
            app, want, query_stream(s, "SELECT * FROM error_counts WHERE app='%s';" % app))
        header = got[0]
        assert header["columnNames"] == ["APP", "WINDOWSTART", "WINDOWEND", "ERROR_COUNT",
                                         "RECENT_ERRORS"]
        assert header["columnTypes"] == ["STRING", "BIGINT", "BIGINT", "BIGINT", "ARRAY<STRING>"]
    # The sink topic: windowed KAFKA keys (app bytes + 8-byte window start), latest value per
    # window equal to the pull query's row, timestamped with the window's largest ROWTIME.
    latest = {}
    for m in read_topic(s, "ERROR_COUNTS"):
        app, start = m.key[:-8].decode(), struct.unpack(">q", m.key[-8:])[0]
        latest[(app, start)] = (json.loads(m.value), m.timestamp)
    assert set(latest) == set(expected)
    for (app, start), msgs in expected.items():
        value, ts = latest[(app, start)]
        assert value == {"ERROR_COUNT": len(msgs), "RECENT_ERRORS": msgs}
        assert ts == max(BASE + dt for a, lv, _, dt in records
                         if a == app and lv == "ERROR" and (BASE + dt) - (BASE + dt) % HOUR == start)


def check_order_errors(s, records):
    want = [{"TIMESTAMP": str(BASE + dt), "APP": app, "MSG": msg}
            for app, level, msg, dt in records if level == "ERROR" and app == "order-service"]
    got = wait_for("order_errors", lambda: (lambda v: v if len(v) >= len(want) else None)(
        read_topic(s, "ORDER_ERRORS")))
    assert got, "ORDER_ERRORS never got %d records" % len(want)
    assert [json.loads(m.value) for m in got] == want
    assert [m.timestamp for m in got] == [int(w["TIMESTAMP"]) for w in want]
    assert all(m.key is None for m in got)


def test_talk_statements_end_to_end(sluice, shared_dir):
    s = sluice
    admin = KafkaAdminClient(bootstrap_servers=s.bootstrap)
    admin.create_topics([NewTopic("logs", 1, 1)])
    admin.close()

    r = requests.get(s.url("sql") + "/info", timeout=10).json()
    assert r["KsqlServerInfo"]["serverStatus"] == "RUNNING"
    assert requests.get(s.url("sql") + "/healthcheck", timeout=10).json()["isHealthy"] is True

    text = (SHARED_DIR / "seed-examples" / "logs.ksql").read_text()
    _, created = ksql(s, text, {"ksql.streams.auto.offset.reset": "earliest"})
    assert [e["@type"] for e in created] == ["currentStatus"] * 3
    assert [e["commandStatus"]["status"] for e in created] == ["SUCCESS"] * 3
    assert created[0]["commandStatus"]["message"] == "Stream created"
    queries = [e["commandStatus"]["queryId"] for e in created[1:]]
    assert queries[0].startswith("CSAS_ORDER_ERRORS_") and queries[1].startswith("CTAS_ERROR_COUNTS_")

    produce(s, FIRST)
    check_order_errors(s, FIRST)
    check_counts(s, FIRST)

    # A push query sees only rows produced after it started, then ends at its LIMIT.
    rows, started = [], threading.Event()

    def push():
        with requests.post(s.url("sql") + "/query-stream", stream=True, timeout=60, data=json.dumps(
                {"sql": "SELECT app, msg FROM logs_stream WHERE level = 'ERROR' EMIT CHANGES LIMIT 2;",
                 "properties": {}})) as r:
            for line in r.iter_lines():
                if line:
                    rows.append(json.loads(line))
                    started.set()
    t = threading.Thread(target=push, daemon=True)
    t.start()
    assert started.wait(10), "no push query header"
    assert rows[0]["columnNames"] == ["APP", "MSG"]
    produce(s, [("push-app", "INFO", "not me", 9_000), ("push-app", "ERROR", "p1", 9_100),
                ("push-app", "ERROR", "p2", 9_200), ("push-app", "ERROR", "p3", 9_300)])
    t.join(20)
    assert not t.is_alive(), "the push query did not end at LIMIT 2: %r" % rows
    assert rows[1:] == [["push-app", "p1"], ["push-app", "p2"]]
    fed = FIRST + [("push-app", "INFO", "not me", 9_000), ("push-app", "ERROR", "p1", 9_100),
                   ("push-app", "ERROR", "p2", 9_200), ("push-app", "ERROR", "p3", 9_300)]
    check_counts(s, fed)

    # Records that do not deserialize are logged, counted and skipped; the queries go on.
    raw = KafkaProducer(bootstrap_servers=s.bootstrap)
    raw.send("logs", b"not json", timestamp_ms=BASE + 9_400)
    raw.send("logs", b'{"app": "x", "level": "ERROR", "msg": {"nested": true}', timestamp_ms=BASE + 9_500)
    raw.flush()
    raw.close()
    produce(s, [("push-app", "ERROR", "p4", 9_600)])
    fed.append(("push-app", "ERROR", "p4", 9_600))
    check_counts(s, fed)

    # The older /query endpoint: header, rows, one JSON array.
    r = requests.post(s.url("sql") + "/query", headers=KSQL, timeout=30,
                      data=json.dumps({"ksql": "SELECT * FROM error_counts WHERE app='payment-service';"}))
    body = r.json()
    assert body[0]["header"]["schema"].startswith("`APP` STRING, `WINDOWSTART` BIGINT")
    assert body[1]["row"]["columns"][3:] == [1, ["card declined"]]

    r = requests.post(s.url("sql") + "/query-stream", timeout=30,
                      data=json.dumps({"sql": "SELECT nope FROM error_counts;"}))
    assert r.status_code == 400 and r.json()["@type"] == "statement_error"
    assert r.json()["message"] == "Line: 1, Col: 8: SELECT column 'NOPE' cannot be resolved."

    # Bad statements: ksqlDB's statement_error with the statement and the position.
    code, err = ksql(s, "SHOW STREAMS;\nCREATE STREAM bad AS SELEKT * FROM logs_stream;", ok=False)
    assert code == 400 and err["@type"] == "statement_error" and err["error_code"] == 40001
    assert err["message"].startswith("line 2:"), err
    assert err["statementText"] == "CREATE STREAM bad AS SELEKT * FROM logs_stream;"
    code, err = ksql(s, "CREATE STREAM bad AS SELECT nope FROM logs_stream;", ok=False)
    assert code == 400 and err["message"] == "Line: 1, Col: 29: SELECT column 'NOPE' cannot be resolved.", err
    code, err = ksql(s, "SHOW TABLES;\n  CREATE STREAM bad AS SELECT * FROM nowhere;", ok=False)
    assert code == 400 and err["message"] == "Line: 2, Col: 38: NOWHERE does not exist.", err
    assert [e["@type"] for e in err["entities"]] == ["tables"]
    code, err = ksql(s, "CREATE STREAM bad AS SELECT app FROM logs_stream WHERE app = 1;", ok=False)
    assert code == 400 and "Cannot compare" in err["message"], err
    code, err = ksql(s, "CREATE STREAM logs_stream (a INT) WITH (KAFKA_TOPIC='logs', VALUE_FORMAT='JSON');", ok=False)
    assert code == 400 and "already exists" in err["message"]
    code, err = ksql(s, "CREATE STREAM s2 (a INT) WITH (KAFKA_TOPIC='logs', VALUE_FORMAT='JSON', BOGUS=1);", ok=False)
    assert code == 400 and "BOGUS" in err["message"]
    code, err = ksql(s, "CREATE TABLE t2 AS SELECT app, msg FROM logs_stream GROUP BY app;", ok=False)
    assert code == 400 and "Non-aggregate" in err["message"]
    _, listed = ksql(s, "SHOW STREAMS;")
    assert sorted(x["name"] for x in listed[0]["streams"]) == ["LOGS_STREAM", "ORDER_ERRORS"]

    # Restart: the metastore and the queries come back and continue where they stopped.
    s.restart()
    _, listed = ksql(s, "SHOW STREAMS; SHOW TABLES; SHOW QUERIES;")
    assert sorted(x["name"] for x in listed[0]["streams"]) == ["LOGS_STREAM", "ORDER_ERRORS"]
    assert [x["name"] for x in listed[1]["tables"]] == ["ERROR_COUNTS"]
    assert sorted(q["id"] for q in listed[2]["queries"]) == sorted(queries)
    check_counts(s, fed)  # state rebuilt, nothing counted twice
    produce(s, SECOND)
    check_order_errors(s, fed + SECOND)
    check_counts(s, fed + SECOND)

    # A killed process resumes from its committed offsets too.
    s.kill9()
    s.start()
    check_order_errors(s, fed + SECOND)
    check_counts(s, fed + SECOND)
    _, desc = ksql(s, "DESCRIBE error_counts;")
    d = desc[0]["sourceDescription"]
    assert d["windowType"] == "TUMBLING" and d["topic"] == "ERROR_COUNTS"
    assert [f["name"] for f in d["fields"]] == ["APP", "ERROR_COUNT", "RECENT_ERRORS"]

    # TERMINATE and DROP, as ksqlDB requires them in that order.
    code, err = ksql(s, "DROP STREAM order_errors;", ok=False)
    assert code == 400 and "terminate them before dropping" in err["message"]
    _, res = ksql(s, "TERMINATE %s; DROP STREAM order_errors;" % queries[0])
    assert res[1]["commandStatus"]["message"].startswith("Source `ORDER_ERRORS`")


def test_partition_by_insert_into_and_close_query(sluice, shared_dir):
    s = sluice
    admin = KafkaAdminClient(bootstrap_servers=s.bootstrap)
    admin.create_topics([NewTopic("logs", 2, 1)])
    admin.close()
    earliest = {"ksql.streams.auto.offset.reset": "earliest"}
    ksql(s, (SHARED_DIR / "seed-examples" / "logs.ksql").read_text().split(";")[0] + ";")
    # Re-keyed by app: KAFKA key = the app, value without it, partition = murmur2(key).
    _, res = ksql(s, "CREATE STREAM logs_by_app AS SELECT * FROM logs_stream PARTITION BY app;", earliest)
    assert res[0]["commandStatus"]["queryId"].startswith("CSAS_LOGS_BY_APP_")
    _, res = ksql(s, "CREATE STREAM all_errors WITH (PARTITIONS=1) AS SELECT app, msg FROM logs_stream WHERE level='ERROR';", earliest)
    code, err = ksql(s, "INSERT INTO all_errors SELECT app FROM logs_stream;", ok=False)
    assert code == 400 and "Incompatible schema" in err["message"]
    _, res = ksql(s, "INSERT INTO all_errors SELECT app, UCASE(msg) AS msg FROM logs_stream WHERE level='WARN';", earliest)
    assert res[0]["commandStatus"]["queryId"].startswith("INSERTQUERY_")
    produce(s, FIRST)

    by_app = wait_for("by app", lambda: (lambda v: v if len(v) >= len(FIRST) else None)(
        read_topic(s, "LOGS_BY_APP")))
    assert by_app and len(by_app) == len(FIRST)
    for m in by_app:
        v = json.loads(m.value)
        assert set(v) == {"TIMESTAMP", "LEVEL", "MSG"}
        assert m.key.decode() in {a for a, _, _, _ in FIRST}
    # Each app on exactly one partition.
    parts = {}
    for m in by_app:
        parts.setdefault(m.key, set()).add(m.partition)
    assert all(len(p) == 1 for p in parts.values())

    want = sorted([[a, m] for a, lv, m, _ in FIRST if lv == "ERROR"]
                  + [[a, m.upper()] for a, lv, m, _ in FIRST if lv == "WARN"])
    got = wait_for("all errors", lambda: (lambda v: v if len(v) >= len(want) else None)(
        read_topic(s, "ALL_ERRORS")))
    assert sorted([[json.loads(m.value)["APP"], json.loads(m.value)["MSG"]] for m in got]) == want

    # A push query over a table with /close-query ending it.
    ksql(s, "CREATE TABLE counts AS SELECT app, COUNT(*) AS n FROM logs_stream GROUP BY app;", earliest)
    header, lines = {}, []

    def push():
        with requests.post(s.url("sql") + "/query-stream", stream=True, timeout=60, data=json.dumps(
                {"sql": "SELECT * FROM counts EMIT CHANGES;",
                 "properties": {"auto.offset.reset": "earliest"}})) as r:
            for line in r.iter_lines():
                if line:
                    (lines.append if header else header.update)(json.loads(line))
    t = threading.Thread(target=push, daemon=True)
    t.start()
    assert wait_for("rows", lambda: len(lines) >= 3), (header, lines)
    assert header["columnNames"] == ["APP", "N"]
    r = requests.post(s.url("sql") + "/close-query", data=json.dumps({"queryId": header["queryId"]}))
    assert r.status_code == 200, r.text
    t.join(10)
    assert not t.is_alive(), "the push query did not end after /close-query"
    final = {}
    for app, n in lines:
        final[app] = n
    assert final == {a: sum(1 for x in FIRST if x[0] == a) for a in {x[0] for x in FIRST}}


def test_stream_table_join_enriches_orders_and_survives_a_restart(sluice):
    """A stream-table LEFT JOIN: orders (KAFKA INT keys) enriched with the latest customer row
    (KAFKA STRING keys); records already in both topics are taken in timestamp order, table
    updates and tombstones apply to later orders, and the table is rebuilt after a restart."""
    s = sluice
    earliest = {"ksql.streams.auto.offset.reset": "earliest"}
    ksql(s, "CREATE TABLE customers (id STRING PRIMARY KEY, name STRING) "
            "WITH (KAFKA_TOPIC='customers', PARTITIONS=1, VALUE_FORMAT='JSON');")
    ksql(s, "CREATE STREAM orders (order_id INT KEY, customer_id STRING, amount DOUBLE) "
            "WITH (KAFKA_TOPIC='orders', PARTITIONS=1, VALUE_FORMAT='JSON');")
    producer = KafkaProducer(bootstrap_servers=s.bootstrap)

    def send(topic, key, value, dt):
        producer.send(topic, key=key, value=None if value is None else json.dumps(value).encode(),
                      timestamp_ms=BASE + dt).get(10)

    def order(order_id, customer, amount, dt):
        send("orders", struct.pack(">i", order_id), {"CUSTOMER_ID": customer, "AMOUNT": amount}, dt)

    # Orders produced first, but later in time than the customers they refer to.
    order(1, "c1", 10.5, 10)
    order(2, "c9", 3.0, 11)
    send("customers", b"c1", {"NAME": "Ada"}, 1)
    send("customers", b"c2", {"NAME": "Bob"}, 2)
    _, res = ksql(s, "CREATE STREAM enriched AS SELECT o.customer_id, o.order_id, c.name, o.amount "
                     "FROM orders o LEFT JOIN customers c ON o.customer_id = c.id;", earliest)
    assert res[0]["commandStatus"]["queryId"].startswith("CSAS_ENRICHED_")
    _, desc = ksql(s, "DESCRIBE enriched;")
    fields = [(f["name"], f["schema"]["type"], f.get("type")) for f in desc[0]["sourceDescription"]["fields"]]
    assert fields == [("CUSTOMER_ID", "STRING", "KEY"), ("ORDER_ID", "INTEGER", None),
                      ("NAME", "STRING", None), ("AMOUNT", "DOUBLE", None)]

    def sink(n):
        return wait_for("enriched", lambda: (lambda v: v if len(v) >= n else None)(
            read_topic(s, "ENRICHED")))

    got = sink(2)
    assert [(m.key, json.loads(m.value), m.timestamp) for m in got] == [
        (b"c1", {"ORDER_ID": 1, "NAME": "Ada", "AMOUNT": 10.5}, BASE + 10),
        (b"c9", {"ORDER_ID": 2, "NAME": None, "AMOUNT": 3.0}, BASE + 11),
    ]
    # An update and a tombstone on the table apply to the orders after them.
    send("customers", b"c1", {"NAME": "Ada L."}, 20)
    send("customers", b"c2", None, 21)
    time.sleep(1)
    order(3, "c1", 1.0, 30)
    order(4, "c2", 2.0, 31)
    got = sink(4)
    assert [json.loads(m.value)["NAME"] for m in got[2:]] == ["Ada L.", None]
    producer.close()

    # After a restart the query rebuilds the table from its topic and goes on.
    s.restart()
    producer = KafkaProducer(bootstrap_servers=s.bootstrap)
    order(5, "c1", 7.0, 40)
    got = sink(5)
    producer.close()
    assert len(got) == 5
    assert (got[4].key, json.loads(got[4].value)) == (b"c1", {"ORDER_ID": 5, "NAME": "Ada L.", "AMOUNT": 7.0})


def test_windowed_aggregation_killed_mid_run_equals_an_uninterrupted_run(sluice):
    """kill -9 while a windowed aggregation works through a large backlog: after the restart
    its state comes back from the changelog topic and the query goes on from the offsets that
    state reflects, so every window's count, sum and max equal an uninterrupted run's (a
    second query over the same input, never killed) and the records' own figures."""
    from confluent_kafka import Producer

    s = sluice
    n, apps, minute = 400_000, 40, 60_000
    KafkaAdminClient(bootstrap_servers=s.bootstrap).create_topics(
        [NewTopic("events", num_partitions=2, replication_factor=1)])
    p = Producer({"bootstrap.servers": s.bootstrap, "linger.ms": 50,
                  "queue.buffering.max.messages": 200_000})
    want = {}
    for i in range(n):
        app, ts, v = "app-%02d" % (i % apps), BASE + i * 29, (i * 7919) % 1000
        p.produce("events", json.dumps({"APP": app, "V": v}).encode(), key=app.encode(),
                  timestamp=ts)
        if i % 50_000 == 0:
            p.flush()
        w = ts - ts % minute
        c, total, mx = want.get((app, w), (0, 0, -1))
        want[(app, w)] = (c + 1, total + v, max(mx, v))
    p.flush()

    ksql(s, "CREATE STREAM events (APP STRING KEY, V INT) WITH (KAFKA_TOPIC='events', "
            "VALUE_FORMAT='JSON');")
    agg = ("SELECT APP, COUNT(*) AS C, SUM(V) AS S, MAX(V) AS MX FROM events "
           "WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY APP EMIT CHANGES;")
    earliest = {"ksql.streams.auto.offset.reset": "earliest"}
    _, res = ksql(s, "CREATE TABLE totals AS " + agg, earliest)
    query_id = res[0]["commandStatus"]["queryId"]

    # Kill as soon as the first results are out: the backlog is far from done.
    c = KafkaConsumer(bootstrap_servers=s.bootstrap)
    tps = [TopicPartition("TOTALS", q) for q in range(2)]

    def sink_size():
        try:
            return sum(c.end_offsets(tps).values())
        except Exception:
            return 0
    assert wait_for("first results", lambda: sink_size() > 0, timeout=60)
    out_at_kill = sink_size()
    s.kill9()
    c.close()
    assert out_at_kill < n // 2, "the kill did not land mid-run (%d of %d updates out)" % (
        out_at_kill, n)

    s.start()
    topics = KafkaConsumer(bootstrap_servers=s.bootstrap).topics()
    assert ("_confluent-ksql-default_query_%s-Aggregate-Aggregate-Materialize-changelog"
            % query_id) in topics
    _, res = ksql(s, "CREATE TABLE totals_ref AS " + agg, earliest)

    def table(name):
        header, rows = query_stream(s, "SELECT * FROM %s;" % name)
        assert header["columnNames"] == ["APP", "WINDOWSTART", "WINDOWEND", "C", "S", "MX"]
        return {(r[0], r[1]): (r[3], r[4], r[5]) for r in rows}

    got = wait_for("all windows", lambda: (lambda t: t if t == want else None)(table("TOTALS")),
                   timeout=180)
    if not got:
        t = table("TOTALS")
        wrong = [(k, t.get(k), v) for k, v in want.items() if t.get(k) != v][:5]
        pytest.fail("after kill -9: %d windows, %d differ, e.g. %r" % (len(t), len(
            [k for k in want if t.get(k) != want[k]]), wrong))
    assert wait_for("reference", lambda: table("TOTALS_REF") == want, timeout=180)
    assert table("TOTALS") == table("TOTALS_REF")


def test_joins_killed_mid_run_equal_an_uninterrupted_run(sluice):
    """kill -9 while a stream-stream join (WITHIN, GRACE PERIOD) works through a large backlog
    from earliest, then while a stream-table join does (half of its orders in the backlog, the
    rest produced after the restart, against prices that changed in the backlog's time): after
    each restart the window buffers and the table side come back from their changelog topics
    (named as ksqlDB names the stores) and the queries go on from the offsets that state
    reflects (the stream-stream join is killed once more after joining the first half of its
    inputs, the rest produced after the restart, so rows joining a record of each half need
    the buffers from before the kill). Their outputs (at-least-once: a round cut short by a kill may be written again)
    hold exactly the joined rows the inputs give, none missing, none extra, each order joined
    with the price valid at its time, the same rows as a second pair of queries that was never
    killed; the changelogs exist while the queries run and TERMINATE deletes them."""
    from confluent_kafka import Producer

    from conftest import create_topic, read_all

    s = sluice
    n_views, n_buys, n_orders, users, items = 200_000, 120_000, 300_000, 700, 500
    for topic in ("views", "buys", "orders", "prices"):
        create_topic(s.bootstrap, topic, 2)
    # Small producer batches: the queries take their backlog in many rounds.
    p = Producer({"bootstrap.servers": s.bootstrap, "linger.ms": 50, "batch.size": 65_536,
                  "partitioner": "murmur2_random", "queue.buffering.max.messages": 200_000})

    def send(topic, key, value, ts):
        p.produce(topic, json.dumps(value).encode(), key=key.encode(), timestamp=ts)

    # Views every 10 ms and buys at odd ms: no buy is exactly 2 s from a view.
    views = [("u%03d" % (i * 7919 % users), BASE + i * 10) for i in range(n_views)]
    buys = [("u%03d" % ((j * 104_729 + 13) % users), BASE + j * 16 + 3) for j in range(n_buys)]
    # Three prices per item: before every order, a sixth and a third of the way through them
    # (odd ms: never at an order's time).
    cuts = [BASE - 10_001, BASE + n_orders * 10 // 6 + 1, BASE + n_orders * 10 // 3 + 1]
    prices = [("i%03d" % k, cut + 2 * k, 1000 * v + k) for v, cut in enumerate(cuts)
              for k in range(items)]
    orders = [("i%03d" % (i * 31 % items), BASE + i * 10) for i in range(n_orders)]

    def produce(topic, rows):
        """rows: (key, value, timestamp), or (topic, key, value, timestamp) without a topic."""
        for x, row in enumerate(rows):
            send(*(row if topic is None else (topic,) + row))
            if x % 50_000 == 0:
                p.flush()
        p.flush()

    # Views and buys up to the middle of their time now, the rest after a restart that finds
    # the join's buffers holding the last seconds before the middle.
    mid = BASE + n_views * 5
    view_rows = [(k, {"V": i}, ts) for i, (k, ts) in enumerate(views)]
    buy_rows = [(k, {"B": j}, ts) for j, (k, ts) in enumerate(buys)]
    produce("views", [r for r in view_rows if r[2] < mid])
    produce("buys", [r for r in buy_rows if r[2] < mid])
    produce("prices", [(k, {"P": v}, ts) for k, ts, v in prices])
    # The first half of the orders now, the rest once the killed query runs again.
    order_rows = [(k, {"N": i}, ts) for i, (k, ts) in enumerate(orders)]
    produce("orders", order_rows[:n_orders // 2])

    # The figures from the inputs: every (user, view, buy) within 2 s of each other, and every
    # order with the last price set at or before its time.
    import bisect
    by_user = {}
    for i, (k, ts) in enumerate(views):
        by_user.setdefault(k, []).append((ts, i))
    want_vb = set()
    for j, (k, ts) in enumerate(buys):
        seen = by_user.get(k, [])
        for vts, i in seen[bisect.bisect_left(seen, (ts - 2_000, -1)):]:
            if vts > ts + 2_000:
                break
            want_vb.add((k, i, j))
    history = {}
    for k, ts, v in sorted(prices, key=lambda x: x[1]):
        history.setdefault(k, []).append((ts, v))
    want_op = set()
    for i, (k, ts) in enumerate(orders):
        h = history[k]
        want_op.add((k, i, h[bisect.bisect_right(h, (ts, float("inf"))) - 1][1]))
    want_vb_first = {(k, i, j) for k, i, j in want_vb if views[i][1] < mid and buys[j][1] < mid}
    spanning = {(k, i, j) for k, i, j in want_vb if (views[i][1] < mid) != (buys[j][1] < mid)}
    assert len(want_vb) > 50_000 and len({v for _, _, v in want_op}) == 3 * items
    assert spanning and len(want_vb_first) < len(want_vb) - len(spanning)

    ksql(s, "CREATE STREAM views (ID STRING KEY, V INT) WITH (KAFKA_TOPIC='views', "
            "VALUE_FORMAT='JSON');")
    ksql(s, "CREATE STREAM buys (ID STRING KEY, B INT) WITH (KAFKA_TOPIC='buys', "
            "VALUE_FORMAT='JSON');")
    ksql(s, "CREATE STREAM orders (ID STRING KEY, N INT) WITH (KAFKA_TOPIC='orders', "
            "VALUE_FORMAT='JSON');")
    ksql(s, "CREATE TABLE prices (ID STRING PRIMARY KEY, P INT) WITH (KAFKA_TOPIC='prices', "
            "VALUE_FORMAT='JSON');")
    vb = ("SELECT views.ID AS ID, V, B FROM views JOIN buys WITHIN 2 SECONDS GRACE PERIOD "
          "10 MINUTES ON views.ID = buys.ID EMIT CHANGES;")
    op = "SELECT orders.ID AS ID, N, P FROM orders JOIN prices ON orders.ID = prices.ID EMIT CHANGES;"
    earliest = {"ksql.streams.auto.offset.reset": "earliest"}

    def rows(topic, value_field):
        out = []
        for _, _, key, value in read_all(s.bootstrap, topic):
            v = json.loads(value)
            out.append((key.decode(), v[next(f for f in v if f != value_field)], v[value_field]))
        return out

    def settled(topic, value_field, want):
        got = rows(topic, value_field)
        return got if set(got) == want else None

    def kill_mid_run(sink, statement, store, want):
        """Starts a query and kills the server as soon as its first results are out and its
        state changelog holds a first round (more than the start's commit marker)."""
        from confluent_kafka import Consumer, TopicPartition as Partition
        _, res = ksql(s, statement, earliest)
        query_id = res[0]["commandStatus"]["queryId"]
        changelog = "_confluent-ksql-default_query_%s-%s-changelog" % (query_id, store)
        c = Consumer({"bootstrap.servers": s.bootstrap, "group.id": "watch-" + sink})

        def size(topic, partitions):
            try:
                return sum(c.get_watermark_offsets(Partition(topic, q), timeout=5)[1]
                           for q in range(partitions))
            except Exception:
                return 0
        deadline = time.monotonic() + 60
        at_kill = 0
        while time.monotonic() < deadline:
            time.sleep(0.01)
            at_kill = size(sink, 2)
            if at_kill > 0 and size(changelog, 1) > 1:
                break
        s.kill9()
        c.close()
        assert 0 < at_kill < len(want) // 2 + 1, (
            "the kill did not land mid-run (%d of %d rows out)" % (at_kill, len(want)))
        return query_id

    vb_id = kill_mid_run("VB", "CREATE STREAM vb AS " + vb, "Join-this-join-store", want_vb)
    s.start()
    # Once the first half is joined, kill again: the rows joining a record of each half need
    # the buffers from before the kill.
    assert wait_for("the first half", lambda: settled("VB", "B", want_vb_first), timeout=240)
    s.kill9()
    s.start()
    # Both streams' second halves in time order, as they would arrive live (the grace period
    # covers the producer's batching).
    produce(None, sorted([("views",) + r for r in view_rows if r[2] >= mid]
                         + [("buys",) + r for r in buy_rows if r[2] >= mid], key=lambda r: r[3]))
    op_id = kill_mid_run("OP", "CREATE STREAM op AS " + op, "KafkaTopic_Right-Reduce", want_op)
    s.start()
    produce("orders", order_rows[n_orders // 2:])
    changelogs = ["_confluent-ksql-default_query_%s-%s-changelog" % x for x in (
        (vb_id, "Join-this-join-store"), (vb_id, "Join-other-join-store"),
        (op_id, "KafkaTopic_Right-Reduce"))]

    topics = KafkaConsumer(bootstrap_servers=s.bootstrap).topics()
    assert set(changelogs) <= topics, sorted(t for t in topics if "query" in t)
    ksql(s, "CREATE STREAM vb_ref AS " + vb, earliest)
    ksql(s, "CREATE STREAM op_ref AS " + op, earliest)

    for topic, field, want in (("VB", "B", want_vb), ("OP", "P", want_op),
                               ("VB_REF", "B", want_vb), ("OP_REF", "P", want_op)):
        got = wait_for(topic, lambda: settled(topic, field, want), timeout=240)
        if not got:
            got = set(rows(topic, field))
            pytest.fail("%s after kill -9: %d rows missing (e.g. %r), %d extra (e.g. %r)" % (
                topic, len(want - got), sorted(want - got)[:3], len(got - want),
                sorted(got - want)[:3]))
        if topic.endswith("_REF"):
            assert len(got) == len(want), "a query never killed writes each row once"
        else:
            # At-least-once: a round cut short by a kill is written again, so a row is out at
            # most once more per kill it lived through (three kills).
            copies = max(collections.Counter(got).values())
            assert copies <= 4, (topic, copies, len(got), len(want))

    _, listed = ksql(s, "SHOW QUERIES;")
    ids = [q["id"] for q in listed[0]["queries"]]
    assert vb_id in ids and op_id in ids
    for qid in ids:
        ksql(s, "TERMINATE %s;" % qid)
    topics = KafkaConsumer(bootstrap_servers=s.bootstrap).topics()
    assert not [t for t in topics if t.endswith("-changelog")], sorted(topics)
