import type { FastifyRequest } from 'fastify';
import { HttpError } from '../fhir/outcome.ts';

// Checks every part makes on every request before a handler sees it. PostgreSQL refuses a NUL
// in text and jsonb, so a NUL that reached a query became a 500; no identifier, search value or
// FHIR string has a use for one, so it is refused here as the caller's mistake. Deep nesting
// is refused for the same reason: no resource of ours is 64 levels deep, and recursion on
// attacker-chosen depth is how stacks overflow.

export const MAX_JSON_DEPTH = 64;


/** 400 when the request line carries a NUL, raw or percent-encoded. */
export function checkUrl(url: string): void {
  if (url.includes('\u0000') || /%00/.test(url)) throw new HttpError(400, 'invalid', 'the URL carries a NUL character (%00), which no identifier or search value may hold');
}

/** The first problem of a parsed JSON value: a NUL in a key or string, or nesting deeper than MAX_JSON_DEPTH. */
export function jsonProblem(value: unknown): string | undefined {
  // Iterative, so a hostile depth cannot overflow the stack of the check itself.
  const stack: Array<[unknown, number, string]> = [[value, 0, '$']];
  while (stack.length) {
    const [v, depth, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return `${path} holds a NUL character`;
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return `the body nests deeper than ${MAX_JSON_DEPTH} levels`;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push([v[i], depth + 1, `${path}[${i}]`]);
      continue;
    }
    for (const [k, child] of Object.entries(v)) {
      if (k.includes('\u0000')) return `${path} has a key holding a NUL character`;
      stack.push([child, depth + 1, `${path}.${k}`]);
    }
  }
  return undefined;
}

/** 400 when a parsed body holds a NUL or nests too deep (form bodies are objects of strings too). */
export function checkBody(request: FastifyRequest): void {
  if (request.body === undefined || request.body === null || Buffer.isBuffer(request.body)) return;
  const problem = jsonProblem(request.body);
  if (problem) throw new HttpError(400, problem.includes('NUL') ? 'invalid' : 'too-costly', `refused: ${problem}`);
}
