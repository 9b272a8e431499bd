// A DPoP client made of panva's openid-client 6 (over oauth4webapi) and jose, driven by the API
// tests against the real server: client_credentials as a confidential client, then the password
// grant, a refresh and userinfo as a public one, every request with a fresh proof of the same
// key. Prints what it got, and jose's own RFC 7638 thumbprint of the key, as JSON.
import * as client from 'openid-client';
import * as jose from 'jose';

const [issuer, clientId, secret, publicId, username, password] = process.argv.slice(2);
const options = { execute: [client.allowInsecureRequests] };
const metadata = { id_token_signed_response_alg: 'ES256' };

const keyPair = await client.randomDPoPKeyPair('ES256');
const jkt = await jose.calculateJwkThumbprint(await jose.exportJWK(keyPair.publicKey));

const confidential = await client.discovery(
  new URL(issuer), clientId, { ...metadata, client_secret: secret }, client.ClientSecretBasic(secret), options);
const DPoP = client.getDPoPHandle(confidential, keyPair);
const credentials = await client.clientCredentialsGrant(confidential, { scope: 'reports:read' }, { DPoP });

const pub = await client.discovery(new URL(issuer), publicId, metadata, client.None(), options);
const publicDPoP = client.getDPoPHandle(pub, keyPair);
const first = await client.genericGrantRequest(
  pub, 'password', { username, password, scope: 'openid email' }, { DPoP: publicDPoP });
const refreshed = await client.refreshTokenGrant(pub, first.refresh_token, undefined, { DPoP: publicDPoP });
const userinfo = await client.fetchUserInfo(
  pub, refreshed.access_token, client.skipSubjectCheck, { DPoP: publicDPoP });

console.log(JSON.stringify({
  jkt,
  client_credentials: { token_type: credentials.token_type, access_token: credentials.access_token },
  password: { token_type: first.token_type, access_token: first.access_token },
  refresh: { token_type: refreshed.token_type, access_token: refreshed.access_token },
  userinfo,
}));
