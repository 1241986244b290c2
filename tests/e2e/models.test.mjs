import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { chatModel, client, completionModel } from './common.mjs';

test('models.list: both models of the server, by file name', async () => {
  const ids = [];
  for await (const m of client().models.list()) {
    assert.equal(m.object, 'model');
    assert.equal(typeof m.created, 'number');
    ids.push(m.id);
  }
  assert.deepEqual(ids.sort(), [chatModel, completionModel].sort());
});

test('models.retrieve: one model, 404 for an unknown one', async () => {
  const m = await client().models.retrieve(completionModel);
  assert.equal(m.id, completionModel);
  await assert.rejects(client().models.retrieve('no-such-model'), OpenAI.NotFoundError);
});
