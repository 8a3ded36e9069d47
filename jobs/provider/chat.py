"""The OpenAI-compatible provider: streamed chat completions with readable failures.

The SDK's own retries are off: a rate-limited job waits here instead, so it can say
so on its page and stay cancellable between attempts.
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections.abc import Callable

import openai
from django.conf import settings


class ProviderError(Exception):
    """A failure of the provider, in words for the job's owner.

    `retryable` marks one that may pass (a timeout, an unreachable host, a 5xx).
    """

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


def configured() -> bool:
    return bool(settings.AI_BASE_URL and settings.AI_MODEL)


def client() -> openai.OpenAI:
    """One client per process and settings, shared by every job thread: each holds a
    connection pool and a TLS context, too much to make per request with hundreds of
    jobs streaming at once. The SDK's client is safe to share between threads."""
    key = (settings.AI_BASE_URL, settings.AI_API_KEY, settings.AI_TIMEOUT_SECONDS)
    with _clients_lock:
        found = _clients.get(key)
        if found is None:
            found = _clients[key] = openai.OpenAI(
                base_url=settings.AI_BASE_URL,
                # Local OpenAI-compatible servers often need no key, but the SDK insists.
                api_key=settings.AI_API_KEY or "not-needed",
                timeout=settings.AI_TIMEOUT_SECONDS,
                max_retries=0,
            )
        return found


_clients: dict[tuple, openai.OpenAI] = {}
_clients_lock = threading.Lock()


def retry_after(error: openai.RateLimitError, attempt: int) -> float:
    header = error.response.headers.get("retry-after", "") if error.response else ""
    seconds: float | None = None
    if header.strip().replace(".", "", 1).isdigit():
        seconds = float(header)
    elif header:
        parsed = email.utils.parsedate_to_datetime(header)
        if parsed is not None:
            seconds = parsed.timestamp() - time.time()
    if seconds is None:
        seconds = 2.0**attempt
    return max(0.0, min(seconds, settings.AI_MAX_RETRY_AFTER_SECONDS))


def complete(
    messages: list[dict],
    *,
    on_progress: Callable[[int, str], None] | None = None,
    on_wait: Callable[[float, int], None] | None = None,
    max_tokens: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """The model's whole answer, streamed; `on_progress(chunks, text)` after each chunk."""
    attempt = 0
    while True:
        try:
            return _stream(messages, on_progress, max_tokens)
        except openai.RateLimitError as error:
            attempt += 1
            if attempt > settings.AI_MAX_RATE_LIMIT_WAITS:
                raise ProviderError(
                    "The AI provider kept rate-limiting the request (HTTP 429) after "
                    f"{settings.AI_MAX_RATE_LIMIT_WAITS} retries."
                ) from error
            seconds = retry_after(error, attempt)
            if on_wait:
                on_wait(seconds, attempt)
            sleep(seconds)


def _stream(messages, on_progress, max_tokens) -> str:
    options = {"max_tokens": max_tokens} if max_tokens else {}
    parts: list[str] = []
    chunks = 0
    try:
        stream = client().chat.completions.create(
            model=settings.AI_MODEL, messages=messages, stream=True, **options
        )
        with stream:
            for chunk in stream:
                if not chunk.choices:
                    continue
                delta = chunk.choices[0].delta.content or ""
                if delta:
                    parts.append(delta)
                    chunks += 1
                    if on_progress:
                        on_progress(chunks, "".join(parts))
    except openai.RateLimitError:
        raise
    except openai.APITimeoutError as error:
        raise ProviderError(
            f"The AI provider did not answer within {settings.AI_TIMEOUT_SECONDS:g} s.",
            retryable=True,
        ) from error
    except openai.APIConnectionError as error:
        raise ProviderError(
            f"Could not reach the AI provider at {settings.AI_BASE_URL}: "
            f"{error.__cause__ or error}.",
            retryable=True,
        ) from error
    except openai.APIStatusError as error:
        raise ProviderError(
            f"The AI provider answered HTTP {error.status_code}: {_short(error.message)}",
            retryable=error.status_code >= 500,
        ) from error
    except (json.JSONDecodeError, openai.APIResponseValidationError, openai.APIError) as error:
        raise ProviderError(
            f"The AI provider sent a malformed response: {_short(str(error))}"
        ) from error
    answer = "".join(parts).strip()
    if not answer:
        raise ProviderError("The AI provider returned an empty answer.")
    return answer


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
