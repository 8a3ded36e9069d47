"""The provider against a local server speaking the OpenAI protocol: no mocks."""

from __future__ import annotations

import socket

import pytest

from jobs.engine.context import JobCancelled
from jobs.provider import chat as ai
from tests.fake_openai import fake_openai  # noqa: F401

MESSAGES = [{"role": "user", "content": "Summarise the trial."}]


def test_a_streamed_answer_is_assembled_chunk_by_chunk(fake_openai):  # noqa: F811
    seen = []

    answer = ai.complete(MESSAGES, on_progress=lambda n, text: seen.append((n, text)))

    assert answer == "The **answer**, streamed in pieces."
    assert [n for n, _ in seen] == [1, 2, 3, 4, 5]
    assert seen[-1][1] == answer
    assert all(seen[i][1].startswith(seen[i - 1][1]) for i in range(1, len(seen)))
    request = fake_openai.script.requests[0]
    assert request["body"]["model"] == "fake-model"
    assert request["body"]["messages"] == MESSAGES
    assert request["body"]["stream"] is True
    assert request["headers"]["authorization"] == "Bearer sk-test-key"


def test_configured_only_with_a_url_and_a_model(settings):
    settings.AI_BASE_URL, settings.AI_MODEL = "", ""
    assert not ai.configured()
    settings.AI_BASE_URL = "http://127.0.0.1:9/v1"
    assert not ai.configured()
    settings.AI_MODEL = "m"
    assert ai.configured()


def test_a_slow_stream_still_arrives(fake_openai):  # noqa: F811
    fake_openai.script.delay = 0.3
    seen = []

    assert ai.complete(MESSAGES, on_progress=lambda n, text: seen.append(n))
    assert seen == [1, 2, 3, 4, 5]


def test_a_stream_that_stalls_past_the_timeout_fails_readably(fake_openai, settings):  # noqa: F811
    fake_openai.script.delay = 2.0
    settings.AI_TIMEOUT_SECONDS = 0.5

    with pytest.raises(ai.ProviderError, match=r"did not answer within 0.5 s"):
        ai.complete(MESSAGES)


def test_429_waits_for_retry_after_and_succeeds(fake_openai):  # noqa: F811
    fake_openai.script.scenario = "rate_limit_then_ok"
    fake_openai.script.rate_limited = 2
    fake_openai.script.retry_after = "3"
    slept, waits = [], []

    answer = ai.complete(MESSAGES, sleep=slept.append, on_wait=lambda s, a: waits.append((s, a)))

    assert answer == "The **answer**, streamed in pieces."
    assert slept == [3.0, 3.0]
    assert waits == [(3.0, 1), (3.0, 2)]
    assert len(fake_openai.script.requests) == 3


def test_429_forever_fails_after_the_allowed_waits(fake_openai, settings):  # noqa: F811
    fake_openai.script.scenario = "rate_limit"
    settings.AI_MAX_RATE_LIMIT_WAITS = 2
    slept = []

    with pytest.raises(ai.ProviderError, match=r"kept rate-limiting .* after 2 retries"):
        ai.complete(MESSAGES, sleep=slept.append)
    assert len(slept) == 2


def test_a_server_error_fails_with_its_status(fake_openai):  # noqa: F811
    fake_openai.script.scenario = "error_500"

    with pytest.raises(ai.ProviderError, match=r"answered HTTP 500"):
        ai.complete(MESSAGES)


def test_a_malformed_chunk_fails_readably(fake_openai):  # noqa: F811
    fake_openai.script.scenario = "malformed"

    with pytest.raises(ai.ProviderError, match=r"malformed response"):
        ai.complete(MESSAGES)


def test_an_unreachable_provider_fails_readably(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.AI_BASE_URL = f"http://127.0.0.1:{port}/v1"
    settings.AI_MODEL = "m"
    settings.AI_API_KEY = "sk-secret"

    with pytest.raises(ai.ProviderError, match=r"Could not reach the AI provider") as failure:
        ai.complete(MESSAGES)
    assert "sk-secret" not in str(failure.value)


def test_a_cancelled_job_stops_the_stream(fake_openai):  # noqa: F811
    def cancel(chunks, text):
        if chunks == 2:
            raise JobCancelled("cancelled")

    with pytest.raises(JobCancelled):
        ai.complete(MESSAGES, on_progress=cancel)
