#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (run from any folder).

Tokens are minted with PyJWT (an independent implementation) with the fixed
keys of fuzz_keys.h; they are valid at FUZZ_NOW. Re-running rewrites the
files named here and leaves every other file (saved crashes) alone.
"""
import json
import os
import jwt

HERE = os.path.dirname(os.path.abspath(__file__))
ISS = "https://fuzz.example"
NOW = 1764190000
SECRET = b"fuzz-secret-0123456789abcdef-0123"
with open(os.path.join(HERE, "keys", "fuzz_p256.pem"), "rb") as f:
    ES_PRIV = f.read()

CLAIMS = {"iss": ISS, "sub": "u1", "jti": "j1", "sid": "s1",
          "iat": NOW - 10, "exp": NOW + 3600, "aud": ["a", "b"]}


def hs(claims, **headers):
    return jwt.encode(claims, SECRET, algorithm="HS256", headers=headers or None)


def es(claims, **headers):
    return jwt.encode(claims, ES_PRIV, algorithm="ES256", headers=headers or None)


def write(target, name, data):
    folder = os.path.join(HERE, "seeds", target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


jws = {
    "hs256_valid": hs(CLAIMS, kid="h1"),
    "es256_valid": es(CLAIMS, kid="e1"),
    "hs256_at_jwt": hs(CLAIMS, kid="h1", typ="at+jwt"),
    "hs256_nokid": hs(CLAIMS),
    "expired": hs(dict(CLAIMS, exp=NOW - 100, iat=NOW - 200), kid="h1"),
    "logout": hs(dict(CLAIMS, events={"http://schemas.openid.net/event/backchannel-logout": {}}),
                 kid="h1", typ="logout+jwt"),
    "crit": hs(CLAIMS, kid="h1", crit=["exp"]),
    "other_issuer": hs(dict(CLAIMS, iss="https://evil"), kid="h1"),
    "wrong_key": jwt.encode(CLAIMS, b"not-the-secret", algorithm="HS256", headers={"kid": "h1"}),
    "alg_none": jwt.encode(CLAIMS, None, algorithm="none"),
    "malformed_two_segments": "eyJhbGciOiJIUzI1NiJ9.e30",
    "malformed_chars": "eyJhbGciOiJIUzI1NiJ9.e30=.abc",
    "empty": "",
}
for name, tok in jws.items():
    write("fuzz_jws", name, tok)

diff = {
    "construct_plain": b"\x00" + json.dumps({"alg": "HS256", "typ": "JWT"}).encode()
                       + b"\x00" + json.dumps(CLAIMS).encode(),
    "construct_notyp": b"\x00{\"alg\":\"HS256\"}\x00{\"a\":[1,2.5,null,true]}",
    "construct_dup": b"\x00{\"alg\":\"HS256\",\"alg\":\"HS256\"}\x00{}",
    "construct_bad_alg": b"\x00{\"alg\":\"hs256\"}\x00{}",
    "raw_hs256": b"\x01" + hs(CLAIMS).encode(),
    "raw_hs256_wrong": b"\x01" + jwt.encode(CLAIMS, b"x", algorithm="HS256").encode(),
    "raw_es256": b"\x03" + es(CLAIMS).encode(),
    "raw_es256_other": b"\x03" + es(dict(CLAIMS, sub="u2")).encode(),
}
for name, data in diff.items():
    write("fuzz_differential", name, data)
