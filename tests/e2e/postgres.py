"""A throwaway PostgreSQL server for the end-to-end tests: Debian's `postgresql` package
(./x installs it), a fresh cluster in a temp dir on a free loopback port with
`wal_level=logical` (change data capture needs it), trust authentication for the `sluice`
superuser, stopped and removed at the end. Queries go through the `psql` CLI, so the tests
need no Python driver. `Postgres(ssl=True)`: a server that takes TLS connections only
(`hostssl` in pg_hba.conf), with a self-signed certificate made by the `openssl` CLI for
the name `localhost` only (`ca_cert` is its PEM file, the root a client verifies with)."""
import os
import glob
import shutil
import socket
import subprocess
import tempfile
import time


def _pg_bin():
    """The directory of initdb/pg_ctl: the newest /usr/lib/postgresql/*/bin, else PATH."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                  key=lambda d: int(d.split("/")[-2]) if d.split("/")[-2].isdigit() else 0)
    if dirs:
        return dirs[-1]
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(found)
    raise RuntimeError("no PostgreSQL server binaries (initdb): install Debian's `postgresql` "
                       "package (./x test does)")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    USER = "sluice"

    def __init__(self, ssl=False):
        self.bin = _pg_bin()
        self.dir = tempfile.mkdtemp(prefix="sluice-pg-")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "server.log")
        self.port = _free_port()
        # PostgreSQL refuses to run as root: run it as the package's `postgres` user.
        self.as_user = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run([os.path.join(self.bin, "initdb"), "-D", self.data, "-U", self.USER,
                   "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"])
        opts = ("-p %d -k %s -c listen_addresses=127.0.0.1 -c wal_level=logical "
                "-c max_replication_slots=20 -c max_wal_senders=20 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off" % (self.port, self.dir))
        self.ca_cert = None
        if ssl:
            opts += self._make_certificate()
        self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-o", opts, "-l", self.log,
                   "-w", "-t", "60", "start"])
        deadline = time.monotonic() + 30
        while True:
            try:
                self.query("SELECT 1")
                break
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _make_certificate(self):
        """A self-signed server certificate (CA:TRUE, so it is its own root) and TLS-only
        access over TCP; returns the server options that turn TLS on."""
        crt, key = os.path.join(self.data, "server.crt"), os.path.join(self.data, "server.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                        "-addext", "basicConstraints=critical,CA:TRUE", "-keyout", key, "-out", crt],
                       check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        os.chmod(key, 0o600)
        if self.as_user:
            for f in (crt, key):
                shutil.chown(f, "postgres", "postgres")
        self.ca_cert = os.path.join(self.dir, "root.crt")
        shutil.copy(crt, self.ca_cert)
        os.chmod(self.ca_cert, 0o644)
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write("local all all trust\nhostssl all all 127.0.0.1/32 trust\n")
        return " -c ssl=on -c ssl_cert_file=%s -c ssl_key_file=%s" % (crt, key)

    def _run(self, cmd):
        subprocess.run(self.as_user + cmd, check=True, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, cwd=self.dir)

    def url(self, db="postgres"):
        """The JDBC URL a connector config uses."""
        return "jdbc:postgresql://127.0.0.1:%d/%s" % (self.port, db)

    def dsn(self, db="postgres"):
        return "postgresql://%s@127.0.0.1:%d/%s" % (self.USER, self.port, db)

    def query(self, sql, db="postgres"):
        """Runs SQL with psql; returns the rows as lists of strings (NULL as None)."""
        out = subprocess.run(
            ["psql", "-X", "-q", "-A", "-t", "-F", "\x1f", "-P", "null=\x1e",
             "-v", "ON_ERROR_STOP=1", "-d", self.dsn(db), "-c", sql],
            check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        rows = []
        for line in out.stdout.split("\n"):
            if line == "":
                continue
            rows.append([None if f == "\x1e" else f for f in line.split("\x1f")])
        return rows

    def create_database(self, name):
        self.query('CREATE DATABASE "%s"' % name)
        return name

    def stop(self):
        subprocess.run(self.as_user + [os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m",
                                       "immediate", "-w", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)
