"""The shared conformance runner for Kafka clients (../shared/conformance/run_clients.py):
kafka-python and confluent-kafka against a broker on a free port, and the talk's programs
against a broker on localhost:9092."""
import re
import subprocess
import sys

import pytest

SUMMARY_RE = re.compile(r"^(\d+) passed, (\d+) failed$")


def run_clients(shared_dir, broker, bootstrap, suites, tmp_path, timeout):
    runner = shared_dir / "conformance" / "run_clients.py"
    if not runner.is_file():
        pytest.skip("conformance runner not found at %s" % runner)
    log = tmp_path / ("run_clients-%s.log" % suites.replace(",", "+"))
    with open(log, "w") as out:
        try:
            proc = subprocess.run(
                [sys.executable, "-u", str(runner), "--bootstrap", bootstrap, "--suites", suites],
                cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, text=True, timeout=timeout)
            rc = proc.returncode
        except subprocess.TimeoutExpired:
            rc = "timeout after %ds" % timeout
    output = log.read_text()
    lines = [ln for ln in output.splitlines() if ln.strip()]
    fails = [ln for ln in lines if ln.startswith("FAIL")]
    detail = "\n".join(fails[:40]) + "\n--- runner output (tail) ---\n" + "\n".join(lines[-60:]) + \
        "\n" + broker.log_tail()
    assert rc == 0, "run_clients.py --suites %s: exit %s\n%s" % (suites, rc, detail)
    m = SUMMARY_RE.match(lines[-1]) if lines else None
    assert m, "last line is not 'N passed, M failed': %r\n%s" % (lines[-1:], detail)
    passed, failed = int(m.group(1)), int(m.group(2))
    assert failed == 0 and passed > 0, detail
    return passed


@pytest.mark.timeout(1500)
def test_conformance_clients(shared_dir, sluice, tmp_path):
    run_clients(shared_dir, sluice, sluice.bootstrap, "kafka-python,confluent-kafka", tmp_path, timeout=1200)


def test_conformance_talk(shared_dir, sluice_9092, tmp_path):
    # "localhost:9092" exactly, so the runner runs the programs verbatim (no rewrite).
    run_clients(shared_dir, sluice_9092, "localhost:9092", "talk", tmp_path, timeout=300)
