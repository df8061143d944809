import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { escapeHtml, html, trusted } from './html.ts';

test('escaped text never carries markup characters and decodes back to itself', () => {
  fc.assert(
    fc.property(fc.string(), (s) => {
      const e = escapeHtml(s);
      assert.doesNotMatch(e, /[<>"'`=]/);
      assert.doesNotMatch(e, /&(?!amp;|lt;|gt;|quot;|#39;|#96;|#61;)/);
      const decoded = e.replace(/&(amp|lt|gt|quot|#39|#96|#61);/g, (_m, n: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#96': '`', '#61': '=' })[n]!);
      assert.equal(decoded, s);
    }),
  );
});

test('html`` escapes values, keeps fragments, flattens arrays and drops null/booleans', () => {
  const v = '<b onclick="x">';
  assert.equal(html`<p title="${v}">${v}</p>`.value, '<p title="&lt;b onclick&#61;&quot;x&quot;&gt;">&lt;b onclick&#61;&quot;x&quot;&gt;</p>');
  assert.equal(html`${[html`<i>${'a&b'}</i>`, 'c<d']}${null}${undefined}${false}${0}`.value, '<i>a&amp;b</i>c&lt;d0');
  assert.equal(html`${trusted('<hr>')}`.value, '<hr>');
});
