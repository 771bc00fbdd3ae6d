// Independent Sigstore bundle verifier for tests/attest.rs: sigstore-js
// (@sigstore/bundle parses and validates the bundle, @sigstore/verify checks the
// DSSE signature) with keyed trust material and every threshold 0 (no
// transparency log, no timestamps). The key is found by the bundle's
// publicKey.hint, which must be the hex SHA-256 of the key's SPKI DER (computed
// here). Usage: node sigstore_verify.cjs BUNDLE PUBKEY_PEM; exit 0 verified,
// 1 rejected (reason on stdout). Installed by the test (npm ci in target/attest-npm).
'use strict';
const fs = require('node:fs');
const crypto = require('node:crypto');
const { bundleFromJSON } = require('@sigstore/bundle');
const { toSignedEntity, toTrustMaterial, Verifier } = require('@sigstore/verify');
function main(bundlePath, pubPath) {
  const key = crypto.createPublicKey(fs.readFileSync(pubPath, 'utf8'));
  const keyid = crypto.createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
  const trust = toTrustMaterial(
    { mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] },
    (hint) => { if (hint !== keyid) throw new Error(`unknown key hint ${hint}`); return { publicKey: key, validFor: () => true }; });
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
  verifier.verify(toSignedEntity(bundle));
  console.log('verified');
}
try { main(process.argv[2], process.argv[3]); } catch (e) { console.log(`rejected: ${e.name}: ${e.message}`); process.exit(1); }
