"""authlib, the most used Python OAuth client, against a running Tessera, with its defaults.

Needs the PyPI packages `authlib` and `requests` (installed by .ci/run). Called by
tests/api/libraries.rs:

    python3 authlib_client.py keygen
        prints {"private": <RSA JWK>, "public": <its public JWK>}
    python3 authlib_client.py private_key_jwt TOKEN_URL AUDIENCE CLIENT_ID PRIVATE_JWK_JSON
    python3 authlib_client.py client_secret_jwt TOKEN_URL AUDIENCE CLIENT_ID SECRET
        fetch a client_credentials token and print {"status", "body", "assertion"} where
        "assertion" holds the claims authlib put in its client assertion.

AUDIENCE is the issuer's token endpoint as the issuer names it (the assertion's `aud`), which
differs from TOKEN_URL when the test server listens on an ephemeral loopback port.
"""

import base64
import json
import sys
import urllib.parse

from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import ClientSecretJWT, PrivateKeyJWT
from joserfc.jwk import RSAKey


def claims_of(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def fetch(method, token_url, audience, client_id, credential):
    if method == "private_key_jwt":
        key = RSAKey.import_key(json.loads(credential))
        auth = PrivateKeyJWT(token_endpoint=audience)
    else:
        key = credential
        auth = ClientSecretJWT(token_endpoint=audience)
    session = OAuth2Session(client_id, key, token_endpoint_auth_method=auth)
    sent = {}

    def keep_assertion(response, *args, **kwargs):
        form = urllib.parse.parse_qs(response.request.body)
        sent["assertion"] = claims_of(form["client_assertion"][0])

    session.hooks["response"].append(keep_assertion)
    try:
        token = session.fetch_token(token_url, grant_type="client_credentials")
        result = {"status": 200, "body": dict(token)}
    except OAuthError as err:  # the server refused: report what it said, the test asserts
        result = {"status": 400, "body": {"error": err.error, "error_description": err.description}}
    result["assertion"] = sent.get("assertion")
    print(json.dumps(result))


def main():
    if sys.argv[1] == "keygen":
        key = RSAKey.generate_key(2048, private=True)
        print(json.dumps({"private": key.as_dict(private=True), "public": key.as_dict(private=False)}))
        return
    fetch(*sys.argv[1:6])


main()
