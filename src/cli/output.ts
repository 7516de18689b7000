import type { Writable } from 'node:stream';

/** Where a command writes: data to stdout, diagnostics to stderr; colour only on a TTY without NO_COLOR. */
export interface Output {
  readonly out: Writable;
  readonly err: Writable;
  readonly color: boolean;
}

export function processOutput(env: NodeJS.ProcessEnv = process.env): Output {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  const color = !noColor && env.TERM !== 'dumb' && process.stderr.isTTY === true;
  return { out: process.stdout, err: process.stderr, color };
}

const codes = { red: 31, yellow: 33, green: 32, bold: 1, dim: 2 } as const;
export type Style = keyof typeof codes;

export function paint(output: Pick<Output, 'color'>, style: Style, text: string): string {
  return output.color ? `\u001b[${codes[style]}m${text}\u001b[0m` : text;
}
