"""Debezium's PostgreSQL connector (`io.debezium.connector.postgresql.PostgresConnector`)
against a real PostgreSQL server with wal_level=logical (the `postgres` fixture): the initial
snapshot's rows as op "r" first, then inserts, updates and deletes (with tombstones) as
Debezium-shaped events in commit order, the publication created for the included tables, and
a kill -9 with changes going on meanwhile: the restart continues from the committed LSN, no
change lost or doubled."""
import base64
from decimal import Context, Decimal
import json
import threading
import time

from conftest import unique
from connect_api import api, wait_until
from kafka import KafkaConsumer

CLASS = "io.debezium.connector.postgresql.PostgresConnector"


class Reader:
    """Every record of a topic from the start: (key JSON, value JSON or None)."""

    def __init__(self, s, topic):
        self.c = KafkaConsumer(topic, bootstrap_servers=s.bootstrap, auto_offset_reset="earliest",
                               enable_auto_commit=False)
        self.records = []

    def read(self):
        while True:
            got = self.c.poll(timeout_ms=300)
            if not got:
                return self.records
            for records in got.values():
                for m in records:
                    self.records.append((json.loads(m.key) if m.key else None,
                                         json.loads(m.value) if m.value is not None else None))

    def until(self, what, pred, timeout=30.0):
        return wait_until(what, lambda: pred(self.read()), timeout)

    def close(self):
        self.c.close()


def config(postgres, db, slot, prefix="shop"):
    return {"connector.class": CLASS, "database.hostname": "127.0.0.1",
            "database.port": str(postgres.port), "database.user": "sluice", "database.dbname": db,
            "topic.prefix": prefix, "plugin.name": "pgoutput", "slot.name": slot,
            "publication.name": slot + "_pub", "table.include.list": "public.customers",
            "poll.interval.ms": "100"}


