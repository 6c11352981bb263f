// Browser benchmark of the workbench UI: a real `sluice serve` with the built UI (ui/dist) and
// Debian's headless Chromium through playwright-core. Prints, next to their targets:
//
//   1. cold start to the first render of the topic list, as medians of --runs fresh
//      `sluice serve` processes on a data dir holding one topic:
//        spawn -> `ready` on stdout -> the topic list shows that topic,
//      once with a browser that is already running (a new tab, cold page cache: the user's
//      browser is open) and once launching Chromium too (a fresh profile each run);
//   2. 100,000 messages: from clicking "Load" (earliest, limit 100,000) to the list saying
//      "100,000 messages" with rows on screen, then the frame intervals while the virtual
//      list is scrolled end to end (requestAnimationFrame deltas: a smooth list stays near
//      the display's 16.7 ms).
//
// It is a benchmark: it asserts nothing. Exit 0 when everything was measured, 2 when
// something could not be. Environment as tests/ui/workbench.spec.mjs (SLUICE_BIN,
// SLUICE_UI_DIR, SLUICE_NODE_MODULES, CHROMIUM). `./x bench` runs it.
//
//   node tests/bench/browser.mjs [--runs N] [--messages N]

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const HOME = os.homedir();
const SLUICE_BIN = process.env.SLUICE_BIN || path.join(HOME, ".cache/sluice/target/release/sluice");
const UI_DIR = process.env.SLUICE_UI_DIR || path.join(ROOT, "ui/dist");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const require = createRequire(
    process.env.SLUICE_NODE_MODULES ? path.join(process.env.SLUICE_NODE_MODULES, "x.js") : import.meta.url,
);
const { chromium } = require("playwright-core");

const TOPIC = "bench-orders";
const TARGET_FIRST_RENDER_S = 1.5;
const TARGET_LOAD_100K_S = 3.0;
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"];

function arg(name, dflt) {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const RUNS = arg("runs", 5);
const MESSAGES = arg("messages", 100_000);

const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const pct = (xs, p) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const secs = (ms) => `${(ms / 1000).toFixed(3)} s`;

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.unref();
        s.on("error", reject);
        s.listen(0, "127.0.0.1", () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
    });
}

/// Spawns `sluice serve`; resolves at `ready` with the time it took and the UI's URL.
async function startSluice(dataDir, logPath) {
    const ports = {};
    for (const k of ["kafka", "registry", "sql", "ui"]) ports[k] = await freePort();
    const args = ["serve", "--data-dir", dataDir, "--ui-dir", UI_DIR, "--kafka-port", ports.kafka,
        "--registry-port", ports.registry, "--sql-port", ports.sql, "--ui-port", ports.ui].map(String);
    const t0 = performance.now();
    const proc = spawn(SLUICE_BIN, args, { stdio: ["ignore", "pipe", fs.openSync(logPath, "w")], env: { ...process.env, NO_COLOR: "1" } });
    const endpoints = {};
    await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "ready" within 30 s (log ${logPath})`)), 30_000);
        let buf = "";
        proc.stdout.on("data", (d) => {
            buf += d.toString();
            let i;
            while ((i = buf.indexOf("\n")) >= 0) {
                const line = buf.slice(0, i).trim();
                buf = buf.slice(i + 1);
                const m = /^(\w+) (?:[a-z]+:\/\/)?([^\s/]+):(\d+)\/?$/.exec(line);
                if (m) endpoints[m[1]] = `${m[2]}:${m[3]}`;
                if (line === "ready") {
                    clearTimeout(timer);
                    resolve();
                }
            }
        });
        proc.on("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`sluice exited (${code}) before "ready" (log ${logPath})`));
        });
    });
    const ready = performance.now() - t0;
    const stop = () => new Promise((resolve) => {
        proc.on("exit", resolve);
        proc.kill("SIGTERM");
    });
    return { t0, ready, url: `http://${endpoints.workbench}`, stop };
}

async function api(url, method, body) {
    const r = await fetch(url, { method, headers: { "content-type": "application/json" }, body: body && JSON.stringify(body) });
    if (!r.ok) throw new Error(`${method} ${url}: ${r.status} ${await r.text()}`);
    return r.json();
}

/// Time from spawn to the topic list showing TOPIC. `browser` is a running browser context,
/// or a function launching one (then Chromium and sluice start together, as an app opening
/// both would, and the time includes the launch).
async function coldStart(browser, dataDir, tmp, n) {
    const t0 = performance.now();
    const [ctx, s] = await Promise.all([
        typeof browser === "function" ? browser() : browser,
        startSluice(dataDir, path.join(tmp, `sluice-${n}.log`)),
    ]);
    try {
        const page = await ctx.newPage();
        await page.goto(`${s.url}/topics`);
        await page.waitForSelector(`[data-testid=topic-row][data-name="${TOPIC}"]`, { timeout: 30_000 });
        const rendered = performance.now() - t0;
        await page.close();
        return { ready: s.ready, rendered };
    } finally {
        await s.stop();
        if (typeof browser === "function") await ctx.close();
    }
}

async function launch(profile) {
    return chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1440, height: 900 },
    });
}

