// test_openapi_routes.mjs — the contract and the code agree: every route a service registers is
// in docs/api/openapi.json, and every documented operation is registered by the service its tag
// names. Not read from the sources: the test starts the real stack (scripts/stack.sh, every
// built service with its services/<name>/local.env, a private Redis, in a temporary run
// directory) and asks each server's GET /v1/openapi.json, whose "x-plateau-served" lists the
// routes that server registered (lib/kit/http.c). It also checks that every server serves the
// document as built (docs/api/openapi.json, compiled in), that the served copy is still a valid
// OpenAPI 3.1 document, that each operation's security is real (an authenticated one answers 401
// without a token, a public one does not), that ops ports serve the ops operations, and that
// the answers it gets (every operation without a token, every read with one) have a status,
// a media type and a body the document describes.
//
// Services are found from the document's tags, the built binaries and services/<name>/local.env:
// a service the document tags must be built and startable.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const root = process.env.PL_SOURCE_DIR || new URL("../..", import.meta.url).pathname;
const bin = process.env.PL_BIN_DIR || join(root, "build/bin");
const doc = JSON.parse(readFileSync(join(root, "docs/api/openapi.json"), "utf8"));
const methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

let failures = [];
const fail = (msg) => failures.push(msg);
// A server that is not the one started: a port picked free and taken by another process
// before the service bound it (stack.sh says so of parallel stacks). The stack is started again.
let foreign = [];
const elsewhere = (msg) => { foreign.push(msg); fail(msg); };
const say = (msg) => console.log(`test_openapi_routes: ${msg}`);

// The documented operations, by the tag that names who answers them.
const documented = new Map();            // "GET /v1/leads/{id}" -> { tag, secured }
for (const [path, item] of Object.entries(doc.paths))
  for (const m of methods)
    if (item[m])
      documented.set(`${m.toUpperCase()} ${path}`, {
        tag: item[m].tags[0],
        secured: !(Array.isArray(item[m].security) && item[m].security.length === 0),
      });
const byTag = (tag) => [...documented].filter(([, d]) => d.tag === tag).map(([op]) => op);
const apiServices = [...new Set([...documented.values()].map((d) => d.tag))]
  .filter((t) => t !== "ops" && t !== "openapi");

// Which services there are: the document's, which must be built, and
// whatever else is built, whose routes must be documented too.
const built = (s) => existsSync(join(bin, `plateau-${s}`));
const startable = (s) => existsSync(join(root, "services", s, "local.env"));
const expected = [];
for (const s of apiServices) {
  const why = !built(s) ? `plateau-${s} is not built` : !startable(s) ? `services/${s}/local.env is missing` : "";
  if (!why) expected.push(s);
  else fail(`${s}: the document has its operations but ${why}: the stack (and this test) cannot start it`);
}

const served = (text) => {
  const d = JSON.parse(text);
  const x = d["x-plateau-served"];
  if (!x || !Array.isArray(x.operations)) throw new Error("no x-plateau-served.operations");
  return { doc: d, ops: x.operations, service: x.service };
};

async function get(url, init) {
  try {
    const r = await fetch(url, { ...init, signal: AbortSignal.timeout(10000) });
    return { status: r.status, text: await r.text(), headers: r.headers };
  } catch (e) {
    return { error: e.cause?.code || e.message };
  }
}

// An instance of an operation's path: each {param} as a harmless value, or one the local stack
// knows (services/dialer/campaigns), so that reads answer 200 and their bodies are checked too.
const known = { "/v1/campaigns/{id}": "/v1/campaigns/fr-canvass", "/v1/campaigns/{id}/queue": "/v1/campaigns/fr-canvass/queue",
                "/v1/numbers/{e164}/why": "/v1/numbers/%2B33612345678/why" };
const concrete = (path) => known[path] || path.replace(/\{[^}]+\}/g, "x");

