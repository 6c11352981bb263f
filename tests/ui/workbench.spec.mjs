// Browser test of the workbench UI: a real `sluice serve` with the built UI (ui/dist), driven
// in Debian's headless Chromium through playwright-core, with kafka-python as the outside
// client. Plain node script: `node tests/ui/workbench.spec.mjs`.
//
// Environment:
//   SLUICE_BIN            the sluice binary (default ~/.cache/sluice/target/release/sluice)
//   SLUICE_UI_DIR         the built UI (default ui/dist next to this repo's root)
//   SLUICE_PYTHON         python with kafka-python (default ~/.cache/sluice/venv/bin/python)
//   SLUICE_NODE_MODULES   where playwright-core is installed (default: normal resolution)
//   CHROMIUM              the browser (default /usr/bin/chromium)
//   SLUICE_SHARED         the shared folder with seed-examples/order.avsc, logs.ksql (default
//                         ../shared; the `sql:` steps skip without logs.ksql)
//   SLUICE_UI_ONLY        run only the steps whose name matches this regex (while developing;
//                         the `schemas:` and `sql:` steps stand on their own)
// Screenshots of every view go to tests/artifacts/ui/.

import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const HOME = os.homedir();
const SLUICE_BIN = process.env.SLUICE_BIN || path.join(HOME, ".cache/sluice/target/release/sluice");
const UI_DIR = process.env.SLUICE_UI_DIR || path.join(ROOT, "ui/dist");
const PYTHON = process.env.SLUICE_PYTHON || path.join(HOME, ".cache/sluice/venv/bin/python");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SHOTS = path.join(ROOT, "tests/artifacts/ui");
const SHARED = process.env.SLUICE_SHARED || path.join(ROOT, "../shared");
const ONLY = process.env.SLUICE_UI_ONLY ? new RegExp(process.env.SLUICE_UI_ONLY) : null;
const require = createRequire(
    process.env.SLUICE_NODE_MODULES ? path.join(process.env.SLUICE_NODE_MODULES, "x.js") : import.meta.url,
);
const { chromium } = require("playwright-core");

const TOPIC = "ui-orders";
const BULK = Number(process.env.SLUICE_UI_BULK || 100_000);
const GROUP = "ui-group";
const T = 20_000; // default wait

// ---------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------

class Failure extends Error {}

function fail(msg) {
    throw new Failure(msg);
}

function log(msg) {
    process.stdout.write(`  ${msg}\n`);
}

async function startSluice(dataDir, logPath) {
    for (const [what, p] of [["sluice binary ($SLUICE_BIN)", SLUICE_BIN], ["built UI ($SLUICE_UI_DIR)", path.join(UI_DIR, "index.html")]]) {
        if (!fs.existsSync(p)) fail(`${what} not found at ${p}: run ./x test (or build it) first`);
    }
    // Port 0 everywhere: sluice binds free ports itself and prints them (no window between
    // probing a port and binding it in which another process takes it).
    const args = [
        "serve", "--data-dir", dataDir, "--ui-dir", UI_DIR,
        "--kafka-port", 0, "--registry-port", 0,
        "--connect-port", 0, "--sql-port", 0, "--ui-port", 0,
    ].map(String);
    const logFile = fs.openSync(logPath, "w");
    const proc = spawn(SLUICE_BIN, args, { stdio: ["ignore", "pipe", logFile], env: { ...process.env, NO_COLOR: "1" } });
    const endpoints = {};
    const lines = [];
    await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Failure(`sluice did not print "ready" within 30s; stdout: ${JSON.stringify(lines)}; log: ${logPath}`)), 30_000);
        let buf = "";
        proc.stdout.on("data", (d) => {
            buf += d.toString();
            let i;
            while ((i = buf.indexOf("\n")) >= 0) {
                const line = buf.slice(0, i).trim();
                buf = buf.slice(i + 1);
                lines.push(line);
                // `kafka 127.0.0.1:9092`, `workbench http://127.0.0.1:9000` ...
                const m = /^(\w+) (?:[a-z]+:\/\/)?([^\s/]+):(\d+)\/?$/.exec(line);
                if (m) endpoints[m[1]] = { host: m[2], port: Number(m[3]) };
                if (line === "ready") {
                    clearTimeout(timer);
                    resolve();
                }
            }
        });
        proc.on("exit", (code) => {
            clearTimeout(timer);
            reject(new Failure(`sluice exited (${code}) before "ready"; stdout: ${JSON.stringify(lines)}; see ${logPath}`));
        });
    });
    for (const k of ["kafka", "workbench", "registry", "sql", "connect"]) {
        if (!endpoints[k]) fail(`sluice did not print its ${k} address; stdout: ${JSON.stringify(lines)}`);
    }
    const { kafka, workbench: web, registry, sql, connect } = endpoints;
    return {
        sql: `http://${sql.host}:${sql.port}`,
        connect: `http://${connect.host}:${connect.port}`,
        proc,
        bootstrap: `${kafka.host}:${kafka.port}`,
        url: `http://${web.host}:${web.port}`,
        registry: `http://${registry.host}:${registry.port}`,
    };
}

/// Runs a kafka-python snippet with `bootstrap`, `topic` and `group` defined.
function python(code, bootstrap) {
    const prelude = `import sys, json, time\nbootstrap, topic, group = sys.argv[1], sys.argv[2], sys.argv[3]\n`;
    const r = spawnSync(PYTHON, ["-c", prelude + code, bootstrap, TOPIC, GROUP], { encoding: "utf8", timeout: 90_000 });
    if (r.status !== 0) fail(`kafka-python script failed (exit ${r.status}):\n${r.stderr || r.error}`);
    return r.stdout.trim();
}

const PRODUCE_PY = `
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=bootstrap)
for k, v in json.loads(sys.argv[4]):
    p.send(topic, key=k.encode(), value=v.encode(), headers=[("origin", b"kafka-python")])
p.flush()
p.close()
`;

function produceFromPython(bootstrap, records) {
    const prelude = `import sys, json, time\nbootstrap, topic, group = sys.argv[1], sys.argv[2], sys.argv[3]\n`;
    const r = spawnSync(PYTHON, ["-c", prelude + PRODUCE_PY, bootstrap, TOPIC, GROUP, JSON.stringify(records)], { encoding: "utf8", timeout: 90_000 });
    if (r.status !== 0) fail(`kafka-python producer failed (exit ${r.status}):\n${r.stderr || r.error}`);
}

const CONSUME_PY = `
from kafka import KafkaConsumer
want = int(sys.argv[4])
c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                  enable_auto_commit=False, client_id="ui-test-consumer")
got, deadline = 0, time.time() + 60
while got < want and time.time() < deadline:
    for tp, recs in c.poll(timeout_ms=1000).items():
        got += len(recs)
c.commit()
c.close()
print(got)
`;


// JSON log records as the talk's producer writes them, to the `logs` topic: argv[4] is a list
// of [app, level, msg]; argv[5] the pause between records in seconds.
const LOGS_PY = `
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
try:
    KafkaAdminClient(bootstrap_servers=bootstrap).create_topics([NewTopic("logs", 1, 1)])
except Exception:
    pass
p = KafkaProducer(bootstrap_servers=bootstrap, value_serializer=lambda v: json.dumps(v).encode())
pause = float(sys.argv[5])
for app, level, msg in json.loads(sys.argv[4]):
    p.send("logs", {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%S"), "app": app, "level": level, "msg": msg})
    if pause:
        p.flush()
        time.sleep(pause)
p.flush()
p.close()
`;