async function main() {
    for (const [what, p] of [["sluice ($SLUICE_BIN)", SLUICE_BIN], ["built UI ($SLUICE_UI_DIR)", path.join(UI_DIR, "index.html")], ["Chromium ($CHROMIUM)", CHROMIUM]]) {
        if (!fs.existsSync(p)) {
            console.log(`skipped: ${what} not found at ${p} (./x test builds it)`);
            return 0;
        }
    }
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-bench-ui-"));
    const dataDir = path.join(tmp, "data");
    let incomplete = false;
    try {
        // The data dir: one topic holding MESSAGES messages (produced through the workbench,
        // acks=all), written by an unmeasured first run.
        const first = await startSluice(dataDir, path.join(tmp, "sluice-setup.log"));
        try {
            const c = `${first.url}/api/v1/clusters/local`;
            await api(`${c}/topics`, "POST", { name: TOPIC, partitions: 3 });
            const t = performance.now();
            let left = MESSAGES;
            while (left > 0) {
                const copies = Math.min(left, 20_000);
                await api(`${c}/topics/${TOPIC}/messages`, "POST", {
                    records: [{ key: "order-key", value: JSON.stringify({ order: "Laptop", quantity: 2, note: "x".repeat(40) }), headers: [{ key: "source", value: "bench" }] }],
                    copies,
                });
                left -= copies;
            }
            console.log(`setup: ${MESSAGES.toLocaleString("en-US")} messages produced through the workbench in ${secs(performance.now() - t)}`);
        } finally {
            await first.stop();
        }

        // 1a. a browser that is already running.
        const warm = [];
        const ctx = await launch(path.join(tmp, "profile-warm"));
        try {
            await coldStart(ctx, dataDir, tmp, "warmup"); // the browser's own first-page costs
            for (let i = 0; i < RUNS; i++) warm.push(await coldStart(ctx, dataDir, tmp, `w${i}`));
        } finally {
            await ctx.close();
        }
        // 1b. Chromium launched too, each run with a fresh profile.
        const cold = [];
        for (let i = 0; i < RUNS; i++) cold.push(await coldStart(() => launch(path.join(tmp, `profile-cold-${i}`)), dataDir, tmp, `c${i}`));

        // 2. 100,000 messages into the virtual list, then a scroll through it.
        let load = NaN, frames = [], inDom = NaN, shown = "";
        const s = await startSluice(dataDir, path.join(tmp, "sluice-100k.log"));
        const ctx3 = await launch(path.join(tmp, "profile-100k"));
        try {
            const page = await ctx3.newPage();
            await page.goto(`${s.url}/topics/${TOPIC}/messages`);
            await page.waitForSelector("[data-testid=load-messages]:not([disabled])");
            await page.selectOption("[data-testid=start-from]", "earliest");
            await page.fill("[data-testid=limit]", String(MESSAGES));
            const want = `${Math.min(MESSAGES, 100_000).toLocaleString("en-US")} messages`;
            const t = performance.now();
            await page.click("[data-testid=load-messages]");
            await page.waitForFunction(
                (w) => document.querySelector("[data-testid=message-count]")?.innerText.trim() === w
                    && document.querySelectorAll("[data-testid=message-row]").length > 0,
                want, { timeout: 120_000, polling: 20 },
            );
            load = performance.now() - t;
            shown = await page.locator("[data-testid=message-count]").innerText();
            inDom = await page.locator("[data-testid=message-row]").count();
            frames = await page.evaluate(async () => {
                const row = document.querySelector("[data-testid=message-row]");
                let box = row.parentElement;
                while (box && !(box.scrollHeight > box.clientHeight + 10 && getComputedStyle(box).overflowY !== "visible")) box = box.parentElement;
                if (!box) return [];
                const deltas = [];
                const step = Math.max(1, (box.scrollHeight - box.clientHeight) / 240);
                return new Promise((resolve) => {
                    let last = performance.now(), n = 0;
                    const tick = (now) => {
                        deltas.push(now - last);
                        last = now;
                        box.scrollTop = Math.min(box.scrollHeight, step * ++n);
                        if (n < 240) requestAnimationFrame(tick);
                        else resolve(deltas.slice(1));
                    };
                    requestAnimationFrame(tick);
                });
            });
        } finally {
            await ctx3.close();
            await s.stop();
        }

        const rows = [
            ["figure", "sluice", "target"],
            ["spawn -> ready (median)", secs(median(warm.map((r) => r.ready))), ""],
            ["spawn -> topic list rendered, browser running", secs(median(warm.map((r) => r.rendered))), `< ${TARGET_FIRST_RENDER_S} s`],
            ["  (min / max)", `${secs(Math.min(...warm.map((r) => r.rendered)))} / ${secs(Math.max(...warm.map((r) => r.rendered)))}`, ""],
            ["spawn with Chromium launch -> topic list rendered", secs(median(cold.map((r) => r.rendered))), `< ${TARGET_FIRST_RENDER_S} s`],
            [`load ${shown.trim() || "?"} into the list`, secs(load), `< ${TARGET_LOAD_100K_S} s`],
            ["rows in the DOM with them loaded", String(inDom), "virtual"],
            ["scroll end to end: frame interval p50 / p95 / max",
                frames.length ? `${median(frames).toFixed(1)} / ${pct(frames, 95).toFixed(1)} / ${Math.max(...frames).toFixed(1)} ms` : "n/a", "~16.7 ms"],
        ];
        const w0 = Math.max(...rows.map((r) => r[0].length)), w1 = Math.max(...rows.map((r) => r[1].length));
        console.log(`\nworkbench UI in headless Chromium, ${RUNS} runs each, ${os.cpus().length} cores`);
        for (const r of rows) console.log(`  ${r[0].padEnd(w0)}  ${r[1].padStart(w1)}  ${r[2]}`);
        if (!frames.length || Number.isNaN(load)) incomplete = true;
    } catch (e) {
        console.error(`not measured: ${e.message}`);
        incomplete = true;
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
    return incomplete ? 2 : 0;
}

main().then((code) => process.exit(code), (e) => {
    console.error(e);
    process.exit(2);
});