// The answers against the document: the status is one the operation lists, the media type one
// it documents for that status, and a JSON (or NDJSON) body valid against its schema (Ajv, JSON
// Schema 2020-12 as OpenAPI 3.1 has it, from the validator's own dependencies).
let deref, ajv;
async function loadSchemas() {
  const nm = join(root, "deploy/validate/node_modules");
  const { Validator } = await import(pathToFileURL(join(nm, "@seriousme/openapi-schema-validator/index.js")).href);
  const v = new Validator();
  await v.validate(JSON.parse(JSON.stringify(doc)));
  deref = v.resolveRefs();
  const Ajv2020 = (await import(pathToFileURL(join(nm, "ajv/dist/2020.js")).href)).default;
  const own = join(nm, "@seriousme/openapi-schema-validator/node_modules/ajv-formats/dist/index.js");
  const formats = existsSync(own) ? own : join(nm, "ajv-formats/dist/index.js");
  const addFormats = (await import(pathToFileURL(formats).href)).default;
  ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
}
const compiled = new Map();
const answers = { all: 0, ok: 0 };
function checkAnswer(label, op, a) {
  answers.all++;
  if (a.status < 300) answers.ok++;
  const [method, path] = op.split(" ");
  const o = deref.paths[path]?.[method.toLowerCase()];
  if (!o) return;
  const st = String(a.status);
  const resp = o.responses[st] || o.responses[`${st[0]}XX`] || o.responses.default;
  if (!resp) {
    fail(`${label}: ${op} answered ${st}, which the document does not list (${Object.keys(o.responses).join(", ")}): ${a.text.slice(0, 200)}`);
    return;
  }
  const ctype = (a.headers.get("content-type") || "").split(";")[0].trim();
  if (!resp.content) {
    if (a.text.length) fail(`${label}: ${op} answered ${st} with a body the document does not describe`);
    return;
  }
  const key = Object.keys(resp.content).find((k) => k === "*/*" || k.split(";")[0].trim() === ctype);
  if (!key) {
    fail(`${label}: ${op} answered ${st} as ${ctype || "(no type)"}, documented ${Object.keys(resp.content).join(", ")}`);
    return;
  }
  const schema = resp.content[key].schema;
  if (!schema || !/json$/.test(ctype)) return;
  const id = `${op} ${st} ${key}`;
  if (!compiled.has(id)) compiled.set(id, ajv.compile(schema));
  const validate = compiled.get(id);
  const bodies = ctype === "application/x-ndjson" ? a.text.split("\n").filter((l) => l.trim()) : [a.text];
  for (const b of bodies) {
    let value;
    try { value = JSON.parse(b); } catch { fail(`${label}: ${op} answered ${st} with broken JSON`); return; }
    if (!validate(value)) {
      fail(`${label}: ${op} answered ${st} with a body the schema refuses: ${ajv.errorsText(validate.errors)}; body ${b.slice(0, 300)}`);
      return;
    }
  }
}

let token;
async function checkServer(label, base, expectedOps, service) {
  const r = await get(`${base}/v1/openapi.json`);
  if (r.error || r.status !== 200) {
    elsewhere(`${label}: GET ${base}/v1/openapi.json: ${r.error || r.status}`);
    return;
  }
  if (!/^application\/json/.test(r.headers.get("content-type") || ""))
    fail(`${label}: /v1/openapi.json is ${r.headers.get("content-type")}, not application/json`);
  let s;
  try {
    s = served(r.text);
  } catch (e) {
    fail(`${label}: /v1/openapi.json: ${e.message}`);
    return;
  }
  if (service !== undefined && s.service !== service)
    elsewhere(`${label}: x-plateau-served.service is ${JSON.stringify(s.service)}, ${JSON.stringify(service)} expected`);
  const copy = { ...s.doc };
  delete copy["x-plateau-served"];
  if (JSON.stringify(copy) !== JSON.stringify(doc))
    fail(`${label}: the document served is not docs/api/openapi.json (a stale build?)`);
  for (const op of s.ops) {
    const d = documented.get(op);
    if (!d) fail(`${label}: registers ${op}, which docs/api/openapi.json does not document`);
    else if (!expectedOps.includes(op))
      fail(`${label}: registers ${op}, which the document tags '${d.tag}'`);
  }
  for (const op of expectedOps)
    if (!s.ops.includes(op)) fail(`${label}: does not register ${op}, which the document tags as its own`);
  // The security the document states, against the kit's answer without a token.
  for (const op of s.ops.filter((o) => documented.has(o))) {
    const [method, path] = op.split(" ");
    const a = await get(`${base}${concrete(path)}`, { method });
    if (a.error) { fail(`${label}: ${op}: ${a.error}`); continue; }
    const code = (() => { try { return JSON.parse(a.text).error?.code; } catch { return undefined; } })();
    if (documented.get(op).secured && !(a.status === 401 && code === "unauthorized"))
      fail(`${label}: ${op} is documented as authenticated but answers ${a.status} without a token`);
    if (!documented.get(op).secured && (a.status === 401 || a.status === 403))
      fail(`${label}: ${op} is documented as public but answers ${a.status} without a token`);
    if (a.status === 405 || (a.status === 404 && /^no such resource/.test(a.text)))
      fail(`${label}: ${op} is not routed (${a.status})`);
    checkAnswer(label, op, a);
  }
  // Reads with the stack's token (operator wherever the local stack names one): their answers.
  for (const op of s.ops.filter((o) => documented.has(o) && o.startsWith("GET "))) {
    const a = await get(`${base}${concrete(op.slice(4))}`, { headers: { Authorization: `Bearer ${token}` } });
    if (a.error) fail(`${label}: ${op}: ${a.error}`);
    else checkAnswer(label, op, a);
  }
  return s;
}

