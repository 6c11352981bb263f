"""Confluent's HTTP sink (`io.confluent.connect.http.HttpSinkConnector`) against a tiny
http.server in the test: records arrive in batches (a JSON array each, headers as
configured), a server answering 500 a few times is retried with exponential backoff, a record
the server always refuses goes to the dead letter queue with Connect's error headers, and
`behavior.on.error=fail` fails the task with its trace; an https endpoint with a
self-signed certificate (made by `openssl req`) is reached with it as the PEM trust store,
and refused without it or under another host name."""
import json
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from connect_api import api, wait_until
import pytest
import requests
from kafka import KafkaConsumer, KafkaProducer

CLASS = "io.confluent.connect.http.HttpSinkConnector"
STRING = "org.apache.kafka.connect.storage.StringConverter"


class Server:
    """Records every request; answers `fail_first` requests with 500, and 400 to any body
    containing "poison"."""

    def __init__(self, fail_first=0, tls=None):
        self.requests = []
        self.fail_first = fail_first
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self._handle()

            def do_PUT(self):
                self._handle()

            def _handle(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                outer.requests.append({"t": time.monotonic(), "method": self.command, "path": self.path,
                                       "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                if "poison" in body:
                    status = 400
                elif outer.fail_first > 0:
                    outer.fail_first -= 1
                    status = 500
                else:
                    status = 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"no")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/api/events" % self.httpd.server_address[1]
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            self.url = "https://localhost:%d/api/events" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def ok(self):
        return [r for r in self.requests if "poison" not in r["body"]]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    servers = []

    def make(**kw):
        s = Server(**kw)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()


def produce(s, topic, values):
    p = KafkaProducer(bootstrap_servers=s.bootstrap)
    for v in values:
        p.send(topic, v.encode())
    p.flush()
    p.close()


def test_batches_as_json_arrays_with_headers(sluice, server):
    srv = server()
    produce(sluice, "clicks", [json.dumps({"n": i}) for i in range(10)])
    api(sluice, "PUT", "/connectors/web/config", {
        "connector.class": CLASS, "topics": "clicks", "http.api.url": srv.url,
        "request.method": "PUT", "headers": "X-Source:sluice|Authorization:Bearer t0k",
        "request.body.format": "json", "batch.max.size": "4", "batch.json.as.array": "true",
        "key.converter": STRING, "value.converter": STRING}, expect=201)
    wait_until("ten records", lambda: sum(len(json.loads(r["body"])) for r in srv.requests) >= 10)
    batches = [json.loads(r["body"]) for r in srv.requests]
    assert [x for b in batches for x in b] == [{"n": i} for i in range(10)]
    assert all(1 <= len(b) <= 4 for b in batches) and max(len(b) for b in batches) == 4
    r0 = srv.requests[0]
    assert r0["method"] == "PUT" and r0["path"] == "/api/events"
    assert r0["headers"]["x-source"] == "sluice" and r0["headers"]["authorization"] == "Bearer t0k"
    assert r0["headers"]["content-type"] == "application/json"
    st = api(sluice, "GET", "/connectors/web/status", expect=200).json()
    assert st["type"] == "sink" and st["tasks"][0]["state"] == "RUNNING"


def test_server_errors_are_retried_with_backoff(sluice, server):
    srv = server(fail_first=3)
    produce(sluice, "flaky", ["hello"])
    api(sluice, "PUT", "/connectors/flaky/config", {
        "connector.class": "HttpSink", "topics": "flaky", "http.api.url": srv.url,
        "max.retries": "5", "retry.backoff.ms": "200", "value.converter": STRING}, expect=201)
    wait_until("four attempts", lambda: len(srv.requests) >= 4)
    time.sleep(0.5)
    assert [r["body"] for r in srv.requests] == ["hello"] * 4  # 3 x 500, then 200
    t = [r["t"] for r in srv.requests]
    gaps = [b - a for a, b in zip(t, t[1:])]
    assert gaps[0] >= 0.18 and gaps[1] >= 0.38 and gaps[2] >= 0.78  # 200, 400, 800 ms
    assert srv.requests[0]["headers"]["content-type"] == "text/plain"
    off = wait_until("committed", lambda: api(sluice, "GET", "/connectors/flaky/offsets").json()["offsets"])
    assert off == [{"partition": {"kafka_topic": "flaky", "kafka_partition": 0}, "offset": {"kafka_offset": 1}}]


def test_a_permanently_failing_record_goes_to_the_dlq(sluice, server):
    srv = server()
    produce(sluice, "orders", ["ok-1", "poison-2", "ok-3"])
    api(sluice, "PUT", "/connectors/hook/config", {
        "connector.class": CLASS, "topics": "orders", "http.api.url": srv.url,
        "max.retries": "1", "retry.backoff.ms": "50", "behavior.on.error": "log",
        "errors.tolerance": "all", "errors.deadletterqueue.topic.name": "orders-dlq",
        "errors.deadletterqueue.context.headers.enable": "true", "value.converter": STRING}, expect=201)
    wait_until("the good records", lambda: len(srv.ok()) >= 2)
    assert [r["body"] for r in srv.ok()] == ["ok-1", "ok-3"]
    assert [r["body"] for r in srv.requests if "poison" in r["body"]] == ["poison-2"] * 2  # + 1 retry
    c = KafkaConsumer("orders-dlq", bootstrap_servers=sluice.bootstrap, auto_offset_reset="earliest",
                      enable_auto_commit=False, consumer_timeout_ms=15000)
    m = next(iter(c))
    c.close()
    assert m.value == b"poison-2"
    headers = {k: v.decode() for k, v in m.headers}
    assert headers["__connect.errors.stage"] == "TASK_PUT"
    assert headers["__connect.errors.offset"] == "1"
    assert headers["__connect.errors.class.name"] == CLASS
    assert "HTTP 400" in headers["__connect.errors.exception.message"]
    st = api(sluice, "GET", "/connectors/hook/status", expect=200).json()
    assert st["tasks"][0]["state"] == "RUNNING"


def test_failing_endpoint_fails_the_task_and_bad_config_is_refused(sluice, server):
    srv = server()
    produce(sluice, "bad", ["poison"])
    api(sluice, "PUT", "/connectors/strict/config", {
        "connector.class": CLASS, "topics": "bad", "http.api.url": srv.url, "max.retries": "0",
        "value.converter": STRING}, expect=201)
    st = wait_until("failed", lambda: (lambda s: s["tasks"] and s["tasks"][0]["state"] == "FAILED" and s)(
        api(sluice, "GET", "/connectors/strict/status").json()))
    assert "HTTP 400" in st["tasks"][0]["trace"]
    r = api(sluice, "PUT", "/connector-plugins/HttpSinkConnector/config/validate", {
        "connector.class": CLASS, "name": "x", "topics": "t", "http.api.url": "ftp://nope",
        "behavior.on.error": "explode", "headers": "NoColon"}, expect=200).json()
    errs = {c["value"]["name"]: c["value"]["errors"] for c in r["configs"]}
    assert any("must start with http://" in e for e in errs["http.api.url"])
    assert any("String must be one of" in e for e in errs["behavior.on.error"])
    assert any("Invalid header" in e for e in errs["headers"])


def self_signed(tmp_path):
    """A certificate for the name localhost only (its own root) and its key."""
    crt, key = str(tmp_path / "server.crt"), str(tmp_path / "server.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost", "-addext", "basicConstraints=critical,CA:TRUE",
                    "-keyout", key, "-out", crt], check=True, capture_output=True)
    return crt, key


def test_https_endpoint_with_a_pem_trust_store(sluice, server, tmp_path):
    crt, key = self_signed(tmp_path)
    srv = server(tls=(crt, key))
    produce(sluice, "secure", ["a", "b", "c"])
    base = {"connector.class": CLASS, "topics": "secure", "value.converter": STRING, "max.retries": "0"}
    api(sluice, "PUT", "/connectors/tls/config", {**base, "http.api.url": srv.url,
        "https.ssl.truststore.location": crt, "https.ssl.truststore.type": "PEM"}, expect=201)
    wait_until("three records over https", lambda: len(srv.requests) >= 3)
    assert [r["body"] for r in srv.requests] == ["a", "b", "c"]
    # Without the trust store the certificate is not trusted.
    api(sluice, "PUT", "/connectors/untrusted/config", {**base, "http.api.url": srv.url}, expect=201)
    st = wait_until("failed", lambda: (lambda s: s["tasks"] and s["tasks"][0]["state"] == "FAILED" and s)(
        api(sluice, "GET", "/connectors/untrusted/status").json()))
    assert "certificate verify failed" in st["tasks"][0]["trace"], st["tasks"][0]["trace"]
    # Another name for the same server: refused, unless host verification is off.
    by_ip = srv.url.replace("localhost", "127.0.0.1")
    api(sluice, "PUT", "/connectors/byip/config", {**base, "http.api.url": by_ip,
        "https.ssl.truststore.location": crt}, expect=201)
    st = wait_until("failed", lambda: (lambda s: s["tasks"] and s["tasks"][0]["state"] == "FAILED" and s)(
        api(sluice, "GET", "/connectors/byip/status").json()))
    assert "certificate verify failed" in st["tasks"][0]["trace"], st["tasks"][0]["trace"]
    api(sluice, "PUT", "/connectors/byip2/config", {**base, "http.api.url": by_ip,
        "https.ssl.truststore.location": crt, "https.host.verifier.enabled": "false"}, expect=201)
    wait_until("the records again, by IP", lambda: len(srv.requests) >= 6)
    assert [r["body"] for r in srv.requests] == ["a", "b", "c"] * 2
    # A trust store that is not there, or not PEM, is refused up front.
    r = api(sluice, "PUT", "/connector-plugins/HttpSinkConnector/config/validate", {
        **base, "name": "x", "http.api.url": srv.url, "https.ssl.truststore.location": str(tmp_path / "nope.pem"),
        "https.ssl.truststore.type": "JKS"}, expect=200).json()
    errs = {c["value"]["name"]: c["value"]["errors"] for c in r["configs"]}
    assert any("Could not read trust store" in e for e in errs["https.ssl.truststore.location"])
    assert any("String must be one of" in e for e in errs["https.ssl.truststore.type"])
