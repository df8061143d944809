import type { SourceProblem } from '../clinician/overview-model.ts';
import type { MessageKey, Translate } from './i18n.ts';

/** A holder problem of the overview in the reader's language; uncoded ones keep their diagnostics. */
export function problemText(t: Translate, p: SourceProblem): string {
  if (!p.kind) return p.text;
  return t(`outcome.${p.kind}` as MessageKey, { holder: p.holder ?? '' });
}
