"""PostgreSQL connections over TLS for Debezium's PostgreSQL connector (`database.sslmode`,
`database.sslrootcert`) and Confluent's JDBC connectors (`sslmode` / `sslrootcert` in the
`jdbc:postgresql:` URL), against a server that takes TLS connections only (the `postgres_ssl`
fixture: a self-signed certificate made by `openssl req`), as libpq names the modes: require
encrypts, verify-ca checks the chain, verify-full also the host name; and require against a
server without TLS fails the task with an error that says so."""
import json
import subprocess
import time

from conftest import unique
from connect_api import api, wait_until
from kafka import KafkaConsumer

CDC = "io.debezium.connector.postgresql.PostgresConnector"
JDBC_SOURCE = "io.confluent.connect.jdbc.JdbcSourceConnector"


def read(s, topic, n, timeout=30.0):
    c = KafkaConsumer(topic, bootstrap_servers=s.bootstrap, auto_offset_reset="earliest",
                      enable_auto_commit=False)
    out = []
    try:
        deadline = time.monotonic() + timeout
        while len(out) < n and time.monotonic() < deadline:
            for records in c.poll(timeout_ms=300).values():
                out.extend(json.loads(m.value)["payload"] for m in records if m.value is not None)
    finally:
        c.close()
    return out


def failed_trace(s, name):
    st = wait_until(name + " failed", lambda: (lambda st: st["tasks"] and st["tasks"][0]["state"] == "FAILED" and st)(
        api(s, "GET", "/connectors/%s/status" % name).json()))
    return st["tasks"][0]["trace"]


def cdc_config(pg, db, slot, prefix, **tls):
    return {"connector.class": CDC, "database.hostname": "127.0.0.1", "database.port": str(pg.port),
            "database.user": "sluice", "database.dbname": db, "topic.prefix": prefix,
            "slot.name": slot, "publication.name": slot + "_pub", "table.include.list": "public.items",
            "poll.interval.ms": "100", **tls}


def ssl_backends(pg, db):
    """How many connections to `db` use TLS, and how many do not (psql's own included)."""
    rows = pg.query("SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = '%s'"
                    % db)
    return sum(r[0] == "t" for r in rows), sum(r[0] == "f" for r in rows)


def test_cdc_over_tls_require_verify_ca_and_verify_full(sluice, postgres_ssl):
    pg = postgres_ssl
    db = pg.create_database(unique("db"))
    pg.query("CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items VALUES (1, 'a')", db)
    # (The certificate names localhost: verify-full connects by that name.)
    for i, (mode, extra) in enumerate([("require", {}), ("verify-ca", {"database.sslrootcert": pg.ca_cert}),
                                       ("verify-full", {"database.sslrootcert": pg.ca_cert,
                                                        "database.hostname": "localhost"})]):
        name = "tls%d" % i
        slot = unique("slot").replace("-", "_").lower()
        api(sluice, "PUT", "/connectors/%s/config" % name,
            {**cdc_config(pg, db, slot, name, **{"database.sslmode": mode}), **extra}, expect=201)
        got = read(sluice, name + ".public.items", 1)
        assert [p["after"] for p in got] == [{"id": 1, "name": "a"}], mode
        assert api(sluice, "GET", "/connectors/%s/status" % name).json()["tasks"][0]["state"] == "RUNNING"
    # The server takes TLS only, and every connector's connection is one.
    tls, plain = ssl_backends(pg, db)
    assert tls >= 3 and plain == 0
    # Streaming goes on over TLS.
    pg.query("INSERT INTO items VALUES (2, 'b')", db)
    assert [p["after"]["id"] for p in read(sluice, "tls0.public.items", 2)] == [1, 2]


