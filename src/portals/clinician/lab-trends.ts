import type { Bundle, Observation } from '@medplum/fhirtypes';

// Lab results as trends: the laboratory Observations of a merged overview grouped per test
// (LOINC code, else the code text), oldest first, each value with the reference range and
// interpretation its source gave. A test measured more than once gets a small plot.

export interface TrendPoint {
  date: string;
  value: number;
  interpretation?: string;
}

export interface LabTrend {
  key: string;
  label: string;
  unit: string;
  low?: number;
  high?: number;
  points: TrendPoint[];
}

function isLab(o: Observation): boolean {
  return (o.category ?? []).some((c) => (c.coding ?? []).some((x) => x.code === 'laboratory'));
}

export function labTrends(bundle: Bundle): LabTrend[] {
  const byTest = new Map<string, LabTrend>();
  for (const e of bundle.entry ?? []) {
    const o = e.resource as Observation | undefined;
    if (o?.resourceType !== 'Observation' || !isLab(o)) continue;
    const value = o.valueQuantity?.value;
    const date = o.effectiveDateTime ?? o.issued;
    if (typeof value !== 'number' || !Number.isFinite(value) || !date) continue;
    const loinc = o.code?.coding?.find((c) => c.system === 'http://loinc.org')?.code;
    const label = o.code?.text ?? o.code?.coding?.find((c) => c.display)?.display ?? loinc ?? '?';
    const key = loinc ?? label;
    const range = o.referenceRange?.[0];
    let trend = byTest.get(key);
    if (!trend) {
      trend = { key, label, unit: o.valueQuantity?.unit ?? o.valueQuantity?.code ?? '', low: range?.low?.value, high: range?.high?.value, points: [] };
      byTest.set(key, trend);
    }
    trend.points.push({ date, value, interpretation: o.interpretation?.[0]?.coding?.[0]?.code ?? o.interpretation?.[0]?.text });
  }
  for (const t of byTest.values()) t.points.sort((a, b) => a.date.localeCompare(b.date));
  return [...byTest.values()].sort((a, b) => b.points.length - a.points.length || a.label.localeCompare(b.label));
}

/** Coordinates of a small plot (width × height) of the trend, reference range included in the scale. */
export function plotGeometry(t: LabTrend, width = 160, height = 40): { points: Array<[number, number]>; band?: [number, number] } {
  const values = [...t.points.map((p) => p.value), ...(t.low !== undefined ? [t.low] : []), ...(t.high !== undefined ? [t.high] : [])];
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const y = (v: number) => Math.round((height - 4 - ((v - min) / span) * (height - 8)) * 10) / 10;
  const times = t.points.map((p) => Date.parse(p.date));
  const t0 = Math.min(...times);
  const tspan = Math.max(...times) - t0 || 1;
  const points = t.points.map((p, i): [number, number] => [Math.round((4 + ((times[i] - t0) / tspan) * (width - 8)) * 10) / 10, y(p.value)]);
  const band: [number, number] | undefined = t.low !== undefined && t.high !== undefined ? [y(t.high), y(t.low)] : undefined;
  return { points, band };
}
