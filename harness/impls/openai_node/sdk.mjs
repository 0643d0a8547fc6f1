// sdk.* steps: the SDK's own surface, below any application (docs/contracts.md, "The SDK-level
// surface"). `sdk.send` hands the SDK a client event (`OpenAIRealtimeWS.send`, `ResponsesWS.send`)
// or a request body (`client.responses.create(body)`, streamed), and reports what the SDK hands
// back: the Responses events a turn reports, realtime `session.updated` / `error`, an event of a
// type the SDK does not declare as server.unrecognized_event, and every failure with its close
// code and the kind of failure (the exception's class, or `close` for a socket's close).

import { TIMEOUT, compact, errorEvent, isObj, sdkErrorFields, str, strMap, unrecognizedEvent } from './common.mjs';
import { recognised } from './known.mjs';
import { DEFAULT_MODEL, plainConnection, withQuery } from './realtime.mjs';
import { Socket, apiKeyOf, errorPayloadFields, raceTimeout } from './responses.mjs';

const NORMAL_CLOSE_CODES = new Set([1000, 1001, 1005]);
const OPEN_MS = 10_000;
const MAX_IDLE_MS = 30_000;

const errorType = (api) => (api === 'realtime' ? 'realtime.error' : 'error');

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

/** One Responses stream event as a turn's neutral events (harness/sdk/events.py, the same mapping). */
export function responsesStreamEvents(data) {
  const kind = data.type;
  const response = isObj(data.response) ? data.response : {};
  switch (kind) {
    case 'response.created':
      return [compact('responses.created', { response_id: str(data.response, 'id') })];
    case 'response.output_item.added':
    case 'response.output_item.done':
      return isObj(data.item) ? [{ type: kind.endsWith('done') ? 'responses.output_item_done' : 'responses.output_item_added', item: data.item }] : [];
    case 'response.output_text.delta':
      return typeof data.delta === 'string' ? [{ type: 'responses.output_text_delta', delta: data.delta }] : [];
    case 'response.reasoning_summary_text.delta':
      return typeof data.delta === 'string' && Number.isInteger(data.summary_index)
        ? [{ type: 'responses.reasoning_summary_delta', delta: data.delta, summary_index: data.summary_index }]
        : [];
    case 'response.reasoning_text.delta':
      return typeof data.delta === 'string' && Number.isInteger(data.content_index)
        ? [{ type: 'responses.reasoning_content_delta', delta: data.delta, content_index: data.content_index }]
        : [];
    case 'response.reasoning_summary_part.added':
      return Number.isInteger(data.summary_index) ? [{ type: 'responses.reasoning_summary_part_added', summary_index: data.summary_index }] : [];
    case 'response.completed': {
      const endTurn = response.end_turn ?? data.end_turn;
      return [compact('responses.completed', {
        response_id: str(response, 'id') ?? '',
        token_usage: tokenUsage(response.usage),
        end_turn: typeof endTurn === 'boolean' ? endTurn : undefined,
      })];
    }
    case 'response.failed': {
      const error = isObj(response.error) ? response.error : {};
      return [errorEvent('error', { message: str(error, 'message') || 'response failed', code: str(error, 'code') })];
    }
    case 'response.incomplete':
      return [errorEvent('error', { message: `response incomplete: ${str(response.incomplete_details, 'reason') || 'unknown'}` })];
    case 'error': {
      const nested = isObj(data.error) ? data.error : data;
      return [errorEvent('error', { message: str(nested, 'message') || 'server error event', code: str(nested, 'code'), http_status: data.status })];
    }
    default:
      return [];
  }
}

const isTerminal = (event) => event.type === 'responses.completed' || event.type === 'error';

export class SdkSurface {
  constructor({ endpoint, config, emit, sdk }) {
    this.endpoint = endpoint;
    this.config = config;
    this.emit = emit;
    this.sdk = sdk;
    this.sockets = new Map(); // api -> { close(), send(body) }
  }

  section(api) {
    return isObj(this.config[api]) ? this.config[api] : {};
  }

  idleMs() {
    return Math.min(Number(this.section('responses').stream_idle_timeout_ms ?? 300_000), MAX_IDLE_MS);
  }

  client(api) {
    const cfg = this.section(api);
    const realtime = api === 'realtime';
    const options = {
      baseURL: realtime ? withQuery(this.endpoint.realtimeBaseURL, strMap(cfg.query_params)) : this.endpoint.baseURL,
      defaultHeaders: strMap(cfg.headers),
      maxRetries: realtime ? 0 : Number(cfg.request_max_retries ?? 0),
      timeout: this.idleMs(),
      ...(realtime ? {} : { defaultQuery: strMap(cfg.query_params), ...this.endpoint.fetchOptions() }),
    };
    const key = realtime ? cfg.bearer_token || apiKeyOf(cfg) : apiKeyOf(cfg);
    if (key !== undefined) options.apiKey = key;
    return new this.sdk.OpenAI(options);
  }

  async handle(op, args) {
    if (op !== 'sdk.send') throw new Error(`unknown sdk op '${op}'`);
    const transport = args.transport;
    const api = args.api ?? 'responses';
    if (!['websocket', 'http'].includes(transport)) throw new Error(`sdk.send transport must be websocket or http, not ${transport}`);
    if (!['realtime', 'responses'].includes(api)) throw new Error(`sdk.send api must be realtime or responses, not ${api}`);
    if (!isObj(args.body)) throw new Error('sdk.send body must be an object');
    if (transport === 'http') return this.post(args.body);
    const socket = this.sockets.get(api) ?? (await this.open(api));
    if (!socket) return undefined;
    try {
      socket.send(args.body);
    } catch (err) {
      this.emit(errorEvent(errorType(api), sdkErrorFields(err)));
    }
    return undefined;
  }

