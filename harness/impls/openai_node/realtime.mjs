// realtime.* steps on the openai Node SDK's `OpenAIRealtimeWS` (openai/realtime/ws: the GA
// realtime protocol over the `ws` package).
//
// The SDK does the wire: the URL (`/realtime?model=` or `?intent=transcription`), the
// handshake headers, frames, JSON parsing and close. The application on top of it is the
// one the openai-python driver runs (the step definitions, schemas/steps/realtime.schema.json,
// and the reference client's GA session), so a difference between the two SDKs is theirs.
// Events report what the SDK surfaces: its `event`s, its `error`s and the socket's close.

import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { compact, errorEvent, isObj, sdkErrorFields, str, strMap, uint, unrecognizedEvent } from './common.mjs';
import { recognised } from './known.mjs';
import { apiKeyOf } from './responses.mjs';
import { Unsupported } from './unsupported.mjs';

const PCM = { type: 'audio/pcm', rate: 24_000 };
const TOOL_NAME = 'codex';
const TOOL_DESCRIPTION =
  'Delegate a request to Codex and return the final result to the user. Use this as the ' +
  'default action. If the user asks to do something next, later, after this, or once ' +
  'current work finishes, call this tool so the work is actually queued instead of ' +
  'merely promising to do it later.';
const TOOL_PROMPT_DESCRIPTION = 'The user request to delegate to Codex.';
const FINAL_MESSAGE_PREFIX = '"Agent Final Message":\n\n';
const NOT_RUNNING = 'conversation is not running';
const TOOL_ARGUMENT_KEYS = ['input_transcript', 'input', 'text', 'prompt', 'query'];
const MAX_WAIT_MS = 60_000;
// The SDK needs a model, a transcription intent or a call id to open a socket
// (realtime/internal-base.ts buildRealtimeURL); a conversational case that names no model
// gets the SDK's generic model alias.
export const DEFAULT_MODEL = 'gpt-realtime';

function inputTranscript(args) {
  if (args === '') return '';
  let parsed;
  try {
    parsed = JSON.parse(args);
  } catch {
    parsed = undefined;
  }
  if (isObj(parsed)) {
    for (const key of TOOL_ARGUMENT_KEYS) {
      const value = parsed[key];
      if (typeof value === 'string' && value.trim()) return value.trim();
    }
  }
  return args;
}

