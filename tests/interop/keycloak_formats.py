"""Keycloak's wire formats, version by version, built field by field from
Keycloak's own token classes (org.keycloak.representations.*), for
tests/interop/test_keycloak.py. jose signs them.

- JsonWebToken: jti, exp, nbf, iat, iss, aud, sub, typ (the payload's own
  "typ": "Bearer" for access tokens, "ID" for ID tokens, "Logout" for logout
  tokens; TokenUtil.TOKEN_TYPE_*), azp.
- IDToken (extends JsonWebToken): nonce, auth_time, session_state (up to
  25; gone in 26, which keeps sid), at_hash, acr, sid, and the profile
  claims (preferred_username, email_verified, ...).
- AccessToken (extends IDToken): allowed-origins, realm_access,
  resource_access, scope. Up to Keycloak 24 the client's nonce is copied
  into the access token when the client sent one; from 25 on it is only in
  the ID token. Keycloak 26.1 prefixes the jti ("onrtac:" for an online
  access token).
- LogoutToken (extends JsonWebToken): sid, events
  {"http://schemas.openid.net/event/backchannel-logout":
  {"revoke_offline_access": bool}}; payload typ "Logout". Its JOSE header
  typ is "JWT" up to Keycloak 24 and "logout+jwt" from 25 on
  (DefaultTokenManager picks the header type by TokenCategory).
- AdminAction: id, expiration (seconds), resource (the client id), action;
  PushNotBeforeAction adds notBefore (action "PUSH_NOT_BEFORE"),
  LogoutAction adds adapterSessionIds and notBefore (action "LOGOUT").
  Sent to the client's admin URL + /k_push_not_before or /k_logout as a
  compact JWS (header typ "JWT"), Content-Type text/plain.

Header: {"alg", "typ", "kid"}; the realm's default signature algorithm is
RS256 unless set otherwise (Keycloak offers every JWS algorithm)."""
import time
import uuid

BCL = "http://schemas.openid.net/event/backchannel-logout"
VERSIONS = (22, 24, 25, 26)


def _jti(version):
    j = str(uuid.uuid4())
    return ("onrtac:" + j) if version >= 26 else j


def access_token(version, iss, sid, sub="f1c3a9a2-5d0e-4b1f-9d1e-000000000001",
                 client="web", aud=("orders-api", "account"), nonce=None, now=None):
    """The payload of Keycloak's AccessToken for a user session."""
    now = now or int(time.time())
    p = {
        "exp": now + 300, "iat": now, "auth_time": now - 5, "jti": _jti(version),
        "iss": iss, "aud": list(aud), "sub": sub, "typ": "Bearer", "azp": client,
    }
    if nonce is not None and version <= 24:
        p["nonce"] = nonce
    if version <= 25:
        p["session_state"] = sid
    p.update({
        "acr": "1",
        "allowed-origins": ["https://app.example"],
        "realm_access": {"roles": ["offline_access", "uma_authorization", "default-roles-main"]},
        "resource_access": {"account": {"roles": ["manage-account", "view-profile"]}},
        "scope": "openid profile email",
        "sid": sid,
        "email_verified": True,
        "preferred_username": "alice",
        "email": "alice@example.com",
    })
    return p


def id_token(version, iss, sid, client="web", nonce="n-0S6_WzA2Mj", now=None):
    now = now or int(time.time())
    p = {"exp": now + 300, "iat": now, "auth_time": now - 5, "jti": str(uuid.uuid4()),
         "iss": iss, "aud": client, "sub": "f1c3a9a2-5d0e-4b1f-9d1e-000000000001",
         "typ": "ID", "azp": client, "nonce": nonce}
    if version <= 25:
        p["session_state"] = sid
    p.update({"at_hash": "x4KD0RBkTrb1Oq9LXJ3tOQ", "acr": "1", "sid": sid,
              "email_verified": True, "preferred_username": "alice"})
    return p


def logout_header_typ(version):
    return "JWT" if version <= 24 else "logout+jwt"


def logout_token(iss, sid, client="gateway", sub="f1c3a9a2-5d0e-4b1f-9d1e-000000000001",
                 revoke_offline=False, now=None):
    now = now or int(time.time())
    return {"iat": now, "jti": str(uuid.uuid4()), "iss": iss, "aud": client, "sub": sub,
            "typ": "Logout", "sid": sid,
            "events": {BCL: {"revoke_offline_access": revoke_offline}}}


def push_not_before(client, not_before, now=None):
    now = now or int(time.time())
    return {"id": str(uuid.uuid4()), "expiration": now + 30, "resource": client,
            "action": "PUSH_NOT_BEFORE", "notBefore": not_before}


def logout_action(client, not_before, adapter_session_ids=None, now=None):
    now = now or int(time.time())
    return {"id": str(uuid.uuid4()), "expiration": now + 30, "resource": client,
            "action": "LOGOUT", "adapterSessionIds": adapter_session_ids,
            "notBefore": not_before}
