#!/usr/bin/env node
// validate.js — ctest deploy_manifests: renders every kustomization under deploy/ with kubectl
// and validates every object it produces, and the credential templates of deploy/credentials,
// against the Kubernetes schemas and the Prometheus Operator CRDs, offline; unknown fields fail.
'use strict';
const fs = require('fs');
const path = require('path');
const lib = require('./lib');
const { validate } = require('./schemas');

lib.run('deploy_manifests', () => {
  const errors = [];
  const k = lib.kubectl();
  let objects = 0;
  const check = (what, objs) => {
    const ids = new Set();
    for (const o of objs) {
      const id = `${o.kind} ${(o.metadata || {}).namespace || ''}/${(o.metadata || {}).name}`;
      if (ids.has(id)) errors.push(`${what}: ${id} twice`);
      ids.add(id);
      for (const p of validate(o)) errors.push(`${what}: ${o.kind} ${(o.metadata || {}).name}: ${p}`);
      objects++;
    }
  };
  const names = lib.kustomizations();
  for (const n of ['base', 'overlays/dev', 'overlays/prod']) {
    if (!names.includes(n)) errors.push(`deploy/${n}: no kustomization.yaml`);
  }
  for (const n of names) check(`deploy/${n}`, lib.render(n));
  const cred = path.join(lib.DEPLOY, 'credentials');
  for (const f of fs.readdirSync(cred).filter((f) => f.endsWith('.yaml')).sort()) {
    check(`deploy/credentials/${f}`, lib.readYaml(path.join(cred, f)));
  }
  console.log(`deploy_manifests: ${names.length} kustomizations rendered by ${k.bin} (${k.version}), ` +
              `${objects} objects validated`);
  return errors;
});
