// csource.js — what each service reads and exports, found in the C sources rather than written
// down twice: its PLATEAU_* variables (the kit's, lib/kit, and its own, services/<name>), which of
// them it requires, its bus peers (pl_service_connect) and the PLATEAU_<PEER>_BUS they read, the
// defaults of its ports, the types its bus door serves, the ops port's paths and every metric
// name. A variable a service starts to require is one the manifests must then set.
'use strict';
const fs = require('fs');
const path = require('path');
const { ROOT } = require('./lib');

// The source without its comments, string and character literals kept.
function stripComments (src) {
  let out = '';
  for (let i = 0; i < src.length;) {
    const c = src[i];
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const cut = src.slice(i, end < 0 ? src.length : end + 2);
      out += cut.replace(/[^\n]/g, ' ');
      i += cut.length;
    } else if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '"' || c === '\'') {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

// Function definitions in the project's style: the name at the start of a line, then "{" and
// "}" alone on their lines. Returns [{ name, params, body }].
function functions (src) {
  const lines = src.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^([A-Za-z_]\w*) \(/.exec(lines[i]);
    if (!m) continue;
    let j = i;
    while (j < lines.length && lines[j] !== '{' && !/;\s*$/.test(lines[j])) j++;
    if (j >= lines.length || lines[j] !== '{') continue;
    let k = j + 1;
    while (k < lines.length && lines[k] !== '}') k++;
    const sig = lines.slice(i, j).join(' ');
    const inner = sig.slice(sig.indexOf('(') + 1, sig.lastIndexOf(')'));
    const params = inner.split(',').map((p) => (/(\w+)\s*(\[[^\]]*\])?\s*$/.exec(p.trim()) || [])[1]).filter(Boolean);
    out.push({ name: m[1], params, body: lines.slice(j + 1, k).join('\n') });
    i = k;
  }
  return out;
}

const VAR = /"(PLATEAU_[A-Z0-9_]+)"/g;
const all = (re, text) => [...text.matchAll(re)];
const literals = (text) => new Set(all(VAR, text).map((m) => m[1]));

