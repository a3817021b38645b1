#!/usr/bin/env node
// consistency.js — ctest deploy_consistency: holds every rendered overlay (overlays/dev,
// overlays/prod, and so the base under them) to what the services' C sources read (csource.js):
//   - every PLATEAU_* variable set is one the service reads, every one it requires is set (and
//     every one whose default is a path of the source tree), every peer it can send to that runs
//     beside it is wired, and no bus runs plaintext;
//   - every port set (container, Service, probe, scrape annotation, bus endpoint) is the one the
//     service listens on, and every file or directory a variable names is mounted (the Secret or
//     ConfigMap holding that key, a writable volume for what it writes);
//   - outbox owners (services that send) are StatefulSets named by their pod (ADR 0001);
//   - the NetworkPolicies allow exactly the bus flows the variables declare, Redis, DNS, the
//     HTTP ports from the ingress and the ops ports from monitoring, and deny everything else;
//   - security contexts, resources, probes, disruption budgets, autoscaler targets, the image
//     tag (the project's version), the alert rules' metric names, and the copies of the profiles
//     and campaign files.
// `--self-test` breaks the manifests (and a service's sources) in memory in known ways and fails
// unless each break is reported.
'use strict';
const fs = require('fs');
const path = require('path');
const lib = require('./lib');
const csource = require('./csource');
const netpol = require('./netpol');

// Services not deployed, and where: the rest run in every overlay. The base is checked through
// the overlays (alone it has no campaigns and no Redis).
const NOT_IN = {
  template: { all: 'the example to copy (docs/new-service.md)' },
  telsim: { 'overlays/prod': 'the simulated floor: the dev overlay only' },
};
// Where outside sources come from (deploy/base/networkpolicies.yaml).
const INGRESS = { ns: 'ingress', nsLabels: { 'plateau.io/http-clients': 'true' }, labels: {} };
const MONITORING = { ns: 'monitoring', nsLabels: { 'plateau.io/monitoring': 'true' }, labels: {} };
const STRANGER = { ns: 'elsewhere', nsLabels: {}, labels: {} };
const EXTERNAL = { external: true };

const WORKLOAD_KINDS = new Set(['StatefulSet', 'Deployment', 'DaemonSet']);

function durationMs (s) {
  if (/^\d+$/.test(s)) return Number(s) === 0 ? 0 : NaN;
  const unit = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 };
  let total = 0;
  const re = /(\d+)(ms|s|m|h|d)/g;
  let seen = 0;
  for (const m of s.matchAll(re)) { total += Number(m[1]) * unit[m[2]]; seen += m[0].length; }
  return seen === s.length && seen ? total : NaN;
}

// plateau's sizes (pl_config_size: 18g, 2G, 64KiB: powers of 1024, any case), in bytes.
function plateauSize (s) {
  const m = /^\s*(\d+)\s*([kmgt]?)(i?b)?\s*$/i.exec(s);
  return m ? Number(m[1]) * Math.pow(1024, ' kmgt'.indexOf(m[2].toLowerCase() || ' ')) : NaN;
}

// Kubernetes quantities (20Gi, 512Mi, 1G), in bytes.
function quantity (s) {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(s));
  if (!m) return NaN;
  const f = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2]] || 1;
  return Number(m[1]) * f;
}

function sameFiles (a, b) {
  const la = fs.readdirSync(a).sort();
  const lb = fs.existsSync(b) ? fs.readdirSync(b).sort() : [];
  const out = [];
  for (const f of new Set([...la, ...lb])) {
    if (!la.includes(f)) out.push(`${lib.rel(path.join(b, f))} is not in ${lib.rel(a)}`);
    else if (!lb.includes(f)) out.push(`${lib.rel(path.join(a, f))} has no copy in ${lib.rel(b)}`);
    else if (!fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f)))) {
      out.push(`${lib.rel(path.join(b, f))} differs from ${lib.rel(path.join(a, f))}: copy it again`);
    }
  }
  return out;
}

