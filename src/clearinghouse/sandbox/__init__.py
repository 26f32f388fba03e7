"""One way to run untrusted code: a bubblewrap sandbox.

Reproducers of findings and a model's tool calls in the frontier evaluation run only here; there is
no unsandboxed fallback. See ``docs/sandbox.md`` for what the sandbox isolates and how.
"""

from clearinghouse.sandbox._sandbox import (
    Mount,
    Sandbox,
    SandboxError,
    SandboxLimits,
    SandboxResult,
    SandboxSession,
    SandboxUnavailable,
    sandbox_available,
)

__all__ = [
    "Mount",
    "Sandbox",
    "SandboxError",
    "SandboxLimits",
    "SandboxResult",
    "SandboxSession",
    "SandboxUnavailable",
    "sandbox_available",
]
