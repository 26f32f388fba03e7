# CVE-2021-33503 (PYSEC-2021-108): many "@" in the authority make parse_url backtrack catastrophically.
from urllib3.util.url import parse_url

try:
    parse_url("http://" + "@" * 30000 + "[")
except Exception as exc:  # the fixed parser refuses the URL at once
    print("refused", type(exc).__name__)
print("parsed")