def test_snapshot_then_changes_in_debeziums_shape(sluice, postgres):
    db = postgres.create_database(unique("db"))
    slot = unique("slot").replace("-", "_").lower()
    postgres.query("CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, "
                   "balance numeric(10,2), seen timestamp, tags jsonb); "
                   "CREATE TABLE other (id int PRIMARY KEY)", db)
    postgres.query("INSERT INTO customers VALUES (1, 'ann', 10.50, '2024-01-02 03:04:05.678', '{\"a\": 1}'), "
                   "(2, 'bob', NULL, NULL, NULL)", db)
    api(sluice, "PUT", "/connectors/cdc/config", config(postgres, db, slot), expect=201)
    r = Reader(sluice, "shop.public.customers")
    r.until("the snapshot", lambda v: len(v) >= 2)
    (k1, v1), (k2, v2) = r.records[:2]
    assert k1["schema"]["name"] == "shop.public.customers.Key"
    assert k1["payload"] == {"id": 1} and k2["payload"] == {"id": 2}
    env = v1["schema"]
    assert env["name"] == "shop.public.customers.Envelope"
    assert [f["field"] for f in env["fields"]] == ["before", "after", "source", "op", "ts_ms"]
    after_schema = env["fields"][1]
    assert after_schema["name"] == "shop.public.customers.Value"
    types = {f["field"]: (f["type"], f.get("name")) for f in after_schema["fields"]}
    assert types == {"id": ("int32", None), "name": ("string", None),
                     "balance": ("bytes", "org.apache.kafka.connect.data.Decimal"),
                     "seen": ("int64", "io.debezium.time.MicroTimestamp"),
                     "tags": ("string", "io.debezium.data.Json")}
    assert env["fields"][2]["name"] == "io.debezium.connector.postgresql.Source"
    p = v1["payload"]
    assert p["op"] == "r" and p["before"] is None
    assert p["after"]["name"] == "ann" and p["after"]["seen"] == 1704164645678000
    assert int.from_bytes(base64.b64decode(p["after"]["balance"]), "big", signed=True) == 1050
    assert json.loads(p["after"]["tags"]) == {"a": 1}
    assert p["source"]["connector"] == "postgresql" and p["source"]["name"] == "shop"
    assert p["source"]["db"] == db and p["source"]["schema"] == "public"
    assert p["source"]["table"] == "customers" and p["source"]["snapshot"] == "first"
    assert v2["payload"]["source"]["snapshot"] == "last"
    assert v2["payload"]["after"] == {"id": 2, "name": "bob", "balance": None, "seen": None, "tags": None}
    # The publication is for the included tables only.
    assert postgres.query("SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = '%s_pub'"
                          % slot, db) == [["public", "customers"]]

    postgres.query("INSERT INTO customers (id, name) VALUES (3, 'cy')", db)
    postgres.query("UPDATE customers SET name = 'ann2' WHERE id = 1", db)
    postgres.query("INSERT INTO other VALUES (1)", db)
    postgres.query("BEGIN; DELETE FROM customers WHERE id = 2; UPDATE customers SET balance = 1 WHERE id = 3; COMMIT", db)
    r.until("the changes", lambda v: len(v) >= 7)
    time.sleep(1.0)
    recs = r.read()
    r.close()
    assert len(recs) == 7
    ops = [(k["payload"]["id"], v["payload"]["op"] if v else None) for k, v in recs]
    assert ops == [(1, "r"), (2, "r"), (3, "c"), (1, "u"), (2, "d"), (2, None), (3, "u")]
    ins, upd, dele, _, upd3 = [v["payload"] if v else None for _, v in recs[2:]]
    assert ins["before"] is None and ins["after"]["name"] == "cy"
    assert ins["source"]["snapshot"] == "false" and ins["source"]["txId"] > 0 and ins["source"]["lsn"] > 0
    assert upd["before"] is None and upd["after"]["name"] == "ann2"  # REPLICA IDENTITY DEFAULT
    assert dele["after"] is None and dele["before"]["id"] == 2
    assert dele["source"]["txId"] == upd3["source"]["txId"]  # one transaction
    assert upd3["source"]["lsn"] > dele["source"]["lsn"]
    st = api(sluice, "GET", "/connectors/cdc/status", expect=200).json()
    assert st["tasks"][0]["state"] == "RUNNING"
    off = api(sluice, "GET", "/connectors/cdc/offsets", expect=200).json()["offsets"]
    assert off[0]["partition"] == {"server": "shop"}
    assert set(off[0]["offset"]) == {"lsn", "lsn_commit", "txId", "ts_usec"}


def test_restart_continues_from_the_committed_lsn(sluice, postgres):
    db = postgres.create_database(unique("db"))
    slot = unique("slot").replace("-", "_").lower()
    postgres.query("CREATE TABLE customers (id serial PRIMARY KEY, name text)", db)
    postgres.query("INSERT INTO customers (name) SELECT 'snap' FROM generate_series(1, 20)", db)
    api(sluice, "PUT", "/connectors/cdc2/config", {**config(postgres, db, slot, "srv"),
                                                   "max.batch.size": "7"}, expect=201)
    r = Reader(sluice, "srv.public.customers")
    r.until("the snapshot", lambda v: len(v) >= 20)
    r.close()
    stop = threading.Event()

    def writer():
        while not stop.is_set():
            postgres.query("INSERT INTO customers (name) SELECT 'live' FROM generate_series(1, 3)", db)
            time.sleep(0.05)

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(1.5)
    sluice.kill9()
    time.sleep(0.5)
    sluice.start()
    time.sleep(1.5)
    stop.set()
    t.join()
    total = int(postgres.query("SELECT count(*) FROM customers", db)[0][0])
    r = Reader(sluice, "srv.public.customers")
    r.until("every row", lambda v: len(v) >= total, timeout=60)
    time.sleep(1.5)
    recs = r.read()
    r.close()
    ids = [k["payload"]["id"] for k, _ in recs]
    ops = [v["payload"]["op"] for _, v in recs]
    assert ids == list(range(1, total + 1))  # none lost, none doubled, in order
    assert ops == ["r"] * 20 + ["c"] * (total - 20)
    # The slot was moved up to what the runtime committed (the last transaction's end).
    off = api(sluice, "GET", "/connectors/cdc2/offsets", expect=200).json()["offsets"][0]["offset"]
    last = recs[-1][1]["payload"]["source"]["lsn"]
    assert off["lsn"] == last and off["lsn_commit"] > last
    wait_until("the slot advanced", lambda: int(postgres.query(
        "SELECT (confirmed_flush_lsn - '0/0'::pg_lsn)::int8 FROM pg_replication_slots WHERE slot_name = '%s'"
        % slot, db)[0][0]) >= off["lsn_commit"], timeout=10)


