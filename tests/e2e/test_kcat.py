"""kcat (Debian's, on its own librdkafka): metadata listing, keyed produce, consume back."""
import shutil
import subprocess

import pytest

from conftest import unique


def kcat(*args, input=None, timeout=60):
    proc = subprocess.run(["kcat", *args], input=input, capture_output=True, text=True, timeout=timeout)
    return proc


@pytest.fixture(scope="module")
def kcat_present():
    if shutil.which("kcat") is None:
        pytest.fail("kcat is not installed (./x installs it with apt)")


def test_kcat(kcat_present, sluice):
    b = sluice.bootstrap
    topic = unique("kcat")
    diag = lambda p: "exit %d\nstdout: %s\nstderr: %s\n%s" % (  # noqa: E731
        p.returncode, p.stdout[-2000:], p.stderr[-2000:], sluice.log_tail())

    listing = kcat("-b", b, "-L")
    assert listing.returncode == 0, diag(listing)
    assert "1 brokers:" in listing.stdout and ("at %s" % b) in listing.stdout, diag(listing)

    lines = ["k%d:value %d with spaces, and: a colon" % (i % 4, i) for i in range(40)]
    prod = kcat("-b", b, "-P", "-t", topic, "-K:", input="\n".join(lines) + "\n")
    assert prod.returncode == 0, diag(prod)

    listing = kcat("-b", b, "-L", "-t", topic)
    assert listing.returncode == 0 and ('topic "%s"' % topic) in listing.stdout, diag(listing)

    cons = kcat("-b", b, "-C", "-t", topic, "-e", "-o", "beginning", "-f", "%k:%s\n")
    assert cons.returncode == 0, diag(cons)
    got = cons.stdout.splitlines()
    assert sorted(got) == sorted(lines), "read back differs:\n%s" % diag(cons)
    # Partitions may interleave, but each key lives in one partition: its order is kept.
    for k in range(4):
        prefix = "k%d:" % k
        assert [ln for ln in got if ln.startswith(prefix)] == [ln for ln in lines if ln.startswith(prefix)]
