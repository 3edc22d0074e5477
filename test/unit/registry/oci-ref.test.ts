/**
 * parseOciRef: the references `mpp install` and `mpp publish` accept, and
 * credentials in one refused without repeating them (they would end up in
 * the audit log, the progress line and error output).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMppError } from '../../../runtime/errors.ts';
import { parseOciRef } from '../../../runtime/registry/oci/client.ts';

describe('parseOciRef', () => {
  it('reads host, repository, tag and digest; plain HTTP only on loopback', () => {
    assert.deepEqual(parseOciRef('oci://ghcr.io/acme/tool:1.0.0'), { base: 'https://ghcr.io', host: 'ghcr.io', repository: 'acme/tool', tag: '1.0.0' });
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.deepEqual(parseOciRef(`oci://127.0.0.1:5000/acme/tool@${digest}`), { base: 'http://127.0.0.1:5000', host: '127.0.0.1:5000', repository: 'acme/tool', digest });
  });

  it('refuses credentials in the reference with MPP_E_USAGE, naming the environment variables and not the password', () => {
    for (const ref of ['oci://alice:s3cret@ghcr.io/acme/tool:1.0.0', 'oci://alice@ghcr.io/acme/tool', `oci://alice:s3cret@127.0.0.1:5000/acme/tool@sha256:${'a'.repeat(64)}`]) {
      assert.throws(
        () => parseOciRef(ref),
        (e: unknown) => isMppError(e) && e.code === 'MPP_E_USAGE' && !/s3cret/.test(`${e.message} ${e.hint}`) && /MPP_OCI_USERNAME/.test(e.hint),
        ref,
      );
    }
  });
});
