#!/usr/bin/env python3
"""Print the curl header arguments of a signed node request (lib/sign.h).

usage: nodesign.py SECRET NAME METHOD PATH BODY [TIME [NONCE]]
An independent implementation of the canonical string, so tests catch a
signer and a verifier that agree with each other but not with the spec."""
import hashlib, hmac, sys, time

secret, name, method, path, body = sys.argv[1:6]
t = int(sys.argv[6]) if len(sys.argv) > 6 else int(time.time())
nonce = int(sys.argv[7]) if len(sys.argv) > 7 else time.time_ns() // 1000
canon = "%s\n%s\n%d\n%d\n" % (method, path, t, nonce)
sig = hmac.new(secret.encode(), canon.encode() + body.encode(), hashlib.sha256).hexdigest()
for h in ("X-Snow-Node: " + name, "X-Snow-Time: %d" % t, "X-Snow-Nonce: %d" % nonce,
          "X-Snow-Signature: " + sig):
    print("-H\n" + h)
