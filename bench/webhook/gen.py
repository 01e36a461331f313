#!/usr/bin/env python3
"""Writes N Standard Webhooks requests, signed, one per line:
   webhook-id \t webhook-timestamp \t webhook-signature \t body
Each request carries EVENTS token.revoked events with fresh jtis, so no
request is a redelivery and every event is a new revocation.
Usage: gen.py SECRET_B64 N EVENTS ISS OUT"""
import base64
import hashlib
import hmac
import json
import sys
import time
import uuid

secret_b64, n, per, iss, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
key = base64.b64decode(secret_b64)
ts = str(int(time.time()))
exp = int(time.time()) + 3600
with open(out, "w") as f:
    for i in range(n):
        body = json.dumps({"events": [{"type": "token.revoked", "iss": iss,
                                       "jti": uuid.uuid4().hex, "exp": exp}
                                      for _ in range(per)]}, separators=(",", ":"))
        wid = f"msg_{uuid.uuid4().hex}"
        mac = hmac.new(key, f"{wid}.{ts}.{body}".encode(), hashlib.sha256).digest()
        sig = "v1," + base64.b64encode(mac).decode()
        f.write(f"{wid}\t{ts}\t{sig}\t{body}\n")
