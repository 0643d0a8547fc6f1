// Which server event types the SDK knows: the members of its own type unions, read from the
// declarations it ships (resources/realtime/realtime.d.ts `RealtimeServerEvent`,
// resources/responses/responses.d.ts `ResponseStreamEvent` for SSE and `ResponsesServerEvent`
// for the websocket). The SDK hands every event over as a plain object whatever its type, so
// its declarations are the only place that says what it recognises. A type outside them is
// reported as server.unrecognized_event with every field.

import path from 'node:path';
import { readFileSync } from 'node:fs';
import { PREFIX } from './common.mjs';

/** The `type` literals of the interfaces a union type alias lists (null: no such union). */
export function declaredTypes(file, union) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const head = new RegExp(`export type ${union} = ([^;]+);`).exec(text);
  if (!head) return null;
  const out = new Set();
  const seen = new Set();
  const visit = (qualified) => {
    if (!qualified || seen.has(qualified)) return;
    seen.add(qualified);
    const parts = qualified.split('.');
    const name = parts.pop();
    let from = 0;
    for (const ns of parts) {
      const at = text.indexOf(`export declare namespace ${ns} {`, from);
      if (at >= 0) from = at;
    }
    const re = new RegExp(`interface ${name}(?:<[^>]*>)?( extends ([^{]+))? \\{`, 'g');
    re.lastIndex = from;
    const m = re.exec(text);
    if (!m) return;
    let depth = 0;
    let i = m.index + m[0].length - 1;
    const start = i;
    for (; i < text.length; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}' && --depth === 0) break;
    }
    // Only the interface's own members (depth 1), not those of nested object types.
    let d = 0;
    let found = false;
    for (const line of text.slice(start + 1, i).split('\n')) {
      if (d === 0) {
        const t = /^\s*type: '([^']+)';/.exec(line);
        if (t) {
          out.add(t[1]);
          found = true;
        }
      }
      for (const ch of line) {
        if (ch === '{') d++;
        else if (ch === '}') d--;
      }
    }
    if (!found && m[2]) for (const base of m[2].split(',')) visit(base.trim().replace(/<.*$/, ''));
  };
  for (const member of head[1].split('|')) visit(member.trim());
  return out;
}

let known = null;

function load() {
  if (known === null) {
    const dir = path.join(PREFIX, 'node_modules', 'openai', 'resources');
    known = {
      realtime: declaredTypes(path.join(dir, 'realtime', 'realtime.d.ts'), 'RealtimeServerEvent'),
      sse: declaredTypes(path.join(dir, 'responses', 'responses.d.ts'), 'ResponseStreamEvent'),
      websocket: declaredTypes(path.join(dir, 'responses', 'responses.d.ts'), 'ResponsesServerEvent'),
    };
    for (const [name, types] of Object.entries(known)) {
      if (!types) process.stderr.write(`openai-node driver: the SDK declares no ${name} event union; every type counts as known\n`);
    }
  }
  return known;
}

/** Whether the SDK declares this server event type (api realtime | responses, transport websocket | sse). */
export function recognised(api, transport, type) {
  const types = load()[api === 'realtime' ? 'realtime' : transport];
  return types === null || types.has(type);
}