// Everything one rendering must satisfy. ctx: { services (name -> csource.service), byExe,
// kit, metrics, version, creds (objects of deploy/credentials) }.
function checkRendering (rname, objs, ctx) {
  const errors = [];
  const err = (m) => errors.push(`deploy/${rname}: ${m}`);
  const of = (kind) => objs.filter((o) => o.kind === kind);
  const byName = (kind, name) => objs.find((o) => o.kind === kind && o.metadata.name === name);
  const cred = (kind, name) => ctx.creds.find((o) => o.kind === kind && o.metadata.name === name) || byName(kind, name);
  const keysOf = (o) => new Set([...Object.keys(o.data || {}), ...Object.keys(o.stringData || {})]);
  const workloads = objs.filter((o) => WORKLOAD_KINDS.has(o.kind));
  const policies = of('NetworkPolicy');
  const podOf = (w) => {
    const ports = {};
    for (const c of w.spec.template.spec.containers) {
      for (const p of c.ports || []) if (p.name) ports[p.name] = p.containerPort;
    }
    return { ns: 'self', nsLabels: {}, labels: w.spec.template.metadata.labels || {}, ports, workload: w };
  };
  const labelsOf = (w) => w.spec.template.metadata.labels || {};
  const appOf = (w) => labelsOf(w)['app.kubernetes.io/name'] || w.metadata.name;
  const selected = (selector) => workloads.filter((x) => netpol.matches(selector, labelsOf(x)));
  const flows = [];              // declared: { from: workload, to: pod, port, why }
  const plateau = [];            // { w, c, svc }

  // Which services run here.
  for (const [name, svc] of Object.entries(ctx.services)) {
    const away = NOT_IN[name] && (NOT_IN[name].all || NOT_IN[name][rname]);
    const runs = workloads.some((w) => w.spec.template.spec.containers.some((c) => (c.command || [])[0] === svc.exe));
    if (!away && !runs) err(`no workload runs ${svc.exe}`);
    if (away && runs) err(`${svc.exe} runs here, but ${away}`);
  }

  for (const w of workloads) {
    const where = `${w.kind} ${w.metadata.name}`;
    const pod = w.spec.template.spec;
    const psc = pod.securityContext || {};
    const volumes = new Map((pod.volumes || []).map((v) => [v.name, v]));
    const claims = new Map((w.spec.volumeClaimTemplates || []).map((v) => [v.metadata.name, v]));
    const mounted = new Set();
    if (!netpol.matches(w.spec.selector, w.spec.template.metadata.labels || {})) {
      err(`${where}: its selector does not select its pods`);
    }
    for (const c of pod.containers) {
      const at = `${where} container ${c.name}`;
      const sc = c.securityContext || {};
      if (!(sc.runAsNonRoot ?? psc.runAsNonRoot)) err(`${at}: runAsNonRoot is not true`);
      if (sc.readOnlyRootFilesystem !== true) err(`${at}: readOnlyRootFilesystem is not true`);
      if (sc.allowPrivilegeEscalation !== false) err(`${at}: allowPrivilegeEscalation is not false`);
      if (!((sc.capabilities || {}).drop || []).includes('ALL')) err(`${at}: capabilities do not drop ALL`);
      if (((sc.seccompProfile || psc.seccompProfile) || {}).type !== 'RuntimeDefault') {
        err(`${at}: seccompProfile is not RuntimeDefault`);
      }
      const res = c.resources || {};
      for (const [k, r] of [['requests', 'cpu'], ['requests', 'memory'], ['limits', 'cpu'], ['limits', 'memory']]) {
        if (!(res[k] || {})[r]) err(`${at}: no resources.${k}.${r}`);
      }
      for (const m of c.volumeMounts || []) {
        mounted.add(m.name);
        if (!volumes.has(m.name) && !claims.has(m.name)) err(`${at}: mounts ${m.name}, which is no volume`);
      }
      const exe = (c.command || [])[0];
      const svc = ctx.byExe[exe];
      if (/^plateau-/.test(exe || '') && !svc) {
        err(`${at}: runs ${exe}, which no services/*/CMakeLists.txt builds`);
      }
      if (svc) plateau.push({ w, c, svc, volumes, claims });
    }
    for (const v of volumes.keys()) if (!mounted.has(v)) err(`${where}: volume ${v} is mounted by no container`);
    for (const v of volumes.values()) {
      if (v.secret && !cred('Secret', v.secret.secretName)) {
        err(`${where}: Secret ${v.secret.secretName} is neither rendered nor in deploy/credentials`);
      }
      if (v.configMap && !cred('ConfigMap', v.configMap.name)) {
        err(`${where}: ConfigMap ${v.configMap.name} is neither rendered nor in deploy/credentials`);
      }
      if (v.persistentVolumeClaim && !byName('PersistentVolumeClaim', v.persistentVolumeClaim.claimName)) {
        err(`${where}: no PersistentVolumeClaim ${v.persistentVolumeClaim.claimName}`);
      }
    }
    for (const c of pod.containers) {
      for (const e of c.env || []) {
        const ref = (e.valueFrom || {}).secretKeyRef;
        if (ref) {
          const s = cred('Secret', ref.name);
          if (!s) {
            err(`${where}: ${e.name} from Secret ${ref.name}, which is neither rendered nor in deploy/credentials`);
          }
          else if (!keysOf(s).has(ref.key)) {
            err(`${where}: ${e.name} from key ${ref.key} that Secret ${ref.name} does not have`);
          }
        }
      }
    }
  }

  for (const { w, c, svc, volumes, claims } of plateau) {
    const at = `${w.kind} ${w.metadata.name} (${svc.exe})`;
    const env = new Map();
    for (const e of c.env || []) {
      if (env.has(e.name)) err(`${at}: ${e.name} set twice`);
      env.set(e.name, e);
    }
    const val = (n) => { const e = env.get(n); return e && typeof e.value === 'string' ? e.value : undefined; };
    for (const n of env.keys()) {
      if (!svc.vars.has(n)) {
        err(`${at}: sets ${n}, which ${svc.exe} does not read (services/${svc.name}, lib/kit)`);
      }
    }
    for (const n of svc.required) {
      if (!env.has(n)) err(`${at}: does not set ${n}, which ${svc.exe} requires`);
    }
    for (const n of svc.treeDefaults) {
      if (!env.has(n)) err(`${at}: does not set ${n}, whose default is a path of the source tree`);
    }
    if (val('PLATEAU_BUS_SECURITY') === 'plaintext') err(`${at}: PLATEAU_BUS_SECURITY=plaintext`);
    for (const e of env.values()) {
      if (e.value === undefined && !e.valueFrom) err(`${at}: ${e.name} has neither value nor valueFrom`);
    }
    // Outbox owners: a restarted replica finds its outbox under its own name (ADR 0001).
    if (svc.peers.length) {
      const id = env.get('PLATEAU_REPLICA_ID');
      if (w.kind !== 'StatefulSet') {
        err(`${at}: sends (it has outboxes) but is a ${w.kind}, not a StatefulSet`);
      }
      if (!id || ((id.valueFrom || {}).fieldRef || {}).fieldPath !== 'metadata.name') {
        err(`${at}: sends, so PLATEAU_REPLICA_ID must be the pod's name (fieldRef metadata.name)`);
      }
    }
    // Who may send what: types this service serves.
    const allow = val('PLATEAU_BUS_ALLOW');
    if (allow) {
      for (const rule of allow.split(';')) {
        const type = rule.split('=')[0].trim();
        if (!svc.types.has(type)) err(`${at}: PLATEAU_BUS_ALLOW names ${type}, which it does not receive`);
      }
    }

    // Ports: each the one the service listens on, and nothing else.
    const want = {};
    const ops = Number(val('PLATEAU_OPS_PORT') ?? svc.defaults.PLATEAU_OPS_PORT);
    want.ops = ops;
    if (svc.serves) {
      const m = /^tcp:\/\/[^:]+:(\d+)$/.exec(val('PLATEAU_BUS_BIND') || '');
      if (!m) err(`${at}: PLATEAU_BUS_BIND is not tcp://<address>:<port>`);
      else want.bus = Number(m[1]);
    }
    const httpVar = [...svc.vars].find((v) => v === `PLATEAU_${svc.name.toUpperCase()}_HTTP_PORT`);
    if (svc.http && httpVar) want.http = Number(val(httpVar) ?? svc.defaults[httpVar]);
    const have = {};
    for (const p of c.ports || []) {
      have[p.name] = p.containerPort;
      if (!(p.name in want)) {
        const names = Object.keys(want).join(', ');
        err(`${at}: container port ${p.name || p.containerPort} is none of the service's (${names})`);
      }
      else if (want[p.name] !== p.containerPort) {
        err(`${at}: container port ${p.name} is ${p.containerPort}, the service listens on ${want[p.name]}`);
      }
    }
    for (const [n, p] of Object.entries(want)) if (!(n in have)) err(`${at}: no container port ${n} (${p})`);
    // Probes on the ops port, paths from lib/kit/ops.c.
    const health = ctx.kit.opsPaths.find((p) => /health/.test(p));
    const ready = ctx.kit.opsPaths.find((p) => /ready/.test(p));
    for (const [probe, p] of [['livenessProbe', health], ['readinessProbe', ready]]) {
      const g = (c[probe] || {}).httpGet;
      if (!g) { err(`${at}: no ${probe} (GET ${p} on the ops port)`); continue; }
      if (g.path !== p) err(`${at}: ${probe} asks ${g.path}, the ops port answers ${p}`);
      if (g.port !== 'ops' && g.port !== ops) err(`${at}: ${probe} is not on the ops port`);
    }
    const ann = w.spec.template.metadata.annotations || {};
    if (ann['prometheus.io/port'] && Number(ann['prometheus.io/port']) !== ops) {
      err(`${at}: prometheus.io/port is not the ops port ${ops}`);
    }
    if (ann['prometheus.io/path'] && !ctx.kit.opsPaths.includes(ann['prometheus.io/path'])) {
      err(`${at}: prometheus.io/path ${ann['prometheus.io/path']} is not served`);
    }
    // SIGTERM drains for PLATEAU_GRACE_PERIOD: the kubelet must wait longer.
    const grace = durationMs(val('PLATEAU_GRACE_PERIOD') ?? `${svc.defaults.PLATEAU_GRACE_PERIOD}ms`);
    const tgp = w.spec.template.spec.terminationGracePeriodSeconds ?? 30;
    if (!(tgp * 1000 > grace)) {
      err(`${at}: terminationGracePeriodSeconds ${tgp} is not above PLATEAU_GRACE_PERIOD`);
    }

    // Files and directories named by variables live in mounted volumes.
    const mounts = (c.volumeMounts || []).map((m) => ({ ...m, volume: volumes.get(m.name), claim: claims.get(m.name) }));
    const mountOf = (p) => mounts.filter((m) => p === m.mountPath || p.startsWith(m.mountPath.replace(/\/$/, '') + '/'))
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
    const tmp = mounts.find((m) => m.mountPath === '/tmp');
    if (!tmp || !(tmp.volume || {}).emptyDir || tmp.readOnly) {
      err(`${at}: no writable emptyDir on /tmp (the root file system is read-only; the services make temporary files)`);
    }
    for (const [n, e] of env) {
      if (typeof e.value !== 'string') continue;
      if (/_FILE$/.test(n)) {
        const m = mountOf(e.value);
        if (!m) { err(`${at}: ${n}=${e.value} is in no mounted volume`); continue; }
        const key = path.posix.relative(m.mountPath, e.value);
        const v = m.volume || {};
        const items = ((v.secret || v.configMap || {}).items || []);
        const src = v.secret ? cred('Secret', v.secret.secretName)
          : v.configMap ? cred('ConfigMap', v.configMap.name) : null;
        const k = items.length ? (items.find((i) => i.path === key) || {}).key : key;
        if (src && (!k || !keysOf(src).has(k))) {
          err(`${at}: ${n}=${e.value}, but ${src.kind} ${src.metadata.name} has no key ${key}`);
        }
      }
      if (/_DIR$/.test(n)) {
        const m = mounts.find((x) => x.mountPath === e.value);
        if (!m) { err(`${at}: ${n}=${e.value} is no mount`); continue; }
        const v = m.volume || {};
        if ((v.persistentVolumeClaim || m.claim) && m.readOnly) {
          err(`${at}: ${n} is a volume mounted read-only`);
        }
        if (v.configMap || v.secret) {
          if (!m.readOnly) {
            err(`${at}: ${n} (${v.configMap ? 'a ConfigMap' : 'a Secret'}) is not mounted read-only`);
          }
          const src = v.configMap ? cred('ConfigMap', v.configMap.name) : cred('Secret', v.secret.secretName);
          if (src && v.configMap && n === 'PLATEAU_RULES_PROFILES_DIR' && !keysOf(src).size) {
            err(`${at}: ${n} is empty`);
          }
        }
      }
    }
    // Budgets below their volumes: the audit's size cap, the intake's spool.
    for (const [n, e] of env) {
      if (typeof e.value !== 'string') continue;
      if (/_SIZE_CAP$/.test(n)) {
        const dir = val(n.replace(/_SIZE_CAP$/, '_DATA_DIR'));
        const m = dir && mounts.find((x) => x.mountPath === dir);
        const size = m && m.claim && quantity(m.claim.spec.resources.requests.storage);
        if (size && !(plateauSize(e.value) < size)) {
          err(`${at}: ${n}=${e.value} is not below its volume (${m.claim.spec.resources.requests.storage})`);
        }
      }
      if (/_SPOOL_BUDGET$/.test(n)) {
        const lim = tmp && tmp.volume && tmp.volume.emptyDir && tmp.volume.emptyDir.sizeLimit;
        if (!lim || !(plateauSize(e.value) < quantity(lim))) {
          err(`${at}: ${n}=${e.value} is not below /tmp's sizeLimit (${lim})`);
        }
      }
    }

    // Bus peers: each endpoint a headless Service of the peer's pods on their bus port, and each
    // peer that runs here wired.
    for (const p of svc.peers) {
      const v = `PLATEAU_${p.peer.toUpperCase()}_BUS`;
      const identity = val(`PLATEAU_${p.peer.toUpperCase()}_IDENTITY`) || p.peer;
      const peerRuns = plateau.some((x) => x.svc.name === identity);
      if (!env.has(v)) {
        if (peerRuns) err(`${at}: ${identity} runs here but ${v} is not set: nothing reaches it`);
        continue;
      }
      for (const ep of (val(v) || '').split(',')) {
        const m = /^tcp:\/\/([a-z0-9-]+)(?:\.[a-z0-9.-]+)?:(\d+)$/.exec(ep.trim());
        if (!m) { err(`${at}: ${v}=${ep}: expected tcp://<service>:<port>`); continue; }
        const [, host, port] = m;
        const s = byName('Service', host);
        if (!s) {
          if (ctx.services[identity]) err(`${at}: ${v} names Service ${host}, which is not here`);
          else {
            const outside = { ns: 'self', nsLabels: {}, labels: { 'app.kubernetes.io/name': p.peer }, ports: {} };
            flows.push({ from: w, to: outside, port: Number(port), why: `${v} (outside plateau)` });
          }
          continue;
        }
        if (s.spec.clusterIP !== 'None') {
          err(`${at}: ${v} names Service ${host}, which is not headless (clusterIP: None): ` +
              'the bus client must see every pod');
        }
        const sp = (s.spec.ports || []).find((x) => x.port === Number(port));
        const targets = selected({ matchLabels: s.spec.selector });
        if (!sp) { err(`${at}: ${v}: Service ${host} has no port ${port}`); continue; }
        for (const t of targets) {
          const tp = podOf(t);
          const target = typeof sp.targetPort === 'string' ? tp.ports[sp.targetPort] : (sp.targetPort || sp.port);
          const tsvc = plateau.find((x) => x.w === t);
          if (!tsvc || target !== tp.ports.bus) {
            err(`${at}: ${v} reaches ${t.metadata.name} on ${target}, not on its bus port`);
          }
          else {
            const tid = (tsvc.c.env || []).find((e) => e.name === 'PLATEAU_BUS_IDENTITY');
            const name = tid ? tid.value : tsvc.svc.name;
            if (name !== identity) {
              err(`${at}: ${v} reaches ${name}, but the key list is asked for ${identity}`);
            }
            flows.push({ from: w, to: tp, port: target, why: v });
          }
        }
        if (!targets.length) err(`${at}: ${v}: Service ${host} selects no pod`);
      }
    }
    // HTTP peers: a PLATEAU_<SERVICE>_<PEER>_URL naming a Service of this namespace
    // (http://audit:8080, the notify service reading the audit's export) is a flow to its pods.
    // A pod of a StatefulSet by name under its headless Service (http://audit-0.audit-bus:8080)
    // is a flow to that workload's pods on the container port itself; comma-separated lists too.
    for (const [n, e] of env) {
      if (!/^PLATEAU_\w+_URL$/.test(n) || n === 'PLATEAU_REDIS_URL' || typeof e.value !== 'string') continue;
      for (const u of e.value.split(',')) {
        const m = /^http:\/\/([a-z0-9-]+)(?:\.([a-z0-9-]+))?(?:\.[a-z0-9.-]+)?:(\d+)(?:\/.*)?$/.exec(u.trim());
        if (!m) continue;
        const [, host, sub, port] = m;
        const s = byName('Service', host);
        const pod = !s && sub && byName('Service', sub) && byName('StatefulSet', host.replace(/-\d+$/, ''));
        if (pod) {
          flows.push({ from: w, to: podOf(pod), port: Number(port), why: n });
          continue;
        }
        if (!s) continue;
        const sp = (s.spec.ports || []).find((x) => x.port === Number(port));
        if (!sp) { err(`${at}: ${n}=${u}: Service ${host} has no port ${port}`); continue; }
        for (const t of workloads.filter((x) => netpol.matches({ matchLabels: s.spec.selector }, labelsOf(x)))) {
          const tp = podOf(t);
          const target = typeof sp.targetPort === 'string' ? tp.ports[sp.targetPort] : (sp.targetPort || sp.port);
          flows.push({ from: w, to: tp, port: target, why: n });
        }
      }
    }
  }

  // Services select pods and name their ports.
  for (const s of of('Service')) {
    const targets = selected({ matchLabels: s.spec.selector });
    if (!targets.length) err(`Service ${s.metadata.name} selects no pod`);
    for (const t of targets) {
      const ports = podOf(t).ports;
      const nums = Object.values(ports);
      for (const p of s.spec.ports || []) {
        const tp = p.targetPort ?? p.port;
        if (typeof tp === 'string' ? !(tp in ports) : !nums.includes(tp)) {
          err(`Service ${s.metadata.name} port ${p.port} targets ${tp}, which ${t.metadata.name} does not have`);
        }
      }
    }
  }
  // Autoscalers and disruption budgets.
  const scaled = new Set();
  for (const h of of('HorizontalPodAutoscaler')) {
    const r = h.spec.scaleTargetRef;
    const t = byName(r.kind, r.name);
    if (!t) err(`HorizontalPodAutoscaler ${h.metadata.name} scales ${r.kind} ${r.name}, which is not here`);
    else if (t.spec.replicas !== undefined) {
      err(`${r.kind} ${r.name} sets replicas, which its autoscaler owns: every apply would reset it`);
    }
    if ((h.spec.minReplicas || 1) > h.spec.maxReplicas) {
      err(`HorizontalPodAutoscaler ${h.metadata.name}: minReplicas above maxReplicas`);
    }
    scaled.add(`${r.kind}/${r.name}`);
  }
  for (const { w } of plateau) {
    const several = w.spec.replicas === undefined || w.spec.replicas > 1 || scaled.has(`${w.kind}/${w.metadata.name}`);
    const covered = of('PodDisruptionBudget').some((b) => netpol.matches(b.spec.selector, labelsOf(w)));
    if (several && !covered) err(`${w.kind} ${w.metadata.name}: no PodDisruptionBudget`);
  }

  // Network: what the policies allow against what the variables declare.
  if (workloads.length) {
    const redis = workloads.filter((w) => appOf(w) === 'redis');
    for (const { w } of plateau) {
      const src = podOf(w);
      for (const d of ['Ingress', 'Egress']) {
        if (!netpol.isolated(policies, src, d)) err(`${w.metadata.name}: no policy isolates it for ${d} (default deny)`);
      }
      if (!netpol.allowed(policies, src, EXTERNAL, 53, 'UDP')) {
        err(`${w.metadata.name}: cannot resolve names (UDP 53)`);
      }
      if (redis.length) {
        for (const r of redis) {
          const rp = podOf(r);
          flows.push({ from: w, to: rp, port: rp.ports.redis, why: 'PLATEAU_REDIS_URL' });
        }
      } else if (!netpol.allowed(policies, src, EXTERNAL, 6379)) err(`${w.metadata.name}: cannot reach Redis (TCP 6379)`);
      const ports = src.ports;
      if (ports.http && !netpol.allowed(policies, INGRESS, src, ports.http)) {
        err(`${w.metadata.name}: the ingress cannot reach its HTTP port`);
      }
      if (ports.ops && !netpol.allowed(policies, MONITORING, src, ports.ops)) {
        err(`${w.metadata.name}: monitoring cannot reach its ops port`);
      }
      for (const p of Object.values(ports)) {
        if (netpol.allowed(policies, STRANGER, src, p)) {
          err(`${w.metadata.name}: any namespace reaches its port ${p}`);
        }
        if (p !== ports.http && netpol.allowed(policies, INGRESS, src, p)) {
          err(`${w.metadata.name}: the ingress reaches its port ${p}, not only HTTP`);
        }
      }
    }
    for (const f of flows) {
      if (!netpol.allowed(policies, podOf(f.from), f.to, f.port)) {
        const to = f.to.labels['app.kubernetes.io/name'];
        err(`NetworkPolicies do not let ${f.from.metadata.name} reach ${to}:${f.port} (${f.why})`);
      }
    }
    // And nothing else between the pods of this namespace.
    for (const a of workloads) {
      for (const b of workloads) {
        if (a === b) continue;
        for (const p of new Set(Object.values(podOf(b).ports))) {
          const declared = flows.some((f) => f.from === a && f.to.workload === b && f.port === p);
          if (!declared && netpol.allowed(policies, podOf(a), podOf(b), p)) {
            err(`NetworkPolicies let ${a.metadata.name} reach ${b.metadata.name}:${p}, which no variable declares`);
          }
        }
      }
    }
  }

  // Alert rules: every plateau_* metric they use is exported (csource.metrics).
  for (const r of of('PrometheusRule')) {
    for (const g of r.spec.groups || []) {
      for (const rule of g.rules || []) {
        for (const m of String(rule.expr).matchAll(/\b(plateau_\w+)/g)) {
          const name = m[1];
          const base = name.replace(/_(bucket|sum|count)$/, '');
          const histogram = base !== name && ctx.metrics.get(base) === 'histogram';
          const kind = ctx.metrics.get(name) || (histogram ? 'histogram' : null);
          if (!kind) {
            err(`PrometheusRule ${r.metadata.name}: ${rule.alert} uses ${name}, which no service exports`);
          }
        }
      }
    }
  }
  // The image: one for every service, tagged with the project's version.
  for (const { w, c } of plateau) {
    const m = /(?:^|\/)plateau:([\w.-]+)$/.exec(c.image || '');
    if (!m) err(`${w.metadata.name}: image ${c.image} is not plateau:<version>`);
    else if (m[1] !== ctx.version) {
      err(`${w.metadata.name}: image tag ${m[1]} is not the project's version ${ctx.version} (CMakeLists.txt)`);
    }
  }
  return errors;
}

