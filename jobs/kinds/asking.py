"""Asking the AI provider from a job: the answer streams into the stage message, and a
provider's failure becomes the job's, worded for its owner."""

from __future__ import annotations

from django.conf import settings

from jobs.engine.context import JobContext, JobError
from jobs.provider import chat

# The most of one document sent to the model in a single request.
MAX_INPUT_CHARS = 60_000


def engine_name() -> str:
    return f"AI model {settings.AI_MODEL}" if chat.configured() else "offline analysis"


def stream_into(
    ctx: JobContext, label: str, messages: list[dict], *, until: float = 1.0, expected: int = 300
) -> str:
    """Ask the model, showing the answer arrive in the stage message as it streams.

    The stage's progress moves from where it is towards `until` as chunks arrive, by the
    chunks received against the `expected` length of the answer (about one token each),
    stopping short of `until` until the answer is complete.
    """
    start = ctx.stage_fraction

    def on_progress(chunks: int, text: str) -> None:
        share = min(0.95, chunks / max(1, expected))
        ctx.progress(start + (until - start) * share, f"{label}: {chunks} tokens received so far")

    def on_wait(seconds: float, attempt: int) -> None:
        ctx.message(f"{label}: rate-limited by the model, retrying in {seconds:.0f} s ({attempt})")

    try:
        # The wait is the model's: the job's database connection is not needed meanwhile.
        with ctx.waiting():
            return chat.complete(messages, on_progress=on_progress, on_wait=on_wait)
    except chat.ProviderError as error:
        raise JobError(str(error), retryable=error.retryable) from error


def ask(
    ctx: JobContext, label: str, system: str, user: str, *, until: float = 1.0, expected: int = 300
) -> str:
    """One model answer to a system prompt and a user message, streamed into the stage."""
    return stream_into(
        ctx,
        label,
        [{"role": "system", "content": system}, {"role": "user", "content": user}],
        until=until,
        expected=expected,
    )