def test_cdc_tls_failures_say_why(sluice, postgres, postgres_ssl, tmp_path):
    # require against a server without TLS.
    db = postgres.create_database(unique("db"))
    postgres.query("CREATE TABLE items (id int PRIMARY KEY)", db)
    api(sluice, "PUT", "/connectors/notls/config",
        cdc_config(postgres, db, "s_notls", "notls", **{"database.sslmode": "require"}), expect=201)
    trace = failed_trace(sluice, "notls")
    assert "Could not connect to PostgreSQL (sslmode=require)" in trace and "server does not support TLS" in trace, trace
    # The same server with the default (prefer) connects in plain text.
    api(sluice, "PUT", "/connectors/plain/config", cdc_config(postgres, db, "s_plain", "plain"), expect=201)
    wait_until("running", lambda: api(sluice, "GET", "/connectors/plain/status").json()["tasks"][0]["state"] == "RUNNING")
    # A TLS-only server refuses sslmode=disable.
    pg = postgres_ssl
    sdb = pg.create_database(unique("db"))
    pg.query("CREATE TABLE items (id int PRIMARY KEY)", sdb)
    api(sluice, "PUT", "/connectors/off/config",
        cdc_config(pg, sdb, "s_off", "off", **{"database.sslmode": "disable"}), expect=201)
    trace = failed_trace(sluice, "off")
    assert "sslmode=disable" in trace and "no encryption" in trace, trace
    # verify-ca with a root the server's certificate does not chain to.
    other = tmp_path / "other.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=other",
                    "-keyout", str(tmp_path / "other.key"), "-out", str(other)], check=True, capture_output=True)
    api(sluice, "PUT", "/connectors/wrongca/config",
        cdc_config(pg, sdb, "s_wrongca", "wrongca", **{"database.sslmode": "verify-ca",
                                                        "database.sslrootcert": str(other)}), expect=201)
    trace = failed_trace(sluice, "wrongca")
    assert "sslmode=verify-ca" in trace and "certificate verify failed" in trace, trace
    # verify-full checks the host name: the certificate names localhost, not 127.0.0.1 (which
    # verify-ca accepted above).
    api(sluice, "PUT", "/connectors/wronghost/config",
        cdc_config(pg, sdb, "s_wronghost", "wronghost", **{"database.sslmode": "verify-full",
                                                           "database.sslrootcert": pg.ca_cert}), expect=201)
    trace = failed_trace(sluice, "wronghost")
    assert "sslmode=verify-full" in trace and "certificate verify failed" in trace, trace
    # A bad mode is refused before the connector runs.
    r = api(sluice, "PUT", "/connector-plugins/PostgresConnector/config/validate",
            {**cdc_config(pg, sdb, "s_bad", "bad"), "connector.class": CDC, "name": "bad",
             "database.sslmode": "sometimes"}, expect=200).json()
    errs = {c["value"]["name"]: c["value"]["errors"] for c in r["configs"]}
    assert any("String must be one of" in e for e in errs["database.sslmode"])


def test_jdbc_source_over_tls_from_the_url(sluice, postgres_ssl):
    pg = postgres_ssl
    db = pg.create_database(unique("db"))
    pg.query("CREATE TABLE orders (id serial PRIMARY KEY, item text); "
             "INSERT INTO orders (item) VALUES ('x'), ('y')", db)
    base = {"connector.class": JDBC_SOURCE, "connection.user": "sluice", "table.whitelist": "orders",
            "mode": "incrementing", "incrementing.column.name": "id", "poll.interval.ms": "100"}
    api(sluice, "PUT", "/connectors/jtls/config", {**base, "topic.prefix": "jtls-", "connection.url":
        "%s?sslmode=verify-full&sslrootcert=%s" % (pg.url(db).replace("127.0.0.1", "localhost"), pg.ca_cert)},
        expect=201)
    assert [r["item"] for r in read(sluice, "jtls-orders", 2)] == ["x", "y"]
    api(sluice, "PUT", "/connectors/jreq/config", {**base, "topic.prefix": "jreq-", "connection.url":
        "%s?sslmode=require" % pg.url(db)}, expect=201)
    assert [r["item"] for r in read(sluice, "jreq-orders", 2)] == ["x", "y"]
    api(sluice, "PUT", "/connectors/jplain/config", {**base, "topic.prefix": "jplain-", "connection.url":
        "%s?sslmode=disable" % pg.url(db)}, expect=201)
    trace = failed_trace(sluice, "jplain")
    assert "sslmode=disable" in trace and "no encryption" in trace, trace