// The ConfigMaps the services read as directories, and their sources in the tree.
function checkCopies (renderings) {
  const errors = [];
  const pairs = [
    [path.join(lib.ROOT, 'lib', 'rules', 'profiles'), path.join(lib.DEPLOY, 'base', 'profiles'),
      'plateau-profiles', 'base'],
    [path.join(lib.ROOT, 'services', 'dialer', 'campaigns'), path.join(lib.DEPLOY, 'overlays', 'dev', 'campaigns'),
      'plateau-campaigns', 'overlays/dev'],
  ];
  for (const [src, copy, cm, rname] of pairs) {
    errors.push(...sameFiles(src, copy));
    const generated = (x) => x.kind === 'ConfigMap' && x.metadata.name.replace(/-[a-z0-9]{10}$/, '') === cm;
    const o = (renderings[rname] || []).find(generated);
    if (!o) { errors.push(`deploy/${rname}: no ConfigMap ${cm}`); continue; }
    const keys = Object.keys(o.data || {}).sort().join(' ');
    const files = fs.readdirSync(src).sort().join(' ');
    if (keys !== files) {
      errors.push(`deploy/${rname}: ConfigMap ${cm} holds [${keys}], ${lib.rel(src)} has [${files}]: ` +
                  'list them in its kustomization');
    }
  }
  return errors;
}

