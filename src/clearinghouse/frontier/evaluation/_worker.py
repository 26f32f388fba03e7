"""The evaluation worker: one Inspect eval in its own process.

``python -m clearinghouse.frontier.evaluation._worker PLAN`` reads the plan
(JSON written by the launch job: tasks with their files, epochs and limits,
the model, the log folder, the progress file), runs every task in one
``inspect_ai.eval`` call and keeps ``progress.json`` up to date (samples done
of samples total) as samples finish. It never touches the database: the
collect job reads the logs back. The endpoint's base URL and API key arrive
in this process's environment only (``ENDPOINT_BASE_URL``,
``ENDPOINT_API_KEY``), never in the plan, a log or a command line.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import socket
import sys
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspect_ai import Epochs, Task, task_with
from inspect_ai import eval as inspect_eval
from inspect_ai.hooks import Hooks, SampleEnd, hooks
from inspect_ai.model import Model

ENDPOINT_SERVICE = "endpoint"  # inspect's openai-api/<service>/<model>: ENDPOINT_BASE_URL, ENDPOINT_API_KEY


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically (a reader never sees half a file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def read_progress(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data


@dataclass
class Progress:
    """The progress file, rewritten as samples end."""

    path: Path
    total: int
    done: int = 0
    state: str = "running"
    error: str | None = None
    logs: list[dict[str, str]] = field(default_factory=list)
    started_at: str = field(default_factory=now)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def write(self) -> None:
        write_json(
            self.path,
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "state": self.state,
                "samples_total": self.total,
                "samples_done": min(self.done, self.total),
                "started_at": self.started_at,
                "updated_at": now(),
                "logs": self.logs,
                "error": self.error,
            },
        )

    def sample_done(self) -> None:
        with self._lock:
            self.done += 1
            self.write()


_current: Progress | None = None


@hooks(
    name="clearinghouse_progress", description="Counts finished samples into the campaign's progress file."
)
class ProgressHooks(Hooks):
    def enabled(self) -> bool:
        return _current is not None

    async def on_sample_end(self, data: SampleEnd) -> None:
        if _current is not None:
            _current.sample_done()


def load_task(directory: Path, file: str, function: str) -> Task:
    """Import ``file`` from a suite folder and call its task function."""
    path = (directory / file).resolve()
    if directory.resolve() not in path.parents:
        raise ValueError(f"{file} is outside the suite folder")
    name = f"clearinghouse_suite_{abs(hash(str(path)))}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ValueError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    made = getattr(module, function)()
    if not isinstance(made, Task):
        raise TypeError(f"{file}:{function} did not return an inspect_ai Task")
    return made


def prepare(entry: dict[str, Any]) -> Task:
    """A plan entry's task with the suite's epochs, limits and identity applied."""
    loaded = load_task(Path(entry["suite_dir"]), entry["file"], entry["function"])
    limits = entry.get("limits") or {}
    return task_with(
        loaded,
        epochs=Epochs(int(entry["epochs"])),
        message_limit=limits.get("messages"),
        token_limit=limits.get("tokens"),
        time_limit=limits.get("time"),
        metadata={**(loaded.metadata or {}), "clearinghouse_task_id": entry["task_id"]},
    )


def run_plan(plan: dict[str, Any], model: str | Model | None = None) -> list[dict[str, str]]:
    """Run the plan's tasks in one eval; returns ``[{task_id, log_file}]``.

    ``model`` overrides the plan's (tests pass a scripted ``mockllm`` model).
    """
    global _current
    log_dir = Path(plan["log_dir"])
    log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    entries = plan["tasks"]
    progress = Progress(Path(plan["progress_file"]), 0)
    try:
        tasks = [prepare(entry) for entry in entries]
        progress.total = sum(len(t.dataset) * int(e["epochs"]) for t, e in zip(tasks, entries, strict=True))
        progress.write()
        _current = progress
        logs = inspect_eval(
            tasks,
            model=model or plan["model"],
            log_dir=str(log_dir),
            log_format="eval",
            display="none",
            fail_on_error=False,
            max_tasks=int(plan.get("max_tasks", 4)),
            max_samples=int(plan.get("max_samples", 8)),
            score_display=False,
            max_retries=int(plan.get("max_retries", 5)),
            timeout=int(plan.get("request_timeout", 300)),
        )
        progress.logs = [
            {"task_id": entry["task_id"], "log_file": Path(log.location).name}
            for entry, log in zip(entries, logs, strict=True)
        ]
        progress.state = "finished"
    except BaseException as exc:
        progress.state = "failed"
        progress.error = "".join(traceback.format_exception_only(exc)).strip()[-2000:]
        raise
    finally:
        _current = None
        progress.write()
    return progress.logs


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m clearinghouse.frontier.evaluation._worker PLAN.json", file=sys.stderr)
        return 2
    plan = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    try:
        run_plan(plan)
    except Exception:
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover - the subprocess entry point
    raise SystemExit(main())
