import type { Writable } from 'node:stream';

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};
// Said by every line or by the layout itself, so not repeated as key=value.
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

/** `HH:MM:SS LEVEL message key=value…` from one pino JSON line: the agent's log when a person watches it. */
export function prettyLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time =
    typeof entry.time === 'string' || typeof entry.time === 'number' ? new Date(entry.time) : new Date();
  const level = LEVELS[entry.level as number] ?? String(entry.level);
  const fields = Object.entries(entry)
    .filter(([key, value]) => !HIDDEN.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${formatValue(key, value)}`);
  const msg = typeof entry.msg === 'string' ? entry.msg : '';
  return `${[clock(time), level, msg, ...fields].filter((s) => s !== '').join(' ')}\n`;
}

function clock(time: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(time.getHours())}:${two(time.getMinutes())}:${two(time.getSeconds())}`;
}

function formatValue(key: string, value: unknown): string {
  // An error reads as its message; its stack is in the JSON log, not on a terminal line.
  if (key === 'err' && typeof value === 'object' && value !== null && 'message' in value)
    return JSON.stringify(String(value.message));
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

/** A pino destination writing `prettyLine`s to `stream` (a terminal). */
export function prettyDestination(stream: Writable): { write(line: string): void } {
  return {
    write(line: string) {
      stream.write(prettyLine(line));
    },
  };
}
