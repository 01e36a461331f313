"""oidc-provider (pinned in package.json; a certified OpenID Provider) as
the identity provider, over loopback (REFERENCE §2 `discovery`, §3, §5.3, §6).

- revokd with `discovery: true` finds the JWKS through the provider's
  /.well-known/openid-configuration;
- the provider's JWT access tokens (resource indicators, RFC 8707; typ
  at+jwt, aud the resource server) are allowed, for the authorization code
  and client credentials grants, signed with RS256, PS256, ES256 and EdDSA;
- its ID tokens are refused at /auth (aud is the client: invalid audience);
- key rotation (a new signing key first in the provider's JWKS, then the old
  one gone) is followed;
- a logout at the provider (RP-initiated logout, end_session) delivers its
  back-channel logout token to revokd, and the session's tokens are denied.

The login goes through the provider's own development interactions (login
and consent forms), driven with a cookie-keeping HTTP session."""
import json
import os
import re
import subprocess
import time
import urllib.parse

import pytest
import requests

import revokd_fixtures as ic
from interop_support import (HERE, JS, NODE, assert_allow, assert_deny, finish_server,
                      jose_keygen, jws_parts, start_server, write_file)

RESOURCE = "https://orders.test/"
REDIRECT = "http://127.0.0.1/cb"
SECRET = "app-secret-0123456789"


class IdP:
    def __init__(self, port, keys, alg, bcl_uri):
        self.port = port
        self.iss = f"http://127.0.0.1:{port}"
        self.alg = alg
        self.bcl_uri = bcl_uri
        self.proc = None
        self.start(keys)

    def start(self, keys):
        cfg = {"port": self.port, "keys": keys, "alg": self.alg,
               "backchannel_logout_uri": self.bcl_uri}
        self.log = open(os.path.join("/tmp", f"idp-{self.port}.log"), "ab")
        self.proc = subprocess.Popen([NODE, os.path.join(JS, "idp.mjs"), json.dumps(cfg)],
                                     stdout=subprocess.PIPE, stderr=self.log, cwd=HERE)
        line = self.proc.stdout.readline().decode()
        assert line.strip() == "ready", f"oidc-provider did not start: {line!r}"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.log.close()

    def restart(self, keys):
        self.stop()
        self.start(keys)

    def login(self, user="alice", nonce="n-0S6"):
        """Authorization code flow through the dev interactions; returns
        (http session, token response)."""
        s = requests.Session()
        url = self.iss + "/auth?" + urllib.parse.urlencode(dict(
            client_id="app", response_type="code", scope="openid read",
            redirect_uri=REDIRECT, resource=RESOURCE, nonce=nonce))

        def follow(r):
            while r.status_code in (302, 303):
                loc = urllib.parse.urljoin(r.url, r.headers["location"])
                if loc.startswith(REDIRECT):
                    return loc
                r = s.get(loc, allow_redirects=False, timeout=10)
            assert r.status_code == 200, (r.status_code, r.text[:500])
            return r

        r = follow(s.get(url, allow_redirects=False, timeout=10))
        for form in ({"prompt": "login", "login": user, "password": "x"}, {"prompt": "consent"}):
            if isinstance(r, str):
                break
            uid = r.url.rsplit("/", 1)[1]
            r = follow(s.post(f"{self.iss}/interaction/{uid}", data=form,
                              allow_redirects=False, timeout=10))
        assert isinstance(r, str), "no code"
        code = urllib.parse.parse_qs(urllib.parse.urlparse(r).query)["code"][0]
        t = requests.post(self.iss + "/token", auth=("app", SECRET), timeout=10,
                          data=dict(grant_type="authorization_code", code=code,
                                    redirect_uri=REDIRECT, resource=RESOURCE))
        assert t.status_code == 200, t.text
        return s, t.json()

    def client_credentials(self):
        t = requests.post(self.iss + "/token", auth=("app", SECRET), timeout=10,
                          data=dict(grant_type="client_credentials", scope="read",
                                    resource=RESOURCE))
        assert t.status_code == 200, t.text
        return t.json()["access_token"]

    def logout(self, s):
        r = s.get(self.iss + "/session/end", timeout=10)
        assert r.status_code == 200, r.text[:500]
        xsrf = re.search(r'name="xsrf" value="([^"]+)"', r.text).group(1)
        r = s.post(self.iss + "/session/end/confirm", data={"xsrf": xsrf, "logout": "yes"},
                   allow_redirects=False, timeout=10)
        assert r.status_code == 303, r.text[:500]


def signing_keys(alg, n=1, tag="k"):
    gen = jose_keygen([alg] * 1)
    out = []
    for i in range(n):
        k = dict(gen[alg]["private_jwk"]) if i == 0 else dict(jose_keygen([alg])[alg]["private_jwk"])
        k.update(kid=f"{tag}{i + 1}-{alg.lower()}", alg=alg, use="sig")
        out.append(k)
    return out


