import assert from 'node:assert/strict';
import { test } from 'node:test';
import { client, completionModel as model } from './common.mjs';

test('embeddings: the client asks for base64 and gets float vectors', async () => {
  let sent;
  const spy = client({ fetch: (url, init) => { sent = JSON.parse(init.body); return fetch(url, init); } });
  const input = ['The cat sat on the mat.', 'A dog ran in the park.'];
  const r = await spy.embeddings.create({ model, input });
  assert.equal(sent.encoding_format, 'base64');
  assert.equal(r.object, 'list');
  assert.equal(r.data.length, 2);
  const [a, b] = r.data;
  assert.deepEqual([a.index, b.index], [0, 1]);
  assert.ok(Array.isArray(a.embedding) && a.embedding.length > 0);
  assert.equal(a.embedding.length, b.embedding.length);
  assert.ok(a.embedding.every(Number.isFinite));
  assert.notDeepEqual(a.embedding, b.embedding);
  assert.ok(r.usage.prompt_tokens > 0);

  // The same numbers as JSON floats.
  const f = await client().embeddings.create({ model, input, encoding_format: 'float' });
  f.data[0].embedding.forEach((x, i) => assert.ok(Math.abs(x - a.embedding[i]) <= 1e-5 * (1 + Math.abs(x))));
});