def test_bad_config_is_refused_per_field(sluice, postgres):
    r = api(sluice, "PUT", "/connector-plugins/PostgresConnector/config/validate", {
        "connector.class": CLASS, "name": "x", "database.hostname": "127.0.0.1",
        "database.port": "99999", "database.user": "sluice", "database.dbname": "d",
        "topic.prefix": "p", "slot.name": "Bad-Slot", "plugin.name": "decoderbufs",
        "snapshot.mode": "sometimes", "table.include.list": "public.(unclosed"}, expect=200).json()
    errs = {c["value"]["name"]: c["value"]["errors"] for c in r["configs"]}
    assert errs["database.port"] == ["Invalid value 99999 for configuration database.port: Value must be between 1 and 65535"]
    assert any("replication slot name" in e for e in errs["slot.name"])
    assert any("String must be one of" in e for e in errs["plugin.name"])
    assert any("String must be one of" in e for e in errs["snapshot.mode"])
    assert errs["table.include.list"] and r["error_count"] == 5
    # A server that is not there fails the task with its trace.
    api(sluice, "PUT", "/connectors/nowhere/config", {**config(postgres, "postgres", "s_nowhere"),
                                                     "database.port": "1"}, expect=201)
    st = wait_until("failed", lambda: (lambda s: s["tasks"] and s["tasks"][0]["state"] == "FAILED" and s)(
        api(sluice, "GET", "/connectors/nowhere/status").json()))
    assert "Could not connect to PostgreSQL" in st["tasks"][0]["trace"]


def test_changes_the_snapshot_already_saw_are_not_sent_again(sluice, postgres):
    """The slot comes before the snapshot, so transactions committed in between are in both:
    the stream skips those the snapshot saw (here the slot and publication exist before the
    connector starts, with rows inserted after the slot was made)."""
    db = postgres.create_database(unique("db"))
    slot = unique("slot").replace("-", "_").lower()
    postgres.query("CREATE TABLE customers (id int PRIMARY KEY, name text); "
                   "INSERT INTO customers VALUES (1, 'a'), (2, 'b')", db)
    postgres.query("CREATE PUBLICATION %s_pub FOR TABLE customers" % slot, db)
    postgres.query("SELECT pg_create_logical_replication_slot('%s', 'pgoutput')" % slot, db)
    postgres.query("INSERT INTO customers VALUES (3, 'c')", db)
    postgres.query("UPDATE customers SET name = 'a2' WHERE id = 1", db)
    api(sluice, "PUT", "/connectors/cdc3/config", config(postgres, db, slot, "seen"), expect=201)
    r = Reader(sluice, "seen.public.customers")
    r.until("the snapshot", lambda v: len(v) >= 3)
    postgres.query("INSERT INTO customers VALUES (4, 'd')", db)
    r.until("the insert", lambda v: len(v) >= 4)
    time.sleep(1.5)
    recs = r.read()
    r.close()
    got = [(k["payload"]["id"], v["payload"]["op"], v["payload"]["after"]["name"]) for k, v in recs]
    # (A snapshot reads in the table's order, which the update changed.)
    assert sorted(got[:3]) == [(1, "r", "a2"), (2, "r", "b"), (3, "r", "c")]
    assert got[3:] == [(4, "c", "d")]


def slot_lsn(postgres, db, slot):
    return int(postgres.query("SELECT (confirmed_flush_lsn - '0/0'::pg_lsn)::int8 FROM pg_replication_slots "
                              "WHERE slot_name = '%s'" % slot, db)[0][0])