def start_pair(tmp_path, alg, keys, jwks_refresh=300):
    """The IdP on a loopback port, then revokd with discovery against it;
    revokd's port is chosen first so that the IdP's client can name its
    back-channel logout URI."""
    rport, iport = ic.free_port(), ic.free_port()
    idp = IdP(iport, keys, alg, f"http://127.0.0.1:{rport}/v1/backchannel-logout")
    d = str(tmp_path)
    write_file(os.path.join(d, "keys", "admin.token"), "test-admin-token-0123456789\n")
    cfg = {"data_dir": "data", "threads": 2, "log_format": "json",
           "admin": {"token_file": "keys/admin.token"},
           "issuers": [{"issuer": idp.iss, "discovery": True, "audiences": ["orders-api"],
                        "algorithms": ["RS256", "PS256", "ES256", "EdDSA"],
                        "jwks_refresh": jwks_refresh, "backchannel_client_id": "app"}]}
    orig = ic.free_port
    ic.free_port = lambda: rport
    try:
        srv = start_server(d, cfg)
    except BaseException:
        idp.stop()
        raise
    finally:
        ic.free_port = orig
    return idp, srv


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "EdDSA"])
def test_access_tokens_allowed_id_token_refused(tmp_path, alg):
    idp, srv = start_pair(tmp_path, alg, signing_keys(alg))
    try:
        _, tokens = idp.login()
        at, idt = tokens["access_token"], tokens["id_token"]
        h, p = jws_parts(at)
        assert h["typ"] == "at+jwt" and h["alg"] == alg and p["aud"] == "orders-api"
        r = srv.auth(at)
        assert_allow(r, sub="alice")
        assert r.headers["X-Auth-Token-Id"] == p["jti"]
        # the ID token: aud is the client, and it carries the login's nonce
        h, p = jws_parts(idt)
        assert p["aud"] == "app" and p["nonce"] == "n-0S6"
        assert_deny(srv.auth(idt), "invalid audience")
        # client credentials: a JWT access token with no user session
        cc = idp.client_credentials()
        assert jws_parts(cc)[1]["sub"] == "app"
        assert_allow(srv.auth(cc))
        # a token the provider never issued, signed with a key it does not
        # publish, is refused: its kid is unknown
        other = signing_keys(alg, tag="x")[0]
        from interop_support import jose_sign
        forged = jose_sign([{"alg": alg, "key": other, "header": {"kid": other["kid"], "typ": "at+jwt"},
                             "payload": jws_parts(at)[1]}])[0]
        assert_deny(srv.auth(forged), "unknown key")
        # and one under the real kid but the wrong key: invalid signature
        forged = jose_sign([{"alg": alg, "key": other,
                             "header": {"kid": jws_parts(at)[0]["kid"], "typ": "at+jwt"},
                             "payload": jws_parts(at)[1]}])[0]
        assert_deny(srv.auth(forged), "invalid signature")
    finally:
        finish_server(srv)
        idp.stop()


def wait_for(fn, timeout=15):
    deadline = time.time() + timeout
    while True:
        r = fn()
        if r or time.time() > deadline:
            return r
        time.sleep(0.2)


def reason(r):
    m = re.search(r'error_description="([^"]*)"', r.headers.get("WWW-Authenticate", ""))
    return m.group(1) if m else None


def test_key_rotation_followed(tmp_path):
    k1 = signing_keys("ES256", tag="a")[0]
    k2 = signing_keys("ES256", tag="b")[0]
    idp, srv = start_pair(tmp_path, "ES256", [k1], jwks_refresh=1)
    try:
        old = idp.client_credentials()
        assert_allow(srv.auth(old))
        # rotation, step 1: a new signing key first, the old one still published
        idp.restart([k2, k1])
        new = idp.client_credentials()
        assert jws_parts(new)[0]["kid"] == k2["kid"]
        assert wait_for(lambda: srv.auth(new).status_code == 200), reason(srv.auth(new))
        assert_allow(srv.auth(old))
        # step 2: the old key retired; its tokens go with it
        idp.restart([k2])
        assert wait_for(lambda: reason(srv.auth(old)) == "unknown key"), reason(srv.auth(old))
        assert_allow(srv.auth(new))
    finally:
        finish_server(srv)
        idp.stop()


def test_backchannel_logout_denies_the_session(tmp_path):
    idp, srv = start_pair(tmp_path, "PS256", signing_keys("PS256"))
    try:
        s, tokens = idp.login()
        at = tokens["access_token"]
        sid = jws_parts(at)[1]["sid"]
        s2, tokens2 = idp.login(user="bob")           # another session, untouched
        assert_allow(srv.auth(at))
        assert_allow(srv.auth(tokens2["access_token"]))
        idp.logout(s)
        assert wait_for(lambda: reason(srv.auth(at)) == "session revoked"), reason(srv.auth(at))
        assert_allow(srv.auth(tokens2["access_token"]))
        r = srv.admin("GET", "/admin/v1/revocations?type=session")
        items = r.json()["items"]
        assert [(i["id"], i["source"]) for i in items] == [(sid, "backchannel")], items
        # a token of the same session minted after? the session is gone at the
        # provider: a new login is a new sid, allowed
        _, tokens3 = idp.login()
        assert jws_parts(tokens3["access_token"])[1]["sid"] != sid
        assert_allow(srv.auth(tokens3["access_token"]))
    finally:
        finish_server(srv)
        idp.stop()
