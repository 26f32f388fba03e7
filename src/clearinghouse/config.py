"""Settings, read once from the environment and the data folder's ``clearinghouse.toml``.

The data folder (the SQLite database, the ledger signing key and the
envelope-encryption keys) is ``CLEARINGHOUSE_HOME`` when set; else the one a
``clearinghouse.toml`` names (``home = "var"``, relative to the file), found by
walking up from the current folder; else there is none and commands refuse
(:class:`NoDataFolder`) rather than make a new one. Only ``clearinghouse init``
and ``clearinghouse serve --init`` create a data folder and its
``clearinghouse.toml``.

``CLEARINGHOUSE_DATABASE_URL`` selects another database (PostgreSQL 15 for
scale); by default it is SQLite at ``<home>/clearinghouse.db``. The CSAF
publisher (name, namespace, category, contact) comes from
``CLEARINGHOUSE_PUBLISHER_NAME`` / ``_NAMESPACE`` / ``_CATEGORY`` / ``_CONTACT``,
else the ``[publisher]`` table of ``clearinghouse.toml``, else the defaults. The operating
office and the section of the order it acts under come from
``CLEARINGHOUSE_OPERATOR_OFFICE`` / ``_SECTION``, else the ``[operator]`` table (``office``,
``section``) that ``init`` writes, else the Department of the Treasury under EO 14409 §2(d).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from clearinghouse.domain import DEFAULT_OFFICE, DEFAULT_SECTION, OperatingIdentity

JobBackendName = Literal["inprocess", "procrastinate"]
CONFIG_FILE = "clearinghouse.toml"
PUBLISHER_CATEGORIES = ("coordinator", "discoverer", "other", "translator", "user", "vendor")


class NoDataFolder(ValueError):
    """No data folder is configured here: neither CLEARINGHOUSE_HOME nor a clearinghouse.toml."""


def find_config(start: Path | None = None) -> Path | None:
    """The nearest ``clearinghouse.toml`` in ``start`` (default: the current folder) or a folder above."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / CONFIG_FILE
        if path.is_file():
            return path
    return None


