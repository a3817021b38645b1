#!/usr/bin/env node
// credentials.js — ctest deploy_credentials: `plateauctl keys gen` (PL_PLATEAUCTL) makes a
// deployment's credentials in a temporary directory; its credentials.yaml validates against the
// Kubernetes schemas and holds every Secret, and every key of it, that the rendered overlays
// mount or read, and the key list ConfigMap; the files are private. Then a rotation: `keys
// rotate` lists the new bus key first beside the old one and puts the new secret key in the
// identity's Secret, a rotated token and signing secret sit beside the old ones, and `keys
// retire` leaves the newest alone.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const lib = require('./lib');
const { validate } = require('./schemas');

// What the manifests take from Secrets and ConfigMaps: name → set of keys ('*' = the whole
// object mounted as a volume).
function references (objs) {
  const secrets = new Map();
  const configMaps = new Map();
  const add = (m, name, key) => {
    if (!m.has(name)) m.set(name, new Set());
    m.get(name).add(key);
  };
  for (const o of objs) {
    const spec = ((o.spec || {}).template || {}).spec;
    if (!spec) continue;
    for (const v of spec.volumes || []) {
      if (v.secret) {
        for (const it of v.secret.items || [{ key: '*' }]) add(secrets, v.secret.secretName, it.key);
      }
      if (v.configMap) add(configMaps, v.configMap.name, '*');
    }
    for (const c of [...(spec.containers || []), ...(spec.initContainers || [])]) {
      for (const e of c.env || []) {
        const from = e.valueFrom || {};
        if (from.secretKeyRef) add(secrets, from.secretKeyRef.name, from.secretKeyRef.key);
        if (from.configMapKeyRef) add(configMaps, from.configMapKeyRef.name, from.configMapKeyRef.key);
      }
    }
  }
  return { secrets, configMaps };
}

// The files a mounted Secret's volume must hold: what the container's variables point into.
function mountedFiles (objs) {
  const need = new Map();           // secret name → set of file names read under its mount
  for (const o of objs) {
    const spec = ((o.spec || {}).template || {}).spec;
    if (!spec) continue;
    const vols = new Map((spec.volumes || []).filter((v) => v.secret).map((v) => [v.name, v.secret.secretName]));
    for (const c of spec.containers || []) {
      for (const m of c.volumeMounts || []) {
        if (!vols.has(m.name)) continue;
        for (const e of c.env || []) {
          if (typeof e.value === 'string' && e.value.startsWith(m.mountPath + '/')) {
            const name = vols.get(m.name);
            if (!need.has(name)) need.set(name, new Set());
            need.get(name).add(e.value.slice(m.mountPath.length + 1));
          }
        }
      }
    }
  }
  return need;
}

function ctl (args) {
  const bin = process.env.PL_PLATEAUCTL;
  if (!bin) lib.fail('PL_PLATEAUCTL is not set (ctest sets it to the built plateauctl)');
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  if (r.error) lib.fail(`${bin}: ${r.error.message}`);
  return r;
}

function lines (file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
}

