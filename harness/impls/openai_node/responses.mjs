// responses.* steps on the openai Node SDK: `client.responses.create({stream: true})` (HTTP +
// SSE) and `ResponsesWS` (openai/resources/responses/ws, the Responses websocket).
//
// The SDK does the wire: URL, headers, auth, its own HTTP retries, SSE framing and parsing,
// websocket frames. The app on top of it is the one the openai-python driver runs (the step
// definitions, schemas/steps/responses.schema.json, and the reference client's request body),
// so a difference between the two SDK columns is the SDKs'.

import { randomUUID } from 'node:crypto';
import {
  AsyncQueue,
  TIMEOUT,
  compact,
  errorEvent,
  unrecognizedEvent,
  isObj,
  sdkErrorFields,
  str,
  strMap,
} from './common.mjs';
import { recognised } from './known.mjs';

const CALL_OUTPUT_TYPES = {
  function_call: 'function_call_output',
  local_shell_call: 'function_call_output',
  custom_tool_call: 'custom_tool_call_output',
};
const MAX_REQUESTS_PER_TURN = 64;
const MAX_IDLE_MS = 60_000; // bound on any single wait, whatever the config says
const USAGE_KEYS = ['input_tokens', 'cached_input_tokens', 'output_tokens', 'reasoning_output_tokens', 'total_tokens'];

/** The key the app gives the SDK: `auth.api_key` in api_key mode, else the area's `api_key`. */
export function apiKeyOf(cfg) {
  const auth = isObj(cfg.auth) ? cfg.auth : {};
  if ((auth.mode ?? 'api_key') === 'api_key' && auth.api_key) return String(auth.api_key);
  return cfg.api_key ? String(cfg.api_key) : undefined;
}

function userItems(value) {
  if (typeof value === 'string') {
    return [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: value }] }];
  }
  if (Array.isArray(value) && value.every(isObj)) return value.map((item) => ({ ...item }));
  throw new TypeError("responses.turn 'input' must be a string or a list of item objects");
}

function toolCall(item) {
  const kind = item?.type;
  if (!(kind in CALL_OUTPUT_TYPES)) return null;
  const callId = item.call_id || item.id;
  if (typeof callId !== 'string') return null;
  const name = kind === 'local_shell_call' ? 'local_shell' : item.name;
  const args = kind === 'function_call' ? item.arguments : item.input;
  return { call_id: callId, name: typeof name === 'string' ? name : '', kind, arguments: typeof args === 'string' ? args : undefined };
}

function toolOutput(call, outputs) {
  let scripted;
  if (Object.hasOwn(outputs, call.call_id)) scripted = outputs[call.call_id];
  else if (Object.hasOwn(outputs, call.name)) scripted = outputs[call.name];
  else scripted = `unsupported call: ${call.name}`;
  if (call.name === 'view_image' && typeof scripted === 'string' && !scripted.startsWith('unsupported call')) {
    scripted = [{ type: 'input_image', image_url: scripted }];
  }
  if (typeof scripted !== 'string' && !Array.isArray(scripted)) scripted = String(scripted);
  return { type: CALL_OUTPUT_TYPES[call.kind], call_id: call.call_id, output: scripted };
}

function tokenUsage(usage) {
  if (!isObj(usage)) return undefined;
  const num = (obj, key) => (isObj(obj) && Number.isInteger(obj[key]) ? obj[key] : 0);
  return {
    input_tokens: num(usage, 'input_tokens'),
    cached_input_tokens: num(usage.input_tokens_details, 'cached_tokens'),
    output_tokens: num(usage, 'output_tokens'),
    reasoning_output_tokens: num(usage.output_tokens_details, 'reasoning_tokens'),
    total_tokens: num(usage, 'total_tokens'),
  };
}

/** What one model request produced, as the turn loop needs it. */
class Result {
  constructor() {
    this.completed = false;
    this.failed = false;
    this.responseId = undefined;
    this.usage = [];
    this.pending = [];
  }
}

/** A `ResponsesWS` and the records its `stream()` iterator yields (open, message, raw, error, close). */
export class Socket {
  constructor(ws) {
    this.ws = ws;
    this.queue = new AsyncQueue();
    this.closed = null; // the close record once the SDK reported it
    this.pump = (async () => {
      try {
        for await (const record of ws.stream()) {
          if (record.type === 'close') this.closed = record;
          this.queue.push(record);
        }
      } catch (err) {
        this.queue.push({ type: 'error', error: err });
      }
      if (!this.closed) this.closed = { type: 'close', code: 1006, reason: '' };
      this.queue.push(this.closed);
    })();
  }

