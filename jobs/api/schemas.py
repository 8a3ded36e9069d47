"""What the API takes and answers, as pydantic models: they validate the input and write
the OpenAPI description."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, Field

from jobs.models import Job


class ErrorOut(Schema):
    error: str = Field(description="What went wrong, in words for a person.")
    errors: dict[str, list[str]] | None = Field(
        None, description="Per-field messages, for parameters that did not validate."
    )
    status: Job.Status | None = Field(None, description="The job's status, when it matters.")


class JobSubmitIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(
        description=(
            "A job kind's slug: `semantic_model`, `review` or `deep_dive` here; an unknown "
            "kind is refused with the list this server runs."
        )
    )
    params: dict[str, Any] = Field(
        description=(
            "The fields of the kind's form, by name. Lists for multiple choices "
            "(a review's `documents`, a semantic model's `tables`), e.g. "
            '`{"tables": ["default:demo.loan_applications", "default:demo.lenders"]}`, '
            '`{"question": "...", "documents": [1, 2], "mode": "precision"}`, '
            '`{"document": 3, "objective": "..."}`.'
        )
    )


class JobCreatedOut(Schema):
    id: UUID
    status: Job.Status
    status_url: str


class StageOut(Schema):
    key: str
    label: str
    state: Literal["done", "current", "failed", "todo"]


class JobSummaryOut(Schema):
    id: UUID
    kind: str
    title: str
    status: Job.Status
    stage: str
    progress: float = Field(ge=0, le=1)
    message: str
    created_at: datetime
    finished_at: datetime | None
    status_url: str


class JobOut(JobSummaryOut):
    stages: list[StageOut]
    attempts: int
    priority: int
    jobs_ahead: int | None = Field(
        description="For a queued job, about how many queued jobs start before it; else null."
    )
    started_at: datetime | None
    progress_at: datetime | None
    error: str
    result_url: str


class JobPageOut(Schema):
    count: int = Field(description="Jobs matching the filters, on every page.")
    limit: int
    offset: int
    next: str | None
    previous: str | None
    results: list[JobSummaryOut]


class StatsOut(Schema):
    total: int
    by_status: dict[str, int] = Field(description="Every status, with zero for none.")
    by_kind: dict[str, int] = Field(description="Every kind, with zero for none.")
    active: int = Field(description="Jobs queued or running now.")
    success_rate: float | None = Field(
        description="Succeeded among succeeded and failed jobs; null before any ended so."
    )


class ConnectionOut(Schema):
    id: int
    name: str
    vendor: str = Field(description="postgresql, mysql (MySQL or MariaDB), sqlite, ...")
    location: str = Field(description="Host and database; credentials are never shown.")
    tables_url: str


class TableOut(Schema):
    key: str = Field(description="What `POST /api/jobs` takes in `params.tables`.")
    schema_name: str = Field(alias="schema")
    table: str
    rows: int = Field(description="The database's own estimate, not a count.")


class ConnectionTablesOut(Schema):
    connection: ConnectionOut
    tables: list[TableOut]
