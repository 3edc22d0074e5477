/**
 * One limit everywhere: where a value of one document is carried into
 * another (a manifest's description into search results, its publisher
 * name into the trust store and the audit log, a package's size into the
 * index and OCI descriptors), the receiving schema and code accept exactly
 * what the source allows, so a valid package never breaks a later step.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_LIMITS } from '../../../runtime/format/layout.ts';
import auditSchema from '../../../spec/audit-event.schema.json' with { type: 'json' };
import governanceSchema from '../../../spec/governance.schema.json' with { type: 'json' };
import manifestSchema from '../../../spec/manifest.schema.json' with { type: 'json' };
import registrySchema from '../../../spec/registry.schema.json' with { type: 'json' };
import signatureSchema from '../../../spec/signature.schema.json' with { type: 'json' };
import trustSchema from '../../../spec/trust-store.schema.json' with { type: 'json' };

type Node = { [key: string]: unknown };

/** The schema node at a JSON pointer, following one local $ref at the end. */
function at(schema: object, pointer: string): Node {
  let node = schema as Node;
  for (const part of pointer.split('/').filter(Boolean)) {
    node = node[part] as Node;
    assert.ok(node, `${pointer}: no ${part}`);
  }
  if (typeof node.$ref === 'string' && node.maxLength === undefined && node.maximum === undefined) return at(schema, node.$ref.slice(1));
  return node;
}

const manifest = (p: string) => at(manifestSchema, p);

describe('limits shared between schemas and code', () => {
  const flows: [string, Node, string, Node][] = [
    ['manifest description', manifest('/properties/description'), 'registry search result description', at(registrySchema, '/$defs/searchResults/properties/results/items/properties/description')],
    ['manifest publisher name', manifest('/properties/publisher/properties/name'), 'registry search result publisher name', at(registrySchema, '/$defs/searchResults/properties/results/items/properties/publisher/properties/name')],
    ['manifest publisher name', manifest('/properties/publisher/properties/name'), 'trust store key name', at(trustSchema, '/properties/keys/items/properties/name')],
    ['manifest publisher name', manifest('/properties/publisher/properties/name'), 'audit trust event name', at(auditSchema, '/$defs/trust/properties/name')],
    ['manifest name', manifest('/properties/name'), 'registry package name', at(registrySchema, '/$defs/packageName')],
    ['manifest name', manifest('/properties/name'), 'audit package', at(auditSchema, '/$defs/package')],
    ['manifest name', manifest('/properties/name'), 'signature package name', at(signatureSchema, '/$defs/payload/properties/package/properties/name')],
    ['manifest version', manifest('/properties/version'), 'registry version', at(registrySchema, '/$defs/version')],
    ['manifest version', manifest('/properties/version'), 'signature package version', at(signatureSchema, '/$defs/payload/properties/package/properties/version')],
    ['manifest version', manifest('/properties/version'), 'attestation package version', at(governanceSchema, '/$defs/attestation/properties/package/properties/version')],
  ];

  for (const [from, source, to, target] of flows) {
    it(`${from} fits ${to}`, () => {
      assert.equal(typeof source.maxLength, 'number', from);
      assert.equal(typeof target.maxLength, 'number', to);
      assert.ok((target.maxLength as number) >= (source.maxLength as number), `${to} allows ${String(target.maxLength)}, ${from} ${String(source.maxLength)}`);
    });
  }

  it('a description and a publisher name are capped by the same number wherever they are listed', () => {
    assert.equal(flows[0]![3].maxLength, flows[0]![1].maxLength);
    assert.equal(flows[1]![3].maxLength, flows[1]![1].maxLength);
  });

  it('the largest package: the archive reader, the signed index and OCI descriptors agree', () => {
    assert.equal(at(registrySchema, '/$defs/indexVersion/properties/size').maximum, DEFAULT_LIMITS.maxArchiveBytes);
    assert.equal(at(registrySchema, '/$defs/ociDescriptor/properties/size').maximum, DEFAULT_LIMITS.maxArchiveBytes);
  });
});
