"""gunicorn's worker settings as the benchmark names them: ``production`` (the repository's
gunicorn.conf.py) or a spec such as ``sync:4`` or ``gthread:2x4:ka5``. Standard library only,
so that the test suite can check them without the benchmark's requirements."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_CONFIG = ROOT / "gunicorn.conf.py"
SERVER_SPEC = re.compile(
    r"^(?P<cls>sync|gthread)(?::(?P<workers>\d+)(?:x(?P<threads>\d+))?)?(?::ka(?P<keepalive>\d+))?$"
)


@dataclass(frozen=True)
class ServerSettings:
    """gunicorn's worker settings: ``production`` (those of the repository's
    gunicorn.conf.py) or a spec such as ``sync:4``, ``gthread:2x4`` or ``gthread:4x2:ka5``
    (worker class, processes x threads, keep-alive seconds)."""

    name: str
    worker_class: str
    workers: int
    threads: int = 1
    keepalive: int = 2

    @classmethod
    def parse(cls, spec: str) -> ServerSettings:
        """The settings a spec names; raises ValueError with the accepted forms otherwise."""
        spec = spec.strip()
        if spec == "production":
            return production_settings()
        match = SERVER_SPEC.match(spec)
        if match is None:
            raise ValueError(
                f"{spec!r} is not a server setting: use production, sync:4, gthread:2x4 or "
                "gthread:2x4:ka5"
            )
        worker_class = match["cls"]
        threads = int(match["threads"] or (4 if worker_class == "gthread" else 1))
        if worker_class == "sync" and threads != 1:
            raise ValueError(
                f"{spec!r}: sync workers have no threads: use production, sync:4, gthread:2x4 or "
                "gthread:2x4:ka5"
            )
        return cls(
            name=spec,
            worker_class=worker_class,
            workers=int(match["workers"] or 4),
            threads=threads,
            keepalive=int(match["keepalive"] or 2),
        )

    @property
    def label(self) -> str:
        """``sync × 4`` or ``gthread 2 × 4, keep-alive 5 s``."""
        if self.worker_class == "sync":
            return f"sync × {self.workers}"
        return f"{self.worker_class} {self.workers} × {self.threads}, keep-alive {self.keepalive} s"

    def arguments(self) -> list[str]:
        return [
            "--worker-class", self.worker_class,
            "--workers", str(self.workers),
            "--threads", str(self.threads),
            "--keep-alive", str(self.keepalive),
        ]  # fmt: skip


def production_settings(path: Path = PRODUCTION_CONFIG) -> ServerSettings:
    """The worker settings of gunicorn.conf.py, with gunicorn's defaults where it sets none."""
    values: dict[str, Any] = {}
    exec(compile(path.read_text(), str(path), "exec"), values)  # noqa: S102 - our own file
    return ServerSettings(
        name="production",
        worker_class=str(values.get("worker_class", "sync")),
        workers=int(values.get("workers", 1)),
        threads=int(values.get("threads", 1)),
        keepalive=int(values.get("keepalive", 2)),
    )