def wal_written(postgres, db):
    return int(postgres.query("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::int8", db)[0][0])


def test_heartbeats_move_the_slot_while_captured_tables_are_idle(sluice, postgres):
    """Writes to tables the connector does not capture hold WAL in its slot until a heartbeat
    carries the position read through into the committed offset."""
    db = postgres.create_database(unique("db"))
    slot = unique("slot").replace("-", "_").lower()
    postgres.query("CREATE TABLE customers (id int PRIMARY KEY, name text); "
                   "CREATE TABLE other (id serial PRIMARY KEY, pad text); CREATE TABLE beats (at timestamptz)", db)
    postgres.query("INSERT INTO customers VALUES (1, 'a')", db)
    cfg = config(postgres, db, slot, "hb")
    api(sluice, "PUT", "/connectors/hb/config", cfg, expect=201)
    r = Reader(sluice, "hb.public.customers")
    r.until("the snapshot", lambda v: len(v) >= 1)
    # Without heartbeats the slot stays where the last captured change left it.
    postgres.query("INSERT INTO other (pad) SELECT repeat('x', 200) FROM generate_series(1, 2000)", db)
    written = wal_written(postgres, db)
    time.sleep(2.0)
    assert slot_lsn(postgres, db, slot) < written

    api(sluice, "PUT", "/connectors/hb/config", {**cfg, "heartbeat.interval.ms": "500",
                                                 "heartbeat.action.query": "INSERT INTO beats VALUES (now())"},
        expect=200)
    beats = Reader(sluice, "__debezium-heartbeat.hb")
    beats.until("heartbeats", lambda v: len(v) >= 3)
    (k, v) = beats.records[0]
    assert k["schema"] == {"type": "struct", "fields": [{"type": "string", "optional": False, "field": "serverName"}],
                           "optional": False, "name": "io.debezium.connector.common.ServerNameKey", "version": 1}
    assert k["payload"] == {"serverName": "hb"}
    assert v["schema"]["name"] == "io.debezium.connector.common.Heartbeat"
    assert v["schema"]["fields"] == [{"type": "int64", "optional": False, "field": "ts_ms"}]
    assert abs(v["payload"]["ts_ms"] - time.time() * 1000) < 60_000
    wait_until("the slot past the uncaptured writes", lambda: slot_lsn(postgres, db, slot) >= written, timeout=15)
    # The action query ran with the heartbeats.
    assert int(postgres.query("SELECT count(*) FROM beats", db)[0][0]) >= 2
    # Idle captured tables, busy database: the slot keeps following.
    postgres.query("INSERT INTO other (pad) SELECT repeat('y', 200) FROM generate_series(1, 2000)", db)
    written = wal_written(postgres, db)
    wait_until("the slot past the second writes", lambda: slot_lsn(postgres, db, slot) >= written, timeout=15)
    off = api(sluice, "GET", "/connectors/hb/offsets", expect=200).json()["offsets"][0]["offset"]
    assert off["lsn_commit"] >= written
    # Nothing captured was skipped on the way.
    postgres.query("INSERT INTO customers VALUES (2, 'b')", db)
    r.until("the insert after the heartbeats", lambda v: len(v) >= 2)
    time.sleep(1.0)
    recs = r.read()
    beats.close()
    r.close()
    assert [(k["payload"]["id"], v["payload"]["op"]) for k, v in recs] == [(1, "r"), (2, "c")]


def decimal_of(field_schema, value):
    """A Debezium decimal value as Python's Decimal: Connect Decimal bytes (scale in the schema)
    or VariableScaleDecimal {scale, value}."""
    if value is None:
        return None
    if field_schema.get("name") == "io.debezium.data.VariableScaleDecimal":
        unscaled, scale = base64.b64decode(value["value"]), value["scale"]
    else:
        unscaled, scale = base64.b64decode(value), int(field_schema["parameters"]["scale"])
    return Decimal(int.from_bytes(unscaled, "big", signed=True)).scaleb(-scale, Context(prec=100))


BIG = "-123456789012345678901234567890123.456789"  # beyond 128 bits unscaled