  /** Close through the SDK (1000), bounded; then drop the transport. */
  async close(ms) {
    if (!this.closed) {
      try {
        this.ws.close();
      } catch {
        // a failed close is still a close
      }
      const timer = new Promise((resolve) => setTimeout(resolve, ms).unref());
      await Promise.race([this.pump, timer]);
    }
    if (!this.closed) {
      try {
        this.ws.socket.terminate();
      } catch {
        // already gone
      }
    }
  }
}

export class ResponsesDriver {
  constructor({ endpoint, config, emit, sdk }) {
    this.endpoint = endpoint;
    this.cfg = { ...config };
    this.emit = emit;
    this.sdk = sdk;
    this.websocket = (this.cfg.transport ?? 'sse') === 'websocket';
    this.idleMs = Math.min(Number(this.cfg.stream_idle_timeout_ms ?? 300_000), MAX_IDLE_MS);
    this.history = [];
    this.conversationId = String(this.cfg.conversation_id || randomUUID());
    this._client = null;
    this.socket = null;
    this.closing = new Set();
  }

  async handle(op, args) {
    if (op === 'responses.turn') return this.turn(args);
    if (op === 'responses.prewarm') {
      // Open the socket ahead of the turn (the SDK connects when ResponsesWS is built).
      if (this.websocket && !this.live()) await this.connect().catch(() => undefined);
      return undefined;
    }
    if (op === 'responses.new_session') return undefined; // nothing is chained, so there is no chain to reset
    throw new Error(`unknown responses op '${op}'`);
  }

  async close() {
    const socket = this.socket;
    this.socket = null;
    if (socket) this.closing.add(socket.close(1000));
    await Promise.allSettled([...this.closing]);
    await this.endpoint.release();
  }

  client() {
    if (!this._client) {
      const cfg = this.cfg;
      const options = {
        baseURL: this.endpoint.baseURL,
        timeout: this.idleMs,
        defaultHeaders: strMap(cfg.headers),
        defaultQuery: strMap(cfg.query_params),
        ...this.endpoint.fetchOptions(),
      };
      // The SDK's own retries (408/409/429/5xx and connection errors, with its backoff) as
      // many times as the case configures, else none: retry policy is the codex layer, and a
      // case scripts one answer per request (POLICY.retries).
      options.maxRetries = Number(cfg.request_max_retries ?? 0);
      const key = apiKeyOf(cfg);
      if (key !== undefined) options.apiKey = key; // unset: the SDK reads OPENAI_API_KEY (client.env) or refuses
      this._client = new this.sdk.OpenAI(options);
    }
    return this._client;
  }

  /** The request the app asks for; the SDK serialises it and adds its own headers. */
  body() {
    const cfg = this.cfg;
    const body = { model: cfg.model ?? 'gpt-5.2-codex' };
    if (cfg.instructions) body.instructions = cfg.instructions;
    body.input = [...this.history];
    body.tools = [...(cfg.tools ?? [])];
    body.tool_choice = cfg.tool_choice ?? 'auto';
    body.parallel_tool_calls = cfg.parallel_tool_calls ?? true;
    body.reasoning = cfg.reasoning ?? null;
    body.store = cfg.store ?? false;
    body.stream = true;
    body.include = cfg.reasoning !== undefined && cfg.reasoning !== null ? ['reasoning.encrypted_content'] : [];
    if (cfg.service_tier !== undefined && cfg.service_tier !== null) body.service_tier = cfg.service_tier;
    body.prompt_cache_key = this.conversationId;
    if (cfg.text !== undefined && cfg.text !== null) body.text = cfg.text;
    return body;
  }

  async turn(args) {
    const items = userItems(args.input);
    const outputs = isObj(args.tool_outputs) ? args.tool_outputs : {};
    this.emit({ type: 'turn.started', turn_id: randomUUID() });
    this.history.push(...items);
    let usage;
    let status = 'completed';
    let requests = 0;
    for (;;) {
      if (requests++ >= MAX_REQUESTS_PER_TURN) {
        this.emit({ type: 'error', message: 'turn exceeded the model request limit' });
        status = 'failed';
        break;
      }
      const result = await this.request();
      for (const u of result.usage) {
        if (u) usage = Object.fromEntries(USAGE_KEYS.map((k) => [k, (usage?.[k] ?? 0) + u[k]]));
      }
      if (result.failed) {
        status = 'failed';
        break;
      }
      const calls = result.pending.map(toolCall).filter(Boolean);
      if (!calls.length) break;
      for (const call of calls) this.history.push(toolOutput(call, outputs));
    }
    this.emit(compact('turn.completed', { status, token_usage: usage }));
  }

