// openid-client (npm), the certified OpenID Connect client for Node.js, against a running
// Tessera with its defaults. Needs the npm package `openid-client` (package.json beside this file;
// .ci/run runs `npm ci` here). Called by tests/api/libraries.rs:
//
//   node openid_client.mjs keygen
//       prints {"private": <P-256 JWK>, "public": <its public JWK>}
//   node openid_client.mjs private_key_jwt TOKEN_URL ISSUER CLIENT_ID PRIVATE_JWK_JSON
//   node openid_client.mjs client_secret_jwt TOKEN_URL ISSUER CLIENT_ID SECRET
//       fetch a client_credentials token; prints {"status", "body", "assertion"}, where
//       "assertion" holds the claims openid-client put in its client assertion.
//
// ISSUER is the issuer identifier (openid-client names it in the assertion's `aud`); TOKEN_URL is
// where the test server listens, on an ephemeral loopback port.
import * as client from 'openid-client';

const [command, tokenUrl, issuer, clientId, credential] = process.argv.slice(2);

if (command === 'keygen') {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const privateJwk = await crypto.subtle.exportKey('jwk', pair.privateKey);
  const publicJwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
  console.log(JSON.stringify({ private: privateJwk, public: publicJwk }));
  process.exit(0);
}

let auth;
if (command === 'private_key_jwt') {
  const jwk = JSON.parse(credential);
  const key = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  auth = client.PrivateKeyJwt({ key, kid: jwk.kid });
} else {
  auth = client.ClientSecretJwt(credential);
}

const config = new client.Configuration({ issuer, token_endpoint: tokenUrl }, clientId, undefined, auth);
// The test server is plain HTTP on loopback.
client.allowInsecureRequests(config);

let assertion = null;
const fetchAndKeep = async (url, options) => {
  const form = new URLSearchParams(options.body.toString());
  const jwt = form.get('client_assertion');
  assertion = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
  return fetch(url, options);
};
config[client.customFetch] = fetchAndKeep;

try {
  const tokens = await client.clientCredentialsGrant(config);
  console.log(JSON.stringify({ status: 200, body: { ...tokens }, assertion }));
} catch (err) {
  const body = { error: err.error ?? err.code ?? String(err), error_description: err.error_description ?? err.message };
  console.log(JSON.stringify({ status: err.status ?? 0, body, assertion }));
}