/// Starts a kafka-python producer of log records in the background; resolves when it is done.
function produceLogs(bootstrap, records, pause = 0) {
    const prelude = `import sys, json, time\nbootstrap, topic, group = sys.argv[1], sys.argv[2], sys.argv[3]\n`;
    const child = spawn(PYTHON, ["-c", prelude + LOGS_PY, bootstrap, "logs", GROUP, JSON.stringify(records), String(pause)],
        { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    return new Promise((resolve, reject) => child.on("exit", (code) =>
        code === 0 ? resolve() : reject(new Failure(`kafka-python log producer failed (exit ${code}):\n${err}`))));
}

// ---------------------------------------------------------------------------------------
// the test
// ---------------------------------------------------------------------------------------

async function main() {
    fs.rmSync(SHOTS, { recursive: true, force: true });
    fs.mkdirSync(SHOTS, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-ui-"));
    const sluice = await startSluice(path.join(tmp, "data"), path.join(tmp, "sluice.log"));
    log(`sluice at ${sluice.url}, kafka ${sluice.bootstrap}, log ${path.join(tmp, "sluice.log")}`);
    const ctx = await chromium.launchPersistentContext(path.join(tmp, "profile"), {
        executablePath: CHROMIUM,
        headless: true,
        args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"],
        viewport: { width: 1440, height: 900 },
        colorScheme: "light",
        acceptDownloads: true,
    });
    const page = ctx.pages()[0] || (await ctx.newPage());
    page.setDefaultTimeout(T);
    const pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.on("console", (m) => {
        if (m.type() === "error") pageErrors.push(`console: ${m.text()}`);
    });

    let current = "start";
    const step = async (name, fn) => {
        if (ONLY && !ONLY.test(name)) {
            log(`--  ${name} (skipped: SLUICE_UI_ONLY)`);
            return;
        }
        current = name;
        const t0 = Date.now();
        await fn();
        const panics = pageErrors.filter((e) => /panicked|RuntimeError|unreachable/.test(e));
        if (panics.length) fail(`the page crashed: ${panics.join("\n")}`);
        log(`ok  ${name} (${Date.now() - t0} ms)`);
    };
    let shots = 0;
    const shot = (name) => page.screenshot({ path: path.join(SHOTS, `${String(++shots).padStart(2, "0")}-${name}.png`) });
    const text = async (sel) => (await page.locator(sel).first().innerText()).trim();
    const waitText = async (sel, want, what, timeout = T) => {
        const deadline = Date.now() + timeout;
        let last = "";
        while (Date.now() < deadline) {
            last = await page.locator(sel).first()
                .evaluate((el) => (el.tagName === "TEXTAREA" || el.tagName === "INPUT" ? el.value : el.innerText))
                .catch(() => "");
            if (typeof want === "function" ? want(last.trim()) : last.trim() === want) return last.trim();
            await page.waitForTimeout(250);
        }
        fail(`${what}: expected ${typeof want === "function" ? "a matching value" : JSON.stringify(want)}, saw ${JSON.stringify(last.trim())}`);
    };
    // Load, and wait for that answer (one still in flight would replace the list later).
    const loadMessages = async () => {
        await page.click("[data-testid=load-messages]");
        await page.waitForSelector("[data-testid=load-messages]:not([disabled])");
    };
    const rows = (sel) => page.locator(sel).count();
    const waitRows = async (sel, n, what) => {
        const deadline = Date.now() + T;
        let c = -1;
        while (Date.now() < deadline) {
            c = await rows(sel);
            if (c === n) return;
            await page.waitForTimeout(250);
        }
        fail(`${what}: expected ${n} rows, saw ${c}`);
    };

    try {
        await step("overview shows the embedded broker and live rates", async () => {
            await page.goto(sluice.url + "/");
            await page.waitForSelector("[data-testid=overview]");
            await waitText("[data-testid=stat-brokers] .stat-value", "1", "broker count");
            await waitText(".card-head [data-testid=pill]", "live", "rates WebSocket");
            await shot("overview");
        });

        await step("create a topic through the UI", async () => {
            await page.click("[data-testid=nav-topics]");
            await page.waitForSelector("[data-testid=topics]");
            await shot("topics-empty");
            await page.click("[data-testid=create-topic]");
            await page.fill("[data-testid=topic-name]", TOPIC);
            await page.fill("[data-testid=topic-partitions]", "2");
            await shot("create-topic-dialog");
            await page.click("[data-testid=create-topic-submit]");
            await page.waitForSelector(`[data-testid=topic-row][data-name="${TOPIC}"]`);
            await shot("topics");
        });

        await step("open it with the keyboard (/ search, j, Enter)", async () => {
            await page.keyboard.press("/");
            const focused = await page.evaluate(() => document.activeElement?.getAttribute("data-testid"));
            if (focused !== "topic-search") fail(`"/" should focus the topic search, focus is on ${focused}`);
            await page.keyboard.type("ui-ord");
            await page.keyboard.press("Escape");
            await page.keyboard.press("j");
            await page.keyboard.press("Enter");
            await page.waitForSelector("[data-testid=topic-detail]");
            const title = await text("[data-testid=topic-title]");
            if (title !== TOPIC) fail(`topic detail shows ${JSON.stringify(title)}, expected ${TOPIC}`);
        });

        await step("produce 3 messages with headers through the UI", async () => {
            await page.click("[data-testid=tab-produce]");
            await page.waitForSelector("[data-testid=produce]");
            await page.click("[data-testid=add-header]");
            await page.fill("[data-testid=header-key]", "source");
            await page.fill("[data-testid=header-value]", "ui");
            for (const i of [1, 2, 3]) {
                await page.fill("[data-testid=produce-key]", `k${i}`);
                await page.fill("[data-testid=produce-value]", JSON.stringify({ order: i, item: "widget", qty: i * 2 }));
                await page.click("[data-testid=produce-send]");
                await waitText("[data-testid=produce-progress] + span", "1 / 1", `progress of message ${i}`);
                await page.waitForSelector("[data-testid=produce-send]:not([disabled])");
            }
            await shot("produce");
        });

        await step("see them in the message browser, with their detail", async () => {
            await page.click("[data-testid=tab-messages]");
            await page.selectOption("[data-testid=start-from]", "earliest");
            await loadMessages();
            await waitRows("[data-testid=message-row]", 3, "message browser");
            await page.click('[data-testid=message-row][data-key="k2"]');
            await page.waitForSelector("[data-testid=message-detail]");
            const headers = await text("[data-testid=detail-headers]");
            if (!/source\s+ui/.test(headers)) fail(`message detail headers: expected "source ui", saw ${JSON.stringify(headers)}`);
            const value = await text("[data-testid=detail-value]");
            if (!value.includes('"order": 2')) fail(`message detail value should be pretty JSON with "order": 2, saw ${JSON.stringify(value)}`);
            await shot("messages-detail");
        });

        await step("reload keeps the deep link (/topics/NAME/messages)", async () => {
            await page.reload();
            await page.waitForSelector("[data-testid=message-browser]");
            if (!page.url().endsWith(`/topics/${TOPIC}/messages`)) fail(`URL after reload: ${page.url()}`);
            await waitRows("[data-testid=message-row]", 3, "message browser after reload");
        });

        await step("filter by key", async () => {
            await page.fill("[data-testid=filter-key]", "k3");
            await loadMessages();
            await waitRows("[data-testid=message-row]", 1, "key filter k3");
            const key = await page.locator("[data-testid=message-row]").first().getAttribute("data-key");
            if (key !== "k3") fail(`key filter k3 returned a message keyed ${key}`);
            await shot("messages-filtered");
            await page.fill("[data-testid=filter-key]", "");
            await page.fill("[data-testid=filter-header]", "source=ui");
            await loadMessages();
            await waitRows("[data-testid=message-row]", 3, "header filter source=ui");
            await page.fill("[data-testid=filter-header]", "");
            await loadMessages();
            await waitRows("[data-testid=message-row]", 3, "no filter");
        });

        await step("start from an offset, a timestamp; one partition", async () => {
            const part = await page.locator("[data-testid=message-row]").first().evaluate((el) => el.firstElementChild.textContent.trim());
            await page.selectOption("[data-testid=partition-select]", part);
            await page.selectOption("[data-testid=start-from]", "offset");
            await page.fill("[data-testid=start-offset]", "1");
            await loadMessages();
            await waitRows("[data-testid=message-row]", 2, `partition ${part} from offset 1`);
            await page.selectOption("[data-testid=partition-select]", "");
            await page.selectOption("[data-testid=start-from]", "timestamp");
            await page.fill("[data-testid=message-browser] input[type=datetime-local]", "2001-01-01T00:00:00");
            await loadMessages();
            await waitRows("[data-testid=message-row]", 3, "from a timestamp in 2001");
            await page.fill("[data-testid=message-browser] input[type=datetime-local]", "2099-01-01T00:00:00");
            await loadMessages();
            await waitRows("[data-testid=message-row]", 0, "from a timestamp in 2099");
            await page.selectOption("[data-testid=start-from]", "latest");
            await loadMessages();
            await waitRows("[data-testid=message-row]", 3, "latest");
        });

        await step("export the loaded messages as JSON and CSV", async () => {
            for (const [kind, check] of [
                ["json", (t) => JSON.parse(t).length === 3 && JSON.parse(t).every((m) => m.headers.some((h) => h.key === "source"))],
                ["csv", (t) => t.trim().split("\n").length === 4 && t.startsWith("partition,offset,")],
            ]) {
                const [download] = await Promise.all([page.waitForEvent("download"), page.click(`[data-testid=export-${kind}]`)]);
                const file = path.join(tmp, `export.${kind}`);
                await download.saveAs(file);
                const body = fs.readFileSync(file, "utf8");
                if (!check(body)) fail(`the ${kind.toUpperCase()} export does not hold the 3 messages:\n${body.slice(0, 400)}`);
            }
        });

        await step("live tail shows a message produced by kafka-python", async () => {
            await page.click("label.toggle");
            await waitText(".browser-status [data-testid=pill]", "live", "live tail socket");
            produceFromPython(sluice.bootstrap, [["from-python", "hello from kafka-python"]]);
            await page.waitForSelector('[data-testid=message-row][data-key="from-python"]');
            await waitText("[data-testid=tail-count]", "+1 live", "live tail counter");
            await shot("live-tail");
            await page.click("label.toggle");
        });

        await step("a group's lag after a kafka-python consumer commits", async () => {
            const got = python(CONSUME_PY.replace("int(sys.argv[4])", "4"), sluice.bootstrap);
            if (got !== "4") fail(`the kafka-python consumer read ${got} records, expected 4`);
            produceFromPython(sluice.bootstrap, [["late-1", "a"], ["late-2", "b"], ["late-3", "c"]]);
            await page.click("[data-testid=nav-groups]");
            await page.waitForSelector(`[data-testid=group-row][data-group="${GROUP}"]`);
            await waitText(`[data-testid=group-row][data-group="${GROUP}"] [data-testid=group-lag]`, "3", "group lag in the list");
            await shot("groups");
            await page.click(`[data-testid=group-row][data-group="${GROUP}"]`);
            await page.waitForSelector("[data-testid=group-detail]");
            await waitText("[data-testid=group-total-lag]", "3", "group lag in the detail");
            await waitRows("[data-testid=offset-row]", 2, "per-partition offsets");
        });

        await step("reset its offsets to earliest through the UI and see the lag change", async () => {
            await page.waitForSelector("[data-testid=reset-offsets]:not([disabled])");
            await page.click("[data-testid=reset-offsets]");
            await page.selectOption("[data-testid=reset-to]", "earliest");
            await shot("reset-dialog");
            await page.click("[data-testid=reset-submit]");
            await waitText("[data-testid=group-total-lag]", "7", "lag after reset to earliest");
            await page.waitForTimeout(4000); // a few lag samples for the chart
            await shot("group-detail");
        });

        await step("delete the consumer group through the UI", async () => {
            await page.click("[data-testid=delete-group]");
            await page.click("[data-testid=delete-group-confirm]");
            await page.waitForSelector("[data-testid=groups]");
            await waitRows(`[data-testid=group-row][data-group="${GROUP}"]`, 0, "group list after delete");
        });

        await step("edit a topic config (Configs tab → PUT configs)", async () => {
            await page.goto(`${sluice.url}/topics/${TOPIC}/configs`);
            const input = '[data-testid=config-table] input[data-config="retention.ms"]';
            await page.waitForSelector(input);
            await page.fill(input, "3600000");
            await page.click("[data-testid=save-configs]");
            await page.waitForSelector("[data-testid=toast-ok]:has-text('Configs saved')");
            await page.reload();
            await page.waitForSelector(input);
            const v = await page.inputValue(input);
            if (v !== "3600000") fail(`retention.ms after save and reload: ${v}`);
            await shot("configs");
            await page.click("[data-testid=tab-partitions]");
            await waitRows("[data-testid=partition-table] tbody tr", 2, "partitions tab");
            await shot("partitions");
        });

        // ---- Schemas: the talk's Order in the editor, evolved, refused, diffed, produced ----
        const orderText = fs.existsSync(path.join(SHARED, "seed-examples/order.avsc"))
            ? fs.readFileSync(path.join(SHARED, "seed-examples/order.avsc"), "utf8")
            : JSON.stringify({ type: "record", name: "Order", fields: [
                { name: "order_id", type: "int" }, { name: "product", type: "string" }, { name: "quantity", type: "int" }] }, null, 2);
        const order = JSON.parse(orderText);
        const withFields = (...extra) => JSON.stringify({ ...order, fields: [...order.fields, ...extra] }, null, 2);
        const SUBJECT = "orders-value";
        const fillEditor = async (t) => {
            await page.fill("[data-testid=schema-text]", t);
        };
        const waitValid = () => page.waitForSelector("[data-testid=schema-valid]");

        await step("schemas: register the talk's Order in the editor, after a located typo", async () => {
            await page.goto(`${sluice.url}/schemas`);
            await page.waitForSelector("[data-testid=schemas]");
            await page.waitForSelector("[data-testid=schemas] .empty");
            await shot("schemas-empty");
            await page.click("[data-testid=new-subject]");
            await page.waitForSelector("[data-testid=schema-editor]");
            await page.fill("[data-testid=subject-name]", SUBJECT);
            // A typo: no comma after the product field.
            const lines = orderText.split("\n");
            const i = lines.findIndex((l) => l.includes('"product"'));
            if (i < 0) fail("order.avsc has no product field");
            const typo = lines.map((l, k) => (k === i ? l.replace(/,\s*$/, "") : l)).join("\n");
            await fillEditor(typo);
            const at = await waitText("[data-testid=schema-error-at]", (t) => /^\d+:\d+$/.test(t), "a located validation error");
            const line = Number(at.split(":")[0]);
            if (line !== i + 1 && line !== i + 2) fail(`the typo is on line ${i + 1}, the error points at ${at}`);
            const marked = await page.locator(".ce-ln-err").count();
            if (marked < 1) fail("the wrong line is not marked in the gutter");
            log(`    validation error at ${at}: ${await text("[data-testid=schema-error]")}`);
            await shot("schema-editor-error");
            await fillEditor(orderText);
            await waitValid();
            await page.click("[data-testid=check-compat]");
            await waitText("[data-testid=compat-verdict]", (t) => t.startsWith("✓"), "compatibility of a first version");
            await shot("schema-editor-valid");
            await page.click("[data-testid=register-schema]");
            await page.waitForURL(`**/schemas/subjects/${SUBJECT}`);
            await waitRows("[data-testid=version-row]", 1, "versions after registering v1");
            await page.waitForSelector("[data-testid=schema-view] .tok-key");
            await shot("subject-v1");
        });

        await step("schemas: evolve it compatibly (a field with a default) into v2", async () => {
            await page.click("[data-testid=evolve]");
            await page.waitForSelector("[data-testid=schema-editor]");
            await waitText("[data-testid=schema-text]", (t) => t.includes("order_id"), "the editor prefilled with v1");
            await fillEditor(withFields({ name: "currency", type: "string", default: "EUR", doc: "ISO 4217 code" }));
            await waitValid();
            await page.click("[data-testid=check-compat]");
            await waitText("[data-testid=compat-verdict]", (t) => t.startsWith("✓ Compatible"), "compatibility of v2");
            await page.click("[data-testid=register-schema]");
            await waitText("[data-testid=registered-version]", "2", "the registered version");
            await shot("schema-evolved-v2");
        });

        await step("schemas: an incompatible change is refused, with the reason", async () => {
            await fillEditor(withFields(
                { name: "currency", type: "string", default: "EUR", doc: "ISO 4217 code" },
                { name: "customer", type: "string" },
            ));
            await waitValid();
            await page.click("[data-testid=register-schema]");
            await waitText("[data-testid=register-result] h3", (t) => t.startsWith("Refused"), "registering an incompatible change");
            const reasons = await waitText("[data-testid=compat-messages]", (t) => t.length > 0, "the reasons of the refusal");
            log(`    refused: ${reasons.split("\n")[0].slice(0, 160)}`);
            await shot("schema-refused");
        });

        await step("schemas: the list, the subject's versions and settings", async () => {
            await page.click("[data-testid=subject-tab-versions]");
            await waitRows("[data-testid=version-row]", 2, "versions of the subject");
            await waitText("[data-testid=version-title]", (t) => t.startsWith("Version 2"), "the latest version selected");
            await page.keyboard.press("j");
            await waitText("[data-testid=version-title]", (t) => t.startsWith("Version 1"), "j moves to version 1");
            await page.keyboard.press("k");
            await page.selectOption("[data-testid=compat-select]", "FULL");
            await page.waitForSelector("[data-testid=toast-ok]:has-text('set to FULL')");
            await shot("subject-detail");
            await page.click("[data-testid=nav-schemas]");
            const row = `[data-testid=subject-row][data-subject="${SUBJECT}"]`;
            await page.waitForSelector(row);
            const cells = await page.locator(`${row} td`).allInnerTexts();
            if (cells[1].trim() !== "AVRO" || cells[2].trim() !== "2" || cells[4].trim() !== "2") fail(`subject row: ${JSON.stringify(cells)}`);
            if (!/FULL\s*subject/.test(cells[5])) fail(`the overridden level is not marked: ${JSON.stringify(cells[5])}`);
            await shot("schemas-list");
            // Back to the global level, so the next steps see the default.
            await page.click(row);
            await page.selectOption("[data-testid=compat-select]", "");
            await page.waitForSelector("[data-testid=toast-ok]:has-text('follows the global')");
        });

        await step("schemas: diff v1 → v2 with both verdicts", async () => {
            await page.click("[data-testid=subject-tab-diff]");
            await page.waitForSelector("[data-testid=schema-diff]");
            for (const v of ["backward", "forward"]) {
                const ok = await page.getAttribute(`[data-testid=verdict-${v}]`, "data-compatible");
                if (ok !== "true") fail(`v1 → v2 should be ${v} compatible, the verdict says ${ok}: ${await text(`[data-testid=verdict-${v}]`)}`);
            }
            const changed = await rows("[data-testid=schema-diff] tr[data-kind=added], [data-testid=schema-diff] tr[data-kind=changed]");
            if (changed < 1) fail("the diff shows no added or changed line");
            const added = await text("[data-testid=schema-diff] tr[data-kind=added], [data-testid=schema-diff] tr[data-kind=changed]");
            await shot("schema-diff");
            log(`    ${changed} added/changed lines, first: ${added.replace(/\s+/g, " ").slice(0, 80)}`);
        });

        await step("schemas: produce Orders with the generated form and see them decoded", async () => {
            await page.goto(`${sluice.url}/topics`);
            await page.click("[data-testid=create-topic]");
            await page.fill("[data-testid=topic-name]", "orders");
            await page.click("[data-testid=create-topic-submit]");
            await page.waitForSelector('[data-testid=topic-row][data-name="orders"]');
            await page.goto(`${sluice.url}/topics/orders/produce`);
            // orders-value exists, so the value is serialized with it by default.
            await page.waitForSelector("[data-testid=schema-form]");
            const subject = await page.inputValue("[data-testid=produce-subject]");
            if (subject !== SUBJECT) fail(`the producer picked subject ${subject}`);
            const currency = await page.inputValue("[data-field=currency]");
            if (currency !== "EUR") fail(`the default of currency is not prefilled: ${JSON.stringify(currency)}`);
            await page.fill("[data-testid=produce-key]", "o-1001");
            await page.fill("[data-field=order_id]", "1001");
            await page.fill("[data-field=product]", "widget");
            await page.fill("[data-field=quantity]", "3");
            await page.click(".sf-preview summary");
            await waitText("[data-testid=form-json]", (t) => t.includes('"order_id": 1001'), "the JSON the form builds");
            await shot("produce-form");
            await page.click("[data-testid=produce-send]");
            await waitText("[data-testid=produce-progress] + span", "1 / 1", "producing with the form");
            await page.waitForSelector("[data-testid=produce-send]:not([disabled])");
            // The same through raw JSON, then back to the form.
            await page.click("[data-testid=value-editor-json]");
            const raw = await page.inputValue("[data-testid=produce-value-json]");
            const parsed = JSON.parse(raw);
            if (parsed.order_id !== 1001 || parsed.currency !== "EUR") fail(`raw JSON from the form: ${raw}`);
            await page.fill("[data-testid=produce-key]", "o-1002");
            await page.fill("[data-testid=produce-value-json]", JSON.stringify({ ...parsed, order_id: 1002, quantity: 5 }, null, 2));
            await shot("produce-raw-json");
            await page.click("[data-testid=produce-send]");
            await waitText("[data-testid=produce-progress] + span", "1 / 1", "producing raw JSON");
            await page.waitForSelector("[data-testid=produce-send]:not([disabled])");
            await page.click("[data-testid=value-editor-form]");
            const q = await page.inputValue("[data-field=quantity]");
            if (q !== "5") fail(`the form after raw JSON shows quantity ${q}`);

            await page.click("[data-testid=tab-messages]");
            await page.selectOption("[data-testid=start-from]", "earliest");
            await loadMessages();
            await waitRows("[data-testid=message-row]", 2, "the produced Orders");
            const mini = await text('[data-testid=message-row][data-key="o-1001"] [data-testid=row-schema-badge]');
            if (mini !== "AVRO v2") fail(`the row's schema badge says ${JSON.stringify(mini)}`);
            const cell = await text('[data-testid=message-row][data-key="o-1001"] .cell-value');
            if (!cell.includes('{"order_id":1001')) fail(`the row shows ${JSON.stringify(cell)} rather than the decoded JSON`);
            await page.click('[data-testid=message-row][data-key="o-1001"]');
            const badge = await waitText("[data-testid=value-schema-badge]", (t) => /^AVRO · orders-value v2 · id \d+$/.test(t), "the decoded value's badge");
            const value = await text("[data-testid=detail-value]");
            if (!value.includes('"order_id": 1001') || !value.includes('"currency": "EUR"')) fail(`decoded value: ${value}`);
            log(`    ${badge}`);
            await shot("messages-decoded");
            const [download] = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=export-json]")]);
            const file = path.join(tmp, "orders.json");
            await download.saveAs(file);
            const exported = JSON.parse(fs.readFileSync(file, "utf8"));
            const o1 = exported.find((m) => m.key === "o-1001");
            if (!o1 || o1.value?.order_id !== 1001 || o1.value_schema?.subject !== SUBJECT) fail(`export of a decoded message: ${JSON.stringify(o1)}`);
        });

        await step("schemas: the editor, diff and decoded messages in the dark theme", async () => {
            await page.click("[data-testid=theme-toggle]");
            await page.goto(`${sluice.url}/schemas/subjects/${SUBJECT}/evolve`);
            await page.waitForSelector("[data-testid=schema-editor]");
            await waitText("[data-testid=schema-text]", (t) => t.includes("currency"), "the editor prefilled with v2");
            const t = await page.inputValue("[data-testid=schema-text]");
            await fillEditor(t.replace('"int"', '"integer"'));
            await waitText("[data-testid=schema-error]", (x) => x.length > 0, "an unknown Avro type");
            await shot("schema-editor-dark");
            await page.click("[data-testid=subject-tab-diff]");
            await page.waitForSelector("[data-testid=schema-diff]");
            await shot("schema-diff-dark");
            await page.goto(`${sluice.url}/topics/orders/produce`);
            await page.waitForSelector("[data-testid=schema-form]");
            await shot("produce-form-dark");
            await page.click("[data-testid=tab-messages]");
            await page.selectOption("[data-testid=start-from]", "earliest");
            await loadMessages();
            await waitRows("[data-testid=message-row]", 2, "the Orders");
            await page.locator("[data-testid=message-row]").first().click();
            await page.waitForSelector("[data-testid=value-schema-badge]");
            await shot("messages-decoded-dark");
            await page.click("[data-testid=theme-toggle]");
        });

        await step("schemas: the talk's order.proto as a Protobuf subject, produced with its form", async () => {
            const protoFile = path.join(SHARED, "seed-examples/order.proto");
            const proto = "// The talk's Order, as Protobuf\n" + (fs.existsSync(protoFile)
                ? fs.readFileSync(protoFile, "utf8")
                : 'syntax = "proto3";\n\nmessage Order {\n  int32 order_id = 1;\n  string product = 2;\n  int32 quantity = 3;\n}\n');
            await page.goto(`${sluice.url}/topics`);
            await page.click("[data-testid=create-topic]");
            await page.fill("[data-testid=topic-name]", "orders-proto");
            await page.click("[data-testid=create-topic-submit]");
            await page.waitForSelector('[data-testid=topic-row][data-name="orders-proto"]');
            await page.goto(`${sluice.url}/schemas/new`);
            await page.waitForSelector("[data-testid=schema-editor]");
            await page.fill("[data-testid=subject-name]", "orders-proto-value");
            await page.selectOption("[data-testid=schema-type]", "PROTOBUF");
            await fillEditor(proto);
            await waitText("[data-testid=validation]", (t) => t.includes("Valid Protobuf"), "validation of order.proto");
            await page.waitForSelector("[data-testid=code-editor] .tok-kw");
            await shot("schema-editor-proto");
            await page.click("[data-testid=register-schema]");
            await page.waitForURL("**/schemas/subjects/orders-proto-value");
            await page.waitForSelector("[data-testid=schema-view] .tok-kw");
            const badge = await text("[data-testid=subject-title] [data-testid=type-badge]");
            if (badge !== "PROTOBUF") fail(`the subject's format badge says ${badge}`);
            await shot("subject-proto");
            await page.goto(`${sluice.url}/topics/orders-proto/produce`);
            await page.waitForSelector("[data-testid=schema-form]");
            await page.fill("[data-testid=produce-key]", "p-1");
            await page.fill("[data-field=order_id]", "7");
            await page.fill("[data-field=product]", "gadget");
            await page.fill("[data-field=quantity]", "2");
            await page.click("[data-testid=produce-send]");
            await waitText("[data-testid=produce-progress] + span", "1 / 1", "producing Protobuf with the form");
            await page.click("[data-testid=tab-messages]");
            await page.selectOption("[data-testid=start-from]", "earliest");
            await loadMessages();
            await waitRows("[data-testid=message-row]", 1, "the Protobuf Order");
            await page.click('[data-testid=message-row][data-key="p-1"]');
            await waitText("[data-testid=value-schema-badge]", (t) => /^PROTOBUF · orders-proto-value v1 · id \d+$/.test(t), "the Protobuf value's badge");
            const value = await text("[data-testid=detail-value]");
            if (!/"product": "gadget"/.test(value)) fail(`decoded Protobuf value: ${value}`);
            await shot("messages-decoded-proto");
        });

        await step("schemas: a richer Avro schema's form (nested record, enum, array, map, unions, null)", async () => {
            const shipment = {
                type: "record", name: "Shipment", namespace: "com.acme", doc: "A parcel on its way",
                fields: [
                    { name: "id", type: { type: "string", logicalType: "uuid" } },
                    { name: "status", type: { type: "enum", name: "Status", symbols: ["NEW", "SHIPPED", "DELIVERED"] }, default: "NEW" },
                    { name: "express", type: "boolean", default: false },
                    { name: "weight_kg", type: "double" },
                    { name: "created_at", type: { type: "long", logicalType: "timestamp-millis" } },
                    { name: "address", type: { type: "record", name: "Address", fields: [
                        { name: "street", type: "string" }, { name: "city", type: "string" }] } },
                    { name: "items", type: { type: "array", items: { type: "record", name: "Item", fields: [
                        { name: "sku", type: "string" }, { name: "qty", type: "int" }] } } },
                    { name: "tags", type: { type: "map", values: "string" } },
                    { name: "note", type: ["null", "string"], default: null, doc: "Anything the courier should know" },
                    { name: "ref", type: ["null", "string", "long"], default: null },
                ],
            };
            const api = (method, p, body) => page.evaluate(async ([method, p, body]) => {
                const r = await fetch(p, { method, headers: { "content-type": "application/json" }, body: body && JSON.stringify(body) });
                return { status: r.status, text: await r.text() };
            }, [method, p, body]);
            let r = await api("POST", "/api/v1/clusters/local/topics", { name: "shipments", partitions: 1 });
            if (r.status >= 300) fail(`creating shipments: ${r.status} ${r.text}`);
            r = await api("POST", "/api/v1/clusters/local/registry/subjects/shipments-value/versions", { schema: JSON.stringify(shipment) });
            if (r.status >= 300) fail(`registering Shipment through the pass-through: ${r.status} ${r.text}`);
            await page.goto(`${sluice.url}/topics/shipments/produce`);
            await page.waitForSelector("[data-testid=schema-form] [data-path=address]");
            const status = await page.inputValue("[data-field=status]");
            if (status !== "NEW") fail(`the enum's default is not selected: ${status}`);
            await page.fill("[data-field=id]", "6f1c2a8e-0b7d-4c1e-9d3a-2b5f7e9c1a00");
            await page.selectOption("[data-field=status]", "SHIPPED");
            await page.check("[data-field=express]");
            await page.fill("[data-field=weight_kg]", "2.5");
            await page.click("[data-path=created_at] button");
            await page.fill("[data-field='address.street']", "1 Main St");
            await page.fill("[data-field='address.city']", "Lyon");
            await page.click("[data-add=items]");
            await page.fill("[data-field='items.0.sku']", "SKU-1");
            await page.fill("[data-field='items.0.qty']", "2");
            await page.click("[data-add=tags]");
            await page.fill("[data-path=tags] .sf-key", "fragile");
            await page.fill("[data-path=tags] .sf-item input[data-field]", "yes");
            await page.uncheck("[data-null=ref]");
            await page.selectOption("[data-branch=ref]", { label: "long" });
            await page.fill("[data-field=ref]", "42");
            await page.click(".sf-preview summary");
            const built = JSON.parse(await text("[data-testid=form-json]"));
            const want = { status: "SHIPPED", express: true, weight_kg: 2.5, address: { street: "1 Main St", city: "Lyon" },
                items: [{ sku: "SKU-1", qty: 2 }], tags: { fragile: "yes" }, note: null, ref: 42 };
            for (const [k, v] of Object.entries(want)) {
                if (JSON.stringify(built[k]) !== JSON.stringify(v)) fail(`the form built ${k} = ${JSON.stringify(built[k])}, expected ${JSON.stringify(v)}`);
            }
            if (typeof built.created_at !== "number" || built.created_at < 1.6e12) fail(`created_at from "now": ${built.created_at}`);
            await shot("produce-form-rich");
            await page.fill("[data-testid=produce-key]", "s-1");
            await page.click("[data-testid=produce-send]");
            await waitText("[data-testid=produce-progress] + span", "1 / 1", "producing a Shipment");
            await page.click("[data-testid=tab-messages]");
            await page.selectOption("[data-testid=start-from]", "earliest");
            await loadMessages();
            await waitRows("[data-testid=message-row]", 1, "the Shipment");
            await page.click('[data-testid=message-row][data-key="s-1"]');
            const decoded = await waitText("[data-testid=detail-value]", (t) => t.includes("Lyon"), "the decoded Shipment");
            log(`    decoded: ${decoded.replace(/\s+/g, " ").slice(0, 200)}`);
        });

        await step("schemas: soft-delete v1, then permanently; the subject likewise", async () => {
            await page.goto(`${sluice.url}/schemas/subjects/${SUBJECT}`);
            await page.click("[data-testid=version-row][data-version='1']");
            await page.click("[data-testid=delete-version]");
            await page.click("[data-testid=confirm-submit]");
            await page.waitForSelector("[data-testid=version-row][data-version='1'] .pill-bad");
            await page.click("[data-testid=version-row][data-version='1']");
            await page.click("[data-testid=hard-delete-version]");
            if (await page.isEnabled("[data-testid=confirm-submit]")) fail("permanent delete is enabled before the name is typed");
            await page.fill("[data-testid=confirm-input]", SUBJECT);
            await shot("hard-delete-version");
            await page.click("[data-testid=confirm-submit]");
            await waitRows("[data-testid=version-row]", 1, "versions after deleting v1 permanently");
            await page.click("[data-testid=delete-subject]");
            await page.click("[data-testid=confirm-submit]");
            await page.waitForSelector("[data-testid=hard-delete-subject]");
            await page.click("[data-testid=nav-schemas]");
            await waitRows(`[data-testid=subject-row][data-subject="${SUBJECT}"]`, 0, "a soft-deleted subject is hidden");
            await page.click("[data-testid=show-deleted]");
            await page.waitForSelector(`[data-testid=subject-row][data-subject="${SUBJECT}"] .pill-bad`);
            await shot("schemas-deleted");
            await page.click(`[data-testid=subject-row][data-subject="${SUBJECT}"]`);
            await page.click("[data-testid=hard-delete-subject]");
            await page.fill("[data-testid=confirm-input]", SUBJECT);
            await page.click("[data-testid=confirm-submit]");
            await page.waitForURL(/\/schemas$/);
            await waitRows(`[data-testid=subject-row][data-subject="${SUBJECT}"]`, 0, "the subject after a permanent delete");
        });

        // ---- SQL: the talk's statements in the editor, a push query live, pull, terminate ----
        const logsFile = path.join(SHARED, "seed-examples/logs.ksql");
        const sqlStep = (name, fn) => fs.existsSync(logsFile)
            ? step(name, fn)
            : log(`--  ${name} (skipped: no ${logsFile})`);
        const sqlRun = async () => {
            await page.click("[data-testid=sql-run]");
            await page.waitForSelector("[data-testid=sql-run]:not([disabled])");
        };
        const ERRORS = [["order-service", "ERROR", "db connection refused"], ["order-service", "INFO", "order 17 placed"],
            ["payment-service", "ERROR", "card declined"], ["order-service", "ERROR", "timeout calling inventory"],
            ["inventory-service", "WARN", "stock low"]];

        await sqlStep("sql: the talk's logs.ksql in the editor creates its stream, stream and table", async () => {
            await produceLogs(sluice.bootstrap, ERRORS);
            await page.goto(`${sluice.url}/`);
            await page.click("[data-testid=nav-sql]");
            await page.waitForSelector("[data-testid=sql-editor]");
            await page.fill("[data-testid=sql-text]", fs.readFileSync(logsFile, "utf8"));
            await page.waitForSelector("[data-testid=sql-editor] .tok-kw");
            await page.waitForSelector("[data-testid=sql-editor] .tok-str");
            await page.waitForSelector("[data-testid=sql-editor] .tok-comment");
            await page.selectOption("[data-testid=sql-offset-reset]", "earliest");
            await sqlRun();
            await waitRows("[data-testid=sql-result]", 3, "one result per statement");
            const statuses = await page.locator("[data-testid=sql-status]").allInnerTexts();
            if (!/Stream created/.test(statuses[0]) || statuses.length !== 3) fail(`statement results: ${JSON.stringify(statuses)}`);
            for (const name of ["LOGS_STREAM", "ORDER_ERRORS"]) await page.waitForSelector(`[data-testid=sql-streams] [data-testid=sql-source][data-name=${name}]`);
            await page.waitForSelector("[data-testid=sql-tables] [data-testid=sql-source][data-name=ERROR_COUNTS]");
            await waitRows("[data-testid=sql-query]", 2, "persistent queries in the side panel");
            await page.click("[data-testid=sql-source][data-name=LOGS_STREAM] .side-row");
            await waitText("[data-testid=sql-source][data-name=LOGS_STREAM] [data-testid=sql-source-columns]",
                (t) => ["TIMESTAMP", "APP", "LEVEL", "MSG"].every((c) => t.includes(c)), "LOGS_STREAM's columns on expand");
            await shot("sql-talk-statements");
        });

        await sqlStep("sql: completion of keywords, sources and columns with the keyboard", async () => {
            await page.fill("[data-testid=sql-text]", "");
            await page.focus("[data-testid=sql-text]");
            await page.keyboard.type("SELECT app, ms");
            await page.waitForSelector("[data-testid=sql-completions]");
            const first = await page.locator("[data-testid=sql-completion]").first().getAttribute("data-text");
            if (first !== "MSG") fail(`completion of "ms": first is ${first}`);
            await page.keyboard.press("Enter");
            await page.keyboard.type(" FROM logs_s");
            await page.waitForSelector("[data-testid=sql-completion][data-text=LOGS_STREAM]");
            await page.keyboard.press("Tab");
            await page.keyboard.type(" WHERE level = 'ERROR' EMI");
            await page.waitForSelector("[data-testid=sql-completion][data-text=EMIT]");
            await shot("sql-completion");
            await page.keyboard.press("ArrowDown");
            await page.keyboard.press("ArrowUp");
            await page.keyboard.press("Enter");
            await page.keyboard.type(" CHANGES;");
            const typed = await page.inputValue("[data-testid=sql-text]");
            if (typed !== "SELECT app, MSG FROM LOGS_STREAM WHERE level = 'ERROR' EMIT CHANGES;") fail(`completed text: ${JSON.stringify(typed)}`);
        });

        await sqlStep("sql: a push query fills live while kafka-python produces, pause/resume, stop", async () => {
            // The editor holds the push query the completion step typed; Ctrl+Enter runs it.
            await page.focus("[data-testid=sql-text]");
            await page.keyboard.press("Control+Enter");
            await waitText("[data-testid=query-state]", "live", "the push query's state");
            await waitText("[data-testid=query-count]", "3 rows", "the earlier ERROR records (earliest)");
            const live = Array.from({ length: 30 }, (_, i) => [i % 2 ? "payment-service" : "order-service", i % 3 ? "ERROR" : "INFO", `live ${i}`]);
            const producing = produceLogs(sluice.bootstrap, live, 0.15);
            await waitText("[data-testid=query-count]", (t) => parseInt(t, 10) >= 8, "rows arriving live");
            await waitText("[data-testid=query-rate]", (t) => parseFloat(t) > 0, "a rows/s rate while rows arrive");
            await shot("sql-push-live");
            await page.click("[data-testid=query-pause]");
            const shown = await rows("[data-testid=query-row]");
            await page.waitForTimeout(1200);
            if ((await rows("[data-testid=query-row]")) !== shown) fail("rows kept appearing while paused");
            await page.click("[data-testid=query-pause]");
            await producing;
            await waitText("[data-testid=query-count]", "23 rows", "every ERROR record (3 earlier + 20 live)");
            await waitRows("[data-testid=query-row]", 23, "rows shown after resume");
            await page.click("[data-testid=query-stop]");
            await waitText("[data-testid=query-state]", "stopped", "the push query after Stop");
            await produceLogs(sluice.bootstrap, [["order-service", "ERROR", "after stop"]]);
            await page.waitForTimeout(800);
            await waitText("[data-testid=query-count]", "23 rows", "no rows after Stop");
        });

        await sqlStep("sql: a pull query on error_counts shows its rows", async () => {
            // SET in the editor sets a property for the statements after it, as in ksqlDB's CLI.
            await page.selectOption("[data-testid=sql-offset-reset]", "latest");
            await page.fill("[data-testid=sql-text]", "SET 'auto.offset.reset' = 'earliest';\nSELECT app, error_count FROM error_counts;");
            await sqlRun();
            await waitText("[data-testid=sql-status]", "✓ Property 'auto.offset.reset' set to 'earliest'", "SET's result");
            if (await page.inputValue("[data-testid=sql-offset-reset]") !== "earliest") fail("SET 'auto.offset.reset' did not change the selector");
            await waitText("[data-testid=query-state]", "done", "the pull query");
            const got = await page.locator("[data-testid=query-row]").evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.innerText)));
            const counts = {};
            // Summed over windows: a run may straddle an hour boundary.
            for (const [app, n] of got) counts[app] = (counts[app] || 0) + Number(n);
            // 2 + 10 + 1 order-service errors, 1 + 10 payment-service ones.
            if (counts["order-service"] !== 13 || counts["payment-service"] !== 11) fail(`error_counts: ${JSON.stringify(got)}`);
            await shot("sql-pull");
        });

        await sqlStep("sql: terminate a persistent query from the side panel", async () => {
            const q = page.locator("[data-testid=sql-query]").filter({ hasText: "ORDER_ERRORS" });
            await waitText("[data-testid=sql-query] [data-testid=query-throughput]", (t) => /^[\d.]+\/s in · [1-9]\d* processed$/.test(t), "a query's throughput (the engine's counts)");
            await q.locator("[data-testid=terminate-query]").click();
            await page.waitForSelector("[data-testid=toast-ok]:has-text('terminated')");
            await waitRows("[data-testid=sql-query]", 1, "queries after terminate");
            await shot("sql-terminated");
        });

        await sqlStep("sql: a syntax error is shown with its position, and the line marked", async () => {
            await page.fill("[data-testid=sql-text]", "SHOW STREAMS;\n\nSELECT app\n  FROM logs_stream\n  WHERE level = = 'ERROR' EMIT CHANGES;");
            await sqlRun();
            await waitRows("[data-testid=sql-result]", 2, "results up to the error");
            const pos = await text("[data-testid=sql-error-pos]");
            if (pos !== "line 5, column 17") fail(`error position: ${JSON.stringify(pos)} (${await text("[data-testid=sql-error]")})`);
            await page.waitForSelector("[data-testid=sql-editor] .ce-ln-err");
            const marked = await text("[data-testid=sql-editor] .ce-ln-err");
            if (marked !== "5") fail(`marked line: ${marked}`);
            // The second "=" of line 5 is underlined: column 17 of the text.
            const [mark, ta] = await Promise.all(["[data-testid=sql-error-mark]", "[data-testid=sql-text]"].map((sel) => page.locator(sel).boundingBox()));
            const charW = await page.locator(".ce-measure").evaluate((el) => el.getBoundingClientRect().width / 10);
            const col = Math.round((mark.x - ta.x - 14) / charW) + 1;
            if (col !== 17) fail(`the error mark is under column ${col}`);
            await page.click("[data-testid=sql-error-pos]");
            await shot("sql-error");
        });

        await sqlStep("sql: the view in the dark theme", async () => {
            await page.fill("[data-testid=sql-text]", "-- dark\nSELECT * FROM error_counts;\nSELECT app, msg FROM order_errors EMIT CHANGES;");
            await sqlRun();
            await waitText("[data-testid=sql-result][data-kind='push query'] [data-testid=query-state]", "live", "push query in the dark theme");
            await page.click("[data-testid=theme-toggle]");
            await page.click("[data-testid=sql-source][data-name=ERROR_COUNTS] .side-row");
            await shot("sql-dark");
            await page.click("[data-testid=sql-stop-all]");
            await page.click("[data-testid=theme-toggle]");
        });

        // ---- Connectors: Datagen through the generated form, validated as typed; its records
        // in the topic browser; pause/resume/restart; delete ----
        const CONNECTOR = "orders-gen", GEN_TOPIC = "gen-orders";
        const DATAGEN = "io.confluent.kafka.connect.datagen.DatagenConnector";
        const cfgInput = (key) => `[data-testid=cfg-input][data-key="${key}"]`;
        const cfgErrors = (key) => `[data-testid=cfg-errors][data-key="${key}"]`;
        const genCount = async () => {
            await page.goto(`${sluice.url}/topics/${GEN_TOPIC}/messages`);
            await page.waitForSelector("[data-testid=load-messages]:not([disabled])");
            await page.selectOption("[data-testid=start-from]", "earliest");
            await page.fill("[data-testid=limit]", "100000");
            await loadMessages();
            const t = await text("[data-testid=message-count]");
            return parseInt(t.replace(/,/g, ""), 10) || 0;
        };
        const openConnector = async (name = CONNECTOR) => {
            await page.goto(`${sluice.url}/connectors`);
            await page.click(`[data-testid=connector-row][data-name="${name}"]`);
            await page.waitForSelector("[data-testid=connector-detail]");
        };
        // Kafka Connect's REST API itself, to check what the UI did.
        const connectRest = async (method, p, body) => {
            const r = await fetch(sluice.connect + p, {
                method,
                headers: body === undefined ? {} : { "content-type": "application/json" },
                body: body === undefined ? undefined : JSON.stringify(body),
            });
            const t = await r.text();
            if (!r.ok) fail(`Connect ${method} ${p}: HTTP ${r.status} ${t}`);
            return t ? JSON.parse(t) : null;
        };
        const detailState = "[data-testid=connector-detail] .page-head [data-testid=connector-state]";

        await step("connectors: the empty list, the embedded Connect's URL", async () => {
            await page.goto(`${sluice.url}/`);
            await page.click("[data-testid=nav-connectors]");
            await page.waitForSelector("[data-testid=connectors]");
            await waitText("[data-testid=connect-url]", (t) => /^Kafka Connect at http:\/\/127\.0\.0\.1:\d+$/.test(t), "the embedded Connect URL");
            await page.waitForSelector("[data-testid=connectors] .empty");
            await shot("connectors-empty");
        });

        await step("connectors: Datagen from the generated form, a validation error first, then fixed", async () => {
            await page.click("[data-testid=new-connector]");
            await page.waitForSelector("[data-testid=new-connector-view]");
            await page.click(`[data-testid=plugin][data-class="${DATAGEN}"]`);
            // The plugin's group first, its required key first in it; defaults as placeholders.
            await page.waitForSelector(cfgInput("kafka.topic"));
            const first = await page.locator("[data-testid=cfg-input]").first().getAttribute("data-key");
            if (first !== "kafka.topic") fail(`the form's first field is ${first}, expected the required kafka.topic`);
            const ph = await page.getAttribute(cfgInput("max.interval"), "placeholder");
            if (ph !== "500") fail(`max.interval's default shown as ${JSON.stringify(ph)}`);
            await page.waitForSelector('[data-group=Common] [data-testid=cfg-input][data-key="tasks.max"]');
            await page.fill("[data-testid=connector-name]", CONNECTOR);
            await page.fill(cfgInput("quickstart"), "orders");
            await page.fill(cfgInput("max.interval"), "soon");
            // Connect's answers next to their fields, as typed.
            await waitText(cfgErrors("max.interval"), (t) => t.includes("Not a number of type LONG"), "max.interval's error");
            await waitText(cfgErrors("kafka.topic"), (t) => t.includes('Missing required configuration "kafka.topic"'), "kafka.topic's error");
            await waitText("[data-testid=validation-summary]", "2 errors", "the error count");
            if (await page.isEnabled("[data-testid=create-connector]")) fail("Create is enabled with errors");
            await shot("connector-form-errors");
            await page.fill(cfgInput("max.interval"), "200");
            await page.fill(cfgInput("kafka.topic"), GEN_TOPIC);
            await waitText("[data-testid=validation-summary]", "✓ Connect accepts this config", "the fixed config");
            await waitRows("[data-testid=cfg-errors]", 0, "errors after the fix");
            await shot("connector-form-valid");
            // The same config as Connect's JSON; downloaded as a file.
            await page.click("[data-testid=tab-json]");
            const json = JSON.parse(await page.inputValue("[data-testid=connector-json]"));
            if (json.name !== CONNECTOR || json.config["connector.class"] !== DATAGEN || json.config["kafka.topic"] !== GEN_TOPIC
                || json.config["max.interval"] !== "200" || json.config.quickstart !== "orders") fail(`the JSON tab: ${JSON.stringify(json)}`);
            const [dl] = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=connector-json-download]")]);
            const saved = JSON.parse(fs.readFileSync(await dl.path(), "utf8"));
            if (saved.config["kafka.topic"] !== GEN_TOPIC || dl.suggestedFilename() !== `${CONNECTOR}.json`) fail(`downloaded ${dl.suggestedFilename()}: ${JSON.stringify(saved)}`);
            await shot("connector-json");
            await page.click("[data-testid=tab-form]");
            await page.click("[data-testid=create-connector]");
            await page.waitForSelector("[data-testid=connector-detail]");
            await waitText("[data-testid=connector-title]", CONNECTOR, "the new connector's page");
            await waitText("[data-testid=connector-detail] .page-head [data-testid=connector-state]", "RUNNING", "the connector's state");
            await waitText("[data-testid=task-row][data-task='0'] [data-testid=task-state]", "RUNNING", "task 0's state");
            await page.waitForSelector(`[data-testid=connector-topic][data-topic="${GEN_TOPIC}"]`);
            await page.waitForSelector("[data-testid=offset-row]");
            await shot("connector-detail");
        });

        await step("connectors: the list shows state, tasks, type, class and topics", async () => {
            await page.click("[data-testid=nav-connectors]");
            const row = `[data-testid=connector-row][data-name="${CONNECTOR}"]`;
            await waitText(`${row} [data-testid=connector-state]`, "RUNNING", "the list's state");
            await waitText(`${row} [data-testid=connector-tasks]`, "0 RUNNING", "the list's task states");
            await waitText(`${row} [data-testid=connector-topics]`, GEN_TOPIC, "the list's topics");
            const cells = await text(row);
            if (!cells.includes("source") || !cells.includes("DatagenConnector")) fail(`the list's row: ${JSON.stringify(cells)}`);
            await shot("connectors-list");
        });

        await step("connectors: its records arrive in the topic browser (from the topic link)", async () => {
            await page.click(`[data-testid=connector-row][data-name="${CONNECTOR}"] [data-testid=connector-topics] a`);
            await page.waitForSelector("[data-testid=topic-detail]");
            await waitText("[data-testid=topic-title]", GEN_TOPIC, "the linked topic");
            const a = await genCount();
            await page.waitForTimeout(1500);
            const b = await genCount();
            if (!(a > 0 && b > a)) fail(`records should keep arriving: ${a} then ${b}`);
            await page.locator("[data-testid=message-row]").first().click();
            const value = await text("[data-testid=detail-value]");
            if (!value.includes("orderid") || !value.includes("itemid")) fail(`a Datagen orders record: ${value}`);
            await shot("connector-records");
        });

        await step("connectors: pause (PAUSED, no new records), resume, restart, restart a task", async () => {
            await openConnector();
            await page.click("[data-testid=connector-pause]");
            await waitText("[data-testid=connector-detail] .page-head [data-testid=connector-state]", "PAUSED", "the state after Pause");
            await waitText("[data-testid=task-row][data-task='0'] [data-testid=task-state]", "PAUSED", "task 0 after Pause");
            await shot("connector-paused");
            await page.waitForTimeout(500);
            const a = await genCount();
            await page.waitForTimeout(1500);
            const b = await genCount();
            if (a !== b) fail(`records arrived while paused: ${a} then ${b}`);
            await openConnector();
            await page.click("[data-testid=connector-resume]");
            await waitText("[data-testid=connector-detail] .page-head [data-testid=connector-state]", "RUNNING", "the state after Resume");
            await page.click("[data-testid=connector-restart]");
            await page.waitForSelector("[data-testid=toast-ok]:has-text('restarted')");
            await waitText("[data-testid=connector-detail] .page-head [data-testid=connector-state]", "RUNNING", "the state after Restart");
            await page.click("[data-testid=task-row][data-task='0'] [data-testid=task-restart]");
            await page.waitForSelector("[data-testid=toast-ok]:has-text('Task 0')");
            await waitText("[data-testid=task-row][data-task='0'] [data-testid=task-state]", "RUNNING", "task 0 after its restart");
            const c = await genCount();
            if (!(c > b)) fail(`no records after resume: ${b} then ${c}`);
        });

        await step("connectors: edit its config in the form (a validation error first, then saved)", async () => {
            await openConnector();
            await page.click("[data-testid=connector-edit]");
            await page.waitForSelector("[data-testid=edit-connector-view]");
            // Prefilled from GET /connectors/{n}/config; the name and class are not editable.
            await waitText(cfgInput("max.interval"), "200", "the current max.interval");
            await waitText(cfgInput("kafka.topic"), GEN_TOPIC, "the current kafka.topic");
            if (!(await page.getAttribute("[data-testid=connector-name]", "readonly") !== null)) fail("the name is editable");
            await waitText("[data-testid=connector-name]", CONNECTOR, "the name field");
            if (await page.locator("[data-testid=plugin-list]").count()) fail("the plugin picker is offered when editing");
            await waitText("[data-testid=edit-plugin] .plugin-class", DATAGEN, "the fixed class");
            await waitText("[data-testid=validation-summary]", "✓ Connect accepts this config", "the current config");
            await page.fill(cfgInput("max.interval"), "later");
            await waitText(cfgErrors("max.interval"), (t) => t.includes("Not a number of type LONG"), "max.interval's error");
            await waitText("[data-testid=validation-summary]", "1 error", "the error count");
            if (await page.isEnabled("[data-testid=save-connector]")) fail("Save is enabled with an error");
            await shot("connector-edit-error");
            // The JSON tab cannot rename it.
            await page.click("[data-testid=tab-json]");
            const json = JSON.parse(await page.inputValue("[data-testid=connector-json]"));
            if (json.name !== CONNECTOR || json.config["max.interval"] !== "later") fail(`the JSON tab: ${JSON.stringify(json)}`);
            await page.fill("[data-testid=connector-json]", JSON.stringify({ ...json, name: "renamed" }));
            await waitText("[data-testid=json-error]", (t) => t.includes(`The name stays ${CONNECTOR}`), "renaming refused");
            await page.click("[data-testid=tab-form]");
            await page.fill(cfgInput("max.interval"), "100");
            await waitText("[data-testid=validation-summary]", "✓ Connect accepts this config", "the fixed config");
            await shot("connector-edit-form");
            await page.click("[data-testid=save-connector]");
            await page.waitForSelector("[data-testid=toast-ok]:has-text('updated')");
            await page.waitForSelector("[data-testid=connector-detail]");
            const cfg = await connectRest("GET", `/connectors/${CONNECTOR}/config`);
            if (cfg["max.interval"] !== "100" || cfg["kafka.topic"] !== GEN_TOPIC || cfg["connector.class"] !== DATAGEN || cfg.name !== CONNECTOR) {
                fail(`the config after saving: ${JSON.stringify(cfg)}`);
            }
            await waitText("[data-testid=config-table]", (t) => t.includes("max.interval\t100"), "the new config in the detail");
            await waitText(detailState, "RUNNING", "the state after saving");
            await waitText("[data-testid=task-row][data-task='0'] [data-testid=task-state]", "RUNNING", "task 0 with the new config");
        });

        await step("connectors: a sink's offset set for a partition (stopped first), then resumed", async () => {
            const SINK = "orders-file";
            const out = path.join(tmp, "orders.txt");
            await connectRest("POST", "/connectors", { name: SINK, config: { "connector.class": "FileStreamSink", file: out, topics: GEN_TOPIC } });
            const committed = async () => {
                const o = await connectRest("GET", `/connectors/${SINK}/offsets`);
                const e = o.offsets.find((x) => x.partition.kafka_topic === GEN_TOPIC && x.partition.kafka_partition === 0);
                return e ? e.offset.kafka_offset : null;
            };
            const deadline = Date.now() + T;
            while (!((await committed()) > 5) && Date.now() < deadline) await page.waitForTimeout(250);
            if (!((await committed()) > 5)) fail(`the sink committed ${await committed()}`);
            await openConnector(SINK);
            await waitText(detailState, "RUNNING", "the sink's state");
            await page.waitForSelector("[data-testid=offset-row]");
            await page.click("[data-testid=offsets-edit]");
            const field = `[data-testid=offset-input][data-topic="${GEN_TOPIC}"][data-partition="0"]`;
            await page.waitForSelector(field);
            // Connect changes offsets of stopped connectors only: the editor says so and offers Stop.
            await page.waitForSelector("[data-testid=offsets-not-stopped]");
            await page.fill(field, "5");
            await waitText("[data-testid=offsets-summary]", "1 partition changes", "the pending change");
            if (await page.isEnabled("[data-testid=offsets-apply]")) fail("Apply is enabled on a running connector");
            await shot("connector-offsets-running");
            await page.click("[data-testid=offsets-stop]");
            await waitText(detailState, "STOPPED", "the state after Stop");
            await page.waitForSelector("[data-testid=offsets-not-stopped]", { state: "detached" });
            await waitText(field, "5", "the field kept through polling");
            // A partition of a topic that does not exist: Connect's refusal in its own words.
            await page.fill("[data-testid=offsets-add-topic]", "no-such-topic");
            await page.fill("[data-testid=offsets-add-partition]", "0");
            await page.click("[data-testid=offsets-add]");
            await page.fill('[data-testid=offset-input][data-topic="no-such-topic"]', "1");
            await waitText("[data-testid=offsets-summary]", "2 partitions change", "two pending changes");
            await shot("connector-offsets-editor");
            await page.click("[data-testid=offsets-apply]");
            await waitText("[data-testid=offsets-error]", (t) => t.length > 0, "Connect's refusal");
            const refusal = await text("[data-testid=offsets-error]");
            log(`    Connect refused: ${refusal}`);
            if ((await committed()) === 5) fail("a refused PATCH changed the offset");
            await page.fill('[data-testid=offset-input][data-topic="no-such-topic"]', "");
            await waitText("[data-testid=offsets-summary]", "1 partition changes", "the pending change alone");
            await page.click("[data-testid=offsets-apply]");
            await page.waitForSelector("[data-testid=toast-ok]:has-text('altered successfully')");
            await page.waitForSelector("[data-testid=offsets-editor]", { state: "detached" });
            if ((await committed()) !== 5) fail(`GET offsets after the PATCH: ${JSON.stringify(await connectRest("GET", `/connectors/${SINK}/offsets`))}`);
            await waitText("[data-testid=offsets-table]", (t) => t.includes("kafka_offset=5"), "the new offset in the detail");
            // Resumed, it reads on from offset 5.
            await page.click("[data-testid=connector-resume]");
            await waitText(detailState, "RUNNING", "the state after Resume");
            const resumed = Date.now() + T;
            while (!((await committed()) > 5) && Date.now() < resumed) await page.waitForTimeout(250);
            if (!((await committed()) > 5)) fail(`the sink did not go on from offset 5: ${await committed()}`);
            await connectRest("DELETE", `/connectors/${SINK}`);
        });

        await step("connectors: stop, reset its offsets, delete (with confirmation)", async () => {
            await openConnector();
            if (await page.isEnabled("[data-testid=offsets-reset]")) fail("offset reset is enabled on a running connector");
            await page.click("[data-testid=connector-stop]");
            await waitText("[data-testid=connector-detail] .page-head [data-testid=connector-state]", "STOPPED", "the state after Stop");
            // A source's offset is its own JSON: Datagen's iteration, set back to 3.
            await page.click("[data-testid=offsets-edit]");
            await page.waitForSelector("[data-testid=offset-json]");
            const current = JSON.parse(await page.inputValue("[data-testid=offset-json]"));
            if (!(current["current.iteration"] > 3)) fail(`Datagen's offset: ${JSON.stringify(current)}`);
            await page.fill("[data-testid=offset-json]", "{\"task.generation\": 0");
            await waitText("[data-testid=offsets-summary]", (t) => t.includes("not JSON"), "a broken offset JSON");
            if (await page.isEnabled("[data-testid=offsets-apply]")) fail("Apply is enabled with broken JSON");
            await page.fill("[data-testid=offset-json]", JSON.stringify({ ...current, "current.iteration": 3 }, null, 2));
            await waitText("[data-testid=offsets-summary]", "1 partition changes", "the source's pending change");
            await shot("connector-source-offsets-editor");
            await page.click("[data-testid=offsets-apply]");
            await page.waitForSelector("[data-testid=offsets-editor]", { state: "detached" });
            const src = await connectRest("GET", `/connectors/${CONNECTOR}/offsets`);
            if (src.offsets.length !== 1 || src.offsets[0].offset["current.iteration"] !== 3) fail(`GET offsets of the source: ${JSON.stringify(src)}`);
            await page.waitForSelector("[data-testid=offsets-reset]:not([disabled])");
            await page.click("[data-testid=offsets-reset]");
            await page.click("[data-testid=connector-confirm-submit]");
            await page.waitForSelector("[data-testid=no-offsets]");
            await page.click("[data-testid=theme-toggle]");
            await page.waitForTimeout(300);
            await shot("connector-stopped-dark");
            await page.click("[data-testid=connector-delete]");
            await page.waitForSelector("[data-testid=connector-confirm]");
            await shot("connector-delete-dark");
            await page.click("[data-testid=connector-confirm-submit]");
            await page.waitForURL(/\/connectors$/);
            await waitRows(`[data-testid=connector-row][data-name="${CONNECTOR}"]`, 0, "the list after delete");
            // The create form and its errors in the dark theme too.
            await page.click("[data-testid=new-connector]");
            await page.click(`[data-testid=plugin][data-class="${DATAGEN}"]`);
            await page.fill("[data-testid=connector-name]", "dark-gen");
            await page.fill(cfgInput("max.interval"), "-5");
            await waitText(cfgErrors("max.interval"), (t) => t.includes("max.interval"), "an error in the dark theme");
            await shot("connector-form-dark");
            await page.click("[data-testid=theme-toggle]");
        });

        await step("connectors: an uploaded connector JSON; a failing task's trace, restart, delete", async () => {
            await page.goto(`${sluice.url}/connectors/new`);
            await page.click("[data-testid=tab-json]");
            const file = path.join(tmp, "bad-sink.json");
            fs.writeFileSync(file, JSON.stringify({ name: "bad-sink", config: { "connector.class": "FileStreamSink", file: "/proc/nope/out.txt", topics: GEN_TOPIC } }));
            await page.setInputFiles("[data-testid=connector-file]", file);
            await page.waitForSelector('[data-testid=plugin].active[data-class="org.apache.kafka.connect.file.FileStreamSinkConnector"]');
            await waitText("[data-testid=connector-name]", "bad-sink", "the name from the file");
            await page.click("[data-testid=tab-form]");
            await waitText(cfgInput("file"), "/proc/nope/out.txt", "the file key in the form");
            await waitText("[data-testid=validation-summary]", "✓ Connect accepts this config", "the uploaded config");
            await page.click("[data-testid=create-connector]");
            await page.waitForSelector("[data-testid=connector-detail]");
            await waitText("[data-testid=task-row][data-task='0'] [data-testid=task-state]", "FAILED", "the sink task writing where it cannot");
            await page.click("[data-testid=task-row][data-task='0'] details.trace summary");
            await waitText("[data-testid=task-trace]", (t) => t.includes("Couldn't find or create file '/proc/nope/out.txt'"), "the task's trace");
            await shot("connector-failed-trace");
            await page.click("[data-testid=task-row][data-task='0'] [data-testid=task-restart]");
            await page.waitForSelector("[data-testid=toast-ok]:has-text('Task 0')");
            await waitText("[data-testid=task-row][data-task='0'] [data-testid=task-state]", "FAILED", "the task fails again after its restart");
            await page.click("[data-testid=nav-connectors]");
            await waitText('[data-testid=connector-row][data-name="bad-sink"] [data-testid=connector-tasks]', "0 FAILED", "the failed task in the list");
            await page.click('[data-testid=connector-row][data-name="bad-sink"]');
            await page.click("[data-testid=connector-delete]");
            await page.click("[data-testid=connector-confirm-submit]");
            await page.waitForURL(/\/connectors$/);
            await page.waitForSelector("[data-testid=connectors] .empty");
        });

        await step("views still to come say so", async () => {
            for (const v of ["pipelines"]) {
                await page.click(`[data-testid=nav-${v}]`);
                await page.waitForSelector("[data-testid=coming]");
                await shot(`${v}-coming`);
            }
        });

        await step("settings, dark theme, add-cluster dialog", async () => {
            await page.click("[data-testid=nav-settings]");
            const embedded = await text("[data-testid=settings-cluster-name]");
            if (embedded !== "Embedded (local)") fail(`Settings names the embedded cluster ${JSON.stringify(embedded)}`);
            const option = await page.$eval("[data-testid=cluster-select]", (el) => el.options[el.selectedIndex].text);
            if (option !== "Embedded (local)") fail(`the cluster switcher shows ${JSON.stringify(option)}`);
            await shot("settings");
            await page.click("[data-testid=theme-toggle]");
            const theme = await page.evaluate(() => document.documentElement.getAttribute("data-theme"));
            if (theme !== "dark") fail(`theme after toggle: ${theme}`);
            await page.reload();
            const kept = await page.evaluate(() => document.documentElement.getAttribute("data-theme"));
            if (kept !== "dark") fail(`dark theme not remembered across a reload (${kept})`);
            await page.click("[data-testid=nav-overview]");
            await page.waitForSelector("[data-testid=overview]");
            await page.waitForTimeout(1500);
            await shot("overview-dark");
            await page.goto(`${sluice.url}/topics/${TOPIC}/messages`);
            await page.selectOption("[data-testid=start-from]", "earliest");
            await loadMessages();
            await waitRows("[data-testid=message-row]", 7, "all messages");
            await page.locator("[data-testid=message-row]").first().click();
            await shot("messages-dark");
            await page.click("[data-testid=add-cluster]");
            await page.waitForSelector("[data-testid=add-cluster-dialog]");
            await shot("add-cluster-dark");
            await page.keyboard.press("Escape");
            await page.click("[data-testid=theme-toggle]");
        });

        await step("add a remote cluster (this broker, by its bootstrap address), switch to it, remove it", async () => {
            await page.goto(`${sluice.url}/topics`);
            await page.click("[data-testid=add-cluster]");
            await page.fill("[data-testid=add-cluster-dialog] input[placeholder=staging]", "loopback");
            await page.fill('[data-testid=add-cluster-dialog] input[placeholder="broker1:9092,broker2:9092"]', sluice.bootstrap);
            await page.click("[data-testid=add-cluster-submit]");
            await page.waitForSelector("[data-testid=add-cluster-dialog]", { state: "detached" });
            const selected = await page.$eval("[data-testid=cluster-select]", (el) => el.options[el.selectedIndex].text);
            if (!selected.startsWith("loopback")) fail(`after adding, the cluster switcher shows ${JSON.stringify(selected)}`);
            await page.waitForSelector(`[data-testid=topic-row][data-name="${TOPIC}"]`);
            await shot("remote-cluster");
            // A cluster added without a registry URL: the Schemas view says so and points to Settings.
            await page.click("[data-testid=nav-schemas]");
            await page.waitForSelector("[data-testid=no-registry] a[href='/settings']");
            await shot("schemas-no-registry");
            await page.click("[data-testid=nav-connectors]");
            await page.waitForSelector("[data-testid=no-connect] a[href='/settings']");
            await page.click("[data-testid=remove-cluster]");
            await page.click("[data-testid=remove-cluster-confirm]");
            await page.waitForSelector("[data-testid=remove-cluster]", { state: "detached" });
            const back = await page.$eval("[data-testid=cluster-select]", (el) => el.options.length);
            if (back !== 1) fail(`after removing, the switcher still lists ${back} clusters`);
        });

        await step("a second sluice as a remote cluster: its topics, messages, groups and schemas", async () => {
            const far = await startSluice(path.join(tmp, "far-data"), path.join(tmp, "far.log"));
            try {
                const farTopic = "far-orders", farGroup = "far-group";
                // Its data, written by real clients: kafka-python records and a committed
                // group, and a schema registered over Confluent's REST API.
                const out = spawnSync(PYTHON, ["-c", `
import sys
from kafka import KafkaProducer, KafkaConsumer
from kafka.admin import KafkaAdminClient, NewTopic
bootstrap, topic, group = sys.argv[1:4]
KafkaAdminClient(bootstrap_servers=bootstrap).create_topics([NewTopic(topic, 1, 1)])
p = KafkaProducer(bootstrap_servers=bootstrap)
for i in range(4):
    p.send(topic, key=b"far-%d" % i, value=b'{"far": %d}' % i)
p.flush()
c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                  enable_auto_commit=False, consumer_timeout_ms=10000)
seen = 0
for m in c:
    seen += 1
    if seen == 3:
        break
c.commit()
c.close()
print(seen)
`, far.bootstrap, farTopic, farGroup], { encoding: "utf8", timeout: 90_000 });
                if (out.status !== 0) fail(`kafka-python against the remote sluice failed:\n${out.stderr}`);
                const reg = await fetch(`${far.registry}/subjects/${farTopic}-value/versions`, {
                    method: "POST",
                    headers: { "content-type": "application/vnd.schemaregistry.v1+json" },
                    body: JSON.stringify({ schema: JSON.stringify({ type: "record", name: "Far", fields: [{ name: "far", type: "int" }] }) }),
                });
                if (!reg.ok) fail(`registering on the remote registry: ${reg.status} ${await reg.text()}`);

                await page.goto(`${sluice.url}/topics`);
                await page.click("[data-testid=add-cluster]");
                await page.fill("[data-testid=add-cluster-dialog] input[placeholder=staging]", "far");
                await page.fill('[data-testid=add-cluster-dialog] input[placeholder="broker1:9092,broker2:9092"]', far.bootstrap);
                await page.fill('[data-testid=add-cluster-dialog] input[placeholder="http://registry:8081"]', far.registry);
                await page.fill('[data-testid=add-cluster-dialog] input[placeholder="http://ksqldb:8088"]', far.sql);
                await page.fill('[data-testid=add-cluster-dialog] input[placeholder="http://connect:8083"]', far.connect);
                await page.click("[data-testid=add-cluster-submit]");
                await page.waitForSelector("[data-testid=add-cluster-dialog]", { state: "detached" });
                // The list is the remote one: its topic, not the embedded cluster's.
                await page.waitForSelector(`[data-testid=topic-row][data-name="${farTopic}"]`);
                await waitRows(`[data-testid=topic-row][data-name="${TOPIC}"]`, 0, "the embedded topic on the remote cluster's list");
                await shot("remote-topics");
                await page.click(`[data-testid=topic-row][data-name="${farTopic}"]`);
                await page.waitForSelector("[data-testid=load-messages]:not([disabled])");
                await page.selectOption("[data-testid=start-from]", "earliest");
                await loadMessages();
                await waitText("[data-testid=message-count]", "4 messages", "the remote topic's messages");
                await shot("remote-messages");
                await page.click("[data-testid=nav-groups]");
                await page.waitForSelector(`[data-testid=group-row][data-group="${farGroup}"]`);
                await waitText(`[data-testid=group-row][data-group="${farGroup}"] [data-testid=group-lag]`, "1", "the remote group's lag");
                await shot("remote-groups");
                await page.click("[data-testid=nav-schemas]");
                await page.waitForSelector(`text=${farTopic}-value`);
                await shot("remote-schemas");
                // SQL on the remote cluster's ksqlDB, through the same pass-through.
                await page.click("[data-testid=nav-sql]");
                await waitText("[data-testid=sql-view] .page-head .muted", `ksqlDB at ${far.sql}`, "the remote cluster's ksqlDB URL");
                await page.fill("[data-testid=sql-text]", `CREATE STREAM far_s (far INT) WITH (KAFKA_TOPIC='${farTopic}', VALUE_FORMAT='JSON');\nSELECT far FROM far_s EMIT CHANGES LIMIT 4;`);
                await page.selectOption("[data-testid=sql-offset-reset]", "earliest");
                await page.click("[data-testid=sql-run]");
                await waitText("[data-testid=query-state]", "done", "a push query with LIMIT on the remote ksqlDB");
                await waitRows("[data-testid=query-row]", 4, "the remote topic's rows");
                await waitRows("[data-testid=query-stop]", 0, "Stop on a query that ended at its LIMIT");
                await waitRows("[data-testid=sql-stop-all]", 0, "the toolbar's Stop once nothing runs");
                await page.waitForSelector("[data-testid=sql-source][data-name=FAR_S]");
                await shot("remote-sql");
                // Connectors on the remote cluster's Kafka Connect, through the same pass-through.
                const farConnector = await fetch(`${far.connect}/connectors`, {
                    method: "POST",
                    headers: { "content-type": "application/json" },
                    body: JSON.stringify({ name: "far-gen", config: { "connector.class": "DatagenConnector", "kafka.topic": "far-gen", quickstart: "users", "max.interval": "500" } }),
                });
                if (farConnector.status !== 201) fail(`creating a connector on the remote Connect: ${farConnector.status} ${await farConnector.text()}`);
                await page.click("[data-testid=nav-connectors]");
                await waitText("[data-testid=connect-url]", `Kafka Connect at ${far.connect}`, "the remote cluster's Connect URL");
                await waitText('[data-testid=connector-row][data-name="far-gen"] [data-testid=connector-state]', "RUNNING", "the remote connector");
                await waitRows("[data-testid=connector-row]", 1, "the remote cluster's connectors (its one)");
                await shot("remote-connectors");
                await page.click("[data-testid=remove-cluster]");
                await page.click("[data-testid=remove-cluster-confirm]");
                await page.waitForSelector("[data-testid=remove-cluster]", { state: "detached" });
            } finally {
                far.proc.kill("SIGTERM");
            }
        });

        await step("bulk produce (N copies, a JSON array) with progress; a virtual list of them all", async () => {
            await page.goto(`${sluice.url}/topics/${TOPIC}/produce`);
            await page.click("label:has([data-testid=mode-copies])");
            await page.fill("[data-testid=produce-key]", "bulk");
            await page.fill("[data-testid=produce-value]", "copy");
            await page.fill("[data-testid=produce-copies]", String(BULK));
            const t0 = Date.now();
            await page.click("[data-testid=produce-send]");
            await waitText("[data-testid=produce-progress] + span", `${BULK.toLocaleString("en-US")} / ${BULK.toLocaleString("en-US")}`, "bulk copies progress", 120_000);
            log(`    ${BULK} copies in ${Date.now() - t0} ms`);
            await shot("produce-bulk");
            await page.click("label:has([data-testid=mode-json])");
            // Loaded from a file, as a user would.
            const file = path.join(tmp, "records.json");
            fs.writeFileSync(file, JSON.stringify([
                { key: "j1", value: { a: 1 }, headers: { kind: "json" } },
                { key: "j2", value: "plain", partition: 0 },
                "bare value",
            ]));
            await page.setInputFiles("[data-testid=produce-file]", file);
            await waitText("[data-testid=produce-bulk]", (t) => t.includes('"j2"'), "the records file in the text area");
            await page.click("[data-testid=produce-send]");
            await waitText("[data-testid=produce-progress] + span", "3 / 3", "JSON array progress");
            await page.click("[data-testid=tab-messages]");
            await page.selectOption("[data-testid=start-from]", "earliest");
            await page.fill("[data-testid=limit]", "100000");
            await loadMessages();
            const total = Math.min(7 + BULK + 3, 100_000); // the API returns at most 100,000
            await waitText("[data-testid=message-count]", `${total.toLocaleString("en-US")} messages`, "messages loaded", 60_000);
            const inDom = await rows("[data-testid=message-row]");
            if (inDom > 120) fail(`the message list is not virtual: ${inDom} rows in the DOM for ${total} messages`);
            const t1 = Date.now();
            for (let i = 0; i < 30; i++) {
                await page.mouse.move(500, 600);
                await page.mouse.wheel(0, 4000);
                await page.waitForTimeout(16);
            }
            const offsets = await page.locator("[data-testid=message-row]").evaluateAll((els) => els.length);
            log(`    ${total} messages loaded, ${inDom} rows in the DOM, 30 wheel scrolls in ${Date.now() - t1} ms (${offsets} rows after)`);
            await shot("messages-many");
        });

        await step("delete the topic through the UI", async () => {
            await page.goto(`${sluice.url}/topics`);
            await page.click(`[data-testid=topic-row][data-name="${TOPIC}"] [data-testid=delete-topic]`);
            await page.waitForSelector("[data-testid=delete-topic-dialog]");
            if (await page.isEnabled("[data-testid=delete-confirm]")) fail("delete is enabled before the name is typed");
            await page.fill("[data-testid=delete-confirm-input]", TOPIC);
            await shot("delete-topic");
            await page.click("[data-testid=delete-confirm]");
            await waitRows(`[data-testid=topic-row][data-name="${TOPIC}"]`, 0, "topic list after delete");
            await shot("topics-after-delete");
        });
    } catch (e) {
        await page.screenshot({ path: path.join(SHOTS, "FAILED.png") }).catch(() => {});
        const extra = pageErrors.length ? `\npage errors:\n  ${pageErrors.join("\n  ")}` : "";
        throw new Failure(`step "${current}": ${e.message}${extra}\n(screenshot: tests/artifacts/ui/FAILED.png)`);
    } finally {
        await ctx.close().catch(() => {});
        sluice.proc.kill("SIGTERM");
    }
}

main().then(
    () => {
        console.log("browser tests passed");
        process.exit(0);
    },
    (e) => {
        console.error(`\nbrowser test FAILED: ${e.message}`);
        process.exit(1);
    },
);