function context (extra = {}) {
  const kit = csource.kit();
  const services = {};
  for (const d of fs.readdirSync(path.join(lib.ROOT, 'services')).sort()) {
    const s = csource.service(d, kit, lib.ROOT, extra[d] || '');
    if (s) services[d] = s;
  }
  const byExe = {};
  for (const s of Object.values(services)) if (s.exe) byExe[s.exe] = s;
  const creds = [];
  const dir = path.join(lib.DEPLOY, 'credentials');
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'))) creds.push(...lib.readYaml(path.join(dir, f)));
  return { kit, services, byExe, creds, metrics: csource.metrics(), version: csource.version() };
}

function checkAll (renderings, ctx) {
  const errors = [];
  for (const [n, objs] of Object.entries(renderings)) if (n !== 'base') errors.push(...checkRendering(n, objs, ctx));
  errors.push(...checkCopies(renderings));
  return errors;
}

// In-memory breakages, each of which must be reported.
function selfTest (renderings) {
  const clone = () => JSON.parse(JSON.stringify(renderings));
  const sts = (r, name) => r['overlays/dev'].find((o) => o.kind === 'StatefulSet' && o.metadata.name === name);
  const ctr = (r, name) => sts(r, name).spec.template.spec.containers[0];
  const cases = [
    ['a required variable removed (intake without PLATEAU_REDIS_URL)', /does not set PLATEAU_REDIS_URL/, (r) => {
      const c = ctr(r, 'intake');
      c.env = c.env.filter((e) => e.name !== 'PLATEAU_REDIS_URL');
    }],
    ['a default that is a path of the source tree (dialer without its profiles)',
      /does not set PLATEAU_RULES_PROFILES_DIR, whose default/, (r) => {
      const c = ctr(r, 'dialer');
      c.env = c.env.filter((e) => e.name !== 'PLATEAU_RULES_PROFILES_DIR');
    }],
    ['a variable no service reads', /sets PLATEAU_INTAKE_NOT_A_SETTING/, (r) => {
      ctr(r, 'intake').env.push({ name: 'PLATEAU_INTAKE_NOT_A_SETTING', value: '1' });
    }],
    ['an optional peer left unwired (scrub without PLATEAU_AUDIT_BUS)',
      /audit runs here but PLATEAU_AUDIT_BUS is not set/, (r) => {
      const c = ctr(r, 'scrub');
      c.env = c.env.filter((e) => e.name !== 'PLATEAU_AUDIT_BUS');
    }],
    ['a container port the service does not listen on', /container port http is 8081/, (r) => {
      ctr(r, 'intake').ports.find((p) => p.name === 'http').containerPort = 8081;
    }],
    ['a bus endpoint on the wrong port', /Service dialer-bus has no port 5561/, (r) => {
      ctr(r, 'scrub').env.find((e) => e.name === 'PLATEAU_DIALER_BUS').value = 'tcp://dialer-bus:5561';
    }],
    ['a flow the variables do not declare', /let intake reach dialer:5560/, (r) => {
      const p = r['overlays/dev'].find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'intake');
      p.spec.egress[0].to[0].podSelector.matchExpressions[0].values.push('dialer');
      const d = r['overlays/dev'].find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'dialer');
      d.spec.ingress[0].from[0].podSelector.matchExpressions[0].values.push('intake');
    }],
    ['a declared flow the policies refuse', /do not let scrub reach audit:5560/, (r) => {
      const p = r['overlays/dev'].find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'audit');
      p.spec.ingress[0].from[0].podSelector.matchExpressions[0].values = ['intake', 'dialer', 'promise'];
    }],
    ['a sender run as a Deployment', /sends \(it has outboxes\) but is a Deployment/, (r) => {
      sts(r, 'promise').kind = 'Deployment';
    }],
    ['a writable root file system', /readOnlyRootFilesystem is not true/, (r) => {
      ctr(r, 'dialer').securityContext.readOnlyRootFilesystem = false;
    }],
    ['an alert on a metric nobody exports', /uses plateau_audit_fsync_secs/, (r) => {
      const p = r['overlays/prod'].find((o) => o.kind === 'PrometheusRule');
      p.spec.groups[0].rules[0].expr = 'plateau_audit_fsync_secs > 1';
    }],
  ];
  const failures = [];
  const ctx = context();
  for (const [what, expect, breakIt] of cases) {
    const r = clone();
    breakIt(r);
    const errors = checkAll(r, ctx);
    if (errors.some((e) => expect.test(e))) console.log(`caught: ${what}`);
    else failures.push(`not caught: ${what} (${expect}); got: ${errors.join(' | ') || 'nothing'}`);
  }
  // A service that starts to require a variable: the manifests must follow.
  const ctx2 = context({ promise: 'x = pl_config_str_required (cfg, "PLATEAU_PROMISE_NEW_SETTING", "a new setting");' });
  if (!checkAll(clone(), ctx2).some((e) => /does not set PLATEAU_PROMISE_NEW_SETTING/.test(e))) {
    failures.push('not caught: a variable newly required by services/promise');
  } else console.log('caught: a variable newly required by services/promise');
  if (checkAll(clone(), ctx).length) failures.push('the unbroken manifests do not pass');
  return failures;
}

lib.run('deploy_consistency', () => {
  const renderings = {};
  const overlays = lib.kustomizations().filter((n) => n.startsWith('overlays/'));
  for (const n of ['overlays/dev', 'overlays/prod']) {
    if (!overlays.includes(n)) lib.fail(`deploy/${n}: no kustomization.yaml`);
  }
  for (const n of overlays) renderings[n] = lib.render(n);
  renderings.base = lib.render('base');
  if (process.argv.includes('--self-test')) return selfTest(renderings);
  const ctx = context();
  const errors = checkAll(renderings, ctx);
  if (!errors.length) {
    const names = overlays.map((o) => `deploy/${o}`);
    const n = overlays.reduce((a, o) => a + renderings[o].filter((x) => WORKLOAD_KINDS.has(x.kind)).length, 0);
    console.log(`deploy_consistency: ${names.join(', ')}: ${n} workloads agree with ` +
                `${Object.keys(ctx.services).length} services' sources`);
  }
  return errors;
});
