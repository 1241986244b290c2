import assert from 'node:assert/strict';
import { test } from 'node:test';
import { client, collect, completionModel as model } from './common.mjs';

const prompt = 'Once upon a time';
const greedy = { model, prompt, max_tokens: 24, temperature: 0 };

test('completions: greedy text, finish reason and usage', async () => {
  const r = await client().completions.create(greedy);
  assert.equal(r.object, 'text_completion');
  assert.equal(r.model, model);
  assert.equal(r.choices.length, 1);
  const c = r.choices[0];
  assert.equal(c.index, 0);
  assert.ok(c.text.length > 0);
  assert.equal(c.finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 24);
  assert.ok(r.usage.prompt_tokens > 0);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  // Greedy is deterministic.
  const again = await client().completions.create(greedy);
  assert.equal(again.choices[0].text, c.text);
});

test('completions: the stream adds up to the same text, usage last', async () => {
  const whole = (await client().completions.create(greedy)).choices[0].text;
  const stream = await client().completions.create({
    ...greedy, stream: true, stream_options: { include_usage: true },
  });
  const { chunks, texts } = await collect(stream, (c) => c.text);
  assert.ok(chunks.length > 2, 'streamed in pieces');
  assert.equal(texts[0], whole);
  assert.ok(chunks.some((k) => k.choices?.[0]?.finish_reason === 'length'));
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.equal(last.usage.completion_tokens, 24);
});

test('completions: n = 3 gives three choices', async () => {
  const r = await client().completions.create({ model, prompt, max_tokens: 12, temperature: 1, n: 3, seed: 5 });
  assert.deepEqual(r.choices.map((c) => c.index).sort(), [0, 1, 2]);
  for (const c of r.choices) assert.equal(typeof c.text, 'string');
  assert.ok(r.usage.completion_tokens >= 3 && r.usage.completion_tokens <= 36);
  const stream = await client().completions.create({ model, prompt, max_tokens: 8, n: 2, stream: true });
  const { texts } = await collect(stream, (c) => c.text);
  assert.equal(texts.length, 2);
});

test('completions: stop strings end the text before them', async () => {
  const whole = (await client().completions.create(greedy)).choices[0].text;
  const at = whole.indexOf(' ', 6);
  assert.ok(at > 0 && at + 4 <= whole.length, `a stop string to pick in ${JSON.stringify(whole)}`);
  const stop = whole.slice(at, at + 4);
  const expected = whole.slice(0, whole.indexOf(stop));
  const r = await client().completions.create({ ...greedy, stop: [stop, 'never appears'] });
  assert.equal(r.choices[0].text, expected);
  assert.equal(r.choices[0].finish_reason, 'stop');
  const stream = await client().completions.create({ ...greedy, stop, stream: true });
  const { texts } = await collect(stream, (c) => c.text);
  assert.equal(texts[0], expected);
});

test('completions: the same seed at temperature 1 gives the same text', async () => {
  const ask = (seed) => client().completions.create({ model, prompt, max_tokens: 24, temperature: 1, seed })
    .then((r) => r.choices[0].text);
  const a = await ask(1234);
  assert.equal(await ask(1234), a);
  const others = await Promise.all([1, 2, 3, 4].map(ask));
  assert.ok(others.some((t) => t !== a), 'temperature 1 samples: other seeds, other texts');
});

test('completions: logprobs of the chosen and the top tokens', async () => {
  const r = await client().completions.create({ ...greedy, max_tokens: 8, logprobs: 3 });
  const c = r.choices[0];
  const lp = c.logprobs;
  assert.equal(lp.tokens.length, 8);
  assert.equal(lp.token_logprobs.length, 8);
  assert.equal(lp.top_logprobs.length, 8);
  assert.equal(lp.tokens.join(''), c.text);
  for (let i = 0; i < 8; i++) {
    assert.ok(lp.token_logprobs[i] <= 0);
    const top = Object.values(lp.top_logprobs[i]);
    assert.equal(top.length, 3);
    // Greedy: the chosen token is the most likely one.
    assert.ok(Math.abs(Math.max(...top) - lp.token_logprobs[i]) < 1e-4);
  }
});
