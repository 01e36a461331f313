"""SIGHUP with a bad key file (docs/OPERATIONS.md §5): the reload fails as a
whole, the log says `key reload failed; the old keys stay`, and tokens keep
verifying with the old keys; once the file is fixed, the next SIGHUP loads
the new key (and the old one is gone). Polling with generous deadlines only."""
import os
import signal
import uuid

import requests

from conftest import assert_allow, assert_clean_exit, assert_deny, pem_public
from support_extra import logged, wait_for

FAILED = "key reload failed; the old keys stay"


def replace_file(path, data):
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def test_sighup_with_a_bad_key_file_keeps_the_old_keys(make_server, keys, fast_mint):
    mint = fast_mint
    srv = make_server()
    pem = os.path.join(srv.workdir, "keys", "rsa.pem")
    cached = mint.token("RS256", jti=str(uuid.uuid4()))
    assert_allow(srv.auth(cached))

    # 1. A key file that is not a key: the reload is refused.
    replace_file(pem, b"-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n")
    srv.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: logged(srv, FAILED), 30, "the reload failure is logged")
    rec = logged(srv, FAILED)
    assert len(rec) == 1, rec
    assert rec[0]["level"] == "error"
    # It names the config key at fault.
    assert rec[0]["error"].endswith(
        "issuers[0].keys[0].pem_file: not a PEM public key (-----BEGIN PUBLIC KEY-----)"), rec[0]
    assert srv.proc.poll() is None
    # The old keys stay: the cached token, a fresh one (a signature check
    # from scratch) and the other issuers' keys all still verify.
    assert_allow(srv.auth(cached))
    assert_allow(srv.auth(mint.token("RS256", jti=str(uuid.uuid4()))))
    assert_allow(srv.auth(mint.token("ES256")))
    assert_allow(srv.auth(mint.token("HS256")))
    assert_deny(srv.auth(mint.token("RS256", key=keys.rsa_other)), "invalid signature")
    assert requests.get(srv.url + "/readyz", timeout=10).status_code == 200

    # 2. A file that does not exist any more: refused the same way.
    os.unlink(pem)
    srv.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: len(logged(srv, FAILED)) == 2, 30, "second failure logged")
    assert_allow(srv.auth(mint.token("RS256", jti=str(uuid.uuid4()))))

    # 3. The file fixed, with a new key: the next SIGHUP loads it.
    replace_file(pem, pem_public(keys.rsa_other))
    srv.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: len(logged(srv, "SIGHUP: reloading keys and secrets")) == 3, 30,
             "third SIGHUP seen")
    wait_for(lambda: srv.auth(mint.token("RS256", key=keys.rsa_other)).status_code == 200,
             30, "the new key verifies")
    assert_allow(srv.auth(mint.token("RS256", key=keys.rsa_other)))
    # The old key is gone, for fresh tokens and for the cached one alike.
    assert_deny(srv.auth(mint.token("RS256", jti=str(uuid.uuid4()))), "invalid signature")
    assert_deny(srv.auth(cached), "invalid signature")
    assert len(logged(srv, FAILED)) == 2
    assert_clean_exit(srv)
