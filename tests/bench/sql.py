#!/usr/bin/env python3
"""SQL engine benchmark: the talk's two persistent queries next to a hand-written Rust loop.

One run:
  1. `sluice serve` on a fresh data dir; N JSON log records (the talk's `logs` topic:
     timestamp, app, level, msg; 5 apps, 10 % ERROR, one record per second of event time)
     are produced with confluent-kafka; sluice is stopped.
  2. The reference, `sql_baseline` (engine/server/examples/sql_baseline.rs, a hand-written
     Rust program), reads the same records from the same log and does the same work: (a) the
     order_errors filter, (b) the error_counts tumbling 1-hour COUNT/COLLECT_LIST per app,
     appending its output to the log as the engine does.
  3. sluice is started again on the same data dir; the talk's statements (logs.ksql, inline
     here) run through POST /ksql, one persistent query at a time, each timed from the
     statement to the moment its sink topic holds every expected record; the sluice process's
     CPU time over that span gives events per CPU-second (per core).
  4. Both outputs are compared (record counts, and every value for the filter, the final
     value of each window for the aggregation), so the figures are for the same work.

It prints `query | sluice ev/s | hand-written ev/s | ratio | target` and the per-core figure
next to Flink's published Nexmark q0 (~155k events/s per core). A benchmark: it asserts
nothing; the exit code is non-zero only when something could not be measured.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

VENV = os.path.join(os.path.expanduser("~"), ".cache", "sluice", "venv")
VENV_PY = os.path.join(VENV, "bin", "python")
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.path.expanduser("~"), ".cache", "sluice", "target"))
SLUICE_BIN = os.environ.get("SLUICE_BIN", os.path.join(TARGET, "release", "sluice"))
BASELINE_BIN = os.environ.get("SLUICE_SQL_BASELINE", os.path.join(TARGET, "release", "examples", "sql_baseline"))
NEXMARK_Q0_PER_CORE = 155_000
KSQL = "application/vnd.ksql.v1+json"

APPS = ["order-service", "payment-service", "inventory-service", "shipping-service", "user-service"]
BASE_TS = 1_764_000_000_000  # a fixed instant, so windows are the same every run

CREATE_STREAM = """CREATE STREAM logs_stream (
  timestamp VARCHAR,
  app VARCHAR,
  level VARCHAR,
  msg VARCHAR
) WITH (
  KAFKA_TOPIC='logs',
  VALUE_FORMAT='JSON'
);"""
ORDER_ERRORS = """CREATE STREAM order_errors AS
  SELECT timestamp, app, msg
  FROM logs_stream
  WHERE level = 'ERROR'
    AND app = 'order-service';"""
ERROR_COUNTS = """CREATE TABLE error_counts AS
  SELECT app,
         COUNT(*) AS error_count,
         COLLECT_LIST(msg) AS recent_errors
  FROM logs_stream
  WHERE level = 'ERROR'
  WINDOW TUMBLING (SIZE 1 HOUR)
  GROUP BY app;"""


def ensure_venv():
    import importlib.util

    if importlib.util.find_spec("confluent_kafka") is not None:
        return
    if os.path.realpath(sys.prefix) != os.path.realpath(VENV):
        if not os.path.exists(VENV_PY):
            subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        os.execv(VENV_PY, [VENV_PY, os.path.abspath(__file__)] + sys.argv[1:])
    subprocess.run([VENV_PY, "-m", "pip", "install", "-q", "confluent-kafka"], check=True)
    os.execv(VENV_PY, [VENV_PY, os.path.abspath(__file__)] + sys.argv[1:])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def record(i):
    """The i-th log record: (value bytes, timestamp ms, is ERROR, app)."""
    app = APPS[i % len(APPS)]
    level = "ERROR" if (i // len(APPS)) % 10 == 3 else ("WARN" if i % 7 == 0 else "INFO")
    ts = BASE_TS + i * 1000
    secs, ms = divmod(ts, 1000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{ms:03d}Z"
    msg = f"request {i} {'failed: upstream timeout' if level == 'ERROR' else 'handled'}"
    value = json.dumps({"timestamp": stamp, "app": app, "level": level, "msg": msg}).encode()
    return value, ts, level == "ERROR", app


class Sluice:
    def __init__(self, data_dir, log_path):
        self.data_dir = data_dir
        self.log_path = log_path
        self.proc = None

    def start(self):
        self.kafka, self.sql = free_port(), free_port()
        cmd = [SLUICE_BIN, "serve", "--data-dir", self.data_dir, "--kafka-port", str(self.kafka),
               "--sql-port", str(self.sql), "--registry-port", str(free_port()),
               "--ui-port", str(free_port()), "--connect-port", str(free_port())]
        env = {k: v for k, v in os.environ.items() if k != "RUST_LOG"}
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.sql}/info", timeout=1).read()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError(f"sluice did not start; see {self.log_path}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
        self.proc = None

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def ksql(self, statement):
        body = json.dumps({"ksql": statement, "streamsProperties": {
            "ksql.streams.auto.offset.reset": "earliest",
            "ksql.streams.cache.max.bytes.buffering": "0"}}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.sql}/ksql", data=body,
                                     headers={"Content-Type": KSQL, "Accept": KSQL})
        try:
            return json.loads(urllib.request.urlopen(req, timeout=60).read())
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{statement.split()[0:3]}: {e.read().decode()}") from None


def produce(bootstrap, n):
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic("logs", 1, 1)])["logs"].result(30)
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "batch.size": 1_000_000,
                  "queue.buffering.max.messages": 500_000, "acks": 1})
    errors = order_errors = 0
    for i in range(n):
        value, ts, is_error, app = record(i)
        errors += is_error
        order_errors += is_error and app == "order-service"
        while True:
            try:
                p.produce("logs", value, timestamp=ts)
                break
            except BufferError:
                p.poll(0.05)
        if i % 2048 == 0:
            p.poll(0)
    if p.flush(120) != 0:
        raise RuntimeError("records left unacknowledged")
    return errors, order_errors


def read_all(bootstrap, topic, expected):
    """Every record of partition 0 of `topic`: (key, value json, timestamp)."""
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"sql-bench-read-{topic}",
                  "enable.auto.commit": False, "fetch.max.bytes": 50_000_000})
    c.assign([TopicPartition(topic, 0, 0)])
    out = []
    deadline = time.time() + 300
    while len(out) < expected and time.time() < deadline:
        for m in c.consume(10_000, timeout=1):
            if m.error() is None:
                out.append((m.key(), json.loads(m.value()) if m.value() else None, m.timestamp()[1]))
    c.close()
    return out


def run_query(s, statement, sink, expected, records):
    watcher_bootstrap = f"127.0.0.1:{s.kafka}"
    cpu0, t0 = s.cpu_seconds(), time.monotonic()
    s.ksql(statement)
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": watcher_bootstrap, "group.id": "sql-bench-watch"})
    high = 0
    deadline = t0 + 900
    while time.monotonic() < deadline:
        try:
            high = c.get_watermark_offsets(TopicPartition(sink, 0), timeout=5)[1]
        except Exception:
            high = 0
        if high >= expected:
            break
        time.sleep(0.02)
    elapsed = time.monotonic() - t0
    cpu = s.cpu_seconds() - cpu0
    c.close()
    if high < expected:
        raise RuntimeError(f"{sink}: {high} of {expected} records after {elapsed:.0f}s")
    return {"seconds": elapsed, "cpu_seconds": cpu, "events_per_s": records / elapsed,
            "events_per_cpu_s": records / cpu if cpu > 0 else None, "written": high}


def baseline(data_dir, mode):
    out = subprocess.run([BASELINE_BIN, data_dir, "logs", mode], capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"sql_baseline {mode}: {out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--keep", action="store_true", help="keep the data dir")
    ap.add_argument("--json", help="also write every figure to this file")
    args = ap.parse_args()
    ensure_venv()
    for b in (SLUICE_BIN, BASELINE_BIN):
        if not os.path.exists(b):
            sys.exit(f"missing {b}: build with `cargo build --release --bin sluice` and "
                     "`cargo build --release -p sluice-server --example sql_baseline` (./x bench sql does)")
    work = tempfile.mkdtemp(prefix="sluice-sql-bench-")
    data = os.path.join(work, "data")
    log = os.path.join(work, "sluice.log")
    s = Sluice(data, log)
    n = args.records
    figures = {"records": n}
    try:
        print(f"[sql bench] producing {n:,} JSON log records ...", file=sys.stderr)
        s.start()
        t = time.monotonic()
        errors, order_errors = produce(f"127.0.0.1:{s.kafka}", n)
        print(f"[sql bench] produced in {time.monotonic() - t:.1f}s: {errors:,} ERROR, "
              f"{order_errors:,} of order-service", file=sys.stderr)
        s.stop()

        print("[sql bench] hand-written loop (sql_baseline) ...", file=sys.stderr)
        base = {m: baseline(data, m) for m in ("filter", "aggregate")}
        for m, b in base.items():
            b["events_per_s"] = b["read"] / b["seconds"]
        assert base["filter"]["written"] == order_errors, base
        assert base["aggregate"]["written"] == errors, base

        print("[sql bench] sluice: the talk's statements ...", file=sys.stderr)
        s.start()
        s.ksql(CREATE_STREAM)
        filt = run_query(s, ORDER_ERRORS, "ORDER_ERRORS", order_errors, n)
        agg = run_query(s, ERROR_COUNTS, "ERROR_COUNTS", errors, n)
        figures.update({"sluice": {"filter": filt, "aggregate": agg}, "baseline": base})

        print("[sql bench] comparing the outputs ...", file=sys.stderr)
        bs = f"127.0.0.1:{s.kafka}"
        same_filter = read_all(bs, "ORDER_ERRORS", order_errors) == read_all(bs, "baseline_order_errors", order_errors)
        finals = []
        for topic in ("ERROR_COUNTS", "baseline_error_counts"):
            last = {}
            for k, v, ts in read_all(bs, topic, errors):
                last[k] = (v, ts)
            finals.append(last)
        same_agg = finals[0] == finals[1] and len(finals[0]) > 0
        figures["same_output"] = {"filter": same_filter, "aggregate": same_agg}
    finally:
        s.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"[sql bench] kept {work}", file=sys.stderr)

    rows = [("order_errors filter", filt, base["filter"], 0.50),
            ("error_counts tumbling COUNT/COLLECT_LIST", agg, base["aggregate"], 0.25)]
    print(f"\n{n:,} JSON records, one partition; {os.cpu_count()} cores")
    print(f"{'query':<42} {'sluice ev/s':>12} {'hand-written':>13} {'ratio':>7} {'target':>7}  {'sluice ev/cpu-s':>15}  {'same output'}")
    for name, ours, ref, target in rows:
        ratio = ours["events_per_s"] / ref["events_per_s"]
        same = figures["same_output"]["filter" if "filter" in name else "aggregate"]
        per_core = ours["events_per_cpu_s"] or 0
        print(f"{name:<42} {ours['events_per_s']:>12,.0f} {ref['events_per_s']:>13,.0f} {ratio:>7.2f} "
              f"{'>=' + format(target, '.2f'):>7}  {per_core:>15,.0f}  {'yes' if same else 'NO'}")
        figures.setdefault("ratios", {})[name] = ratio
    print(f"per core vs Flink's published Nexmark q0 (~{NEXMARK_Q0_PER_CORE:,} events/s per core): "
          f"filter {(filt['events_per_cpu_s'] or 0) / NEXMARK_Q0_PER_CORE:.2f}x, "
          f"aggregation {(agg['events_per_cpu_s'] or 0) / NEXMARK_Q0_PER_CORE:.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(f"[sql bench] could not measure: {e}", file=sys.stderr)
        sys.exit(2)
