#!/usr/bin/env python3
"""Desktop app benchmark: sluice-desktop under Xvfb, figures next to their targets.

  1. cold start to first render of the topic list: spawn -> `ready` on stdout -> a window
     titled "Sluice" exists -> the first non-blank screenshot -> the first screenshot whose
     text (OCR, tesseract) shows a topic that was created beforehand. Screenshots are taken
     back to back with `import -window root` at nice 19, so they use only CPU the app leaves
     over (each takes tens of ms, which bounds the resolution; the step is printed);
  2. idle memory of the whole app: the process plus its WebKit children (WebKitWebProcess,
     WebKitNetworkProcess), 5 s after the first render, as summed RSS and as PSS;
  3. SIGTERM to exit.

Browser cold start (Chromium + playwright-core) is measured by tests/bench/browser.mjs.

The first run creates the topic on a fresh data dir (and is not measured); `--runs` measured
runs follow on that data dir, each a fresh process; medians are reported. It is a benchmark:
it prints figures and asserts nothing; exit 2 when something could not be measured, 0 when
it was skipped for want of a binary, Xvfb or a built UI. Run with the venv's python
(`./x bench` does), or any python3 with kafka-python installed.
"""
import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "desktop"))

import harness  # noqa: E402
from harness import ARTIFACTS, DESKTOP_BIN, UI_DIR, Desktop, Xvfb, create_topic, find_windows, grab, ocr  # noqa: E402

TOPIC = "bench-orders"
TARGET_FIRST_RENDER_S = 1.5
TARGET_IDLE_RSS_MB = 300


def one_run(xvfb, data_dir, index, settle_s=1.5, timeout_s=30.0):
    app = Desktop(xvfb, data_dir, ui_path="/topics", log_path=ARTIFACTS / ("bench-run-%d.log" % index))
    app.log_path.unlink(missing_ok=True)
    window_at = []

    def watch_window():
        while not window_at and time.monotonic() - app.spawned_at < timeout_s:
            if find_windows(xvfb):
                window_at.append(time.monotonic())
                return
            time.sleep(0.02)

    app.start()
    threading.Thread(target=watch_window, daemon=True).start()
    frames = []  # distinct consecutive frames: (frame, digest)
    ready_s = None
    try:
        # `ready` is read in the background; screenshots start at once.
        last_change = time.monotonic()
        grabs = 0
        grab_time = 0.0
        while time.monotonic() - app.spawned_at < timeout_s:
            t0 = time.monotonic()
            frame = grab(xvfb, nice=True)
            grab_time += time.monotonic() - t0
            grabs += 1
            digest = hashlib.blake2b(frame.rgb, digest_size=16).digest()
            if not frames or frames[-1][1] != digest:
                frames.append((frame, digest))
                last_change = frame.at
            elif frame.looks_rendered() and frame.at - last_change > settle_s:
                break
            if ready_s is None:
                while not app.lines.empty():
                    line = app.lines.get_nowait()
                    if line == "ready":
                        ready_s = app.ready_at - app.spawned_at
                    elif line is None:
                        raise RuntimeError("the app exited" + app.log_tail())
                    else:
                        m = harness.ENDPOINT_RE.match(line)
                        if m:
                            app.endpoints[m.group(1)] = m.group(2)
        if ready_s is None:
            ready_s = app.wait_ready(timeout=5) if app.proc.poll() is None else None

        first_paint = next((f for f, _ in frames if f.looks_rendered()), None)
        # Earliest frame that shows the topic: walk back from the last one while OCR finds it.
        shown = None
        for frame, _ in reversed(frames):
            if not frame.looks_rendered():
                break
            png = frame.save_png(Path(data_dir).parent / "frame.png")
            text = ocr(png)
            if text is None or TOPIC not in text:
                break
            shown = frame
        if shown is not None:
            shown.save_png(ARTIFACTS / ("bench-first-topic-list-%d.png" % index))
        if frames:
            frames[-1][0].save_png(ARTIFACTS / ("bench-final-%d.png" % index))

        time.sleep(5.0)
        rss = app.rss_bytes()
        pss = app.pss_bytes()
        anon = app.anon_bytes()
        names = app.memory_report()
        t0 = time.monotonic()
        code = app.terminate()
        exit_s = time.monotonic() - t0
        rel = lambda t: None if t is None else t - app.spawned_at  # noqa: E731
        return {
            "ready_s": ready_s,
            "window_s": rel(window_at[0]) if window_at else None,
            "first_paint_s": rel(first_paint.at) if first_paint else None,
            "topic_list_s": rel(shown.at) if shown else None,
            "rss_mb": rss / 1e6,
            "pss_mb": pss / 1e6,
            "anon_mb": anon / 1e6,
            "processes": names,
            "exit_code": code,
            "exit_s": exit_s,
            "grab_ms": 1000 * grab_time / max(grabs, 1),
            "ocr": shutil.which("tesseract") is not None,
        }
    finally:
        app.kill()


