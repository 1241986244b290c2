import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chatModel as model, client, collect } from './common.mjs';

const messages = [
  { role: 'system', content: 'You are a terse assistant.' },
  { role: 'user', content: 'Name three colors.' },
];
const greedy = { model, messages, max_tokens: 16, temperature: 0 };

test('chat: an assistant message with usage', async () => {
  const r = await client().chat.completions.create(greedy);
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, model);
  const c = r.choices[0];
  assert.equal(c.message.role, 'assistant');
  assert.equal(typeof c.message.content, 'string');
  assert.ok(['length', 'stop'].includes(c.finish_reason));
  assert.ok(r.usage.prompt_tokens > 10, 'the template and both messages are in the prompt');
  assert.ok(r.usage.completion_tokens > 0 && r.usage.completion_tokens <= 16);
});

test('chat: the stream adds up to the same message', async () => {
  const whole = (await client().chat.completions.create(greedy)).choices[0].message.content;
  const stream = await client().chat.completions.create({
    ...greedy, stream: true, stream_options: { include_usage: true },
  });
  const { chunks, texts } = await collect(stream, (c) => c.delta?.content);
  assert.equal(chunks[0].object, 'chat.completion.chunk');
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  assert.equal(texts[0] ?? '', whole);
  assert.ok(chunks.some((k) => ['length', 'stop'].includes(k.choices?.[0]?.finish_reason)));
  assert.ok(chunks.at(-1).usage.completion_tokens > 0);
});

test('chat: max_completion_tokens and n = 2', async () => {
  const r = await client().chat.completions.create({
    model, messages, max_completion_tokens: 5, temperature: 1, n: 2, seed: 3,
  });
  assert.deepEqual(r.choices.map((c) => c.index).sort(), [0, 1]);
  assert.ok(r.usage.completion_tokens <= 10);
});

test('chat: the same seed at temperature 1 gives the same message', async () => {
  const ask = (seed) => client().chat.completions.create({ model, messages, max_tokens: 16, temperature: 1, seed })
    .then((r) => r.choices[0].message.content);
  const a = await ask(99);
  assert.equal(await ask(99), a);
});

test('chat: stop strings end the message before them', async () => {
  const whole = (await client().chat.completions.create({ ...greedy, max_tokens: 32 })).choices[0].message.content;
  assert.ok(whole.length >= 6, `a stop string to pick in ${JSON.stringify(whole)}`);
  const stop = whole.slice(3, 6);
  const r = await client().chat.completions.create({ ...greedy, max_tokens: 32, stop });
  assert.equal(r.choices[0].message.content, whole.slice(0, whole.indexOf(stop)));
  assert.equal(r.choices[0].finish_reason, 'stop');
});

test('chat: logprobs with top_logprobs', async () => {
  const r = await client().chat.completions.create({ ...greedy, max_tokens: 6, logprobs: true, top_logprobs: 2 });
  const content = r.choices[0].logprobs.content;
  assert.equal(content.length, r.usage.completion_tokens);
  for (const t of content) {
    assert.equal(typeof t.token, 'string');
    assert.ok(t.logprob <= 0);
    assert.equal(t.top_logprobs.length, 2);
    assert.ok(t.top_logprobs[0].logprob >= t.top_logprobs[1].logprob);
  }
});
