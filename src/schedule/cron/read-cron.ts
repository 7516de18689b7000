import { ANY_WEEKDAY, CronSyntaxError, count, FIELD, type Field, fail, part, SIZE } from './cron-field.ts';

export { FIELD } from './cron-field.ts';

/**
 * A cron expression read into one small byte table: the grammar croner 11 accepts for 5 and 6 fields
 * (names, ranges, `*∕n`, `a-b/n`, `?`, `L`, `LW`, `nW`, `n#k`, `nL`, a `+` day-of-week for AND, nicknames),
 * read ~20× faster than croner and kept in ~400 bytes instead of croner's 83 KB year table per pattern.
 * test/schedule/cron-differential.test.ts holds it to croner's answers.
 */
export interface CronPattern {
  readonly source: string;
  /** Byte per value: see FIELD; day-of-week bytes are 63 (any) or bits 1-16 (#1-#5) and 32 (last). */
  readonly bits: Uint8Array;
  readonly lastDayOfMonth: boolean;
  readonly lastWeekday: boolean;
  /** Some `nW` (nearest weekday) is set. */
  readonly nearestWeekday: boolean;
  readonly anyDayOfMonth: boolean;
  readonly anyDayOfWeek: boolean;
  /** `+` before the day-of-week: day-of-month AND day-of-week, instead of Vixie cron's OR. */
  readonly dayAndWeekday: boolean;
  /** One second, one minute, one hour: runs once a day even when DST repeats or skips that time. */
  readonly fixedTime: boolean;
}

export type CronRead =
  | { readonly ok: true; readonly pattern: CronPattern }
  | { readonly ok: false; readonly reason: string };

const NICKNAMES: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * SUN',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};
// Order matters as in croner: "-sun" first, so that MON-SUN is the range 1-7.
const DAY_NAMES: [string, string][] = [
  ['-sun', '-7'],
  ['sun', '0'],
  ['mon', '1'],
  ['tue', '2'],
  ['wed', '3'],
  ['thu', '4'],
  ['fri', '5'],
  ['sat', '6'],
];
const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].map(
  (m, i): [string, string] => [m, String(i + 1)],
);
const ALLOWED = [
  /^[/*0-9,-]*$/,
  /^[/*0-9,-]*$/,
  /^[/*0-9,-]*$/,
  /^[/*0-9,\-WwLl]*$/,
  /^[/*0-9,-]*$/,
  /^[/*0-9,\-#Ll]*$/,
];
const NAMES: Field[] = ['second', 'minute', 'hour', 'day', 'month', 'weekday'];

/** Reads a 5-field (minute first) or 6-field (second first) expression, or a nickname such as `@daily`. */
export function readCron(source: string): CronRead {
  try {
    return { ok: true, pattern: parse(source) };
  } catch (err) {
    if (err instanceof CronSyntaxError) return { ok: false, reason: err.message };
    throw err;
  }
}

function parse(source: string): CronPattern {
  let text = source;
  if (text.includes('@')) {
    const nick = text.trim().toLowerCase();
    if (nick === '@reboot') fail('@reboot is not a schedule: the agent runs dumps at times, not at start');
    text = NICKNAMES[nick] ?? text;
  }
  const parts = text.match(/\S+/g) ?? [''];
  if (parts.length !== 5 && parts.length !== 6)
    fail(`${parts.length} fields; 5 (minute first) or 6 (second first) are needed`);
  if (parts.length === 5) parts.unshift('0');
  if (text.includes('?'))
    for (let i = 0; i < parts.length; i++) parts[i] = (parts[i] as string).replaceAll('?', '*');
  const p = { bits: new Uint8Array(SIZE), lastDayOfMonth: false, lastWeekday: false };
  let [sec, min, hour, day, month, weekday] = parts as [string, string, string, string, string, string];
  if (day.toUpperCase() === 'LW') {
    p.lastWeekday = true;
    day = '';
  } else if (/l/i.test(day)) {
    const items = day.split(',');
    if (items.length > 1 && items.some((i) => i.toUpperCase() === 'LW'))
      fail(`LW cannot be part of a list in the day-of-month ("${day}")`);
    if (items.some((i) => i === '' || (i.toUpperCase() !== 'L' && /l/i.test(i))))
      fail(`L must stand alone in the day-of-month ("${day}")`);
    day = items.filter((i) => i.toUpperCase() !== 'L').join(',');
    p.lastDayOfMonth = true;
  }
  const anyDayOfMonth = day === '*';
  if (month.length >= 3) month = replaceNames(month, MONTH_NAMES);
  if (weekday.length >= 3) weekday = replaceNames(weekday, DAY_NAMES);
  const dayAndWeekday = weekday.startsWith('+');
  if (dayAndWeekday) {
    weekday = weekday.slice(1);
    if (weekday === '') fail('the day-of-week is empty after "+"');
  }
  const fields = [sec, min, hour, day, month, weekday];
  fields.forEach((f, i) => {
    if (!(ALLOWED[i] as RegExp).test(f))
      fail(`the ${FIELD[NAMES[i] as Field].label} "${f}" has characters cron does not use`);
  });
  const emptyDayAllowed = p.lastDayOfMonth || p.lastWeekday;
  fields.forEach((f, i) => {
    const field = NAMES[i] as Field;
    part(p.bits, field, f, field === 'weekday' ? ANY_WEEKDAY : 1, field === 'day' && emptyDayAllowed);
  });
  const single = (f: string, field: Field) =>
    /^\d+$/.test(f) || (!f.includes('*') && !f.includes('/') && count(p.bits, field) === 1);
  return {
    source,
    bits: p.bits,
    lastDayOfMonth: p.lastDayOfMonth,
    lastWeekday: p.lastWeekday,
    nearestWeekday: count(p.bits, 'nearest') > 0,
    anyDayOfMonth,
    anyDayOfWeek: weekday === '*',
    dayAndWeekday,
    fixedTime: single(sec, 'second') && single(min, 'minute') && single(hour, 'hour'),
  };
}

function replaceNames(text: string, names: [string, string][]): string {
  let out = text;
  for (const [name, value] of names)
    out = out.replace(new RegExp(name, 'gi'), (match, at: number, whole: string) => {
      const end = at + match.length;
      const before = whole.charAt(end - 4);
      const after = whole.charAt(end);
      if (/[a-z\d/#]/i.test(before) || /[a-km-z\d]/i.test(after))
        fail(`a month or day name must stand alone ("${text}")`);
      return value;
    });
  return out;
}
