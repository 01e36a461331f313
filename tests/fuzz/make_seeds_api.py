#!/usr/bin/python3
"""Writes the seed corpora of the API-side fuzz targets (fuzz_events,
fuzz_listquery, fuzz_keycloak_push, fuzz_webhook_sig, fuzz_config); run from any
folder. Re-running rewrites the files named here and leaves every other file
(saved crashes) alone. Keycloak pushes are signed with PyJWT (an independent
implementation) with the secret of fuzz_keycloak_push.c.
"""
import json
import os
import jwt

HERE = os.path.dirname(os.path.abspath(__file__))
NOW = 1764190000
KC_SECRET = b"fuzz-keycloak-secret-0123456789abcdef"


def write(target, name, data):
    folder = os.path.join(HERE, "seeds", target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def j(o):
    return json.dumps(o, separators=(",", ":"))


events = {
    "token": j({"type": "token.revoked", "jti": "j1", "exp": NOW + 100, "reason": "r"}),
    "session": j({"type": "session.revoked", "sid": "s1", "iss": "https://a.example"}),
    "subject": j({"type": "subject.revoked", "sub": "u1", "at": NOW - 50}),
    "issuer": j({"type": "issuer.revoked", "iss": "https://b.example"}),
    "key": j({"type": "key.revoked", "kid": "k1", "reason": None}),
    "batch": j({"events": [{"type": "token.revoked", "jti": "a"},
                           {"type": "subject.revoked", "sub": "b", "iss": "https://b.example"}]}),
    "empty_batch": j({"events": []}),
    "bad_type": j({"type": "nope", "jti": "x"}),
    "future_at": j({"type": "token.revoked", "jti": "x", "at": NOW + 3600}),
    "huge_exp": '{"type":"token.revoked","jti":"x","exp":99999999999999999999}',
    "float_exp": '{"type":"token.revoked","jti":"x","exp":1e300}',
    "dup": '{"type":"token.revoked","jti":"x","jti":"y"}',
    "nul": '{"type":"token.revoked","jti":"a\\u0000b"}',
    "nested": "[" * 64 + "]" * 64,
    "not_utf8": b'{"type":"token.revoked","jti":"\xff"}',
}
for k, v in events.items():
    write("fuzz_events", k, v)

query = {
    "empty": "",
    "all": "token\nhttps://a.example\n10\n\nid-1",
    "bad_type": "tok\n\n\n",
    "limit_big": "\n\n1001\n",
    "limit_zero": "\n\n0000\n",
    "limit_long": "\n\n00000001\n",
    "cursor_junk": "session\n\n5\nAAAA\nx",
    "cursor_long": "\n\n\n" + "A" * 5000 + "\nx",
    "utf8_id": "key\n\n1000\n\n\u00e9\u4e2d",
}
for k, v in query.items():
    write("fuzz_listquery", k, v)


def push(claims, key=KC_SECRET, kid="h1"):
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": kid})


base = {"action": "PUSH_NOT_BEFORE", "resource": "revokd", "notBefore": NOW - 10,
        "expiration": NOW + 30, "id": "x", "realm": "r"}
keycloak = {
    "valid": push(base),
    "valid_crlf": push(base) + "\r\n",
    "clear": push(dict(base, notBefore=0)),
    "wrong_key": push(base, key=b"another-secret-another-secret-xx"),
    "other_resource": push(dict(base, resource="nobody")),
    "future": push(dict(base, notBefore=NOW + 3600)),
    "expired": push(dict(base, expiration=NOW - 3600)),
    "not_jws": "hello",
    "claims_valid": b"\x00" + j(base).encode(),
    "claims_huge_expiration": b"\x00" + j(dict(base, expiration=2**63 - 1)).encode(),
    "claims_negative": b"\x00" + j(dict(base, notBefore=-1)).encode(),
    "claims_wrong_action": b"\x00" + j(dict(base, action="LOGOUT")).encode(),
    "claims_string_nb": b"\x00" + j(dict(base, notBefore="1")).encode(),
    # LogoutAction (/k_logout): adapterSessionIds null, a list, a bad list
    "logout_action": push(dict(base, action="LOGOUT", adapterSessionIds=None)),
    "logout_action_ids": push(dict(base, action="LOGOUT", adapterSessionIds=["a1", "a2"])),
    "claims_logout_bad_ids": b"\x00" + j(dict(base, action="LOGOUT",
                                              adapterSessionIds=["a", 1])).encode(),
}
for k, v in keycloak.items():
    write("fuzz_keycloak_push", k, v)

webhook = {
    "plain": f"msg_1\n{NOW}\nv1,AAAA\n{{\"type\":\"token.revoked\",\"jti\":\"x\"}}",
    "two_entries": f"msg_1\n{NOW - 299}\nv1a,xx v1,AAAA  v2,BBBB\n{{}}",
    "stale": f"msg_1\n{NOW - 301}\nv1,AAAA\n",
    "long_ts": "m\n0000000000000000001\nv1,\n",
    "no_sig": "m\n1764190000",
    "empty_id": f"\n{NOW}\nv1,x\nbody",
    "spaces": f"m\n{NOW}\n" + " " * 64 + "\nbody\nwith\nlines",
}
for k, v in webhook.items():
    write("fuzz_webhook_sig", k, v)

cfg_full = {
    "listen": "127.0.0.1:8080", "admin_listen": "127.0.0.1:8081", "threads": 0,
    "data_dir": "data", "log_format": "json", "log_level": "info", "leeway": 30,
    "max_token_bytes": 8192, "max_token_lifetime": 86400, "require_jti": True,
    "forward_claims": {"sub": "X-Auth-Subject", "scope": "X-Auth-Scope"},
    "verified_cache": {"max_entries": 100000, "ttl": 300},
    "issuers": [{
        "issuer": "https://idp.example.com/realms/main", "audiences": ["orders-api"],
        "algorithms": ["RS256", "ES256", "HS256"],
        "keys": [{"kid": "rsa1", "alg": "RS256", "pem_file": "keys/rsa.pem"},
                 {"kid": "hs1", "alg": "HS256", "secret_file": "/k/hs.secret"}],
        "token_types": ["JWT", "at+jwt"], "backchannel_client_id": "gateway"}, {
        "issuer": "https://idp2.example.com", "algorithms": ["ES256"],
        "jwks_uri": "https://idp2.example.com/certs", "jwks_refresh": 300}],
    "webhook": {"secret_file": "webhook.secret", "tolerance": 300},
    "admin": {"token_file": "admin.token"},
    "set_audience": "https://revokd.example.com/",
}
config = {
    "full": json.dumps(cfg_full, indent=1),
    "minimal": j({"issuers": [{"issuer": "https://a", "algorithms": ["ES256"],
                               "keys": [{"alg": "ES256", "pem_file": "k.pem"}]}]}),
    "empty_object": "{}",
    "unknown_member": j({"nope": 1}),
    "dup": '{"leeway":1,"leeway":2}',
    "bad_number": '{"leeway":1e400}',
    "negative": '{"leeway":-1,"threads":-5}',
    "not_object": "[]",
}
with open(os.path.join(HERE, "..", "..", "deploy", "revokd.json")) as f:
    config["deploy"] = f.read()
for k, v in config.items():
    write("fuzz_config", k, v)
