// The observability stack of docker-compose.yml (prometheus, loki, alloy, tempo, grafana; docs/deploy.md,
// "Logs and traces"), checked without Docker: the files the services mount exist, the services, ports and
// data source URLs agree, Grafana's log ↔ trace links match what Timmy's log lines look like, only
// low-cardinality values become Loki labels, and every image is pinned.
//
// The project has no YAML dependency, so `parseYaml` below reads the block-style subset these files use
// (mappings, sequences, flow lists, quoted and plain scalars, anchors, aliases and `<<` merges).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

type Yaml = null | boolean | number | string | Yaml[] | { [key: string]: Yaml };
type Obj = { [key: string]: Yaml };

interface Line {
  indent: number;
  text: string;
  no: number;
}

/** Cuts a trailing `# comment` that is outside quotes. */
function stripComment(raw: string): string {
  let quote = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (quote) {
      if (c === "'" && quote === "'" && raw[i + 1] === "'") i++;
      else if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = '';
    } else if ((c === '"' || c === "'") && (i === 0 || /[\s[{,:]/.test(raw[i - 1] ?? ''))) {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(raw[i - 1] ?? ''))) {
      return raw.slice(0, i);
    }
  }
  return raw;
}

function scalar(text: string): Yaml {
  const t = text.trim();
  if (t.startsWith('"')) return JSON.parse(t) as string;
  if (t.startsWith("'")) return t.slice(1, -1).replaceAll("''", "'");
  if (t === '' || t === '~' || t === 'null') return null;
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  return t;
}

