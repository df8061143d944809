import { existsSync } from 'node:fs';
import { ConfigError } from './config.ts';

// Each part declares its settings once (name, type, default, doc): `ldn serve <part> --help` lists
// them, and `ldn serve` checks the given values before the part starts, naming every bad one at
// once. Names are the lower-case form of LDN_SETTING_<NAME> (the settings view reads any case).
// A part reads its settings through `readSettings` (typed, the declared default applied), which
// refuses every bad value at start with the same message `ldn serve` gives.

export type SettingType = 'string' | 'integer' | 'boolean' | 'json' | 'hex' | 'url' | 'file' | 'ura' | { oneOf: readonly string[] };

export interface SettingDeclaration {
  name: string;
  type: SettingType;
  /** Shown in --help; undefined = no default (optional unless `required`). */
  default?: string;
  required?: boolean;
  /** Secret values are never echoed back in errors. */
  secret?: boolean;
  /** Smallest allowed value of an integer setting (default 0). */
  min?: number;
  doc: string;
}

export type PartSettings = readonly SettingDeclaration[];

function typeLabel(t: SettingType): string {
  return typeof t === 'string' ? t : t.oneOf.join('|');
}

/** Why `value` does not fit `d`, or null when it does. */
export function settingProblem(d: SettingDeclaration, value: string): string | null {
  const t = d.type;
  const shown = d.secret ? '' : ` (got "${value.length > 60 ? `${value.slice(0, 57)}…` : value}")`;
  const bad = (what: string) => `setting ${d.name} (LDN_SETTING_${d.name.toUpperCase()}) must be ${what}${shown}`;
  if (typeof t !== 'string') return t.oneOf.includes(value) ? null : bad(`one of ${t.oneOf.join(', ')}`);
  switch (t) {
    case 'string':
      return value.trim() === '' ? bad('a non-empty string') : null;
    case 'integer': {
      const min = d.min ?? 0;
      return /^-?\d+$/.test(value.trim()) && Number(value) >= min && Number.isSafeInteger(Number(value)) ? null : bad(`a whole number ≥ ${min}`);
    }
    case 'boolean':
      return ['true', 'false', '1', '0'].includes(value) ? null : bad('true or false');
    case 'json':
      try {
        JSON.parse(value);
        return null;
      } catch {
        return bad('valid JSON');
      }
    case 'hex':
      return /^([0-9a-fA-F]{2}){32,}$/.test(value.trim()) ? null : bad('at least 32 bytes of hex');
    case 'url':
      return /^https?:\/\/[^\s/]+/.test(value) ? null : bad('an http(s) URL');
    case 'file':
      return existsSync(value) ? null : bad('the path of an existing file');
    case 'ura':
      return /^\d{8}$/.test(value) ? null : bad('an 8-digit URA');
  }
}

function distance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return dp[a.length][b.length];
}

export interface SettingsCheck {
  /** Bad values and missing required settings: the part must not start. */
  problems: string[];
  /** Names no declaration knows (with a suggestion): reported, not refused. */
  unknown: string[];
}

/** Checks given settings (any case) against a part's declarations. */
export function checkSettings(declared: PartSettings, given: Record<string, string | undefined>): SettingsCheck {
  const byName = new Map(declared.map((d) => [d.name.toLowerCase(), d]));
  const problems: string[] = [];
  const unknown: string[] = [];
  const seen = new Set<string>();
  for (const [rawName, value] of Object.entries(given)) {
    if (value === undefined) continue;
    const name = rawName.toLowerCase();
    seen.add(name);
    const d = byName.get(name);
    if (!d) {
      const scored = declared.map((x) => ({ n: x.name, d: distance(x.name.toLowerCase(), name) })).filter((x) => x.d <= 3);
      const best = Math.min(...scored.map((x) => x.d));
      const near = scored.filter((x) => x.d === best).map((x) => x.n);
      unknown.push(`${rawName}${near.length ? ` (did you mean ${near.join(' or ')}?)` : ''}`);
      continue;
    }
    const p = settingProblem(d, value);
    if (p) problems.push(p);
  }
  for (const d of declared) if (d.required && !seen.has(d.name.toLowerCase())) problems.push(`setting ${d.name} (LDN_SETTING_${d.name.toUpperCase()}) is required: ${d.doc}`);
  return { problems, unknown };
}

/** The settings section of `ldn serve <part> --help`. */
export function settingsHelp(part: string, declared: PartSettings): string {
  if (declared.length === 0) return `\nSettings of ${part}: none besides the environment above.\n`;
  const rows = declared.map((d) => {
    const head = `  LDN_SETTING_${d.name.toUpperCase()}  <${typeLabel(d.type)}>${d.required ? '  (required)' : d.default !== undefined ? `  (default ${d.default})` : ''}`;
    return `${head}\n      ${d.doc}`;
  });
  return `\nSettings of ${part} (environment LDN_SETTING_<NAME>, or "settings": {"<name>": "…"} in --config):\n${rows.join('\n')}\n`;
}

/**
 * A part's settings, checked against its declarations and read typed with the declared default.
 * Whether a required setting is present stays the caller's check (`ldn serve` refuses a missing
 * one; in code, as in the sandbox and tests, a part may be given the same thing as an option).
 */
export class SettingValues {
  readonly #byName: Map<string, SettingDeclaration>;
  readonly #given: Map<string, string>;

  constructor(part: string, declared: PartSettings, given: Record<string, string | undefined>) {
    this.#byName = new Map(declared.map((d) => [d.name, d]));
    this.#given = new Map();
    for (const [k, v] of Object.entries(given)) if (v !== undefined && this.#byName.has(k.toLowerCase())) this.#given.set(k.toLowerCase(), v);
    const problems = [...this.#given].flatMap(([name, value]) => settingProblem(this.#byName.get(name)!, value) ?? []);
    if (problems.length) throw new ConfigError(problems.map((p) => `${part}: ${p}`));
  }

  /** The given value, else the declared default; a name or type the declarations do not hold is a programming error. */
  #raw(name: string, kind: string): string | undefined {
    const d = this.#byName.get(name);
    if (!d) throw new Error(`setting ${name} is not declared`);
    const declaredKind = typeof d.type === 'string' ? d.type : 'string';
    const fits = kind === 'string' ? !['integer', 'boolean', 'json'].includes(declaredKind) : declaredKind === kind;
    if (!fits) throw new Error(`setting ${name} is declared ${typeLabel(d.type)}, read as ${kind}`);
    return this.#given.get(name) ?? d.default;
  }

  #present<T>(name: string, value: T | undefined): T {
    if (value === undefined) throw new Error(`setting ${name} has no value and no declared default`);
    return value;
  }

  optionalString(name: string): string | undefined {
    return this.#raw(name, 'string');
  }
  string(name: string): string {
    return this.#present(name, this.optionalString(name));
  }
  optionalInteger(name: string): number | undefined {
    const v = this.#raw(name, 'integer');
    return v === undefined ? undefined : Number(v);
  }
  integer(name: string): number {
    return this.#present(name, this.optionalInteger(name));
  }
  boolean(name: string): boolean {
    const v = this.#present(name, this.#raw(name, 'boolean'));
    return v === 'true' || v === '1';
  }
  optionalJson(name: string): unknown {
    const v = this.#raw(name, 'json');
    return v === undefined ? undefined : JSON.parse(v);
  }
}

/** Checks a part's settings against its declarations (refusing bad values at start) and reads them typed. */
export function readSettings(part: string, declared: PartSettings, given: Record<string, string | undefined>): SettingValues {
  return new SettingValues(part, declared, given);
}
