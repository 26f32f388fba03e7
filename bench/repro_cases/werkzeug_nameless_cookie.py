# CVE-2023-23934 (PYSEC-2023-57): a nameless cookie "=__Host-test=bad" is parsed as "__Host-test",
# letting an adjacent subdomain shadow a __Host- cookie.
from werkzeug.http import parse_cookie

print("SHADOWED" if parse_cookie("=__Host-test=bad").get("__Host-test") == "bad" else "ok")
