import { tryGetDataType } from '@medplum/core';
import { loadFhirDefinitions } from '../../kit/fhir/validate.ts';
import { type Context, isObject, transcodeConcept, transcodeQuantity } from './concept.ts';

// Finds the coded elements of a resource by its R4 definition (so a CodeableConcept is told from an
// Annotation that merely has a `text`), including contained resources and choice types such as
// medicationCodeableConcept or valueQuantity.

type Kind = 'concept' | 'quantity' | 'descend';
interface Step {
  key: string;
  kind: Kind;
  /** Type to descend into; 'Resource' means: by the value's own resourceType. */
  type: string;
}

const QUANTITIES = new Set(['Quantity', 'SimpleQuantity', 'Age', 'Duration', 'Distance', 'Count']);
const plans = new Map<string, Step[]>();
const MAX_DEPTH = 48; // hostile nesting must not blow the stack

function planFor(typeName: string): Step[] {
  const cached = plans.get(typeName);
  if (cached) return cached;
  const schema = tryGetDataType(typeName);
  const steps: Step[] = [];
  for (const [name, element] of Object.entries(schema?.elements ?? {})) {
    const choice = name.endsWith('[x]');
    const base = choice ? name.slice(0, -3) : name;
    for (const t of element.type ?? []) {
      const key = choice ? base + t.code[0].toUpperCase() + t.code.slice(1) : base;
      if (t.code === 'CodeableConcept') steps.push({ key, kind: 'concept', type: t.code });
      else if (QUANTITIES.has(t.code)) steps.push({ key, kind: 'quantity', type: t.code });
      else if (t.code === 'Resource' || (/^[A-Z]/.test(t.code) && t.code !== 'Extension' && t.code !== 'Narrative' && tryGetDataType(t.code))) {
        steps.push({ key, kind: 'descend', type: t.code });
      }
    }
  }
  plans.set(typeName, steps);
  return steps;
}

/** Transcodes every coded element of `resource` in place (the caller works on a copy). */
export function transcodeResource(resource: Record<string, unknown>, ctx: Context): void {
  loadFhirDefinitions();
  const type = resource.resourceType;
  if (typeof type !== 'string' || !/^[A-Z][A-Za-z]+$/.test(type) || tryGetDataType(type)?.kind !== 'resource') return;
  walk(resource, type, ctx, 0);
}

function walk(value: Record<string, unknown>, typeName: string, ctx: Context, depth: number): void {
  if (depth > MAX_DEPTH) return;
  for (const step of planFor(typeName)) {
    if (!Object.hasOwn(value, step.key)) continue;
    const raw = value[step.key];
    for (const item of Array.isArray(raw) ? raw : [raw]) {
      if (!isObject(item)) continue;
      if (step.kind === 'concept') transcodeConcept(item, ctx);
      else if (step.kind === 'quantity') transcodeQuantity(item, ctx);
      else if (step.type === 'Resource') {
        if (typeof item.resourceType === 'string' && /^[A-Z][A-Za-z]+$/.test(item.resourceType) && tryGetDataType(item.resourceType)?.kind === 'resource') {
          walk(item, item.resourceType, ctx, depth + 1);
        }
      } else walk(item, step.type, ctx, depth + 1);
    }
  }
}
