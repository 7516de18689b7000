/**
 * The calendar periods of retention's tiers, read from a wall-clock time (an instant plus its zone's
 * offset, as milliseconds in UTC fields): a number per period for grouping, a label for the reasons.
 */

export type Tier = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';

const HOUR = 3_600_000;
const DAY = 86_400_000;

export interface Calendar {
  readonly year: number;
  readonly month: number; // 1-12
  readonly day: number;
  readonly hour: number;
  /** Days since 1970-01-01 (a Thursday). */
  readonly dayNumber: number;
}

/** Year, month and day of a day number (Howard Hinnant's civil_from_days: no Date object per dump). */
function civil(dayNumber: number): [number, number, number] {
  const z = dayNumber + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

export function calendarOf(wall: number): Calendar {
  const dayNumber = Math.floor(wall / DAY);
  const [year, month, day] = civil(dayNumber);
  return { year, month, day, hour: Math.floor((wall - dayNumber * DAY) / HOUR), dayNumber };
}

/** The period a wall time falls in, as a number that is equal for the same period. */
export function tierBucket(tier: Tier, wall: number): number {
  const dayNumber = Math.floor(wall / DAY);
  switch (tier) {
    case 'hourly':
      return Math.floor(wall / HOUR);
    case 'daily':
      return dayNumber;
    case 'weekly':
      // ISO weeks start on Monday; day 4 (1970-01-05) was one.
      return Math.floor((dayNumber + 3) / 7);
    case 'monthly': {
      const [year, month] = civil(dayNumber);
      return year * 12 + month;
    }
    case 'yearly':
      return civil(dayNumber)[0];
  }
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `2026-11-30 14h`, `2026-11-30`, `2026-W48` (ISO), `2026-11`, `2026`. */
export function tierLabel(tier: Tier, c: Calendar): string {
  const date = `${c.year}-${pad(c.month)}-${pad(c.day)}`;
  switch (tier) {
    case 'hourly':
      return `${date} ${pad(c.hour)}h`;
    case 'daily':
      return date;
    case 'weekly': {
      // The ISO week belongs to the year of its Thursday.
      const monday = c.dayNumber - ((c.dayNumber + 3) % 7);
      const thursday = monday + 3;
      const [isoYear] = civil(thursday);
      const jan1 = Math.floor(Date.UTC(isoYear, 0, 1) / DAY);
      return `${isoYear}-W${pad(Math.floor((thursday - jan1) / 7) + 1)}`;
    }
    case 'monthly':
      return `${c.year}-${pad(c.month)}`;
    case 'yearly':
      return String(c.year);
  }
}