def fmt(v, unit="s"):
    if v is None:
        return "n/a"
    return "%.2f %s" % (v, unit) if unit == "s" else "%.0f %s" % (v, unit)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="measured runs (default 3; medians)")
    args, _ignored = ap.parse_known_args()  # ./x bench passes every script the same args

    missing = [t for t in ("Xvfb", "xdotool", "import") if not shutil.which(t)]
    if missing or not DESKTOP_BIN.exists() or not (UI_DIR / "index.html").exists():
        print("desktop bench skipped: missing %s" % (
            ", ".join(missing + [str(p) for p in (DESKTOP_BIN, UI_DIR / "index.html") if not p.exists()])))
        return 0
    if not shutil.which("tesseract"):
        print("note: no tesseract, so the topic list cannot be read off the screen; "
              "only the first non-blank frame is timed")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    xvfb = Xvfb()
    work = Path(tempfile.mkdtemp(prefix="sluice-desktop-bench-"))
    data_dir = work / "data"
    results = []
    try:
        # Unmeasured first run: create the topic, so every measured run finds it in place.
        (ARTIFACTS / "bench-prep.log").unlink(missing_ok=True)
        prep = Desktop(xvfb, data_dir, log_path=ARTIFACTS / "bench-prep.log").start()
        try:
            prep.wait_ready()
            create_topic(prep.endpoints["kafka"], TOPIC)
            if prep.terminate() != 0:
                print("the preparation run did not exit cleanly" + prep.log_tail())
                return 2
        finally:
            prep.kill()
        for i in range(1, args.runs + 1):
            r = one_run(xvfb, data_dir, i)
            results.append(r)
            print("run %d: ready %s, window %s, first paint %s, topic list %s, idle RSS %s (PSS %s), "
                  "exit %s (code %s), screenshot every %.0f ms" % (
                      i, fmt(r["ready_s"]), fmt(r["window_s"]), fmt(r["first_paint_s"]),
                      fmt(r["topic_list_s"]), fmt(r["rss_mb"], "MB"), fmt(r["pss_mb"], "MB"), fmt(r["exit_s"]),
                      r["exit_code"], r["grab_ms"]), flush=True)
    finally:
        xvfb.stop()
        shutil.rmtree(work, ignore_errors=True)

    def med(key):
        vals = [r[key] for r in results if r[key] is not None]
        return statistics.median(vals) if vals else None

    first_render = med("topic_list_s") if any(r["ocr"] for r in results) else med("first_paint_s")
    rss = med("rss_mb")
    pss = med("pss_mb")
    anon = med("anon_mb")
    print()
    print("load average during the runs: %.1f (1 min) on %d cores; a busy machine slows "
          "the first render most" % (os.getloadavg()[0], os.cpu_count() or 0))
    print("%-44s %12s %12s  %s" % ("desktop (median of %d)" % len(results), "measured", "target", ""))
    rows = [
        ("spawn -> `ready` (engine up, window created)", fmt(med("ready_s")), "", ""),
        ("spawn -> window titled Sluice exists", fmt(med("window_s")), "", ""),
        ("spawn -> first non-blank frame", fmt(med("first_paint_s")), "", ""),
        ("spawn -> topic list shows the topic", fmt(med("topic_list_s")), "< %.1f s" % TARGET_FIRST_RENDER_S,
         "" if first_render is None else ("ok" if first_render < TARGET_FIRST_RENDER_S else "MISSED")),
        ("idle RSS, app + WebKit processes (summed)", fmt(rss, "MB"), "< %d MB" % TARGET_IDLE_RSS_MB,
         "" if rss is None else ("ok" if rss < TARGET_IDLE_RSS_MB else "MISSED")),
        ("idle PSS, same (shared libraries once)", fmt(pss, "MB"), "< %d MB" % TARGET_IDLE_RSS_MB,
         "" if pss is None else ("ok" if pss < TARGET_IDLE_RSS_MB else "MISSED")),
        ("idle anonymous RSS, same (heap and stacks)", fmt(anon, "MB"), "", ""),
        ("SIGTERM -> exit", fmt(med("exit_s")), "", ""),
    ]
    for row in rows:
        print("%-44s %12s %12s  %s" % row)
    if results:
        print("processes (RSS/PSS), last run: %s" % results[-1]["processes"])
        print("RSS sums pages the processes share (libwebkit2gtk, GTK, ...) once per process; "
              "PSS splits them, so it is the app's real share of memory.")
    bad = [r for r in results if r["exit_code"] != 0 or r["topic_list_s" if r["ocr"] else "first_paint_s"] is None]
    return 2 if bad or not results else 0


if __name__ == "__main__":
    sys.exit(main())