  async request() {
    const body = this.body();
    return this.websocket ? this.requestWs(body) : this.requestSse(body);
  }

  fail(result, fields) {
    this.emit(errorEvent('error', fields));
    result.failed = true;
    return result;
  }

  // -- events common to SSE and websocket ----------------------------------------------

  onEvent(data, result, transport) {
    const kind = data.type;
    if (typeof kind === 'string' && !recognised('responses', transport, kind)) {
      // Not among the SDK's declared events: passed through whole, and the stream goes on.
      this.emit(unrecognizedEvent('responses', transport, data));
      return;
    }
    if (kind === 'response.created') {
      this.emit(compact('responses.created', { response_id: str(data.response, 'id') }));
    } else if (kind === 'response.output_item.added' || kind === 'response.output_item.done') {
      const item = data.item;
      if (!isObj(item)) return;
      const done = kind.endsWith('done');
      this.emit({ type: done ? 'responses.output_item_done' : 'responses.output_item_added', item });
      if (done) {
        this.history.push(item);
        const call = toolCall(item);
        if (call) {
          result.pending.push(item);
          this.emit(compact('turn.tool_call', { call_id: call.call_id, name: call.name, arguments: call.arguments }));
        }
      }
    } else if (kind === 'response.output_text.delta') {
      if (typeof data.delta === 'string') this.emit({ type: 'responses.output_text_delta', delta: data.delta });
    } else if (kind === 'response.reasoning_summary_text.delta') {
      if (typeof data.delta === 'string' && Number.isInteger(data.summary_index)) {
        this.emit({ type: 'responses.reasoning_summary_delta', delta: data.delta, summary_index: data.summary_index });
      }
    } else if (kind === 'response.reasoning_text.delta') {
      if (typeof data.delta === 'string' && Number.isInteger(data.content_index)) {
        this.emit({ type: 'responses.reasoning_content_delta', delta: data.delta, content_index: data.content_index });
      }
    } else if (kind === 'response.reasoning_summary_part.added') {
      if (Number.isInteger(data.summary_index)) {
        this.emit({ type: 'responses.reasoning_summary_part_added', summary_index: data.summary_index });
      }
    } else if (kind === 'response.completed') {
      const response = isObj(data.response) ? data.response : {};
      const usage = tokenUsage(response.usage);
      const endTurn = response.end_turn ?? data.end_turn;
      result.completed = true;
      result.responseId = str(response, 'id');
      result.usage.push(usage);
      this.emit(compact('responses.completed', {
        response_id: result.responseId ?? '',
        token_usage: usage,
        end_turn: typeof endTurn === 'boolean' ? endTurn : undefined,
      }));
    } else if (kind === 'response.failed') {
      const response = isObj(data.response) ? data.response : {};
      const error = isObj(response.error) ? response.error : {};
      this.fail(result, { message: str(error, 'message') || 'response failed', code: str(error, 'code') });
    } else if (kind === 'response.incomplete') {
      const response = isObj(data.response) ? data.response : {};
      const reason = str(response.incomplete_details, 'reason');
      this.fail(result, { message: `response incomplete: ${reason || 'unknown'}` });
    }
  }

  // -- HTTP + SSE ----------------------------------------------------------------------