// Variables a text requires: pl_config_str_required (cfg, "X", …) and
// pl_config_secret_file (cfg, "X", true); through a helper of the same file that hands one of
// its parameters to those (the audit's s_key (cfg, keys, "PLATEAU_AUDIT_SIGNING_KEY_FILE", …)).
function requiredIn (text, fns) {
  const out = new Set();
  const direct = [/pl_config_str_required\s*\(\s*[^,()]+,\s*"(PLATEAU_\w+)"/g,
                  /pl_config_secret_file\s*\(\s*[^,()]+,\s*"(PLATEAU_\w+)"\s*,\s*true\s*\)/g];
  for (const re of direct) for (const m of all(re, text)) out.add(m[1]);
  for (const f of fns) {
    const forwarded = f.params.filter((p) =>
      new RegExp(`pl_config_str_required\\s*\\(\\s*[^,()]+,\\s*${p}\\s*,`).test(f.body) ||
      new RegExp(`pl_config_secret_file\\s*\\(\\s*[^,()]+,\\s*${p}\\s*,\\s*true\\s*\\)`).test(f.body));
    if (!forwarded.length) continue;
    for (const m of all(new RegExp(`\\b${f.name}\\s*\\(([^;]*)\\)\\s*;`, 'g'), text)) {
      for (const v of literals(m[1])) out.add(v);
    }
  }
  return out;
}

function read (p) {
  return stripComments(fs.readFileSync(p, 'utf8'));
}

// The kit: what pl_service_new reads for every service, what pl_service_serve adds for one that
// has a bus door, the PLATEAU_<PEER>_… templates of pl_service_connect, and the rest of lib/kit
// (the HTTP servers' limits, failpoints), read by every service.
function kit (root = ROOT) {
  const dir = path.join(root, 'lib', 'kit');
  const svc = read(path.join(dir, 'service.c'));
  const fns = functions(svc);
  const byName = new Map(fns.map((f) => [f.name, f]));
  const reach = (entry) => {
    const seen = new Set([entry]);
    const todo = [entry];
    while (todo.length) {
      const f = byName.get(todo.pop());
      if (!f) continue;
      for (const m of all(/\b([A-Za-z_]\w*)\s*\(/g, f.body)) {
        if (byName.has(m[1]) && !seen.has(m[1])) { seen.add(m[1]); todo.push(m[1]); }
      }
    }
    return [...seen].map((n) => byName.get(n)).filter(Boolean);
  };
  const part = (entry) => {
    const reached = reach(entry);
    const text = reached.map((f) => f.body).join('\n');
    return { vars: literals(text), required: requiredIn(text, fns), text };
  };
  const always = part('pl_service_new');
  const serve = part('pl_service_serve');
  const connect = part('pl_service_connect');
  // snprintf (var, sizeof var, "PLATEAU_%s_BUS", peer): the templates, and which one is required
  // when the peer is (its identifier handed to pl_config_str_required).
  const reqIdents = new Set(all(/pl_config_str_required\s*\(\s*[^,()]+,\s*(\w+)\s*,/g, connect.text).map((m) => m[1]));
  const peerVars = all(/snprintf\s*\(\s*(\w+)\s*,[^;]*?"PLATEAU_%s_(\w+)"/g, connect.text)
    .map((m) => ({ suffix: m[2], requiredWithPeer: reqIdents.has(m[1]) }));
  if (!peerVars.some((p) => p.suffix === 'BUS')) throw new Error('lib/kit/service.c: PLATEAU_<PEER>_BUS not found');
  const others = new Set();
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.c') && f !== 'service.c')) {
    for (const v of literals(read(path.join(dir, f)))) others.add(v);
  }
  const ops = read(path.join(dir, 'ops.c'));
  const paths = all(/pl_http_route\s*\([^,]+,\s*"GET"\s*,\s*"(\/\w+)"/g, ops).map((m) => m[1]);
  return {
    always: new Set([...always.vars, ...others]),
    alwaysRequired: always.required,
    serve: serve.vars,
    serveRequired: serve.required,
    peerVars,
    defaults: defaultsIn(svc),
    opsPaths: paths,
  };
}

// Whole-number and duration defaults: pl_config_int (c, "PLATEAU_OPS_PORT", 9100, …),
// pl_config_duration_ms (c, "PLATEAU_GRACE_PERIOD", 25000).
function defaultsIn (text) {
  const out = {};
  for (const m of all(/pl_config_(?:int|duration_ms)\s*\(\s*[^,()]+,\s*"(PLATEAU_\w+)"\s*,\s*(\d+)\s*[,)]/g, text)) {
    out[m[1]] = Number(m[2]);
  }
  return out;
}

// One service: services/<name>/*.c with the kit's part of it.
function service (name, k, root = ROOT, extra = '') {
  const dir = path.join(root, 'services', name);
  if (!fs.existsSync(path.join(dir, 'main.c'))) return null;
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.c')).sort();
  const text = files.map((f) => read(path.join(dir, f))).join('\n') + '\n' + extra;
  const fns = files.flatMap((f) => functions(read(path.join(dir, f))));
  const cmake = fs.readFileSync(path.join(dir, 'CMakeLists.txt'), 'utf8');
  const exe = (/add_executable\s*\(\s*(plateau-[\w-]+)\s+[^)]*main\.c/.exec(cmake) || [])[1];
  const peers = all(/pl_service_connect\s*\(\s*\w+\s*,\s*"(\w+)"\s*,\s*(true|false)\s*\)/g, text)
    .map((m) => ({ peer: m[1], required: m[2] === 'true' }));
  const serves = /pl_service_serve\s*\(/.test(text);
  const vars = new Set([...literals(text), ...k.always, ...(serves ? k.serve : [])]);
  const required = new Set([...k.alwaysRequired, ...requiredIn(text, fns), ...(serves ? k.serveRequired : [])]);
  const peerVar = {};
  for (const p of peers) {
    for (const t of k.peerVars) {
      const v = `PLATEAU_${p.peer.toUpperCase()}_${t.suffix}`;
      vars.add(v);
      if (t.suffix === 'BUS') peerVar[v] = p.peer;
      if (p.required && t.requiredWithPeer) required.add(v);
    }
  }
  // Defaults that are paths of the source tree (compile definitions made of
  // ${PROJECT_SOURCE_DIR}): right for tests and the local stack, absent from an image.
  const treeMacros = all(/(\w+)="\$\{PROJECT_(?:SOURCE|BINARY)_DIR\}/g, cmake).map((m) => m[1]);
  const treeDefaults = new Set();
  for (const macro of treeMacros) {
    for (const m of all(new RegExp(`pl_config_\\w+\\s*\\(\\s*[^,()]+,\\s*"(PLATEAU_\\w+)"\\s*,\\s*${macro}\\s*\\)`, 'g'), text)) {
      treeDefaults.add(m[1]);
    }
  }
  const types = new Set();
  for (const m of all(/types\[\]\s*=\s*\{([^}]*)\}/g, text)) {
    for (const t of all(/"(\w+)=?[^"]*"/g, m[1])) types.add(t[1]);
  }
  types.add('ClockControl');
  return {
    name,
    exe,
    vars,
    required,
    treeDefaults,
    peers,
    peerVar,
    serves,
    http: /pl_http_new\s*\(/.test(text),
    types,
    defaults: { ...k.defaults, ...defaultsIn(text) },
  };
}

// Every metric name the services can export, with its kind: pl_metrics_<kind> (m, "name", …),
// and the HTTP servers' plateau_<service>_http_… for each service with an HTTP API.
function metrics (root = ROOT) {
  const out = new Map();
  const files = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.c')) files.push(p);
    }
  };
  walk(path.join(root, 'lib'));
  walk(path.join(root, 'services'));
  const httpServices = [];
  for (const f of files) {
    const text = read(f);
    for (const m of all(/pl_metrics_(counter|gauge|histogram)\s*\(\s*[^,]+,\s*"(plateau_\w+)"/g, text)) out.set(m[2], m[1]);
    const svc = /services\/([\w-]+)\/main\.c$/.exec(f.split(path.sep).join('/'));
    if (svc && /pl_http_new\s*\(/.test(text)) httpServices.push(svc[1]);
  }
  const http = read(path.join(root, 'lib', 'kit', 'http.c'));
  for (const m of all(/"plateau_%s_(\w+)"[^;]*;\s*[^;]*?pl_metrics_(counter|gauge|histogram)\s*\(/g, http)) {
    for (const s of httpServices) out.set(`plateau_${s}_${m[1]}`, m[2]);
  }
  return out;
}

// project(plateau VERSION x.y.z) of the top-level CMakeLists.txt.
function version (root = ROOT) {
  const m = /project\s*\(\s*plateau\s+VERSION\s+([\d.]+)/.exec(fs.readFileSync(path.join(root, 'CMakeLists.txt'), 'utf8'));
  return m ? m[1] : null;
}

module.exports = { kit, service, metrics, version, stripComments, functions };
