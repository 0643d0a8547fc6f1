#!/usr/bin/env node
// The official openai Node SDK (npm `openai`, pinned by scripts/install-openai-node.sh) as a
// wireplay driver: JSON lines on stdin/stdout, schemas/driver.schema.json.
//
//   node driver.mjs [--hello]
//
// Plain Node (20+), no build step; it imports only the SDK and the packages the SDK itself
// takes for Node (`ws` for its websockets, `undici` for a fetch with a CA of its own), all
// from the install prefix (WIREPLAY_OPENAI_NODE_PREFIX). It never reads wireplay's files.
//
// One process serves case after case (hello `cases: "many"`): `start` ... `end` → `ended`,
// then the next `start`; it exits at the end of stdin.

import { createInterface } from 'node:readline';
import { PREFIX, channel, readCA, sdkImport, write } from './common.mjs';
import { RealtimeDriver, plainConnection } from './realtime.mjs';
import { ResponsesDriver } from './responses.mjs';
import { SdkSurface } from './sdk.mjs';
import { Unsupported } from './unsupported.mjs';

const NAME = 'openai-node';

// What the SDK lets an application do. Not claimed: realtime.v1 (Codex's `quicksilver`
// protocol), responses.ws.v1 (`response.append` is no API client event), profiles (Codex
// revision presets), auth.chatgpt / auth.external (Codex's auth manager), tls.ca-env
// (Codex's CODEX_CA_CERTIFICATE policy).
const CAPABILITIES = [
  'auth.api-key', // an API key as the bearer credential
  'realtime',
  'realtime.v2',
  'realtime.transcription',
  'realtime.handoff_output',
  'responses',
  'responses.sse',
  'responses.ws',
  'responses.ws.v2',
  'responses.tool_outputs',
  'responses.builtin_tool_outputs', // the app answers every call, whatever its name
  'responses.request_options', // the app builds the request body from the case
  'sdk', // sdk.send and server.unrecognized_event: the SDK's own surface (sdk.mjs)
  'tls',
];

// The event types this driver can report at all: what the SDK surfaces (parsed events,
// exceptions, the socket's close, the `openai-model` response header) and the turn and
// conversation events the steps define. Codex-only facts (telemetry, rate-limit snapshots,
// reroute warnings, turn-level retries, auth tags) are never invented.
const REPORTED_EVENTS = [
  'error',
  'conversation.started',
  'conversation.closed',
  'realtime.session_updated',
  'realtime.audio_out',
  'realtime.input_transcript_delta',
  'realtime.output_transcript_delta',
  'realtime.speech_started',
  'realtime.item_added',
  'realtime.item_done',
  'realtime.handoff_requested',
  'realtime.response_cancelled',
  'realtime.error',
  'responses.created',
  'responses.output_item_added',
  'responses.output_item_done',
  'responses.output_text_delta',
  'responses.reasoning_summary_delta',
  'responses.reasoning_summary_part_added',
  'responses.reasoning_content_delta',
  'responses.completed',
  'responses.server_model',
  'server.unrecognized_event',
  'turn.started',
  'turn.tool_call',
  'turn.completed',
];

// The few decisions an application makes on top of the SDK, each the SDK's own behaviour
// (docs/impl-openai-node.md "Policies").
const POLICY = {
  // Every request carries the whole conversation and never previous_response_id: the SDK
  // does not chain (its ResponsesToolRunner replays explicit input history).
  chaining: 'none',
  // A failed response leaves the websocket open (the SDK keeps it); a socket the server
  // closed is replaced by a new ResponsesWS at the next request (no `reconnect` option).
  after_failure: 'keep_connection',
  // As the SDK reads: SSE invalid JSON throws (SyntaxError) and fails the turn; a Responses
  // websocket frame that is not an event is a `raw` record, skipped; a realtime frame that
  // is not an event is an `error` (reported), and the conversation goes on.
  parse_failure: 'sdk',
  // A realtime server `error` event is reported; the conversation goes on (the SDK keeps
  // the socket open).
  realtime_error: 'continue',
  // The SDK's HTTP retries (maxRetries) as many as the case's request_max_retries, else 0.
  retries: 'request_max_retries',
};

