import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ToolError, greet } from '../src/tools.ts';

test('greet greets in English by default', () => {
  assert.deepEqual(greet({ name: 'Ada' }), { greeting: 'Hello, Ada!' });
});

test('greet speaks French and Spanish', () => {
  assert.equal(greet({ name: 'Ada', language: 'fr' }).greeting, 'Bonjour, Ada!');
  assert.equal(greet({ name: 'Ada', language: 'es' }).greeting, 'Hola, Ada!');
});

test('greet refuses a blank name with a tool error', () => {
  assert.throws(() => greet({ name: '   ' }), (e: unknown) => e instanceof ToolError && e.code === 'invalid-input');
});
