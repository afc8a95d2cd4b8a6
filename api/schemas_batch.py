"""Request and response models of ``POST /recommendations/batch``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from graphrec.serving import MAX_K

from .fields import BusinessId
from .schemas import RecommendationsOut

#: Most ids one batch's ``exclude`` may hold.
MAX_BATCH_EXCLUDE = 1_000
#: Most user ids the body may hold at all (the configured limit, api_batch_max_users, is
#: checked by the route and answered 413; this bound only keeps the body's parsing bounded).
MAX_BATCH_BODY_USERS = 10_000


class BatchIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"user_ids": ["42", "7"], "k": 5, "exclude": ["318"]}],
        },
    )

    user_ids: list[BusinessId] = Field(
        min_length=1,
        max_length=MAX_BATCH_BODY_USERS,
        description="Users to rank for, at most GRAPHREC_API_BATCH_MAX_USERS (default 100; "
        "more: 413). A repeated id is answered once.",
    )
    k: int = Field(default=10, ge=1, le=MAX_K, description="How many items per user.")
    offset: int = Field(default=0, ge=0, lt=MAX_K, description="Ranks skipped per user.")
    model: str | None = Field(
        default=None, max_length=64, description="Model name (default: the service's)."
    )
    exclude_seen: bool = Field(
        default=True, description="Leave out items each user interacted with."
    )
    exclude: list[BusinessId] = Field(
        default_factory=list,
        max_length=MAX_BATCH_EXCLUDE,
        description="Item ids left out for every user (ids not in the catalog are ignored).",
    )


class BatchErrorOut(BaseModel):
    user_id: str = Field(examples=["u-404"])
    code: str = Field(examples=["unknown_user"])
    detail: str = Field(examples=["unknown user 'u-404'"])


class BatchOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "results": [
                        {
                            "user_id": "42",
                            "model": {"name": "lightgcn", "version": 3},
                            "source": "model",
                            "fallback": False,
                            "items": [{"item_id": "858", "title": None, "score": 4.02, "rank": 1}],
                            "explanations": None,
                            "explanations_partial": False,
                            "unexplained": [],
                            "offset": 0,
                        }
                    ],
                    "errors": [
                        {"user_id": "u-404", "code": "unknown_user", "detail": "unknown user"}
                    ],
                }
            ]
        }
    )

    results: list[RecommendationsOut] = Field(
        description="One entry per known user, in the order of the request."
    )
    errors: list[BatchErrorOut] = Field(
        default_factory=list, description="Users that could not be ranked (unknown users)."
    )
