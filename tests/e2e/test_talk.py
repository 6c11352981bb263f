"""The talk's producer and consumer programs, byte for byte (tests/e2e/talk/), against a
Sluice on localhost:9092, the address they hard-code."""
import subprocess
import sys
import threading
from pathlib import Path

TALK_DIR = Path(__file__).resolve().parent / "talk"
EXPECTED = "An order of Laptop with quantity 2 received."


def test_seed_examples(sluice_9092, tmp_path):
    # -u only unbuffers the consumer's print() into our pipe; the programs are unchanged.
    prod = subprocess.run([sys.executable, "-u", str(TALK_DIR / "producer.py")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=90)
    assert prod.returncode == 0, "producer.py exited %d\n%s\n%s" % (
        prod.returncode, prod.stderr[-2000:], sluice_9092.log_tail())

    cons = subprocess.Popen([sys.executable, "-u", str(TALK_DIR / "consumer.py")], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, found = [], threading.Event()

    def reader():
        for line in cons.stdout:
            lines.append(line.rstrip("\n"))
            if line.strip() == EXPECTED:
                found.set()

    threading.Thread(target=reader, daemon=True).start()
    try:
        found.wait(60)
    finally:
        cons.kill()  # it loops forever, as in the talk
        cons.wait(10)
    assert found.is_set(), "consumer.py did not print %r within 60 s; stdout %r\nstderr %s\n%s" % (
        EXPECTED, lines[-5:], cons.stderr.read()[-2000:], sluice_9092.log_tail())
    assert lines.count(EXPECTED) == 1, "the single order was printed %d times: %r" % (
        lines.count(EXPECTED), lines)