/** A `function_call` item naming the delegation tool, as a handoff event. */
function handoffOf(item) {
  if (!isObj(item) || item.type !== 'function_call' || item.name !== TOOL_NAME) return null;
  const itemId = str(item, 'id');
  const callId = str(item, 'call_id') ?? itemId;
  if (callId === undefined) return null;
  return {
    type: 'realtime.handoff_requested',
    handoff_id: callId,
    item_id: itemId ?? callId,
    input_transcript: inputTranscript(str(item, 'arguments') ?? ''),
    active_transcript: [],
  };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function audioMs(data, rate, channels, samples) {
  if (samples === undefined) {
    if (!BASE64.test(data)) return 0;
    samples = Math.floor(Buffer.from(data, 'base64').length / 2 / Math.max(channels, 1));
  }
  return Math.min(Math.floor((samples * 1000) / Math.max(rate, 1)), 2 ** 32 - 1);
}

/** The GA `session.update` session the app configures (conversational or transcription). */
function sessionBody(mode, instructions) {
  if (mode === 'transcription') return { type: 'transcription', audio: { input: { format: { ...PCM } } } };
  return {
    type: 'realtime',
    instructions,
    output_modalities: ['audio'],
    audio: {
      input: {
        format: { ...PCM },
        noise_reduction: { type: 'near_field' },
        turn_detection: { type: 'server_vad', interrupt_response: true, create_response: true },
      },
      output: { format: { ...PCM }, voice: 'marin' },
    },
    tools: [
      {
        type: 'function',
        name: TOOL_NAME,
        description: TOOL_DESCRIPTION,
        parameters: {
          type: 'object',
          properties: { prompt: { type: 'string', description: TOOL_PROMPT_DESCRIPTION } },
          required: ['prompt'],
          additionalProperties: false,
        },
      },
    ],
    tool_choice: 'auto',
  };
}

/** The provider query parameters ride on the base URL: the SDK keeps a base URL's query
 * (buildRealtimeURL drops only model, intent and call_id from it). */
export function withQuery(base, query) {
  const entries = Object.entries(query);
  if (!entries.length) return base;
  const url = new URL(base);
  for (const [k, v] of entries) url.searchParams.set(k, v);
  return url.toString();
}

/** One SDK realtime connection and the app state riding on it. */
class Conversation {
  constructor(rt) {
    this.rt = rt;
    this.active = false;
    this.closedBy = null;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.responseInProgress = false;
    this.pendingCreate = false;
    this.audioItem = null;
    this.audioEndMs = 0;
    this.handoff = null;
    this.lastOutput = null;
  }

  send(event) {
    this.rt.send(event); // the SDK reports a failed send through its `error` event
  }
}

export class RealtimeDriver {
  constructor({ endpoint, config, emit, sdk }) {
    this.endpoint = endpoint;
    this.cfg = { ...config };
    this.emit = emit;
    this.sdk = sdk;
    this.conversation = null;
    this.closing = new Set();
    this.closeTimeoutMs = Math.min(Number(this.cfg.close_timeout_ms ?? 1000), MAX_WAIT_MS);
    this.openTimeoutMs = Math.min(Number(this.cfg.open_timeout_ms ?? 10_000), MAX_WAIT_MS);
  }

  async handle(op, args) {
    switch (op) {
      case 'realtime.start':
        return this.start(args);
      case 'realtime.audio':
        return this.command((c) => c.send({ type: 'input_audio_buffer.append', audio: args.data }));
      case 'realtime.text':
        return this.command((c) => {
          c.send({
            type: 'conversation.item.create',
            item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: args.text }] },
          });
          this.requestResponse(c);
        });
      case 'realtime.handoff_output':
        return this.command((c) => {
          if (c.handoff !== null) c.lastOutput = args.text;
        }, false);
      case 'realtime.turn_complete':
        return this.command((c) => {
          const { handoff, lastOutput } = c;
          c.handoff = c.lastOutput = null;
          if (handoff !== null && lastOutput !== null) {
            c.send({
              type: 'conversation.item.create',
              item: { type: 'function_call_output', call_id: handoff, output: FINAL_MESSAGE_PREFIX + lastOutput },
            });
            this.requestResponse(c);
          }
        }, false);
      case 'realtime.close':
        return this.closeStep();
      default:
        throw new Error(`unknown realtime op '${op}'`);
    }
  }

  async close() {
    const c = this.conversation;
    this.conversation = null;
    if (c) this.closeLater(c);
    await Promise.allSettled([...this.closing]);
  }

  // -- steps -------------------------------------------------------------------------

  async start(args) {
    const previous = this.conversation;
    this.conversation = null;
    if (previous) this.closeLater(previous);
    const cfg = this.cfg;
    if ((cfg.version ?? 'v2') !== 'v2') {
      throw new Unsupported("openai-node speaks only the GA realtime protocol (v2); the case asks for the Codex 'quicksilver' v1");
    }
    const sessionId = args.session_id || cfg.session_id || randomUUID();
    const apiKey = cfg.bearer_token || apiKeyOf(cfg);
    const base = cfg.backend_prompt ?? args.prompt ?? '';
    const instructions = cfg.startup_context ? `${base}\n\n${cfg.startup_context}` : base;
    const mode = cfg.type ?? 'conversational';
    let conversation;
    try {
      const options = {
        baseURL: withQuery(this.endpoint.realtimeBaseURL, strMap(cfg.query_params)),
        defaultHeaders: strMap(cfg.headers),
        maxRetries: 0,
      };
      if (apiKey !== undefined) options.apiKey = apiKey;
      const client = new this.sdk.OpenAI(options);
      const target = cfg.model
        ? { model: cfg.model }
        : mode === 'transcription'
          ? { intent: 'transcription' }
          : { model: DEFAULT_MODEL };
      const rt = new this.sdk.OpenAIRealtimeWS(
        { ...target, options: { handshakeTimeout: this.openTimeoutMs, ...this.endpoint.realtimeWsOptions() } },
        client,
      );
      conversation = new Conversation(rt);
    } catch (err) {
      this.emit(errorEvent('realtime.error', sdkErrorFields(err)));
      return;
    }
    const failure = await this.open(conversation);
    if (failure) {
      this.closeLater(conversation);
      this.emit(errorEvent('realtime.error', failure));
      return;
    }
    conversation.active = true;
    conversation.send({ type: 'session.update', session: sessionBody(mode, instructions) });
    this.conversation = conversation;
    this.emit({ type: 'conversation.started', session_id: sessionId, version: 'v2' });
  }

  /** Wait for the socket to open; the SDK's `error` (or a close) first is the failure. */
  open(c) {
    const { rt } = c;
    return new Promise((resolve) => {
      let settled = false;
      let firstError = null;
      const settle = (value) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          resolve(value);
        }
      };
      const timer = setTimeout(() => settle({ message: `realtime websocket did not open within ${this.openTimeoutMs} ms` }), this.openTimeoutMs + 1000);
      rt.on('error', (err) => {
        if (!settled) {
          firstError ??= sdkErrorFields(err);
          return;
        }
        if (c.active) this.emit(errorEvent('realtime.error', sdkErrorFields(err)));
      });
      rt.on('event', (event) => {
        if (!c.active || !isObj(event)) return;
        // Not among the SDK's declared events: passed through whole (the app may still map it).
        if (!recognised('realtime', 'websocket', event.type)) this.emit(unrecognizedEvent('realtime', 'websocket', event));
        if (event.type !== 'error') this.onEvent(c, event);
      });
      rt.socket.on('open', () => settle(null));
      rt.socket.on('close', (code, reason) => {
        c.closedBy = { code, reason: reason?.toString() ?? '' };
        c.resolveClosed(c.closedBy);
        if (!settled) {
          // ws reports a refused upgrade as an error, then the close: give the error a tick.
          setImmediate(() => settle(firstError ?? { message: `realtime websocket closed before it opened (close code ${code})`, close_code: code }));
          return;
        }
        this.onClosed(c);
      });
    });
  }

  async closeStep() {
    const c = this.conversation;
    this.conversation = null;
    let timedOut = false;
    if (c && c.active) {
      c.active = false;
      timedOut = await this.closeBounded(c);
    }
    this.emit(compact('conversation.closed', { reason: 'requested', close_timed_out: timedOut ? true : undefined }));
  }

  // -- plumbing ----------------------------------------------------------------------

  command(action, reportIdle = true) {
    const c = this.conversation;
    if (!c || !c.active) {
      if (reportIdle) this.emit({ type: 'error', message: NOT_RUNNING });
      return;
    }
    action(c);
  }

  requestResponse(c) {
    if (c.responseInProgress) {
      c.pendingCreate = true;
      return;
    }
    c.send({ type: 'response.create' });
  }

  flushPending(c) {
    if (c.pendingCreate) {
      c.pendingCreate = false;
      c.responseInProgress = true;
      c.send({ type: 'response.create' });
    }
  }

  /** The server (or the network) ended the socket: the conversation is over. A close
   * that is not a normal one (1000, or a close frame without a code, 1005) is the only sign
   * the SDK gives of a broken connection (ws swallows a socket error once the connection is
   * open: a reset is close 1006), so it is reported as an error with its close code. */
  onClosed(c) {
    if (!c.active) return;
    c.active = false;
    if (this.conversation === c) this.conversation = null;
    const { code, reason } = c.closedBy ?? { code: 1006, reason: '' };
    if (code !== 1000 && code !== 1005) {
      const what = code === 1006 ? 'closed abnormally (1006: no close frame)' : `closed by the server (${code}${reason ? ` ${reason}` : ''})`;
      this.emit(errorEvent('realtime.error', { message: `realtime websocket ${what}`, close_code: code, failure: 'close' }));
    }
    this.emit({ type: 'conversation.closed', reason: 'transport_closed' });
  }

  /** Close through the SDK (1000 OK), bounded by close_timeout_ms; true when it ran out. */
  async closeBounded(c) {
    if (c.closedBy) return false;
    try {
      c.rt.close();
    } catch {
      // a failed close is still a close
    }
    let timer;
    const ranOut = new Promise((resolve) => {
      timer = setTimeout(() => resolve(true), this.closeTimeoutMs);
    });
    const timedOut = await Promise.race([c.closed.then(() => false), ranOut]);
    clearTimeout(timer);
    if (timedOut) {
      try {
        c.rt.socket.terminate();
      } catch {
        // already gone
      }
    }
    return timedOut;
  }

  closeLater(c) {
    c.active = false;
    const closing = this.closeBounded(c).finally(() => this.closing.delete(closing));
    this.closing.add(closing);
  }

  onEvent(c, obj) {
    const kind = obj.type;
    if (kind === 'session.updated') {
      const sessionId = str(obj.session, 'id');
      if (sessionId !== undefined) {
        this.emit(compact('realtime.session_updated', { session_id: sessionId, instructions: str(obj.session, 'instructions') }));
      }
    } else if (kind === 'response.output_audio.delta' || kind === 'response.audio.delta') {
      const data = str(obj, 'delta');
      if (data === undefined) return;
      const rate = uint(obj.sample_rate) ?? 24_000;
      const channels = uint(obj.channels ?? obj.num_channels) ?? 1;
      const samples = uint(obj.samples_per_channel);
      const itemId = str(obj, 'item_id');
      if (itemId !== undefined) {
        const duration = audioMs(data, rate, channels, samples);
        if (duration) {
          if (c.audioItem === itemId) c.audioEndMs = Math.min(c.audioEndMs + duration, 2 ** 32 - 1);
          else [c.audioItem, c.audioEndMs] = [itemId, duration];
        }
      }
      this.emit(compact('realtime.audio_out', { data, sample_rate: rate, num_channels: channels, samples_per_channel: samples, item_id: itemId }));
    } else if (
      kind === 'conversation.item.input_audio_transcription.delta' ||
      kind === 'conversation.item.input_audio_transcription.completed'
    ) {
      const delta = str(obj, kind.endsWith('delta') ? 'delta' : 'transcript');
      if (delta !== undefined) this.emit({ type: 'realtime.input_transcript_delta', delta });
    } else if (kind === 'response.output_text.delta' || kind === 'response.output_audio_transcript.delta') {
      const delta = str(obj, 'delta');
      if (delta !== undefined) this.emit({ type: 'realtime.output_transcript_delta', delta });
    } else if (kind === 'input_audio_buffer.speech_started') {
      const itemId = str(obj, 'item_id');
      const [tracked, ms] = [c.audioItem, c.audioEndMs];
      [c.audioItem, c.audioEndMs] = [null, 0];
      if (tracked !== null && (itemId === undefined || itemId === tracked)) {
        c.send({ type: 'conversation.item.truncate', item_id: tracked, content_index: 0, audio_end_ms: ms });
      }
      this.emit(compact('realtime.speech_started', { item_id: itemId }));
    } else if (kind === 'conversation.item.added') {
      if ('item' in obj) this.emit({ type: 'realtime.item_added', item: obj.item });
    } else if (kind === 'conversation.item.done') {
      if (!isObj(obj.item)) return;
      const handoff = handoffOf(obj.item);
      if (handoff) this.onHandoff(c, handoff);
      else if (str(obj.item, 'id') !== undefined) this.emit({ type: 'realtime.item_done', item_id: obj.item.id });
    } else if (kind === 'response.created') {
      c.responseInProgress = true;
      this.emit({ type: 'realtime.item_added', item: obj });
    } else if (kind === 'response.done') {
      const output = isObj(obj.response) ? obj.response.output : undefined;
      for (const item of Array.isArray(output) ? output : []) {
        const handoff = handoffOf(item);
        if (handoff) {
          this.onHandoff(c, handoff);
          return;
        }
      }
      c.responseInProgress = false;
      [c.audioItem, c.audioEndMs] = [null, 0];
      this.flushPending(c);
      this.emit({ type: 'realtime.item_added', item: obj });
    } else if (kind === 'response.cancelled') {
      c.responseInProgress = false;
      [c.audioItem, c.audioEndMs] = [null, 0];
      this.flushPending(c);
      const rid = isObj(obj.response) ? str(obj.response, 'id') : str(obj, 'response_id');
      this.emit(compact('realtime.response_cancelled', { response_id: rid }));
    }
  }

  onHandoff(c, handoff) {
    c.handoff = handoff.handoff_id;
    c.lastOutput = null;
    c.responseInProgress = false;
    [c.audioItem, c.audioEndMs] = [null, 0];
    this.emit(handoff);
  }
}

/** ws options that make the SDK's `wss:` realtime URL reach a plain (non-TLS) fake server.
 *
 * The SDK always connects realtime over `wss:` (buildRealtimeURL sets the protocol); the
 * fake server speaks plain ws unless the case is a TLS case. `ws` takes a
 * `createConnection` option: a plain TCP connection to the same host and port, so the
 * handshake request and every frame are the SDK's, byte for byte, without TLS under them.
 */
export function plainConnection() {
  return {
    createConnection: (options) => net.connect({ host: options.host, port: Number(options.port) }),
  };
}

