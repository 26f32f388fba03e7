"""The reproduction lab's settings, read from the environment (``CLEARINGHOUSE_REPRO_*``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from clearinghouse.config import Settings


@dataclass(frozen=True)
class ReproSettings:
    cache_dir: Path
    pypi_index: str = "https://pypi.org/simple"
    pypi_json: str = "https://pypi.org/pypi"
    npm_registry: str = "https://registry.npmjs.org"
    attempts: int = 5
    bisect_attempts: int = 2
    workers: int = 1
    auto_validate: bool = False
    allow_internal: bool = False
    fetch_timeout_s: float = 60.0
    install_timeout_s: float = 600.0
    max_fetch_bytes: int = 256 << 20

    @classmethod
    def from_env(cls, settings: Settings, environ: dict[str, str] | None = None) -> ReproSettings:
        env = dict(os.environ if environ is None else environ)
        cache = Path(env.get("CLEARINGHOUSE_REPRO_CACHE") or settings.home / "repro").resolve()
        return cls(
            cache_dir=cache,
            pypi_index=env.get("CLEARINGHOUSE_REPRO_PYPI_INDEX", cls.pypi_index),
            pypi_json=env.get("CLEARINGHOUSE_REPRO_PYPI_JSON", cls.pypi_json),
            npm_registry=env.get("CLEARINGHOUSE_REPRO_NPM_REGISTRY", cls.npm_registry),
            attempts=max(1, int(env.get("CLEARINGHOUSE_REPRO_ATTEMPTS", cls.attempts))),
            bisect_attempts=max(1, int(env.get("CLEARINGHOUSE_REPRO_BISECT_ATTEMPTS", cls.bisect_attempts))),
            workers=max(1, int(env.get("CLEARINGHOUSE_REPRO_WORKERS", os.cpu_count() or 1))),
            auto_validate=env.get("CLEARINGHOUSE_REPRO_AUTO_VALIDATE", "0") == "1",
            allow_internal=env.get("CLEARINGHOUSE_REPRO_ALLOW_INTERNAL", "0") == "1",
        )

    def ensure_cache(self) -> None:
        """The cache is read by the sandbox's user: world-traversable, written only by us."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.cache_dir.chmod(0o755)
