# CVE-2019-10906 (PYSEC-2019-217): str.format_map escapes Jinja's sandbox.
from jinja2.sandbox import SandboxedEnvironment
from jinja2.exceptions import SecurityError

env = SandboxedEnvironment()
try:
    out = env.from_string("{{ '{x.__class__.__mro__}'.format_map({'x': 42}) }}").render()
except SecurityError:
    out = "blocked"
print("SANDBOX-ESCAPE" if "object" in out else out)
