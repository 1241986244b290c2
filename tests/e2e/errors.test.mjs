import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { chatModel, client, completionModel } from './common.mjs';

const messages = [{ role: 'user', content: 'hi' }];

test('errors: unknown model is NotFoundError (404)', async () => {
  await assert.rejects(
    client().completions.create({ model: 'no-such-model', prompt: 'x', max_tokens: 1 }),
    (e) => e instanceof OpenAI.NotFoundError && e.status === 404 && typeof e.message === 'string');
  await assert.rejects(
    client().chat.completions.create({ model: 'no-such-model', messages }), OpenAI.NotFoundError);
  await assert.rejects(
    client().embeddings.create({ model: 'no-such-model', input: 'x' }), OpenAI.NotFoundError);
});

test('errors: bad parameters are BadRequestError (400)', async () => {
  const bad = [
    () => client().completions.create({ model: completionModel, prompt: 'x', temperature: -1 }),
    () => client().completions.create({ model: completionModel, prompt: 'x', max_tokens: -5 }),
    () => client().completions.create({ model: completionModel, prompt: 'x', n: 0 }),
    () => client().chat.completions.create({ model: chatModel, messages: [] }),
    () => client().chat.completions.create({ model: chatModel, messages, top_p: 7 }),
  ];
  for (const call of bad)
    await assert.rejects(call(), (e) => e instanceof OpenAI.BadRequestError && e.status === 400);
});

test('auth: a wrong key is AuthenticationError (401)', async () => {
  const wrong = client({ apiKey: 'not-the-key' });
  await assert.rejects(wrong.models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
  await assert.rejects(
    wrong.completions.create({ model: completionModel, prompt: 'x', max_tokens: 1 }),
    OpenAI.AuthenticationError);
  const none = await fetch(process.env.FOLIO_E2E_BASE_URL + '/models');
  assert.equal(none.status, 401);
});