let runDir;
const stack = (...args) => spawnSync(join(root, "scripts/stack.sh"), args, {
  env: { ...process.env, PL_RUN_DIR: runDir, PL_BIN_DIR: bin }, encoding: "utf8", timeout: 120000,
});
const down = () => {
  if (!runDir) return;
  stack("down");
  rmSync(runDir, { recursive: true, force: true });
  runDir = undefined;
};
for (const sig of ["SIGINT", "SIGTERM"])
  process.on(sig, () => { down(); process.exit(1); });

const preflight = failures.length;      // missing binaries: nothing to start
for (let attempt = 1; attempt <= 3 && preflight === 0; attempt++) {
  if (attempt > 1) {
    say(`another process answered on a port of the stack (${foreign[0]}): starting it again`);
    failures = [];
    foreign = [];
    answers.all = answers.ok = 0;
  }
  await run();
  if (foreign.length === 0) break;
}

async function run() {
  try {
    runDir = mkdtempSync(join(tmpdir(), "pl-openapi-"));
    const up = stack("up");
    if (up.status !== 0) {
      elsewhere(`scripts/stack.sh up failed (${up.status}):\n${up.stdout}${up.stderr}`);
    } else {
      const env = Object.fromEntries(readFileSync(join(runDir, "stack.env"), "utf8").split("\n")
        .filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
      const started = Object.keys(env).map((k) => /^PLATEAU_([A-Z0-9]+)_OPS_URL$/.exec(k)?.[1])
        .filter(Boolean).map((s) => s.toLowerCase());
      token = env.PLATEAU_API_TOKEN;
      if (!deref) await loadSchemas();
      const opsOps = [...byTag("ops"), ...byTag("openapi")];
      for (const s of started) {
        const up = s.toUpperCase();
        await checkServer(`${s} (ops port)`, env[`PLATEAU_${up}_OPS_URL`], opsOps, null);
        if (expected.includes(s)) {
          const r = await checkServer(s, env[`PLATEAU_${up}_URL`], [...byTag(s), ...byTag("openapi")], s);
          if (r) say(`${s}: ${r.ops.length} operations, as documented`);
        } else {
          // Not in the document: a service with no HTTP API, which must not listen on one.
          const r = await get(`${env[`PLATEAU_${up}_URL`]}/v1/openapi.json`);
          let mine;
          try { mine = served(r.text); } catch { /* not a plateau server */ }
          if (r.error) say(`${s}: no HTTP API (ops port checked)`);
          else if (mine?.service === s)
            fail(`${s}: serves ${mine.ops.join(", ")} but the document has no operation of it`);
          else say(`${s}: no HTTP API (its unused port answers for ${mine ? mine.service : "another process"})`);
        }
      }
      for (const s of expected)
        if (!started.includes(s)) fail(`${s}: built but not started by scripts/stack.sh`);
      // The served copy is still a valid OpenAPI 3.1 document (x-plateau-served is an extension).
      const url = pathToFileURL(join(root, "deploy/validate/node_modules/@seriousme/openapi-schema-validator/index.js")).href;
      const { Validator } = await import(url);
      const one = expected[0] && await get(`${env[`PLATEAU_${expected[0].toUpperCase()}_URL`]}/v1/openapi.json`);
      if (one && !one.error) {
        const res = await new Validator().validate(JSON.parse(one.text));
        if (!res.valid) fail(`the served document is not valid OpenAPI: ${JSON.stringify(res.errors)}`);
      }
    }
  } finally {
    down();
  }
}

if (failures.length) {
  for (const f of failures) console.error(`test_openapi_routes: ${f}`);
  process.exit(1);
}
say(`pass — every registered route is documented and every documented operation is registered (${expected.join(", ")}; ops ports); ` +
    `${answers.all} answers as documented, ${answers.ok} of them successes`);
