import type { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** `json`: one pino JSON object a line (the agent); `human`: `warning: …`/`note: …` lines (the CLI). */
  readonly format: 'json' | 'human';
  readonly stream: Writable;
  readonly level?: pino.LevelWithSilent;
}

/** The one logger of a process; modules receive it (or a child of it), they never create their own. */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? 'info';
  if (options.format === 'json')
    return pino(
      { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
      options.stream,
    );
  return pino({ level, base: null, timestamp: false }, humanDestination(options.stream));
}

/** A logger that drops everything: the default of library calls whose caller passed none. */
export const silentLogger: Logger = pino({ level: 'silent' });

const PREFIX: Record<number, string> = {
  20: 'debug: ',
  30: 'note: ',
  40: 'warning: ',
  50: 'error',
  60: 'error',
};

/**
 * The CLI's human lines on stderr: the message with a word for its level and no JSON, so people read
 * what they read before; an error carries its code as `error[CODE]: …`.
 */
export function humanDestination(stream: Writable): { write(line: string): void } {
  return {
    write(line: string) {
      const entry = JSON.parse(line) as { level: number; msg?: string; code?: string };
      let prefix = PREFIX[entry.level] ?? '';
      if (prefix === 'error') prefix = entry.code === undefined ? 'error: ' : `error[${entry.code}]: `;
      stream.write(`${prefix}${entry.msg ?? ''}\n`);
    },
  };
}
