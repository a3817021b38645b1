// schemas.js — validates an object against the Kubernetes OpenAPI schemas (the pinned
// kubernetes-models package, Kubernetes 1.27) or the Prometheus Operator CRDs
// (@kubernetes-models/prometheus-operator), and refuses fields the schema does not know, as
// the API server's strict field validation does (the packages' own check lets them through).
'use strict';
const fs = require('fs');
const path = require('path');
const { dep } = require('./lib');

const s_validators = new Map();

// The compiled JSON-schema validator of a kind, found beside its model class; null when the
// packages have no such kind.
function validatorFor (apiVersion, kind) {
  const key = `${apiVersion}/${kind}`;
  if (s_validators.has(key)) return s_validators.get(key);
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : [null, apiVersion];
  const pkg = group === 'monitoring.coreos.com' ? '@kubernetes-models/prometheus-operator' : 'kubernetes-models';
  dep(pkg);
  let v = null;
  let model = null;
  try {
    model = require.resolve(`${pkg}/${group ? group + '/' : ''}${version}/${kind}`);
  } catch (e) {
    model = null;
  }
  if (model) {
    const m = /require\("([^"]*_schemas\/\w+\.js)"\)/.exec(fs.readFileSync(model, 'utf8'));
    if (!m) throw new Error(`${model}: no schema reference (a new layout of ${pkg}?)`);
    v = require(path.resolve(path.dirname(model), m[1])).validate;
  }
  s_validators.set(key, v);
  return v;
}

// Wraps data so that every object remembers which of its keys the validator looked at.
function tracked (value, where, seen) {
  if (value === null || typeof value !== 'object') return value;
  const rec = { where, target: value, read: new Set(), listed: false };
  seen.push(rec);
  return new Proxy(value, {
    get (t, k, r) {
      const v = Reflect.get(t, k, r);
      if (typeof k !== 'string') return v;
      rec.read.add(k);
      return tracked(v, `${where}/${k}`, seen);
    },
    ownKeys (t) {
      rec.listed = true;        // a map (labels, data…): every key is its own
      return Reflect.ownKeys(t);
    },
  });
}

// Problems of one object, as "path: message" strings.
function validate (obj) {
  const v = validatorFor(String(obj.apiVersion), String(obj.kind));
  if (!v) return [`no schema for ${obj.apiVersion} ${obj.kind}`];
  const seen = [];
  const out = [];
  if (!v(tracked(obj, '', seen))) {
    for (const e of v.errors || []) {
      out.push(`${e.instancePath || '/'}: ${e.message || e.keyword} ${JSON.stringify(e.params)}`);
    }
  }
  // A key the schema never asked about, in an object whose other keys it did ask about, is a
  // field it does not define (a typo: readinesProbe). Objects it did not look into at all are
  // free-form (or under a field already reported).
  for (const r of seen) {
    if (Array.isArray(r.target) || r.listed || r.read.size === 0) continue;
    for (const k of Object.keys(r.target)) {
      if (!r.read.has(k)) out.push(`${r.where}/${k}: unknown field`);
    }
  }
  return out;
}

module.exports = { validate };