/** A flow list or mapping (`["a", b]`, `{ key: v }`), one level of nesting at most in these files. */
function flow(text: string): Yaml {
  const t = text.trim();
  const inner = t.slice(1, -1).trim();
  const items: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      items.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  if (inner.slice(start).trim()) items.push(inner.slice(start));
  const value = (s: string) => (/^\s*[[{]/.test(s) ? flow(s) : scalar(s));
  if (t.startsWith('[')) return items.map(value);
  const obj: Obj = {};
  for (const item of items) {
    const [k, v] = splitKey(item.trim()) ?? assert.fail(`flow mapping entry ${item}`);
    obj[k] = value(v);
  }
  return obj;
}

/** `key: rest` → [key, rest], or undefined when the text is not a mapping entry. */
function splitKey(text: string): [string, string] | undefined {
  const m = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s"'[{#&*!|>-][^:]*?|<<)\s*:(?:\s+(.*))?$/.exec(text);
  if (!m) return undefined;
  return [String(scalar(m[1]!)), m[2] ?? ''];
}

function parseYaml(source: string): Yaml {
  const lines: Line[] = [];
  source.split('\n').forEach((raw, i) => {
    const text = stripComment(raw).trimEnd();
    if (text.trim() === '' || text.trim() === '---') return;
    assert.ok(
      !/^\s*[|>][-+]?$/.test(text.split(': ').pop() ?? ''),
      `line ${i + 1}: block scalars unsupported`,
    );
    lines.push({ indent: text.length - text.trimStart().length, text: text.trim(), no: i + 1 });
  });
  const anchors = new Map<string, Yaml>();
  let pos = 0;

  const isItem = (l: Line | undefined, indent: number) =>
    l !== undefined && l.indent === indent && (l.text === '-' || l.text.startsWith('- '));

  /** A value written after `key:` or `- ` on the same line, or the block below it. */
  function value(rest: string, indent: number, allowSeqAtIndent: boolean): Yaml {
    let r = rest.trim();
    let anchor: string | undefined;
    const a = /^&(\S+)\s*(.*)$/.exec(r);
    if (a) {
      anchor = a[1];
      r = a[2]!;
    }
    let v: Yaml;
    if (r.startsWith('*')) v = anchors.get(r.slice(1)) ?? assert.fail(`unknown alias ${r}`);
    else if (r.startsWith('[') || r.startsWith('{')) v = flow(r);
    else if (r !== '') v = scalar(r);
    else if ((lines[pos]?.indent ?? -1) > indent) v = node(lines[pos]!.indent);
    else if (allowSeqAtIndent && isItem(lines[pos], indent)) v = sequence(indent);
    else v = null;
    if (anchor) anchors.set(anchor, v);
    return v;
  }

  function node(indent: number): Yaml {
    return isItem(lines[pos], indent) ? sequence(indent) : mapping(indent);
  }

  function sequence(indent: number): Yaml[] {
    const out: Yaml[] = [];
    while (isItem(lines[pos], indent)) {
      const line = lines[pos]!;
      const rest = line.text.slice(1).trimStart();
      const inner = indent + (line.text.length - rest.length);
      if (rest !== '' && splitKey(rest) && !rest.startsWith('"') && !rest.startsWith("'")) {
        // `- key: value` opens a mapping whose keys sit at the column of `key`.
        lines[pos] = { indent: inner, text: rest, no: line.no };
        out.push(mapping(inner));
      } else {
        pos++;
        out.push(value(rest, indent, false));
      }
    }
    return out;
  }

  function mapping(indent: number): Obj {
    const out: Obj = {};
    while (lines[pos]?.indent === indent && !isItem(lines[pos], indent)) {
      const line = lines[pos]!;
      const kv = splitKey(line.text) ?? assert.fail(`line ${line.no}: expected "key: value": ${line.text}`);
      pos++;
      const v = value(kv[1], indent, true);
      if (kv[0] === '<<') Object.assign(out, v as Obj);
      else out[kv[0]] = v;
    }
    assert.ok((lines[pos]?.indent ?? -1) < indent, `line ${lines[pos]?.no}: bad indentation`);
    return out;
  }

  const doc = node(lines[0]?.indent ?? 0);
  assert.equal(pos, lines.length, `line ${lines[pos]?.no}: not parsed`);
  return doc;
}

const obj = (v: Yaml | undefined, what: string): Obj => {
  assert.ok(v !== null && typeof v === 'object' && !Array.isArray(v), `${what} is not a mapping`);
  return v as Obj;
};
const list = (v: Yaml | undefined, what: string): Yaml[] => {
  assert.ok(Array.isArray(v), `${what} is not a list`);
  return v;
};
const str = (v: Yaml | undefined, what: string): string => {
  assert.equal(typeof v, 'string', `${what} is not a string`);
  return v as string;
};
/** The default of a compose `${VAR:-default}` value, or the value itself. */
const composeDefault = (v: string) => /^\$\{[A-Z0-9_]+:-(.*)\}$/.exec(v)?.[1] ?? v;

const compose = obj(parseYaml(read('docker-compose.yml')), 'docker-compose.yml');
const services = obj(compose.services, 'services');
const service = (name: string) => obj(services[name], `service ${name}`);
const datasources = readdirSync(join(ROOT, 'deploy/grafana/provisioning/datasources'))
  .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
  .flatMap((f) => {
    const file = obj(parseYaml(read(`deploy/grafana/provisioning/datasources/${f}`)), f);
    return list(file.datasources, `${f} datasources`).map((d) => obj(d, f));
  });
const datasource = (type: string) => {
  const found = datasources.filter((d) => d.type === type);
  assert.equal(found.length, 1, `one ${type} data source`);
  return found[0]!;
};
const loki = obj(parseYaml(read('deploy/loki.yml')), 'deploy/loki.yml');
const tempo = obj(parseYaml(read('deploy/tempo.yml')), 'deploy/tempo.yml');
const alloy = read('deploy/alloy.alloy');

/** Port `container` published or not, the service listens on it: the URL names the service and port. */
function assertUrlReaches(url: string, name: string, port: number) {
  const u = new URL(url);
  assert.equal(u.hostname, name, `${url} names the ${name} service`);
  assert.equal(Number(u.port), port, `${url} uses ${name}'s port ${port}`);
  assert.ok(services[name], `docker-compose.yml has a ${name} service`);
}

test('the YAML reader handles what the compose file needs (anchors, merges, flow lists, quotes)', () => {
  const doc = obj(
    parseYaml(
      [
        'x-env: &env',
        `  A: \${A:-1}   # comment`,
        "  B: 'it''s # not a comment'",
        's:',
        '  svc:',
        '    environment:',
        '      <<: *env',
        '      C: "q: #"',
        '    ports: ["1:1", 2]',
        '    list:',
        '    - k: v',
        '      j: 2',
        '    - plain',
      ].join('\n'),
    ),
    'doc',
  );
  const svc = obj(obj(doc.s, 's').svc, 'svc');
  assert.deepEqual(svc.environment, { A: `\${A:-1}`, B: "it's # not a comment", C: 'q: #' });
  assert.deepEqual(svc.ports, ['1:1', 2]);
  assert.deepEqual(svc.list, [{ k: 'v', j: 2 }, 'plain']);
});

test('every file a compose service mounts or builds from exists', () => {
  const mounted: string[] = [];
  for (const [name, s] of Object.entries(services)) {
    for (const v of list(obj(s, name).volumes ?? [], `${name} volumes`)) {
      const source = str(v, `${name} volume`).split(':')[0];
      if (source?.startsWith('./')) mounted.push(source);
    }
  }
  for (const path of ['./deploy/loki.yml', './deploy/tempo.yml', './deploy/alloy.alloy']) {
    assert.ok(mounted.includes(path), `${path} is mounted`);
  }
  for (const path of mounted) assert.ok(existsSync(join(ROOT, path)), `${path} exists`);
  // Named volumes are declared at the top level.
  const declared = Object.keys(obj(compose.volumes, 'volumes'));
  for (const [name, s] of Object.entries(services)) {
    for (const v of list(obj(s, name).volumes ?? [], `${name} volumes`)) {
      const source = str(v, `${name} volume`).split(':')[0];
      if (source && !source.startsWith('.') && !source.startsWith('/'))
        assert.ok(declared.includes(source), source);
    }
  }
});

test('every image is pinned to a released version, never latest', () => {
  const expected: Record<string, RegExp> = {
    loki: /^grafana\/loki:3\.\d+\.\d+$/,
    tempo: /^grafana\/tempo:2\.\d+\.\d+$/,
    alloy: /^grafana\/alloy:v1\.\d+\.\d+$/,
    grafana: /^grafana\/grafana:\d+\.\d+\.\d+$/,
    prometheus: /^prom\/prometheus:v3\.\d+\.\d+$/,
  };
  for (const [name, s] of Object.entries(services)) {
    const svc = obj(s, name);
    const image = str(svc.image, `${name} image`);
    if (svc.build) {
      // Built here from deploy/Dockerfile; its base images come from build arguments with defaults.
      assert.match(image, /^timmy-time\/[a-z]+:local$/, name);
      continue;
    }
    const tag = /:([^:/]+)$/.exec(image)?.[1];
    assert.ok(tag && tag !== 'latest' && /\d/.test(tag), `${name}: ${image} has a pinned version tag`);
    if (expected[name]) assert.match(image, expected[name], name);
  }
  for (const name of ['prometheus', 'loki', 'alloy', 'tempo', 'grafana']) {
    assert.deepEqual(service(name).profiles, ['extras'], `${name} runs only with --profile extras`);
  }
});

test('Grafana has Prometheus, Loki and Tempo data sources pointing at the compose services', () => {
  assertUrlReaches(str(datasource('prometheus').url, 'prometheus url'), 'prometheus', 9090);
  assertUrlReaches(
    str(datasource('loki').url, 'loki url'),
    'loki',
    Number(obj(loki.server, 'loki server').http_listen_port),
  );
  assertUrlReaches(
    str(datasource('tempo').url, 'tempo url'),
    'tempo',
    Number(obj(tempo.server, 'tempo server').http_listen_port),
  );
  const uids = datasources.map((d) => d.uid);
  assert.equal(new Set(uids).size, uids.length, 'data source uids are unique');
  assert.deepEqual(
    list(service('grafana').depends_on, 'grafana depends_on').sort(),
    ['loki', 'prometheus', 'tempo'],
    'grafana starts after its data sources',
  );
  // The dashboard's panels name the Prometheus data source by uid.
  assert.equal(datasource('prometheus').uid, 'prometheus');
});

test("Loki's derived field finds the trace id of a real Timmy log line and opens it in Tempo", () => {
  const field = obj(
    list(obj(datasource('loki').jsonData, 'loki jsonData').derivedFields, 'derived')[0],
    'field',
  );
  assert.equal(field.datasourceUid, datasource('tempo').uid, 'the link opens the Tempo data source');
  // `$$` is a literal `$` in a provisioning file; Grafana then reads ${__value.raw}, the matched id.
  assert.equal(str(field.url, 'url').replaceAll('$$', '$'), `\${__value.raw}`);
  const regex = new RegExp(str(field.matcherRegex, 'matcherRegex'));
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const spanId = '00f067aa0ba902b7';
  // One pino record as Timmy writes it inside a traced operation (docs/observability.md, "Logs").
  const line = JSON.stringify({
    level: 'info',
    time: '2026-12-07T14:03:31.123Z',
    pid: 7,
    hostname: 'c0ffee',
    module: 'desk',
    event: 'job.completed',
    trace_id: traceId,
    span_id: spanId,
    job: 'a'.repeat(64),
    msg: 'job completed',
  });
  assert.equal(regex.exec(line)?.[1], traceId);
  // Not the span id, and nothing on a line outside a traced operation.
  const untraced = JSON.stringify({ level: 'info', module: 'relay', span_id: spanId, msg: 'listening' });
  assert.equal(regex.exec(untraced), null);
});

test("Tempo's traces-to-logs opens the Loki lines of the same trace and service", () => {
  const toLogs = obj(obj(datasource('tempo').jsonData, 'tempo jsonData').tracesToLogsV2, 'tracesToLogsV2');
  assert.equal(toLogs.datasourceUid, datasource('loki').uid);
  assert.equal(toLogs.filterByTraceID, true);
  const tags = list(toLogs.tags, 'tags').map((t) => obj(t, 'tag'));
  assert.deepEqual(tags, [{ key: 'service.name', value: 'service_name' }]);
  // The span's service.name is TIMMY_TRACING_SERVICE_NAME; Loki's service_name label is the compose
  // service (alloy.alloy): both are `timmy` by default.
  const env = obj(service('timmy').environment, 'timmy environment');
  assert.equal(composeDefault(str(env.TIMMY_TRACING_SERVICE_NAME, 'service name')), 'timmy');
  assert.match(
    alloy,
    /__meta_docker_container_label_com_docker_compose_service"\]\s*\n\s*target_label\s*=\s*"service_name"/,
  );
});

test('Alloy promotes only low-cardinality values to Loki labels and ships to the loki service', () => {
  const allowed = new Set(['service_name', 'level', 'module']);
  const labels = [...alloy.matchAll(/target_label\s*=\s*"([^"]+)"/g)].map((m) => m[1]!);
  const stage = /stage\.labels\s*\{\s*values\s*=\s*\{([^}]*)\}/.exec(alloy);
  assert.ok(stage, 'a stage.labels block');
  labels.push(...[...stage[1]!.matchAll(/(\w+)\s*=/g)].map((m) => m[1]!));
  assert.deepEqual([...new Set(labels)].sort(), ['level', 'module', 'service_name']);
  for (const label of labels) assert.ok(allowed.has(label), `${label} is not a Loki label`);
  assert.doesNotMatch(alloy, /stage\.labels[^}]*(trace|span|npub|pubkey|job)/);
  // Trace and span ids ride along as structured metadata (needs schema v13 and allow_structured_metadata).
  const meta = /stage\.structured_metadata\s*\{\s*values\s*=\s*\{([^}]*)\}/.exec(alloy);
  assert.ok(meta && /trace_id/.test(meta[1]!) && /span_id/.test(meta[1]!));
  assert.equal(obj(loki.limits_config, 'limits_config').allow_structured_metadata, true);
  const schemas = list(obj(loki.schema_config, 'schema_config').configs, 'configs').map((c) => obj(c, 'c'));
  assert.ok(
    schemas.every((c) => c.schema === 'v13' && c.store === 'tsdb' && c.object_store === 'filesystem'),
  );
  // The push URL names the loki service and its port.
  const push = /url\s*=\s*"([^"]+\/loki\/api\/v1\/push)"/.exec(alloy)?.[1] ?? assert.fail('loki.write url');
  assertUrlReaches(push, 'loki', Number(obj(loki.server, 'server').http_listen_port));
  // The containers it reads are the ones compose labels for it.
  const filter =
    /values\s*=\s*\["([\w.-]+)=([\w-]+)"\]/.exec(alloy) ?? assert.fail('discovery.docker filter');
  for (const name of ['timmy', 'strfry']) {
    assert.equal(
      obj(service(name).labels, `${name} labels`)[filter[1]!],
      filter[2],
      `${name} logs are shipped`,
    );
  }
  assert.ok(
    list(service('alloy').volumes, 'alloy volumes').includes('/var/run/docker.sock:/var/run/docker.sock:ro'),
  );
});