/** client.config.policy (schemas/config/policy.schema.json): this driver runs one policy, the
 * SDK's own; a case asking for another value is unsupported. */
function checkPolicy(section) {
  if (section === undefined || section === null) return;
  if (typeof section !== 'object' || Array.isArray(section)) throw new Unsupported('client.config.policy must be an object');
  for (const [key, value] of Object.entries(section)) {
    if (!(key in POLICY) || key === 'retries') throw new Unsupported(`openai-node has no policy '${key}'`);
    if (value !== POLICY[key]) throw new Unsupported(`openai-node runs policy ${key}: '${POLICY[key]}' only (the SDK's own), not '${value}'`);
  }
}

let sdk = null;
async function loadSdk() {
  if (sdk === null) {
    const [main, realtime, responsesWs, version] = await Promise.all([
      sdkImport('openai/index.mjs'),
      sdkImport('openai/realtime/ws.mjs'),
      sdkImport('openai/resources/responses/ws.mjs'),
      sdkImport('openai/version.mjs'),
    ]);
    sdk = {
      OpenAI: main.OpenAI,
      OpenAIRealtimeWS: realtime.OpenAIRealtimeWS,
      ResponsesWS: responsesWs.ResponsesWS,
      VERSION: version.VERSION,
      undici: null,
    };
  }
  return sdk;
}

function hello(version) {
  return {
    type: 'hello',
    protocol: 1,
    name: NAME,
    version,
    capabilities: [...CAPABILITIES].sort(),
    layers: ['protocol'],
    reported_events: [...REPORTED_EVENTS].sort(),
    cases: 'many',
    policy: POLICY,
  };
}

/** Where the case's fake server is, and how the SDK reaches it (TLS trust, plain realtime). */
class Endpoint {
  constructor(endpoint, config) {
    this.baseURL = endpoint.base_url;
    this.realtimeBaseURL = endpoint.realtime_base_url || endpoint.base_url;
    const tls = config.tls && typeof config.tls === 'object' ? config.tls : {};
    // A case that gives the client's CA environment (tls.env) gets exactly that: Node reads
    // none of CODEX_CA_CERTIFICATE / SSL_CERT_FILE, so it trusts its default roots. Otherwise
    // a TLS run trusts the run's CA the SDK's documented way: undici's fetch with an Agent
    // (HTTP) and the `ca` option of `ws` (websockets).
    this.ca = tls.env === undefined && endpoint.ca_file ? readCA(endpoint.ca_file) : undefined;
    this.agent = null;
  }

  async prepare(loaded) {
    if (this.ca !== undefined) {
      loaded.undici ??= await sdkImport('undici/index.js');
      this.agent = new loaded.undici.Agent({ connect: { ca: this.ca } });
      this.fetch = loaded.undici.fetch;
    }
  }

  fetchOptions() {
    return this.agent ? { fetch: this.fetch, fetchOptions: { dispatcher: this.agent } } : {};
  }

  wsOptions() {
    return this.ca !== undefined ? { ca: this.ca } : {};
  }

  realtimeWsOptions() {
    const secure = /^(https|wss):/i.test(this.realtimeBaseURL);
    return secure ? this.wsOptions() : plainConnection();
  }

  async release() {
    const agent = this.agent;
    this.agent = null;
    if (agent) await agent.close().catch(() => undefined);
  }
}

/** One case: each area's driver, created on first use. */
class Session {
  constructor({ endpoint, config, emit, loaded }) {
    this.endpoint = endpoint;
    this.config = config;
    this.emit = emit;
    this.sdk = loaded;
    this.areas = new Map();
  }

  async handle(op, args) {
    checkPolicy(this.config.policy);
    const area = op.split('.', 1)[0];
    if (!this.areas.has(area)) {
      const section = this.config[area] && typeof this.config[area] === 'object' ? this.config[area] : {};
      const parts = { endpoint: this.endpoint, config: section, emit: this.emit, sdk: this.sdk };
      if (area === 'realtime') this.areas.set(area, new RealtimeDriver(parts));
      else if (area === 'responses') this.areas.set(area, new ResponsesDriver(parts));
      else if (area === 'sdk') this.areas.set(area, new SdkSurface({ ...parts, config: this.config }));
      else throw new Unsupported(`openai-node has no '${area}' steps`);
    }
    await this.areas.get(area).handle(op, args);
  }

