// test_openapi_document.mjs — docs/api/openapi.json is a valid OpenAPI 3.1 document, by a real
// validator (@seriousme/openapi-schema-validator, pinned in deploy/validate/package-lock.json,
// installed by scripts/deps.sh), and holds to the project's conventions: one tag per operation
// naming the service that answers it, paths in the kit's route syntax with every {param}
// declared, the kit's error answers documented, every webhook event type delivered.
// Which routes the services really register is tests/integration/test_openapi_routes.mjs.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const root = process.env.PL_SOURCE_DIR || new URL("../..", import.meta.url).pathname;
const file = join(root, "docs/api/openapi.json");
const validatorUrl = pathToFileURL(join(root,
  "deploy/validate/node_modules/@seriousme/openapi-schema-validator/index.js")).href;

const failures = [];
const fail = (msg) => failures.push(msg);

let Validator;
try {
  ({ Validator } = await import(validatorUrl));
} catch (e) {
  console.error(`test_openapi_document: the validator is not installed (scripts/deps.sh runs npm ci in deploy/validate): ${e.message}`);
  process.exit(1);
}

const text = readFileSync(file, "utf8");
const doc = JSON.parse(text);

// 1. The validator: the document against the OpenAPI 3.1 schema, then every $ref resolved.
const validator = new Validator();
const res = await validator.validate(JSON.parse(text));
if (!res.valid)
  fail(`not a valid OpenAPI document:\n${JSON.stringify(res.errors, null, 2)}`);
else if (validator.version !== "3.1")
  fail(`OpenAPI ${validator.version}, 3.1 expected`);
if (doc.openapi !== "3.1.0")
  fail(`"openapi": "${doc.openapi}", "3.1.0" expected`);
try {
  validator.resolveRefs();
} catch (e) {
  fail(`a $ref does not resolve: ${e.message}`);
}
const pointer = (ref) => ref.slice(2).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
  .reduce((node, key) => (node === undefined ? undefined : node[key]), doc);
(function walk(node, where) {
  if (Array.isArray(node)) node.forEach((v, i) => walk(v, `${where}/${i}`));
  else if (node && typeof node === "object")
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string" && (!v.startsWith("#/") || pointer(v) === undefined))
        fail(`${where}: $ref ${v} points nowhere`);
      walk(v, `${where}/${k}`);
    }
})(doc, "#");

// 2. Conventions.
const services = new Set(["intake", "scrub", "dialer", "promise", "audit", "notify"]);
const tags = new Set((doc.tags || []).map((t) => t.name));
const methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];
const ids = new Map();
let operations = 0;
const segment = /^([A-Za-z0-9._~!$&'()*+,;=:@-]+|\{[A-Za-z_][A-Za-z0-9_]*\})$/;
for (const [path, item] of Object.entries(doc.paths || {})) {
  const segs = path.split("/").slice(1);
  if (!path.startsWith("/") || !segs.every((s) => segment.test(s)))
    fail(`${path}: not a pattern the kit routes (literal segments and {name})`);
  const templated = segs.filter((s) => s.startsWith("{")).map((s) => s.slice(1, -1));
  for (const m of methods) {
    const op = item[m];
    if (!op) continue;
    operations++;
    const name = `${m.toUpperCase()} ${path}`;
    if (!op.tags || op.tags.length !== 1 || !tags.has(op.tags[0]))
      fail(`${name}: exactly one tag, among the document's tags, names who answers it`);
    const tag = op.tags?.[0];
    if (tag === "ops" ? path.startsWith("/v1/") : !path.startsWith("/v1/"))
      fail(`${name}: ops paths are on the ops port (no /v1/), API paths under /v1/`);
    if (tag === "ops" && !item.servers)
      fail(`${name}: an ops path names the ops port in its servers`);
    if (!op.operationId) fail(`${name}: no operationId`);
    else if (ids.has(op.operationId)) fail(`${name}: operationId ${op.operationId} is also ${ids.get(op.operationId)}`);
    else ids.set(op.operationId, name);
    const declared = [...(item.parameters || []), ...(op.parameters || [])]
      .map((p) => (p.$ref ? pointer(p.$ref) : p)).filter((p) => p && p.in === "path").map((p) => p.name);
    for (const p of templated)
      if (!declared.includes(p)) fail(`${name}: {${p}} is not declared as a path parameter`);
    for (const p of declared)
      if (!templated.includes(p)) fail(`${name}: path parameter ${p} is not in the path`);
    const secured = !(Array.isArray(op.security) && op.security.length === 0);
    const codes = Object.keys(op.responses || {});
    if (!codes.some((c) => /^2/.test(c))) fail(`${name}: no success answer`);
    if (!codes.includes("503") && tag !== "ops" && tag !== "openapi")
      fail(`${name}: 503 (busy: every server may answer it) is not documented`);
    if (secured && !(codes.includes("401") && codes.includes("403")))
      fail(`${name}: an authenticated operation documents 401 and 403`);
    if (op.requestBody && !codes.includes("413"))
      fail(`${name}: a body has a limit: 413 is not documented`);
    for (const [code, r] of Object.entries(op.responses || {})) {
      const resp = r.$ref ? pointer(r.$ref) : r;
      let json = resp?.content?.["application/json"]?.schema;
      if (json?.$ref) json = { ...pointer(json.$ref), self: json.$ref };
      if (/^[45]/.test(code) && json && !/#\/components\/schemas\/Error(Detail)?"/.test(JSON.stringify(json)))
        fail(`${name}: answer ${code} is not the project's error body (nor holds one)`);
    }
  }
}
if (operations === 0) fail("no operation at all");
for (const s of services)
  if (![...Object.values(doc.paths)].some((item) => methods.some((m) => item[m]?.tags?.[0] === s)))
    fail(`no operation of ${s}`);

// 3. Webhooks: one delivery per event type, signed.
const events = doc.components?.schemas?.WebhookEventType?.enum || [];
const hooks = Object.keys(doc.webhooks || {});
if (events.length === 0) fail("components.schemas.WebhookEventType lists no event type");
for (const e of events) if (!hooks.includes(e)) fail(`webhooks: no delivery of ${e}`);
for (const h of hooks) {
  if (!events.includes(h)) fail(`webhooks: ${h} is not a WebhookEventType`);
  const params = (doc.webhooks[h].post?.parameters || []).map((p) => (p.$ref ? pointer(p.$ref) : p).name);
  for (const hd of ["X-Plateau-Signature", "X-Plateau-Event-Id", "X-Plateau-Event-Type"])
    if (!params.includes(hd)) fail(`webhooks: ${h} does not document ${hd}`);
}

if (failures.length) {
  for (const f of failures) console.error(`test_openapi_document: ${f}`);
  console.error(`test_openapi_document: ${failures.length} problem(s) in docs/api/openapi.json`);
  process.exit(1);
}
const pkg = JSON.parse(readFileSync(join(root,
  "deploy/validate/node_modules/@seriousme/openapi-schema-validator/package.json"), "utf8"));
console.log(`test_openapi_document: pass — OpenAPI ${doc.openapi}, ${operations} operations, ` +
  `${hooks.length} webhook events, valid by ${pkg.name} ${pkg.version}`);