def _read_config(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None


@dataclass(frozen=True)
class PublisherSettings:
    """Who publishes this clearinghouse's CSAF documents (CSAF ``document/publisher``)."""

    name: str = "Clearinghouse"
    namespace: str = "https://clearinghouse.example.gov"
    category: str = "coordinator"
    contact: str | None = None


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    job_backend: JobBackendName
    max_request_bytes: int = 10 * 1024 * 1024
    max_batch_bytes: int = 512 * 1024 * 1024
    log_level: str = "INFO"
    # Threads that run the API's blocking (database) work, and so the most requests in progress
    # at once; more wait their turn in the event loop. Python runs one thread at a time, so more
    # threads than this only contend for the interpreter lock and queue on SQLite's one writer.
    request_threads: int = 16
    # Outbound requests to user-given URLs (``clearinghouse.outbound``): internal addresses an
    # operator allows (CIDRs, host names), and the timeouts every request has.
    outbound_allow: tuple[str, ...] = ()
    outbound_connect_timeout: float = 5.0
    outbound_read_timeout: float = 10.0
    outbound_total_timeout: float = 30.0
    operator_office: str = DEFAULT_OFFICE
    operator_section: str = DEFAULT_SECTION

    @property
    def identity(self) -> OperatingIdentity:
        """Who runs this clearinghouse (``CLEARINGHOUSE_OPERATOR_*``, else ``[operator]``)."""
        return OperatingIdentity(self.operator_office, self.operator_section)

    publisher: PublisherSettings = field(default_factory=PublisherSettings)
    config_path: Path | None = None
    # Addresses of reverse proxies whose X-Forwarded-For is believed (none by default):
    # from anyone else the header is ignored and the connecting address is the client.
    trusted_proxies: tuple[str, ...] = ()

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @classmethod
    def from_env(
        cls, environ: dict[str, str] | None = None, *, cwd: Path | None = None, home: Path | None = None
    ) -> Settings:
        """Settings from ``environ`` (default: the process environment).

        ``home`` (what ``init`` is about to create) is used when neither
        ``CLEARINGHOUSE_HOME`` nor a ``clearinghouse.toml`` names a data folder;
        without it that case raises :class:`NoDataFolder`.
        """
        env = dict(os.environ if environ is None else environ)
        config_path: Path | None = None
        config: dict[str, Any] = {}
        if env.get("CLEARINGHOUSE_HOME"):
            resolved = Path(env["CLEARINGHOUSE_HOME"]).expanduser().resolve()
            if (resolved / CONFIG_FILE).is_file():
                config_path = resolved / CONFIG_FILE
                config = _read_config(config_path)
        else:
            config_path = find_config(cwd)
            if config_path is not None:
                config = _read_config(config_path)
                resolved = (config_path.parent / str(config.get("home", "var"))).resolve()
            elif home is not None:
                resolved = home.resolve()
            else:
                start = (cwd or Path.cwd()).resolve()
                raise NoDataFolder(
                    f"no data folder here: CLEARINGHOUSE_HOME is not set and no {CONFIG_FILE} was found in "
                    f"{start} or a folder above it. Set CLEARINGHOUSE_HOME=/path/to/data, run the command "
                    f"in the folder where you ran `clearinghouse init` (it wrote {CONFIG_FILE}), or run "
                    "`clearinghouse init` here to create one."
                )
        home = resolved
        url = env.get("CLEARINGHOUSE_DATABASE_URL") or f"sqlite:///{home / 'clearinghouse.db'}"
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            # psycopg 3 is the one PostgreSQL driver the project ships.
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        default_backend: JobBackendName = "procrastinate" if url.startswith("postgresql") else "inprocess"
        backend = env.get("CLEARINGHOUSE_JOB_BACKEND", default_backend)
        if backend not in ("inprocess", "procrastinate"):
            raise ValueError(
                f"CLEARINGHOUSE_JOB_BACKEND must be 'inprocess' or 'procrastinate', not {backend!r}"
            )
        if backend == "procrastinate" and not url.startswith("postgresql"):
            raise ValueError("the procrastinate job backend needs a PostgreSQL database")
        return cls(
            home=home,
            database_url=url,
            job_backend=backend,  # type: ignore[arg-type]
            max_request_bytes=int(env.get("CLEARINGHOUSE_MAX_REQUEST_BYTES", 10 * 1024 * 1024)),
            max_batch_bytes=int(env.get("CLEARINGHOUSE_MAX_BATCH_BYTES", 512 * 1024 * 1024)),
            log_level=env.get("CLEARINGHOUSE_LOG_LEVEL", "INFO"),
            request_threads=_positive(env, "CLEARINGHOUSE_REQUEST_THREADS", 16),
            outbound_allow=tuple(
                e.strip() for e in env.get("CLEARINGHOUSE_OUTBOUND_ALLOW", "").split(",") if e.strip()
            ),
            outbound_connect_timeout=float(env.get("CLEARINGHOUSE_OUTBOUND_CONNECT_TIMEOUT", 5.0)),
            outbound_read_timeout=float(env.get("CLEARINGHOUSE_OUTBOUND_READ_TIMEOUT", 10.0)),
            outbound_total_timeout=float(env.get("CLEARINGHOUSE_OUTBOUND_TOTAL_TIMEOUT", 30.0)),
            operator_office=_operator(env, config, "office", DEFAULT_OFFICE),
            operator_section=_operator(env, config, "section", DEFAULT_SECTION),
            publisher=_publisher(env, config),
            config_path=config_path,
            trusted_proxies=tuple(
                p.strip() for p in env.get("CLEARINGHOUSE_TRUSTED_PROXIES", "").split(",") if p.strip()
            ),
        )

    @property
    def initialised(self) -> bool:
        """Whether ``init`` made this data folder (its keys exist)."""
        return (self.keys_dir / "ledger-ed25519.pem").is_file()

    def write_config(self, folder: Path) -> Path:
        """Write ``clearinghouse.toml`` in ``folder``: the data folder, the operator and the publisher."""
        path = folder / CONFIG_FILE
        try:
            home = self.home.relative_to(folder.resolve()).as_posix()
        except ValueError:
            home = self.home.as_posix()
        p = self.publisher
        lines = [
            "# Clearinghouse settings (written by `clearinghouse init`). Commands run in this folder or",
            "# below it use this data folder; CLEARINGHOUSE_HOME overrides it.",
            f"home = {_toml_str(home)}",
            "",
            "[operator]  # who runs this clearinghouse, under which section of the order",
            f"office = {_toml_str(self.operator_office)}",
            f"section = {_toml_str(self.operator_section)}",
            "",
            "[publisher]  # who publishes this clearinghouse's CSAF documents",
            f"name = {_toml_str(p.name)}",
            f"namespace = {_toml_str(p.namespace)}",
            f"category = {_toml_str(p.category)}",
        ]
        if p.contact:
            lines.append(f"contact = {_toml_str(p.contact)}")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def ensure_home(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.keys_dir.mkdir(mode=0o700, exist_ok=True)


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _positive(env: dict[str, str], name: str, default: int) -> int:
    """A whole number of at least 1 from ``name``, else ``default``; anything else is refused."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


def _operator(env: dict[str, str], config: dict[str, Any], key: str, default: str) -> str:
    """``CLEARINGHOUSE_OPERATOR_<KEY>``, else ``[operator].<key>`` of the config file, else ``default``."""
    table = config.get("operator")
    value = env.get(f"CLEARINGHOUSE_OPERATOR_{key.upper()}", "").strip()
    if not value and isinstance(table, dict):
        value = str(table.get(key) or "").strip()
    return value or default


def _publisher(env: dict[str, str], config: dict[str, Any]) -> PublisherSettings:
    table = config.get("publisher")
    section: dict[str, Any] = table if isinstance(table, dict) else {}
    default = PublisherSettings()

    def pick(key: str, fallback: str | None) -> str | None:
        value = env.get(f"CLEARINGHOUSE_PUBLISHER_{key.upper()}") or section.get(key) or fallback
        return str(value) if value is not None else None

    category = pick("category", default.category) or default.category
    if category not in PUBLISHER_CATEGORIES:
        raise ValueError(
            f"the publisher category must be one of {', '.join(PUBLISHER_CATEGORIES)}, not {category!r}"
        )
    namespace = pick("namespace", default.namespace) or default.namespace
    if not namespace.startswith(("https://", "http://")):
        raise ValueError(f"the publisher namespace must be a URL (https://...), not {namespace!r}")
    return PublisherSettings(
        name=pick("name", default.name) or default.name,
        namespace=namespace,
        category=category,
        contact=pick("contact", None),
    )