  async close() {
    await Promise.allSettled([...this.areas.values()].map((driver) => withTimeout(driver.close(), 5000)));
    await this.endpoint.release();
  }
}

function withTimeout(promise, ms) {
  let timer;
  return Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}

// --- the client's environment, per case -------------------------------------------------
// The SDK reads OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_ORG_ID, ... itself: the harness's
// own never reach it; a case's client.env is set for that case and undone after it.
for (const name of Object.keys(process.env)) if (name.startsWith('OPENAI_')) delete process.env[name];
let restoreEnv = null;

function applyEnv(config) {
  const saved = new Map();
  const set = (name, value) => {
    if (!saved.has(name)) saved.set(name, process.env[name]);
    process.env[name] = String(value);
  };
  if (config.env && typeof config.env === 'object') for (const [k, v] of Object.entries(config.env)) set(k, v);
  const tls = config.tls && typeof config.tls === 'object' ? config.tls : {};
  if (tls.env && typeof tls.env === 'object') for (const [k, v] of Object.entries(tls.env)) set(k, v);
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

// --- the protocol loop ------------------------------------------------------------------

let session = null;
let queue = Promise.resolve(); // commands run one after another, in order

function failed(id, err) {
  if (err instanceof Unsupported) return { type: 'failed', id, message: err.message, unsupported: true };
  return { type: 'failed', id, message: `${err?.name ?? 'Error'}: ${err?.message ?? err}`, traceback: String(err?.stack ?? '') };
}

async function startCase(msg) {
  const loaded = await loadSdk();
  const generation = channel.generation;
  const config = msg.config && typeof msg.config === 'object' ? msg.config : {};
  restoreEnv = applyEnv(config);
  const endpoint = new Endpoint(msg.endpoint, config);
  await endpoint.prepare(loaded);
  session = new Session({ endpoint, config, emit: channel.emitFor(generation), loaded });
}

async function runCommand(msg) {
  const generation = channel.generation;
  let reply;
  try {
    if (session === null) throw new Error('command before start');
    await session.handle(msg.op, msg.args ?? {});
    reply = { type: 'done', id: msg.id };
  } catch (err) {
    reply = failed(msg.id, err);
  }
  if (generation === channel.generation) write(reply); // a command of an ended case answers nobody
}

async function endCase() {
  channel.generation += 1; // whatever the ended case still says goes nowhere
  const ending = session;
  session = null;
  if (ending) await withTimeout(ending.close(), 6000);
  restoreEnv?.();
  restoreEnv = null;
}

function onLine(line) {
  if (!line.trim()) return;
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    process.stderr.write(`openai-node driver: not JSON: ${line.slice(0, 200)}\n`);
    return;
  }
  if (msg.type === 'start') {
    queue = queue.then(() => startCase(msg)).catch((err) => process.stderr.write(`start failed: ${err?.stack ?? err}\n`));
  } else if (msg.type === 'command') {
    queue = queue.then(() => runCommand(msg));
  } else if (msg.type === 'end') {
    // After the commands before it, but not behind one that never returns (the harness
    // ends a case that ran out of time): the next case waits for this teardown only.
    const before = queue;
    queue = withTimeout(before, 500).then(endCase).then(() => write({ type: 'ended' }));
  }
}

process.on('unhandledRejection', (reason) => {
  process.stderr.write(`openai-node driver: unhandled rejection: ${reason?.stack ?? reason}\n`);
});
process.on('uncaughtException', (err) => {
  process.stderr.write(`openai-node driver: uncaught exception: ${err?.stack ?? err}\n`);
});

async function main(argv) {
  const loaded = await loadSdk();
  write(hello(loaded.VERSION));
  if (argv.includes('--hello')) return;
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', onLine);
  await new Promise((resolve) => lines.once('close', resolve));
  await queue;
  if (session !== null) await endCase();
  process.exit(0);
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`openai-node driver: cannot start (${err?.stack ?? err}); SDK prefix ${PREFIX}\n`);
  process.exit(2);
});