lib.run('deploy_credentials', () => {
  const errors = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-keys-'));
  const dir = path.join(tmp, 'cred');
  try {
    const r = ctl(['keys', 'gen', dir, '--namespace', 'plateau-dev', '--identity', 'telsim',
      '--source', 'dev', '--source', 'crm', '--signer', 'crm', '--payer', 'bank']);
    if (r.status !== 0) lib.fail(`plateauctl keys gen: exit ${r.status}: ${r.stderr.trim()}`);
    const again = ctl(['keys', 'gen', dir]);
    if (again.status !== 1) errors.push(`keys gen over existing credentials: exit ${again.status}, want 1`);

    const file = path.join(dir, 'credentials.yaml');
    const objs = lib.readYaml(file);
    const byName = new Map(objs.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
    for (const o of objs) {
      for (const p of validate(o)) errors.push(`credentials.yaml: ${o.kind} ${o.metadata.name}: ${p}`);
      if (o.metadata.namespace !== 'plateau-dev') errors.push(`${o.kind} ${o.metadata.name}: not in --namespace`);
    }
    // Everything the dev and prod overlays read is there (the kustomize-made ConfigMaps aside).
    for (const overlay of ['overlays/dev', 'overlays/prod']) {
      const rendered = lib.render(overlay);
      const made = new Set(rendered.map((o) => `${o.kind}/${o.metadata.name}`));
      const { secrets, configMaps } = references(rendered);
      for (const [name, keys] of secrets) {
        const s = byName.get(`Secret/${name}`);
        if (!s) {
          errors.push(`${overlay} mounts or reads Secret ${name}: keys gen does not make it`);
          continue;
        }
        for (const k of keys) {
          if (k !== '*' && !(k in (s.data || {}))) errors.push(`${overlay} reads ${name}.${k}: not in it`);
        }
      }
      for (const [name, files] of mountedFiles(rendered)) {
        const s = byName.get(`Secret/${name}`);
        for (const f of files) {
          if (s && !(f in (s.data || {}))) errors.push(`${overlay} reads the file ${f} of Secret ${name}: not in it`);
        }
      }
      for (const name of configMaps.keys()) {
        if (!made.has(`ConfigMap/${name}`) && !byName.has(`ConfigMap/${name}`)) {
          errors.push(`${overlay} mounts ConfigMap ${name}: neither the overlay nor keys gen makes it`);
        }
      }
    }
    // Private files; the key list names every identity once; the Secrets hold the files.
    const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]);
    for (const f of walk(dir)) {
      if ((fs.statSync(f).mode & 0o077) !== 0 && !f.endsWith('.pub')) errors.push(`${f}: readable by others`);
    }
    const ids = lines(path.join(dir, 'keys', 'keys')).map((l) => l.split(' ')[0]);
    for (const id of ['intake', 'scrub', 'dialer', 'promise', 'audit', 'telsim', 'plateauctl']) {
      if (ids.filter((x) => x === id).length !== 1) errors.push(`key list: ${id} listed ${ids.filter((x) => x === id).length} times`);
    }
    if (byName.has('Secret/plateau-curve-plateauctl')) errors.push('plateauctl\'s own key went into a Secret');
    const b64 = (s, k) => Buffer.from(s.data[k], 'base64').toString('utf8');
    const curve = (id) => b64(byName.get(`Secret/plateau-curve-${id}`), 'curve.key');
    if (curve('intake') !== fs.readFileSync(path.join(dir, 'keys', 'intake.key'), 'utf8')) {
      errors.push('plateau-curve-intake does not hold keys/intake.key');
    }
    const tokens = b64(byName.get('Secret/plateau-intake-api-tokens'), 'tokens');
    if (!/^dev:[0-9a-f]{48}\ncrm:[0-9a-f]{48}\nnotify:[0-9a-f]{48}\n$/.test(tokens)) errors.push(`api tokens: ${tokens.replace(/:[0-9a-f]+/g, ':…')}`);
    const url = b64(byName.get('Secret/plateau-redis'), 'url');
    const pw = b64(byName.get('Secret/plateau-redis'), 'password');
    if (url !== `redis://:${pw}@redis:6379/0`) errors.push('plateau-redis: the URL does not carry the password');

    // A rotation: both admitted, the new one first and in the Secret; then the old one retired.
    const rot = ctl(['keys', 'rotate', dir, 'bus', 'intake']);
    if (rot.status !== 0) lib.fail(`keys rotate bus intake: exit ${rot.status}: ${rot.stderr.trim()}`);
    const list = lines(path.join(dir, 'keys', 'keys')).filter((l) => l.startsWith('intake '));
    const newPub = fs.readFileSync(path.join(dir, 'keys', 'intake.pub'), 'utf8').trim();
    const oldPub = fs.readFileSync(path.join(dir, 'keys', 'intake.old.pub'), 'utf8').trim();
    if (list.length !== 2 || list[0] !== `intake ${newPub}` || list[1] !== `intake ${oldPub}`) {
      errors.push(`after keys rotate bus intake the list has ${JSON.stringify(list)}`);
    }
    const rotated = new Map(lib.readYaml(file).map((o) => [`${o.kind}/${o.metadata.name}`, o]));
    if (b64(rotated.get('Secret/plateau-curve-intake'), 'curve.key') !==
        fs.readFileSync(path.join(dir, 'keys', 'intake.key'), 'utf8')) {
      errors.push('after the rotation plateau-curve-intake does not hold the new key');
    }
    const cm = rotated.get('ConfigMap/plateau-bus-keys').data.keys;
    if (!cm.includes(newPub) || !cm.includes(oldPub)) errors.push('the key list ConfigMap lacks one of the two keys');
    if (ctl(['keys', 'rotate', dir, 'bus', 'intake']).status !== 1) errors.push('a second rotation under way was taken');
    for (const [kind, name, f] of [['token', 'crm', 'api-tokens'], ['signing', 'bank', 'promise-signing-keys']]) {
      const before = lines(path.join(dir, f)).filter((l) => l.startsWith(`${name}:`));
      const rr = ctl(['keys', 'rotate', dir, kind, name]);
      const after = lines(path.join(dir, f)).filter((l) => l.startsWith(`${name}:`));
      if (rr.status !== 0 || after.length !== 2 || after[1] !== before[0] || after[0] === before[0]) {
        errors.push(`keys rotate ${kind} ${name}: exit ${rr.status}, ${after.length} entries`);
      }
      const rt = ctl(['keys', 'retire', dir, kind, name]);
      const left = lines(path.join(dir, f)).filter((l) => l.startsWith(`${name}:`));
      if (rt.status !== 0 || left.length !== 1 || left[0] !== after[0]) errors.push(`keys retire ${kind} ${name}`);
    }
    const ret = ctl(['keys', 'retire', dir, 'bus', 'intake']);
    const left = lines(path.join(dir, 'keys', 'keys')).filter((l) => l.startsWith('intake '));
    if (ret.status !== 0 || left.length !== 1 || left[0] !== `intake ${newPub}` ||
        fs.existsSync(path.join(dir, 'keys', 'intake.old.key'))) {
      errors.push(`keys retire bus intake: exit ${ret.status}, list ${JSON.stringify(left)}`);
    }
    console.log(`deploy_credentials: ${objs.length} objects made, validated and matched to the overlays; ` +
                'a bus key, a token and a signing secret rotated and retired');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return errors;
});