  async requestSse(body) {
    const result = new Result();
    let stream;
    let response;
    try {
      ({ data: stream, response } = await this.client().responses.create(body).withResponse());
    } catch (err) {
      return this.fail(result, sdkErrorFields(err, errorPayloadFields(err)));
    }
    const model = (response.headers.get('openai-model') || '').trim();
    if (model) this.emit({ type: 'responses.server_model', model });
    const events = stream[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await raceTimeout(events.next(), this.idleMs);
        if (next === TIMEOUT) {
          stream.controller.abort();
          this.fail(result, { message: `idle timeout waiting for SSE (${this.idleMs} ms)` });
          break;
        }
        if (next.done) break;
        if (isObj(next.value)) this.onEvent(next.value, result, 'sse');
        if (result.completed || result.failed) break; // a terminal event ends the response
      }
    } catch (err) {
      // The SDK throws an APIError for an `error` event (or a payload with `error`), a
      // SyntaxError for invalid JSON, a TypeError when the body breaks off.
      this.fail(result, sdkErrorFields(err, errorPayloadFields(err)));
    } finally {
      await raceTimeout(Promise.resolve(events.return?.()).catch(() => undefined), 2000);
    }
    return result;
  }

  // -- websocket -----------------------------------------------------------------------

  /** The socket can take a request: not closed, and not closing (its readyState is the
   * SDK's: a close frame from the server makes it CLOSING before the close record comes). */
  live() {
    const socket = this.socket;
    return socket !== null && !socket.closed && socket.ws.socket.readyState <= 1;
  }

  /** A new ResponsesWS; resolves when it is open, rejects with the SDK's error otherwise. */
  async connect() {
    if (this.socket) this.dropSocket();
    const ws = new this.sdk.ResponsesWS(this.client(), {
      handshakeTimeout: Math.min(this.idleMs, 15_000),
      ...this.endpoint.wsOptions(),
    });
    const socket = new Socket(ws);
    this.socket = socket;
    for (;;) {
      const record = await socket.queue.next(16_000);
      if (record === TIMEOUT) {
        this.dropSocket();
        throw Object.assign(new Error('websocket open timed out'), { name: 'TimeoutError' });
      }
      if (record.type === 'open') return socket;
      if (record.type === 'error') {
        this.dropSocket();
        throw record.error;
      }
      if (record.type === 'close') {
        this.dropSocket();
        throw Object.assign(new Error(`websocket closed before it opened (close code ${record.code})`), {
          closeCode: record.code,
        });
      }
    }
  }

  dropSocket() {
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      const closing = socket.close(1000).finally(() => this.closing.delete(closing));
      this.closing.add(closing);
    }
  }

  async requestWs(body) {
    const result = new Result();
    let socket = this.live() ? this.socket : null;
    if (!socket) {
      // No socket yet, or the server closed the last one: a new connection (the SDK does not
      // reconnect on its own unless told to with `reconnect`).
      try {
        socket = await this.connect();
      } catch (err) {
        return this.fail(result, sdkErrorFields(err));
      }
    }
    socket.ws.send({ type: 'response.create', ...body });
    while (!(result.completed || result.failed)) {
      const record = await socket.queue.next(this.idleMs);
      if (record === TIMEOUT) {
        // The response is still in flight on this socket: give it up, or its late frames
        // would be read as the next request's.
        this.dropSocket();
        return this.fail(result, { message: `idle timeout waiting for websocket (${this.idleMs} ms)` });
      }
      if (record.type === 'message') {
        if (isObj(record.message)) this.onEvent(record.message, result, 'websocket');
      } else if (record.type === 'error') {
        // A server `error` frame (the SDK's WebSocketError holds it) or a transport failure.
        this.fail(result, sdkErrorFields(record.error, errorPayloadFields(record.error)));
      } else if (record.type === 'raw') {
        // A frame the SDK could not read as an event (binary, or not JSON): the SDK hands it
        // over as `raw` and reads on; so does the app.
      } else if (record.type === 'close') {
        if (this.socket === socket) this.socket = null;
        return this.fail(result, closedFields(record));
      }
    }
    // After a failed response the socket is kept: the SDK leaves it open, and so does the app.
    return result;
  }
}

/** What an SDK error's payload adds: the server's own status and code in an `error` event. */
export function errorPayloadFields(err) {
  const payload = err?.error;
  const fields = {};
  if (!isObj(payload)) return fields;
  if (Number.isInteger(payload.status) && err.status === undefined) fields.http_status = payload.status;
  const nested = isObj(payload.error) ? payload.error : payload;
  if (typeof err.code !== 'string' && typeof nested.code === 'string') fields.code = nested.code;
  return fields;
}

export function closedFields(record) {
  const reason = record.reason ? `: ${record.reason}` : '';
  return {
    message: `websocket closed before the response completed (close code ${record.code}${reason})`,
    close_code: record.code,
    failure: 'close', // no exception: the SDK's own record of the close (ResponsesWS stream())
  };
}

export function raceTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve(TIMEOUT), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

