"""The desktop app under Xvfb: sluice-desktop starts the engine in-process, prints its
endpoints and `ready`, serves real Kafka clients, opens one window titled "Sluice" that
renders the workbench UI (the topic list shows a topic a client just created), and exits
cleanly on SIGTERM with everything it acknowledged on disk.

Screenshots land in tests/artifacts/desktop/. Run: ./x test (step "desktop"), or
  $HOME/.cache/sluice/venv/bin/python -m pytest tests/desktop -v -s
"""
import shutil
import time

import pytest

from harness import (
    ARTIFACTS,
    DESKTOP_BIN,
    UI_DIR,
    Desktop,
    Xvfb,
    close_window,
    create_topic,
    find_windows,
    grab,
    ocr,
    press,
    window_geometry,
)

TOPIC = "desktop-orders"

pytestmark = pytest.mark.skipif(
    not shutil.which("Xvfb") or not shutil.which("xdotool") or not shutil.which("import"),
    reason="needs Xvfb, xdotool and ImageMagick (./x test installs them)",
)


@pytest.fixture
def xvfb():
    x = Xvfb()
    yield x
    x.stop()


@pytest.fixture
def desktop(xvfb, tmp_path, request):
    assert DESKTOP_BIN.exists(), "no %s: build it with ./x test or ./x run" % DESKTOP_BIN
    assert (UI_DIR / "index.html").exists(), "no built UI in %s" % UI_DIR
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    app = Desktop(xvfb, tmp_path / "data", ui_path="/topics", log_path=ARTIFACTS / (request.node.name + ".log"))
    app.log_path.unlink(missing_ok=True)
    app.start()
    yield app
    app.kill()


def test_window_shows_the_topic_list_and_exits_cleanly(xvfb, desktop):
    ready_s = desktop.wait_ready()
    print("\nready after %.2fs: %s" % (ready_s, desktop.endpoints))
    assert set(desktop.endpoints) >= {"kafka", "workbench"}, desktop.endpoints

    # A real client against the printed Kafka address.
    create_topic(desktop.endpoints["kafka"], TOPIC)

    # One window titled exactly "Sluice", of the size asked for.
    deadline = time.monotonic() + 30
    while not find_windows(xvfb) and time.monotonic() < deadline:
        time.sleep(0.2)
    windows = find_windows(xvfb)
    assert windows, "no window titled Sluice" + desktop.log_tail()
    geometry = window_geometry(xvfb, windows[0])
    print("window %s geometry %s" % (windows, geometry))
    assert geometry == (1280, 860), geometry

    # The UI renders and its topic list shows the topic (it reloads every 10 s).
    found, text, shot = False, "", None
    deadline = time.monotonic() + 60
    n = 0
    while time.monotonic() < deadline:
        frame = grab(xvfb)
        n += 1
        if frame.looks_rendered():
            shot = frame.save_png(ARTIFACTS / "topics.png")
            text = ocr(shot)
            if text is None:  # no OCR here: a rendered page is all that can be checked
                found = True
                print("tesseract not installed: checked only that the window rendered")
                break
            if TOPIC in text:
                found = True
                break
        elif n == 1 or n % 10 == 0:
            frame.save_png(ARTIFACTS / "not-rendered-yet.png")
        time.sleep(1.0)
    assert shot is not None, "the screen never showed a rendered page" + desktop.log_tail()
    print("screenshot %s: %d colours, dominant colour %.0f%%" % (
        shot, frame.distinct_colours(), 100 * frame.dominant_share()))
    assert found, "topic %r not on screen; OCR read:\n%s" % (TOPIC, text)
    print("the topic list on screen shows %r" % TOPIC)

    # The window takes keyboard input: j selects the first topic, Enter opens it, and the
    # topic's page shows its records (values {"order": N} written above).
    press(xvfb, windows[0], "j", "Return")

    def on_detail_page(text):
        return TOPIC in text and '"order"' in text and "Export" in text

    detail_text = ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(1.0)
        detail = grab(xvfb).save_png(ARTIFACTS / "topic-detail.png")
        detail_text = ocr(detail)
        if detail_text is None or on_detail_page(detail_text):
            break
    if detail_text is not None:
        assert on_detail_page(detail_text), "the topic's records are not on screen; OCR read:\n%s" % detail_text
        print("the topic page on screen shows its records")

    rss = desktop.rss_bytes()
    print("idle RSS of the app and its WebKit processes: %.0f MB (PSS %.0f MB, anonymous %.0f MB): %s" % (
        rss / 1e6, desktop.pss_bytes() / 1e6, desktop.anon_bytes() / 1e6, desktop.memory_report()))
    assert rss > 0

    code = desktop.terminate()
    assert code == 0, "exit code %s on SIGTERM%s" % (code, desktop.log_tail())
    log = desktop.log_path.read_text(errors="replace")
    assert "engine stopped" in log, desktop.log_tail()
    # Everything acknowledged is in the log on disk.
    assert (desktop.data_dir / "topics" / TOPIC).is_dir()


def test_closing_the_window_stops_the_engine_cleanly(xvfb, desktop):
    desktop.wait_ready()
    create_topic(desktop.endpoints["kafka"], TOPIC, records=3)
    deadline = time.monotonic() + 30
    while not find_windows(xvfb) and time.monotonic() < deadline:
        time.sleep(0.2)
    windows = find_windows(xvfb)
    assert windows, "no window titled Sluice" + desktop.log_tail()
    close_window(xvfb, windows[0])
    code = desktop.proc.wait(30)
    assert code == 0, "exit code %s after closing the window%s" % (code, desktop.log_tail())
    log = desktop.log_path.read_text(errors="replace")
    # No signal was sent: the window's close request alone ended the app.
    assert "signal received" not in log and "engine stopped" in log, desktop.log_tail()
    assert (desktop.data_dir / "topics" / TOPIC).is_dir()
    print("\nclosing the window: exit 0, engine stopped")
