/** One field of a cron expression read into its slots of the pattern's byte table (read-cron.ts). */

export type Field = 'second' | 'minute' | 'hour' | 'day' | 'month' | 'weekday' | 'nearest';
/** Where each field's bytes start in `bits`, how many there are, and the smallest value a user writes. */
export const FIELD: Record<Field, { at: number; size: number; min: number; label: string }> = {
  second: { at: 0, size: 60, min: 0, label: 'second' },
  minute: { at: 60, size: 60, min: 0, label: 'minute' },
  hour: { at: 120, size: 24, min: 0, label: 'hour' },
  day: { at: 144, size: 31, min: 1, label: 'day-of-month' },
  month: { at: 175, size: 12, min: 1, label: 'month' },
  weekday: { at: 187, size: 7, min: 0, label: 'day-of-week' },
  nearest: { at: 194, size: 31, min: 1, label: 'day-of-month' },
};
export const SIZE = 225;
export const ANY_WEEKDAY = 63;
const NTH = [1, 2, 4, 8, 16];
const LAST_WEEKDAY = 32;

export class CronSyntaxError extends Error {}
export const fail = (reason: string): never => {
  throw new CronSyntaxError(reason);
};

export function count(bits: Uint8Array, field: Field): number {
  const { at, size } = FIELD[field];
  let n = 0;
  for (let i = at; i < at + size; i++) if (bits[i]) n++;
  return n;
}

const number = (text: string): number => (/^\d+$/.test(text) ? Number.parseInt(text, 10) : Number.NaN);

const DIGITS = /^\d+$/;

export function part(
  bits: Uint8Array,
  field: Field,
  text: string,
  value: number,
  emptyAllowed: boolean,
): void {
  // Most fields are one number (a daily job's second, minute and hour): taken without the general path.
  if (DIGITS.test(text)) {
    set(bits, field, Number.parseInt(text, 10), value, text, false);
    return;
  }
  const { label, size } = FIELD[field];
  if (text === '') {
    if (emptyAllowed) return;
    fail(`the ${label} is empty`);
  }
  if (text === '*') {
    fill(bits, field, value);
    return;
  }
  const items = text.split(',');
  if (items.length > 1) {
    for (const item of items) part(bits, field, item, value, false);
    return;
  }
  const hasW = /w/i.test(text);
  if (hasW && (field !== 'day' || text.includes('-') || text.includes('/')))
    fail(`W (the nearest weekday) is only for a single day-of-month ("${text}")`);
  const [body, nth] = splitNth(text, field);
  const mark = nth ?? value;
  if (text.includes('/')) {
    const [range, stepText, extra] = body.split('/') as [string, string | undefined, string | undefined];
    if (extra !== undefined || stepText === undefined) fail(`"${text}" is not a valid step`);
    const step = number(stepText as string);
    if (Number.isNaN(step) || step === 0 || step > size) fail(`the step in "${text}" must be 1-${size}`);
    if (range === '') fail(`"${text}" needs "*/" or a range before the step`);
    if (range === '*') {
      for (let v = 0; v < size; v += step) set(bits, field, v, mark, text, true);
      return;
    }
    const m = /^(\d+)-(\d+)$/.exec(range);
    if (m === null) fail(`"${text}": a step goes after "*" or a range such as 0-30, not "${range}"`);
    range3(bits, field, Number(m?.[1]), Number(m?.[2]), step, mark, text);
    return;
  }
  if (body.includes('-')) {
    const ends = body.split('-');
    if (ends.length !== 2) fail(`"${text}" is not a valid range`);
    const [from, to] = ends.map(number) as [number, number];
    if (Number.isNaN(from) || Number.isNaN(to)) fail(`"${text}" is not a valid range`);
    range3(bits, field, from, to, 1, mark, text);
    return;
  }
  const digits = hasW ? body.replace(/w$/i, '') : body;
  const n = number(digits);
  if (Number.isNaN(n)) fail(`the ${label} "${text}" is not a number`);
  set(bits, hasW ? 'nearest' : field, n, mark, text, false);
}

function range3(
  bits: Uint8Array,
  field: Field,
  from: number,
  to: number,
  step: number,
  mark: number,
  text: string,
) {
  if (from > to) fail(`the range "${text}" runs backwards`);
  for (let v = from; v <= to; v += step) set(bits, field, v, mark, text, false);
}

/** `5#2` (second Friday) and `5L` (last Friday) in the day-of-week: the weekday, and its mark. */
function splitNth(text: string, field: Field): [string, number | undefined] {
  if (text.includes('#')) {
    if (field !== 'weekday') fail(`# (the nth weekday) is only for the day-of-week ("${text}")`);
    const [body, nth, extra] = text.split('#') as [string, string | undefined, string | undefined];
    const n = number(nth ?? '');
    if (extra !== undefined || !(n >= 1 && n <= 5)) fail(`"${text}": the nth weekday must be #1 to #5`);
    return [body, NTH[n - 1]];
  }
  if (/l$/i.test(text)) {
    if (field !== 'weekday') fail(`L after a value is only for the day-of-week ("${text}")`);
    return [text.slice(0, -1), LAST_WEEKDAY];
  }
  return [text, undefined];
}

function fill(bits: Uint8Array, field: Field, value: number): void {
  const { at, size } = FIELD[field];
  bits.fill(value, at, at + size);
}

/** `zeroBased`: a value counted from the field's first slot (steps), not as the user writes it. */
function set(
  bits: Uint8Array,
  field: Field,
  value: number,
  mark: number,
  text: string,
  zeroBased: boolean,
): void {
  const { at, size, min, label } = FIELD[field];
  let slot = zeroBased ? value : value - min;
  if (field === 'weekday' && slot === 7) slot = 0;
  if (slot < 0 || slot >= size)
    fail(
      `${label} ${value}${text === String(value) ? '' : ` in "${text}"`} is out of range ${min}-${field === 'weekday' ? 7 : min + size - 1}`,
    );
  bits[at + slot] = field === 'weekday' && mark !== ANY_WEEKDAY ? (bits[at + slot] as number) | mark : mark;
}