  async close() {
    const sockets = [...this.sockets.values()];
    this.sockets.clear();
    await Promise.allSettled(sockets.map((s) => s.close()));
  }

  // -- websocket -----------------------------------------------------------------------

  report(api, data) {
    if (!isObj(data) || typeof data.type !== 'string') return;
    if (!recognised(api, 'websocket', data.type)) {
      this.emit(unrecognizedEvent(api, 'websocket', data));
    } else if (api === 'realtime') {
      if (data.type === 'session.updated' && str(data.session, 'id')) {
        this.emit(compact('realtime.session_updated', { session_id: data.session.id, instructions: str(data.session, 'instructions') }));
      }
      // A server `error` event reaches the SDK's `error` listener as an OpenAIRealtimeError.
    } else {
      for (const event of responsesStreamEvents(data)) this.emit(event);
    }
  }

  closed(api, code, reason) {
    if (NORMAL_CLOSE_CODES.has(code)) return;
    const what = code === 1006 ? 'ended without a close frame (1006)' : `closed by the server (${code}${reason ? ` ${reason}` : ''})`;
    this.emit(errorEvent(errorType(api), { message: `websocket ${what}`, close_code: code, failure: 'close' }));
  }

  async open(api) {
    try {
      const socket = api === 'realtime' ? await this.openRealtime() : await this.openResponses();
      this.sockets.set(api, socket);
      return socket;
    } catch (err) {
      this.emit(errorEvent(errorType(api), err?.fields ?? sdkErrorFields(err)));
      return null;
    }
  }

  openRealtime() {
    const cfg = this.section('realtime');
    const client = this.client('realtime');
    const rt = new this.sdk.OpenAIRealtimeWS(
      { model: cfg.model || DEFAULT_MODEL, options: { handshakeTimeout: OPEN_MS, ...this.endpoint.realtimeWsOptions() } },
      client,
    );
    let opened = false;
    let closedAt = null;
    const closed = new Promise((resolve) => (closedAt = resolve));
    return new Promise((resolve, reject) => {
      let firstError = null;
      rt.on('error', (err) => {
        if (!opened) {
          firstError ??= err;
          return;
        }
        const fields = sdkErrorFields(err);
        // A server `error` event: its own message, not the SDK's wrapping.
        const message = str(err?.error, 'message');
        this.emit(errorEvent('realtime.error', message ? { ...fields, message } : fields));
      });
      rt.on('event', (event) => this.report('realtime', event));
      rt.socket.on('open', () => {
        opened = true;
        resolve({
          send: (body) => rt.send(body),
          close: async () => {
            try {
              rt.close();
            } catch {
              // a failed close is still a close
            }
            await raceTimeout(closed, 1000);
            try {
              rt.socket.terminate();
            } catch {
              // already gone
            }
          },
        });
      });
      rt.socket.on('close', (code, reason) => {
        closedAt(code);
        if (!opened) {
          setImmediate(() => reject(firstError ?? Object.assign(new Error(`websocket closed before it opened (close code ${code})`), { fields: { message: `websocket closed before it opened (${code})`, close_code: code, failure: 'close' } })));
          return;
        }
        this.closed('realtime', code, reason?.toString() ?? '');
      });
    });
  }

  async openResponses() {
    const ws = new this.sdk.ResponsesWS(this.client('responses'), { handshakeTimeout: OPEN_MS, ...this.endpoint.wsOptions() });
    const socket = new Socket(ws);
    const first = await socket.queue.next(OPEN_MS + 1000);
    if (first === TIMEOUT) throw new Error('websocket open timed out');
    if (first.type === 'error') throw first.error;
    if (first.type === 'close') throw Object.assign(new Error('closed before open'), { fields: { message: `websocket closed before it opened (${first.code})`, close_code: first.code, failure: 'close' } });
    const pump = (async () => {
      for (;;) {
        const record = await socket.queue.next(3_600_000);
        if (record === TIMEOUT) continue;
        if (record.type === 'message') this.report('responses', record.message);
        else if (record.type === 'error') this.emit(errorEvent('error', sdkErrorFields(record.error, errorPayloadFields(record.error))));
        else if (record.type === 'close') {
          this.closed('responses', record.code, record.reason ?? '');
          return;
        }
      }
    })();
    return { send: (body) => ws.send(body), close: async () => { await socket.close(1000); await raceTimeout(pump, 500); } };
  }

  // -- HTTP + SSE ----------------------------------------------------------------------

  async post(body) {
    let stream;
    try {
      stream = await this.client('responses').responses.create(body);
    } catch (err) {
      this.emit(errorEvent('error', sdkErrorFields(err, errorPayloadFields(err))));
      return;
    }
    const events = stream[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await raceTimeout(events.next(), this.idleMs());
        if (next === TIMEOUT) {
          stream.controller.abort();
          this.emit(errorEvent('error', { message: `idle timeout waiting for SSE (${this.idleMs()} ms)`, failure: 'TimeoutError' }));
          return;
        }
        if (next.done || !isObj(next.value)) {
          if (next.done) return;
          continue;
        }
        const data = next.value;
        if (typeof data.type === 'string' && !recognised('responses', 'sse', data.type)) {
          this.emit(unrecognizedEvent('responses', 'sse', data));
          continue;
        }
        const mapped = responsesStreamEvents(data);
        for (const event of mapped) this.emit(event);
        if (mapped.some(isTerminal)) return;
      }
    } catch (err) {
      this.emit(errorEvent('error', sdkErrorFields(err, errorPayloadFields(err))));
    } finally {
      await raceTimeout(Promise.resolve(events.return?.()).catch(() => undefined), 2000);
    }
  }
}
