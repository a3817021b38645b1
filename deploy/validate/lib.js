// lib.js — what the deploy tests share: where the repository is, every kustomization under
// deploy/ rendered with kubectl (any version from Debian 12's 1.20 on), and YAML read strictly.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

// PL_SOURCE_DIR points the tests at another copy of the tree (ctest sets it to this one).
const ROOT = path.resolve(process.env.PL_SOURCE_DIR || path.join(__dirname, '..', '..'));
const DEPLOY = path.join(ROOT, 'deploy');

class Failure extends Error {}

function fail (msg) {
  throw new Failure(msg);
}

// The pinned npm packages (deploy/validate/package-lock.json), installed by scripts/deps.sh.
function dep (name) {
  try {
    return require(name);
  } catch (e) {
    fail(`cannot load the npm package ${name} (${e.code || e.message}): run scripts/deps.sh, ` +
         'which runs `npm ci` in deploy/validate');
  }
}

function rel (p) {
  return path.relative(ROOT, p) || '.';
}

// Every directory under deploy/ with a kustomization, relative to deploy/: base, overlays/dev…
function kustomizations () {
  const out = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const d = path.join(dir, e.name);
      if (fs.existsSync(path.join(d, 'kustomization.yaml'))) out.push(path.relative(DEPLOY, d));
      walk(d);
    }
  };
  walk(DEPLOY);
  return out.sort();
}

// kubectl from PATH (or $KUBECTL). Missing, the tests fail: they never skip.
let s_kubectl = null;
function kubectl () {
  if (s_kubectl) return s_kubectl;
  const bin = process.env.KUBECTL || 'kubectl';
  const r = spawnSync(bin, ['version', '--client'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    fail(`${bin} is not usable (${r.error ? r.error.code : (r.stderr || '').trim()}): scripts/deps.sh ` +
         "installs Debian's kubernetes-client; the manifests cannot be checked without it");
  }
  const v = /GitVersion:"([^"]+)"/.exec(r.stdout) || /Client Version:\s*(\S+)/.exec(r.stdout);
  s_kubectl = { bin, version: v ? v[1] : 'version unknown' };
  return s_kubectl;
}

// kustomize 5 warns that kustomize 2's `bases` and `patchesStrategicMerge` are deprecated: they
// are what kubectl 1.20 reads, so those two warnings are expected.
const EXPECTED_STDERR = [/^# Warning: '(bases|patchesStrategicMerge)' is deprecated/];

// Renders one kustomization (relative to deploy/) into plain objects.
function render (name) {
  const k = kubectl();
  const r = spawnSync(k.bin, ['kustomize', path.join(DEPLOY, name)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) {
    fail(`kubectl kustomize deploy/${name} failed: ${r.error ? r.error.message : r.stderr.trim()}`);
  }
  const noise = r.stderr.split('\n').filter((l) => l.trim() && !EXPECTED_STDERR.some((re) => re.test(l)));
  if (noise.length) fail(`kubectl kustomize deploy/${name} said:\n${noise.join('\n')}`);
  return parseYaml(r.stdout, `deploy/${name} (rendered)`);
}

// All documents of a YAML stream, refusing any parse error or warning (a duplicated key, a tab).
function parseYaml (text, what) {
  const YAML = dep('yaml');
  const out = [];
  for (const doc of YAML.parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true })) {
    const bad = [...doc.errors, ...doc.warnings];
    if (bad.length) fail(`${what}: ${bad.map((e) => e.message).join('; ')}`);
    const obj = doc.toJS();
    if (obj !== null && obj !== undefined) out.push(obj);
  }
  return out;
}

function readYaml (file) {
  return parseYaml(fs.readFileSync(file, 'utf8'), rel(file));
}

// Runs main() and turns failures into one line each and exit status 1.
function run (name, main) {
  try {
    const errors = main() || [];
    for (const e of errors) console.log(`FAIL ${e}`);
    if (errors.length) {
      console.log(`${name}: ${errors.length} problem(s)`);
      process.exit(1);
    }
  } catch (e) {
    if (!(e instanceof Failure)) throw e;
    console.log(`FAIL ${e.message}`);
    process.exit(1);
  }
}

module.exports = { ROOT, DEPLOY, fail, dep, rel, kustomizations, kubectl, render, parseYaml, readYaml, run };
