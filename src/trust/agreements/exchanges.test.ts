import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultAgreements } from './default-agreements.ts';
import { exchangeByCode, exchangeOfScopes } from './exchanges.ts';

describe('finding an exchange in the agreements', () => {
  const doc = defaultAgreements();

  it('by code: each offered exchange, and nothing for an unknown or absent code', () => {
    for (const e of doc.exchanges) assert.equal(exchangeByCode(doc, e.code), e);
    assert.equal(exchangeByCode(doc, 'no-such-exchange'), undefined);
    assert.equal(exchangeByCode(doc, undefined), undefined);
  });

  it('by the scopes of a token: the exchange a scope belongs to, none for other scopes', () => {
    for (const e of doc.exchanges) for (const s of e.scopes) assert.equal(exchangeOfScopes(doc, ['openid', s])?.scopes.includes(s), true);
    assert.equal(exchangeOfScopes(doc, ['openid', 'unrelated/scope']), undefined);
  });
});
