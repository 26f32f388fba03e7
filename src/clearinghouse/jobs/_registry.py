"""The job registry: ``@job("name")`` binds a name to the function that does the work."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from clearinghouse.jobs._errors import UnknownJobError

if TYPE_CHECKING:
    from clearinghouse.jobs._context import JobContext, PhasedJobContext

JobFunction = Callable[..., object]
"""``fn(ctx: JobContext, **payload) -> None`` (``PhasedJobContext`` for a phased job); the return
value is ignored."""

F = TypeVar("F", bound=Callable[..., object])

DEFAULT_RETRIES = 3
DEFAULT_RETRY_DELAY_SECONDS = 10.0
MAX_RETRY_DELAY_SECONDS = 3600.0


@dataclass(frozen=True)
class JobDefinition:
    name: str
    fn: JobFunction
    retries: int
    retry_delay_seconds: float
    phased: bool = False

    @property
    def max_attempts(self) -> int:
        return self.retries + 1

    def retry_delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based): exponential, capped."""
        return retry_delay(self.retry_delay_seconds, attempt)

    def __call__(self, ctx: JobContext | PhasedJobContext, payload: Mapping[str, Any]) -> None:
        self.fn(ctx, **payload)


def retry_delay(base_seconds: float, attempt: int) -> float:
    if base_seconds <= 0:
        return 0.0
    return float(min(base_seconds * 2 ** max(attempt - 1, 0), MAX_RETRY_DELAY_SECONDS))


_lock = threading.Lock()
_registry: dict[str, JobDefinition] = {}


def job(
    name: str,
    *,
    retries: int = DEFAULT_RETRIES,
    retry_delay_seconds: float = DEFAULT_RETRY_DELAY_SECONDS,
    phased: bool = False,
) -> Callable[[F], F]:
    """Register ``fn(ctx, **payload)`` as the job ``name``.

    A failing job is tried again up to ``retries`` more times, waiting
    ``retry_delay_seconds`` and then twice as long each time (capped at an hour).

    An ordinary job runs in one unit of work (``ctx.uow``) that the runner
    commits with the job's "succeeded" mark: its effects land exactly once. A
    ``phased`` job does network I/O (a webhook POST, an SMTP send), which must
    never run inside a database transaction: it gets a
    :class:`~clearinghouse.jobs.PhasedJobContext` instead, opens short units of
    work itself (``ctx.read()``, ``ctx.write()``) around the I/O, and ends with
    ``ctx.finish()``, whose changes commit together with the mark. Its I/O is
    at least once (a worker lost between the I/O and the finish repeats it).
    """
    if not name or len(name) > 100:
        raise ValueError("a job name is 1 to 100 characters")
    if retries < 0:
        raise ValueError("retries cannot be negative")
    if retry_delay_seconds < 0:
        raise ValueError("retry_delay_seconds cannot be negative")

    def register(fn: F) -> F:
        definition = JobDefinition(name, fn, retries, retry_delay_seconds, phased)
        with _lock:
            existing = _registry.get(name)
            if existing is not None and _qualified(existing.fn) != _qualified(fn):
                raise ValueError(f"the job name {name!r} is already registered to {_qualified(existing.fn)}")
            _registry[name] = definition
        return fn

    return register


def _qualified(fn: Callable[..., object]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


_loaders: list[Callable[[], object]] = []


def on_first_lookup(loader: Callable[[], object]) -> None:
    """Run ``loader`` (which imports the modules whose ``@job`` functions register) before the
    first lookup. Entrypoints whose commands may never run a job (the CLI) register the features'
    jobs this way, so ``clearinghouse --help`` imports no feature; the API app and the worker
    import them at start."""
    with _lock:
        _loaders.append(loader)


def _load() -> None:
    with _lock:
        pending, _loaders[:] = list(_loaders), []
    for loader in pending:
        loader()


def get_job(name: str) -> JobDefinition:
    """The registered job ``name``; :class:`UnknownJobError` if there is none."""
    definition = _registry.get(name)
    if definition is None and _loaders:
        _load()
        definition = _registry.get(name)
    if definition is None:
        raise UnknownJobError(name)
    return definition


def registered_jobs() -> Mapping[str, JobDefinition]:
    """Every registered job, by name (a read-only view)."""
    _load()
    return MappingProxyType(_registry)
