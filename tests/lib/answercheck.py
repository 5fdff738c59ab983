#!/usr/bin/env python3
"""Check snowd's signature on a node-channel answer (lib/sign.h, docs/protocol.md).

usage: answercheck.py SECRET PATH NONCE HEADERS BODY
HEADERS is curl's -D dump of the answer, BODY its bytes (curl -o).  Exit 0
when X-Snow-Signature is the HMAC-SHA256, keyed with SECRET, of
ANSWER\\nPATH\\nNONCE\\nSTATUS\\nBODY; 1 (saying why) otherwise.  An independent
implementation of the canonical string, as nodesign.py is for requests."""
import hashlib, hmac, sys

secret, path, nonce, hfile, bfile = sys.argv[1:6]
lines = open(hfile, encoding="latin-1").read().splitlines()
status = lines[0].split()[1]
sig = [l.split(":", 1)[1].strip() for l in lines if l.lower().startswith("x-snow-signature:")]
body = open(bfile, "rb").read()
want = hmac.new(secret.encode(), ("ANSWER\n%s\n%s\n%s\n" % (path, nonce, status)).encode() + body,
                hashlib.sha256).hexdigest()
if not sig:
    sys.exit("answer not signed")
if not hmac.compare_digest(sig[0], want):
    sys.exit("answer signature %s, want %s" % (sig[0], want))