def test_decimal_handling_modes(sluice, postgres):
    db = postgres.create_database(unique("db"))
    postgres.query("CREATE TABLE customers (id int PRIMARY KEY, fixed numeric(10,2) NOT NULL, "
                   "whole numeric(5), free numeric, big numeric(60,6))", db)
    postgres.query("INSERT INTO customers VALUES (1, 10.5, 12345, 1.50, %s), (2, -0.01, -7, 'NaN', 0), "
                   "(3, 99999999.99, NULL, NULL, NULL)" % BIG, db)
    got = {}
    for mode in ("precise", "double", "string"):
        slot = unique("slot").replace("-", "_").lower()
        prefix = "dec_" + mode
        cfg = {**config(postgres, db, slot, prefix), "decimal.handling.mode": mode}
        if mode == "precise":
            cfg.pop("decimal.handling.mode")  # the default
        api(sluice, "PUT", "/connectors/%s/config" % prefix, cfg, expect=201)
        got[mode] = Reader(sluice, prefix + ".public.customers")
    for r in got.values():
        r.until("the snapshot", lambda v: len(v) >= 3)
    postgres.query("INSERT INTO customers VALUES (4, -12345678.9, 1, -3.14159, 1e-6)", db)
    rows = {}
    for mode, r in got.items():
        r.until("the insert", lambda v: len(v) >= 4)
        recs = r.read()
        r.close()
        schema = {f["field"]: f for f in recs[0][1]["schema"]["fields"][1]["fields"]}
        rows[mode] = (schema, [v["payload"]["after"] for _, v in recs])

    schema, after = rows["precise"]
    assert schema["fixed"] == {"type": "bytes", "optional": False, "name": "org.apache.kafka.connect.data.Decimal",
                               "version": 1, "parameters": {"scale": "2", "connect.decimal.precision": "10"},
                               "field": "fixed"}
    assert schema["whole"]["parameters"] == {"scale": "0", "connect.decimal.precision": "5"}
    assert schema["free"] == {"type": "struct", "fields": [{"type": "int32", "optional": False, "field": "scale"},
                                                           {"type": "bytes", "optional": False, "field": "value"}],
                              "optional": True, "name": "io.debezium.data.VariableScaleDecimal", "version": 1,
                              "doc": "Variable scaled decimal", "field": "free"}
    values = [{c: decimal_of(schema[c], a[c]) for c in ("fixed", "whole", "free", "big")} for a in after]
    D = Decimal
    assert values == [
        {"fixed": D("10.50"), "whole": D(12345), "free": D("1.50"), "big": D(BIG)},
        {"fixed": D("-0.01"), "whole": D(-7), "free": None, "big": D(0)},  # NaN has no Decimal form
        {"fixed": D("99999999.99"), "whole": None, "free": None, "big": None},
        {"fixed": D("-12345678.90"), "whole": D(1), "free": D("-3.14159"), "big": D("0.000001")},
    ]
    assert after[0]["free"]["scale"] == 2  # the value's own scale, trailing zero kept
    assert after[3]["free"]["scale"] == 5

    schema, after = rows["double"]
    assert {c: (schema[c]["type"], schema[c].get("name")) for c in ("fixed", "whole", "free", "big")} == \
        {c: ("float64", None) for c in ("fixed", "whole", "free", "big")}
    assert [a["fixed"] for a in after] == [10.5, -0.01, 99999999.99, -12345678.9]
    assert after[0]["big"] == float(BIG) and after[3]["free"] == -3.14159
    assert after[1]["free"] is None  # NaN: JSON has no NaN

    schema, after = rows["string"]
    assert {c: (schema[c]["type"], schema[c].get("name")) for c in ("fixed", "whole", "free", "big")} == \
        {c: ("string", None) for c in ("fixed", "whole", "free", "big")}
    assert [a["fixed"] for a in after] == ["10.50", "-0.01", "99999999.99", "-12345678.90"]
    assert after[0]["big"] == BIG and after[0]["free"] == "1.50" and after[1]["free"] == "NaN"
    assert after[3]["big"] == "0.000001"
