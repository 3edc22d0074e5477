import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldFor, formFor, parseNumber, problems, type Field } from '../../../webview/schema-form-model.ts';

const kinds = (f: Field): unknown => (f.kind === 'object' ? Object.fromEntries(f.fields.map((m) => [m.name, kinds(m)])) : f.kind === 'array' ? [kinds(f.item)] : f.kind);

describe('the tool form model', () => {
  it('gives every supported kind its field, with required members and defaults', () => {
    const form = formFor({
      type: 'object',
      required: ['name', 'count'],
      properties: {
        name: { type: 'string', description: 'Who' },
        count: { type: 'integer', minimum: 1, default: 3 },
        ratio: { type: 'number' },
        loud: { type: 'boolean', default: false },
        language: { enum: ['en', 'fr'], default: 'en' },
        tags: { type: 'array', items: { type: 'string' } },
        where: { type: 'object', properties: { path: { type: 'string' } } },
      },
    });
    assert.deepEqual(kinds(form), { name: 'string', count: 'integer', ratio: 'number', loud: 'boolean', language: 'enum', tags: ['string'], where: { path: 'string' } });
    assert.equal(form.kind, 'object');
    if (form.kind !== 'object') return;
    const byName = Object.fromEntries(form.fields.map((f) => [f.name, f]));
    assert.equal(byName.name!.required, true);
    assert.equal(byName.ratio!.required, false);
    assert.equal(byName.count!.default, 3);
    assert.equal(byName.name!.description, 'Who');
  });

  it('edits as JSON exactly the parts the form cannot express, and says why', () => {
    const cases: [unknown, RegExp][] = [
      [{ oneOf: [{ type: 'string' }, { type: 'number' }] }, /oneOf/],
      [{ $ref: '#/$defs/x' }, /\$ref/],
      [{ type: ['string', 'null'] }, /several types/],
      [{ type: 'array' }, /any values/],
      [{ type: 'object', required: ['x'] }, /does not describe/],
      [{}, /any JSON/],
      [{ type: 'string', format: 'date-time' }, /format/],
    ];
    for (const [schema, why] of cases) {
      const f = fieldFor(schema, 'x', true);
      assert.equal(f.kind, 'json', JSON.stringify(schema));
      assert.match(f.kind === 'json' ? f.reason : '', why, JSON.stringify(schema));
    }
    // Only that member: its siblings keep their fields.
    const form = formFor({ type: 'object', properties: { a: { type: 'string' }, b: { anyOf: [{ type: 'string' }] } } });
    assert.deepEqual(kinds(form), { a: 'string', b: 'json' });
  });

  it('checks a value against its field before it is sent', () => {
    const str = fieldFor({ type: 'string', minLength: 2, maxLength: 3, pattern: '^[a-z]+$' }, 'code', true);
    assert.deepEqual(problems(str, 'ab'), []);
    assert.equal(problems(str, 'a').length, 1);
    assert.equal(problems(str, 'abcd').length, 1);
    assert.equal(problems(str, 'A1').length, 1);
    const int = fieldFor({ type: 'integer', minimum: 1, exclusiveMaximum: 10 }, 'n', true);
    assert.deepEqual(problems(int, 5), []);
    assert.equal(problems(int, 1.5).length, 1);
    assert.equal(problems(int, 0).length, 1);
    assert.equal(problems(int, 10).length, 1);
    const list = fieldFor({ type: 'array', items: { type: 'string' }, minItems: 1 }, 'tags', true);
    assert.equal(problems(list, []).length, 1);
    const choice = fieldFor({ enum: ['en', 1, null] }, 'v', true);
    assert.deepEqual(problems(choice, 1), []);
    assert.equal(problems(choice, '1').length, 1);
  });

  it('reads number fields strictly: empty is not given, anything else must be a number', () => {
    assert.equal(parseNumber(''), undefined);
    assert.equal(parseNumber(' 2.5 '), 2.5);
    assert.equal(parseNumber('-1e3'), -1000);
    for (const bad of ['0x10', '1,5', 'Infinity', '1e', 'abc']) assert.ok(Number.isNaN(parseNumber(bad)), bad);
  });
});
