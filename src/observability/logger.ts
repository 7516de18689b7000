import type { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';
import { assertNever } from '../errors.ts';
import { prettyDestination } from './pretty-destination.ts';
import { REDACT_CENSOR, REDACT_PATHS, redactingDestination } from './redact-secrets.ts';

export type { Logger };

export interface LoggerOptions {
  /**
   * `json`: one pino JSON object a line (the agent); `pretty`: `HH:MM:SS LEVEL msg key=value` lines (the
   * agent on a terminal); `human`: `warning: …`/`note: …` lines (the CLI).
   */
  readonly format: 'json' | 'pretty' | 'human';
  readonly stream: Writable;
  readonly level?: pino.LevelWithSilent;
}

/** The agent's format for `stream`: readable lines on a terminal, JSON for anything that collects logs. */
export function agentLogFormat(stream: Writable & { isTTY?: boolean }): 'json' | 'pretty' {
  return stream.isTTY === true ? 'pretty' : 'json';
}

/**
 * The one logger of a process; modules receive it (or a child of it), they never create their own. Every
 * format hides secrets: keys such as `password` or `env.*` by pino's redaction, passwords inside URLs and
 * conninfo strings by scrubbing each finished line.
 */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? 'info';
  const redact = { paths: [...REDACT_PATHS], censor: REDACT_CENSOR };
  switch (options.format) {
    case 'json':
    case 'pretty':
      return pino(
        { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, redact },
        redactingDestination(options.format === 'json' ? options.stream : prettyDestination(options.stream)),
      );
    case 'human':
      return pino(
        { level, base: null, timestamp: false, redact },
        redactingDestination(humanDestination(options.stream)),
      );
    default:
      return assertNever(options.format, 'log format');
  }
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