test("the timmy service's OTLP endpoint is Tempo's OTLP/HTTP receiver, and tracing is off by default", () => {
  const env = obj(service('timmy').environment, 'timmy environment');
  assert.equal(composeDefault(str(env.TIMMY_TRACING_ENABLED, 'enabled')), 'false');
  assert.equal(composeDefault(str(env.TIMMY_LOG_FORMAT, 'log format')), 'json');
  const endpoint = new URL(composeDefault(str(env.TIMMY_TRACING_OTLP_ENDPOINT, 'endpoint')));
  assert.equal(endpoint.pathname, '/v1/traces');
  const receiver = str(
    obj(
      obj(obj(obj(obj(tempo.distributor, 'distributor').receivers, 'receivers').otlp, 'otlp').protocols, 'p')
        .http,
      'http',
    ).endpoint,
    'OTLP http endpoint',
  );
  const [host, port] = receiver.split(':');
  assert.equal(host, '0.0.0.0', 'the receiver listens on every interface, not only inside its container');
  assertUrlReaches(endpoint.href, 'tempo', Number(port));
  assert.equal(port, '4318', 'OTLP/HTTP');
  // docs/deploy.md documents the same endpoint.
  assert.ok(read('docs/deploy.md').includes(endpoint.href), `docs/deploy.md names ${endpoint.href}`);
});

