import type { Peer } from '../kit/part.ts';
import type { CertificateAuthority } from '../kit/pki/certificates.ts';
import type { Store } from '../kit/store/store.ts';
import type { SigningKey } from './auth/keys.ts';
import { signAgreements } from './agreements/jws.ts';
import { currentAgreements } from './agreements/store.ts';
import type { AgreementsDocument } from './agreements/types.ts';
import { buildStatusList, refusalFor, type StatusList, signStatusList } from './certificates/status-list.ts';

// What the trust part's handlers share: its store, the network CA (when this instance issues
// certificates), its two signing keys, and short memos of the status list and the agreements
// (one second: several instances over one database see each other's changes that fast).

export interface TrustRuntime {
  store: Store;
  ca: CertificateAuthority | null;
  operatorUra: string;
  operatorSystemNumber?: string;
  tokenKey: SigningKey;
  documentKey: SigningKey;
  issuer(): string;
  isOperator(peer: Peer | undefined): boolean;
  statusList(): Promise<StatusList>;
  signedStatusList(): Promise<string>;
  agreements(): Promise<AgreementsDocument>;
  signedAgreements(): Promise<string>;
  /** Drop the memos after a change made by this instance. */
  changed(): void;
  /** Why this peer must be refused now (local register), or null. A revoked certificate is
   * refused even when it names the operator; only the participant-status check skips the operator. */
  refusal(peer: Peer): Promise<string | null>;
}

const MEMO_MS = 1000;

function memo<T>(make: () => Promise<T>): { get(): Promise<T>; clear(): void } {
  let value: { at: number; v: Promise<T> } | null = null;
  return {
    get() {
      if (!value || Date.now() - value.at > MEMO_MS) {
        const v = make();
        value = { at: Date.now(), v };
        v.catch(() => {
          value = null;
        });
      }
      return value.v;
    },
    clear() {
      value = null;
    },
  };
}

export function createRuntime(input: Omit<TrustRuntime, 'isOperator' | 'statusList' | 'signedStatusList' | 'agreements' | 'signedAgreements' | 'changed' | 'refusal'>): TrustRuntime {
  const list = memo(() => buildStatusList(input.store, input.issuer()));
  const signedList = memo(async () => signStatusList(await list.get(), input.documentKey));
  const agreements = memo(() => currentAgreements(input.store));
  const signedAgreementsMemo = memo(async () => signAgreements(await agreements.get(), input.documentKey));
  const isOperator = (peer: Peer | undefined) =>
    !!peer && peer.ura === input.operatorUra && (!input.operatorSystemNumber || peer.systemNumber === input.operatorSystemNumber);
  return {
    ...input,
    isOperator,
    statusList: list.get,
    signedStatusList: signedList.get,
    agreements: agreements.get,
    signedAgreements: signedAgreementsMemo.get,
    changed() {
      list.clear();
      signedList.clear();
      agreements.clear();
      signedAgreementsMemo.clear();
    },
    async refusal(peer) {
      const current = await list.get();
      if (current.revoked.includes(peer.thumbprint)) return 'certificate revoked';
      return isOperator(peer) ? null : refusalFor(current, peer);
    },
  };
}
