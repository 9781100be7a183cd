import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NotFoundError, Stream } from '../src/index.js';
import { MODEL, admin, platform } from './support.mjs';

describe('inference', platform, () => {
  const client = platform.skip ? null : admin();

  test('a chat completion has OpenAI’s shape', async () => {
    const response = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Bonjour' }], max_tokens: 5 });
    assert.equal(response.object, 'chat.completion');
    assert.equal(response.model, MODEL);
    assert.equal(response.choices[0].message.role, 'assistant');
    assert.ok(response.choices[0].message.content);
    assert.equal(response.usage.prompt_tokens + response.usage.completion_tokens, response.usage.total_tokens);
  });

  test('stream: true is an async iterator of chunks until [DONE]', async () => {
    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Bonjour' }], max_tokens: 6, stream: true });
    assert.ok(stream instanceof Stream);
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.length >= 2);
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
    assert.ok(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('').trim());
    assert.ok(stream.closed);
  });

  test('leaving a stream early closes it, and the platform serves the next request', async () => {
    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'long' }], max_tokens: 200, stream: true });
    for await (const chunk of stream) {
      assert.ok(chunk.id);
      break;
    }
    assert.ok(stream.closed);
    const next = await client.completions.create({ model: MODEL, prompt: 'Il était une fois', max_tokens: 3 });
    assert.equal(next.object, 'text_completion');
    const texts = [];
    for await (const chunk of await client.completions.create({ model: MODEL, prompt: 'Il était', max_tokens: 3, stream: true })) {
      texts.push(chunk.choices[0]?.text ?? '');
    }
    assert.ok(texts.join('').trim());
  });

  test('models list and retrieve', async () => {
    assert.ok((await client.models.list()).data.some((m) => m.id === MODEL));
    assert.equal((await client.models.retrieve(MODEL)).id, MODEL);
    await assert.rejects(client.models.retrieve('no-such-model'), (e) => e instanceof NotFoundError && e.code === 'model_not_found');
  });
});