test('Loki and Tempo keep their data on the local filesystem, inside their volumes', () => {
  const mountOf = (name: string, volume: string) =>
    list(service(name).volumes, `${name} volumes`)
      .map((v) => str(v, 'volume').split(':'))
      .find(([source]) => source === volume)?.[1] ?? assert.fail(`${name} mounts ${volume}`);
  const lokiDir = mountOf('loki', 'loki-data');
  const common = obj(loki.common, 'common');
  const fs = obj(obj(common.storage, 'storage').filesystem, 'filesystem');
  for (const dir of [common.path_prefix, fs.chunks_directory, fs.rules_directory]) {
    assert.ok(str(dir, 'loki dir').startsWith(lokiDir), `${dir} is in ${lokiDir}`);
  }
  const tempoDir = mountOf('tempo', 'tempo-data');
  const trace = obj(obj(tempo.storage, 'storage').trace, 'trace');
  assert.equal(trace.backend, 'local');
  for (const dir of [obj(trace.wal, 'wal').path, obj(trace.local, 'local').path]) {
    assert.ok(str(dir, 'tempo dir').startsWith(tempoDir), `${dir} is in ${tempoDir}`);
  }
  // Both run as uid 10001: a one-shot container hands them their volumes first.
  const init = service('volume-init');
  const chown = list(init.command, 'volume-init command').map((c) => str(c, 'arg'));
  assert.deepEqual(chown.slice(0, 2), ['chown', '10001:10001']);
  for (const [name, volume, dir] of [
    ['loki', 'loki-data', lokiDir],
    ['tempo', 'tempo-data', tempoDir],
  ] as const) {
    assert.ok(chown.includes(dir) && mountOf('volume-init', volume) === dir, `volume-init chowns ${dir}`);
    const dependsOn = obj(service(name).depends_on, `${name} depends_on`);
    assert.deepEqual(dependsOn['volume-init'], { condition: 'service_completed_successfully' }, name);
  }
  // The config files are where the commands read them.
  for (const name of ['loki', 'tempo']) {
    const flag = str(list(service(name).command, `${name} command`)[0], 'command');
    const target = flag.replace('-config.file=', '');
    assert.ok(
      list(service(name).volumes, 'volumes').some((v) => str(v, 'v').split(':')[1] === target),
      target,
    );
  }
});
