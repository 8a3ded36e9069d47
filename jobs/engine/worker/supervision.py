"""The threads a worker cannot run without, and what happens when one of them dies.

A worker whose keeper has died would look alive while every job in it froze; one whose
sweep has died would leave other workers' lost jobs waiting. So a side thread that ends
while its worker runs ends the worker process, with a log line that says why and a
non-zero status: django-q2's sentinel (or `run_worker`, or the platform) starts a new
one, and the sweep of any live worker resumes the dead one's jobs from their checkpoints.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

# EX_SOFTWARE: "an internal software error has been detected".
EXIT_SIDE_THREAD_DIED = 70


class SideThread(threading.Thread):
    """A thread that runs as long as its worker: `work()` until `stop()`.

    If `work()` returns or raises while nobody asked it to stop, `on_death(thread, error)`
    is called; a worker process's default ends the process.
    """

    def __init__(self, name: str, on_death: Callable[[SideThread, BaseException | None], None]):
        # A daemon: a worker process that exits must not wait for it.
        super().__init__(name=name, daemon=True)
        self.on_death = on_death
        self.stopping = threading.Event()

    def work(self) -> None:
        raise NotImplementedError

    def cleanup(self) -> None:
        """After `work()`, whatever ended it (closing the thread's connection)."""

    def wake(self) -> None:
        """Make `work()` notice `stopping` at once."""

    def run(self) -> None:
        error = None
        try:
            self.work()
        except BaseException as exc:
            error = exc
        finally:
            self.cleanup()
        if not self.stopping.is_set():
            self.on_death(self, error)

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        self.wake()
        if self.is_alive():
            self.join(timeout)


def end_process(thread: SideThread, error: BaseException | None) -> None:
    """Log why, then end this worker process at once with EXIT_SIDE_THREAD_DIED.

    At once: its job threads are not daemons, so a normal exit would wait for jobs that
    can no longer report. Their advisory locks go with the process's connections.
    """
    logger.critical(
        "worker process %s: its %s thread died (%s); exiting with status %s to be "
        "restarted, its jobs resume from their checkpoints",
        os.getpid(),
        thread.name,
        f"{type(error).__name__}: {error}" if error else "it returned",
        EXIT_SIDE_THREAD_DIED,
        exc_info=error,
    )
    logging.shutdown()  # flushes every handler: the line must reach the log
    sys.stderr.flush()
    os._exit(EXIT_SIDE_THREAD_DIED)
