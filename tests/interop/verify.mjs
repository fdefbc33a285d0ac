// Verifies credentials this project issued with Digital Bazaar's JavaScript libraries
// (@digitalbazaar/vc, data-integrity, eddsa-rdfc-2022-cryptosuite): an interoperability
// check, run by tests/credentials/test_node_interop.py.
//
//   node verify.mjs DID_DOCUMENT.json CONTEXTS_DIR PINNED.json CREDENTIAL.json [CREDENTIAL.json...]
//
// PINNED.json maps each pinned context's URL to [file in CONTEXTS_DIR, its SHA-256] (the
// PINNED of certification/credentials/pinned.py). Nothing is fetched: the document loader
// serves those files, the DID v1 context (from the did-context package, pinned by
// package-lock.json), the DID document given and its verification methods, and throws for
// any other URL. Several credentials: one Node start (most of the time a run takes).
//
// Prints one JSON object per credential, one per line, in order: {credential, verified,
// allProofsVerified, proofs: [{verificationMethod, verified, error}], error}. `verified` is
// the library's answer, which is true when ANY proof of a set verifies; `allProofsVerified`
// is true only when every proof the credential carries verified. Exits 0 when every proof
// of every credential verified, 1 when not, 2 on a usage error or an unusable DID document
// or context (then one line with the error).

import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import didContext from 'did-context';

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function describe(error) {
  if(!error) {
    return null;
  }
  if(Array.isArray(error.errors) && error.errors.length) {
    return error.errors.map(describe).join('; ');
  }
  const name = error.name && error.name !== 'Error' ? `${error.name}: ` : '';
  // jsonld wraps what the document loader threw; say that too.
  const cause = error.details && error.details.cause ?
    ` (${describe(error.details.cause)})` : '';
  return `${name}${error.message || String(error)}${cause}`;
}

function makeDocumentLoader({contextsDir, pinned, didDocument}) {
  const documents = new Map();
  for(const [url, [file, sha256]] of Object.entries(pinned)) {
    const bytes = readFileSync(join(contextsDir, file));
    const digest = createHash('sha256').update(bytes).digest('hex');
    if(digest !== sha256) {
      throw new Error(`The pinned context file ${file} does not match its SHA-256.`);
    }
    documents.set(url, JSON.parse(bytes.toString('utf8')));
  }
  for(const [url, context] of didContext.contexts) {
    documents.set(url, context);
  }

  const did = didDocument.id;
  if(typeof did !== 'string' || !did.startsWith('did:web:')) {
    throw new Error('The DID document has no did:web "id".');
  }
  // A verification method is served as its node with the DID document's @context, as
  // Digital Bazaar's DID resolvers (did-io) return one; nothing is added to it.
  const methods = new Map();
  for(const method of didDocument.verificationMethod || []) {
    methods.set(method.id, {'@context': didDocument['@context'], ...method});
  }

  return async function documentLoader(url) {
    let document;
    if(documents.has(url)) {
      document = documents.get(url);
    } else if(url === did) {
      document = didDocument;
    } else if(url.startsWith(`${did}#`) && methods.has(url)) {
      document = methods.get(url);
    } else {
      throw new Error(`Document loader refuses ${url}: not pinned here.`);
    }
    // A copy: the libraries may change what they are given.
    return {contextUrl: null, documentUrl: url, document: structuredClone(document)};
  };
}

async function verify(credentialPath, documentLoader) {
  let credential;
  try {
    credential = readJson(credentialPath);
  } catch(error) {
    return {
      credential: credentialPath, verified: false, allProofsVerified: false, proofs: [],
      error: describe(error)
    };
  }
  const result = await vc.verifyCredential({
    credential,
    suite: [new DataIntegrityProof({cryptosuite: eddsaRdfc2022})],
    // The default purpose, CredentialIssuancePurpose: an assertionMethod proof whose key's
    // controller is the credential's issuer.
    documentLoader,
    // The status lists (BitstringStatusList) are checked by our own tests
    // (tests/credentials/test_credentials.py); here only the proofs are.
    checkStatus: async () => ({verified: true}),
  });

  const carried = credential.proof === undefined ? [] :
    Array.isArray(credential.proof) ? credential.proof : [credential.proof];
  const proofs = (result.results || []).map(r => ({
    verificationMethod: r.proof && r.proof.verificationMethod || null,
    verified: r.verified === true,
    error: describe(r.error || (r.purposeResult && r.purposeResult.error)),
  }));
  return {
    credential: credentialPath,
    verified: result.verified === true,
    allProofsVerified: result.verified === true && carried.length > 0 &&
      proofs.length === carried.length && proofs.every(p => p.verified),
    proofs,
    error: describe(result.error),
  };
}

async function main(argv) {
  if(argv.length < 4) {
    console.error('usage: node verify.mjs DID_DOCUMENT.json CONTEXTS_DIR PINNED.json ' +
      'CREDENTIAL.json [CREDENTIAL.json...]');
    return 2;
  }
  const [didDocumentPath, contextsDir, pinnedPath, ...credentialPaths] = argv;
  let documentLoader;
  try {
    documentLoader = makeDocumentLoader({
      contextsDir, pinned: readJson(pinnedPath), didDocument: readJson(didDocumentPath)
    });
  } catch(error) {
    console.log(JSON.stringify({
      verified: false, allProofsVerified: false, proofs: [], error: describe(error)
    }));
    return 2;
  }
  let all = true;
  for(const path of credentialPaths) {
    const answer = await verify(path, documentLoader);
    all = all && answer.allProofsVerified;
    console.log(JSON.stringify(answer));
  }
  return all ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
