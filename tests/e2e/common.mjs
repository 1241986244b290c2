// Shared by the e2e tests: a client for the server run-e2e.mjs started, and the model ids.
import OpenAI from 'openai';

export const chatModel = process.env.FOLIO_E2E_CHAT_MODEL;
export const completionModel = process.env.FOLIO_E2E_COMPLETION_MODEL;

// No retries: a failure should show at once, not after backoff.
export function client(options = {}) {
  return new OpenAI({
    baseURL: process.env.FOLIO_E2E_BASE_URL,
    apiKey: process.env.FOLIO_E2E_API_KEY,
    maxRetries: 0,
    timeout: 30000,
    ...options,
  });
}

// Collects a stream: the chunks and the concatenated text per choice index.
export async function collect(stream, textOf) {
  const chunks = [];
  const texts = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
    for (const c of chunk.choices ?? []) texts[c.index] = (texts[c.index] ?? '') + (textOf(c) ?? '');
  }
  return { chunks, texts };
}
