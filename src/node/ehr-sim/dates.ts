// Synthetic histories are anchored to a fixed "now" so output never depends on the clock.

export const DEFAULT_REFERENCE_DATE = '2025-06-01T09:00:00Z';

const DAY = 86_400_000;

/** ISO instant `days` before the reference date, at a deterministic hour. */
export function daysBefore(reference: string, days: number, hour = 10): string {
  const base = Date.parse(reference);
  const d = new Date(base - Math.round(days) * DAY);
  d.setUTCHours(hour, 0, 0, 0);
  return d.toISOString().replace('.000Z', 'Z');
}

export function dateOnly(instant: string): string {
  return instant.slice(0, 10);
}

/** Whole years between a birth date and the reference date. */
export function ageAt(birthDate: string, reference: string): number {
  const b = new Date(`${birthDate}T00:00:00Z`);
  const r = new Date(reference);
  let age = r.getUTCFullYear() - b.getUTCFullYear();
  const beforeBirthday =
    r.getUTCMonth() < b.getUTCMonth() || (r.getUTCMonth() === b.getUTCMonth() && r.getUTCDate() < b.getUTCDate());
  if (beforeBirthday) age -= 1;
  return age;
}

/** Instant a number of hours after another (meta.lastUpdated follows the clinical date). */
export function plusHours(instant: string, hours: number): string {
  return new Date(Date.parse(instant) + hours * 3_600_000).toISOString().replace('.000Z', 'Z');
}
