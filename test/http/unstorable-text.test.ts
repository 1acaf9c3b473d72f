// Text that no backend stores faithfully is refused up front, so an answer never shows a label
// that storage would later turn into something else (and collide with another label).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BASE, JSON_TYPE, useStageline } from './support.js';

describe('unstorable text', () => {
  const server = useStageline();
  const post = (raw: string) =>
    server.call('POST', `${BASE}/deals`, { token: 'unstorable-text', raw, contentType: 'application/json' });

  for (const [name, label] of [
    ['a lone high surrogate', 'P\\ud800'],
    ['a lone low surrogate', '\\udfff'],
    ['a reversed pair', 'a\\udc00\\ud800b'],
    ['NUL', 'a\\u0000b'],
  ]) {
    it(`${name} is a 400`, async () => {
      const res = await post(
        `{"label":"${label}","displayOrder":1,"stages":[{"label":"S","displayOrder":0,"metadata":{"probability":0.5}}]}`,
      );
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.headers['content-type'], JSON_TYPE);
      assert.match(res.json<{ message: string }>().message, /unpaired surrogates|NUL/);
    });
  }

  it('a proper surrogate pair (an emoji) is kept as sent', async () => {
    const res = await post(
      '{"label":"Deals \\ud83d\\ude80","displayOrder":1,"stages":[{"label":"S","displayOrder":0,"metadata":{"probability":0.5}}]}',
    );
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json<{ label: string }>().label, 'Deals 🚀');
  });
});
