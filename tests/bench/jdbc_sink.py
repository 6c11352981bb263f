#!/usr/bin/env python3
"""JDBC sink benchmark: records/s of Sluice's JdbcSinkConnector loading N records (default
1,000,000) from a topic into PostgreSQL, against `psql \\copy` of the same rows from a CSV
file, printed side by side from one run. A benchmark, not a test: it asserts nothing.

The records (id int64, name string, amount float64, ts int64) are produced with
confluent-kafka as JsonConverter envelopes (schemas.enable=true, the sink's default converter)
before the connector starts; the sink's figure is from creating the connector (insert.mode
insert, auto.create, batch.size 3000) until `SELECT count(*)` sees every row, polled every
0.25 s. The PostgreSQL server is the e2e suite's throwaway one (tests/e2e/postgres.py: fsync
off, synchronous_commit off), used by both sides alike.

    python3 tests/bench/jdbc_sink.py [--records N]

Sluice: $SLUICE_BIN, default ~/.cache/sluice/target/release/sluice. Re-executes itself in the
venv at ~/.cache/sluice/venv.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

VENV_PY = os.path.expanduser("~/.cache/sluice/venv/bin/python")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

SCHEMA = json.dumps({"type": "struct", "optional": False, "fields": [
    {"field": "id", "type": "int64", "optional": False},
    {"field": "name", "type": "string", "optional": False},
    {"field": "amount", "type": "float64", "optional": False},
    {"field": "ts", "type": "int64", "optional": False}]})


def ensure_venv():
    venv = os.path.dirname(os.path.dirname(VENV_PY))
    if os.path.realpath(sys.prefix) != os.path.realpath(venv) and os.path.exists(VENV_PY):
        os.execv(VENV_PY, [VENV_PY] + sys.argv)


def row(i):
    return i, "name-%d" % i, i * 0.25, 1700000000000 + i


def main():
    ensure_venv()
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    args = ap.parse_args()
    n = args.records

    import requests
    from confluent_kafka import Producer
    from conftest import Sluice
    from postgres import Postgres

    tmp = tempfile.mkdtemp(prefix="sluice-bench-jdbc-")
    pg = Postgres()
    s = Sluice(os.path.join(tmp, "data"), log_dir=tmp)
    try:
        s.start()
        db = pg.create_database("bench")
        # The records, produced before the sink starts.
        p = Producer({"bootstrap.servers": s.bootstrap, "linger.ms": 20,
                      "batch.num.messages": 10000, "queue.buffering.max.messages": 1000000})
        t0 = time.monotonic()
        prefix = '{"schema":%s,"payload":' % SCHEMA
        for i in range(n):
            rid, name, amount, ts = row(i)
            v = '%s{"id":%d,"name":"%s","amount":%r,"ts":%d}}' % (prefix, rid, name, amount, ts)
            while True:
                try:
                    p.produce("bench-rows", v.encode())
                    break
                except BufferError:
                    p.poll(0.1)
            if i % 1024 == 0:
                p.poll(0)
        p.flush()
        produce_s = time.monotonic() - t0

        def count(table):
            try:
                return int(pg.query("SELECT count(*) FROM %s" % table, db)[0][0])
            except subprocess.CalledProcessError:
                return 0

        t0 = time.monotonic()
        r = requests.put(s.url("connect") + "/connectors/bench-sink/config", json={
            "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
            "topics": "bench-rows", "connection.url": pg.url(db), "connection.user": "sluice",
            "insert.mode": "insert", "auto.create": "true", "table.name.format": "sink_rows",
            "batch.size": "3000"}, timeout=30)
        r.raise_for_status()
        while count("sink_rows") < n:
            if time.monotonic() - t0 > 1800:
                sys.exit("the sink did not load %d rows within 30 minutes" % n)
            time.sleep(0.25)
        sink_s = time.monotonic() - t0

        # The same rows with psql \copy.
        csv = os.path.join(tmp, "rows.csv")
        with open(csv, "w") as f:
            for i in range(n):
                f.write("%d,%s,%r,%d\n" % row(i))
        pg.query("CREATE TABLE copy_rows (id bigint NOT NULL, name text NOT NULL, "
                 "amount double precision NOT NULL, ts bigint NOT NULL)", db)
        t0 = time.monotonic()
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", pg.dsn(db), "-c",
                        "\\copy copy_rows FROM '%s' CSV" % csv], check=True)
        copy_s = time.monotonic() - t0
        assert count("copy_rows") == n

        print("records: %d (produced in %.1f s, %.0f records/s)" % (n, produce_s, n / produce_s))
        print("%-34s %12s %14s" % ("", "seconds", "records/s"))
        print("%-34s %12.2f %14.0f" % ("Sluice JdbcSinkConnector (insert)", sink_s, n / sink_s))
        print("%-34s %12.2f %14.0f" % ("psql \\copy (CSV)", copy_s, n / copy_s))
        print("ratio sink / copy: %.2f" % ((n / sink_s) / (n / copy_s)))
    finally:
        s.kill9()
        pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
