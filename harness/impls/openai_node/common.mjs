// Shared by the openai-node driver's parts: the SDK's location, the line writer, events
// and how an SDK exception becomes an error event. Plain Node (20+), no build step.

import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { format } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Where scripts/install-openai-node.sh put the SDK (WIREPLAY_OPENAI_NODE_PREFIX overrides). */
export const PREFIX =
  process.env.WIREPLAY_OPENAI_NODE_PREFIX || path.resolve(HERE, '..', '..', '..', '.wireplay', 'impls', 'openai-node');

/** Import a file of a package installed in the prefix (`openai/index.mjs`, `undici/index.js`). */
export function sdkImport(file) {
  return import(pathToFileURL(path.join(PREFIX, 'node_modules', file)).href);
}

export function readCA(file) {
  return readFileSync(file);
}

// --- the JSON-lines channel ------------------------------------------------------------
// stdout carries protocol lines only: anything the SDK (or a dependency) logs goes to stderr.
const stdoutWrite = process.stdout.write.bind(process.stdout);
for (const name of ['log', 'info', 'debug', 'warn', 'error', 'trace']) {
  console[name] = (...args) => process.stderr.write(format(...args) + '\n');
}

export function write(message) {
  stdoutWrite(JSON.stringify(message) + '\n');
}

/** The current case's event sink; events of a case that has ended go nowhere. */
export const channel = {
  generation: 0,
  emitFor(generation) {
    return (event) => {
      if (generation === channel.generation) write({ type: 'event', event });
    };
  },
};

/** An event without its absent fields: optional fields are omitted, never null. */
export function compact(type, fields = {}) {
  const event = { type };
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null) event[key] = value;
  }
  return event;
}

export const str = (obj, key) => (obj && typeof obj === 'object' && typeof obj[key] === 'string' ? obj[key] : undefined);
export const isObj = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
export const uint = (value) => (Number.isInteger(value) && value >= 0 ? value : undefined);

export function strMap(value) {
  const out = {};
  if (isObj(value)) for (const [k, v] of Object.entries(value)) out[String(k)] = String(v);
  return out;
}

// --- errors ----------------------------------------------------------------------------

/** The exception's class name (the SDK's `APIConnectionError`, `WebSocketError`, ...). */
export function kindOf(err) {
  if (err === null || typeof err !== 'object') return undefined;
  return err.constructor?.name || err.name || undefined;
}

/** `Type: text`; the SDK's generic `Connection error.` also names its cause. */
export function describe(err) {
  if (!(err instanceof Error)) return String(err);
  const kind = kindOf(err) || 'Error';
  let text = err.message ? `${kind}: ${err.message}` : kind;
  const cause = err.cause;
  if (cause instanceof Error && cause !== err && !(err.message || '').includes(cause.message)) {
    text += ` (${describe(cause)})`;
  }
  return text;
}

// Which fields each error event may carry (schemas/events/common.schema.json `error`,
// schemas/events/realtime.schema.json `realtime.error`): `close_code` is the websocket close
// code that ended the connection, `failure` the kind of failure (the exception's class name).
const ERROR_FIELDS = {
  error: ['message', 'code', 'http_status', 'request_id', 'close_code', 'failure'],
  'realtime.error': ['message', 'http_status', 'request_id', 'close_code', 'failure'],
};

/** One error event from what the SDK exposes: its status, request id and code, when it has them. */
export function errorEvent(type, fields) {
  const allowed = ERROR_FIELDS[type];
  const picked = {};
  for (const key of allowed) picked[key] = fields[key];
  if (typeof picked.message !== 'string' || picked.message === '') picked.message = 'unknown error';
  if (!Number.isInteger(picked.http_status)) delete picked.http_status;
  if (typeof picked.code !== 'string') delete picked.code;
  if (typeof picked.request_id !== 'string' || picked.request_id === '') delete picked.request_id;
  if (!(Number.isInteger(picked.close_code) && picked.close_code >= 1000 && picked.close_code <= 4999)) delete picked.close_code;
  if (typeof picked.failure !== 'string' || picked.failure === '') delete picked.failure;
  return compact(type, picked);
}

/** An SDK exception as error fields: `APIError` has status, request id and code. */
export function sdkErrorFields(err, extra = {}) {
  const fields = { message: describe(err), failure: kindOf(err), ...extra };
  if (err && typeof err === 'object') {
    if (Number.isInteger(err.status)) fields.http_status = err.status;
    if (typeof err.requestID === 'string') fields.request_id = err.requestID;
    if (typeof err.code === 'string') fields.code = err.code;
  }
  return fields;
}

/** The pass-through of a server event the SDK does not know: every field as the SDK handed it over. */
export function unrecognizedEvent(api, transport, event) {
  return { type: 'server.unrecognized_event', api, transport, event };
}

/** A promise that settles after `ms` (its timer does not keep the process alive). */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** A queue one consumer awaits with a bound: `next(ms)` gives an item, or TIMEOUT. */
export const TIMEOUT = Symbol('timeout');
export class AsyncQueue {
  constructor() {
    this.items = [];
    this.waiter = null;
  }
  push(item) {
    if (this.waiter) {
      const { resolve, timer } = this.waiter;
      this.waiter = null;
      clearTimeout(timer);
      resolve(item);
    } else {
      this.items.push(item);
    }
  }
  next(ms) {
    if (this.items.length) return Promise.resolve(this.items.shift());
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve(TIMEOUT);
      }, ms);
      this.waiter = { resolve, timer };
    });
  }
}
