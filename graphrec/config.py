"""Settings, read from the environment (prefix ``GRAPHREC_``) or a ``.env`` file.

Nothing here runs at import time: call :func:`get_settings` where settings are needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("graphrec", appauthor=False))


class Settings(BaseSettings):
    """graphrec's configuration.

    With ``neo4j_uri`` unset, commands that need the graph start (or reuse) the
    embedded server under ``data_dir`` (engine ``embedded_engine``: ArcadeDB by
    default, or Neo4j Community); with it set, they use that server and never
    start one.
    """

    model_config = SettingsConfigDict(env_prefix="GRAPHREC_", env_file=".env", extra="ignore")

    neo4j_uri: str | None = Field(
        default=None,
        description="Bolt URI of a Neo4j-compatible server (bolt://, neo4j://, +s/+ssc variants). "
        "Unset: use the embedded server.",
    )
    neo4j_user: str = Field(default="neo4j", description="User for neo4j_uri.")
    neo4j_password: SecretStr | None = Field(default=None, description="Password for neo4j_uri.")
    neo4j_database: str = Field(default="neo4j", description="Database name.")
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Where the embedded server, caches, runs and models live.",
    )
    embedded_engine: Literal["arcadedb", "neo4j"] = Field(
        default="arcadedb",
        description="Embedded engine: 'arcadedb' (needs nothing but pip) or 'neo4j' "
        "(Neo4j Community from Maven Central; needs Java 17+ and Maven).",
    )
    embedded_bolt_port: int = Field(default=7687, ge=1, le=65535)
    embedded_http_port: int = Field(
        default=2480, ge=1, le=65535, description="ArcadeDB's HTTP port (arcadedb engine)."
    )
    embedded_heap: str | None = Field(
        default=None,
        description="JVM heap for the embedded server, e.g. '2g' (default: ArcadeDB's 4g, Neo4j 1g).",
    )
    embedded_start_timeout: float = Field(default=90.0, gt=0)
    embedded_neo4j_version: str = Field(
        default="5.26.30",
        pattern=r"^5\.26\.\d+$",
        description="org.neo4j:neo4j version of the neo4j engine (the 5.26 LTS line).",
    )
    embedded_page_cache: str = Field(
        default="128m",
        pattern=r"^\d+[kmgKMG]?$",
        description="Neo4j page cache (server.memory.pagecache.size).",
    )
    embedded_tx_log_preallocate: bool = Field(
        default=False, description="Neo4j db.tx_log.preallocate (off: small log files)."
    )
    embedded_neo4j_plugins: Annotated[list[Literal["apoc", "gds"]], NoDecode] = Field(
        default_factory=list,
        description="Plugins loaded into the neo4j engine: apoc (APOC core), gds (OpenGDS).",
    )
    embedded_neo4j_build_dir: Path | None = Field(
        default=None,
        description="Build cache of the Neo4j launcher (default: <data_dir>/neo4j/launcher).",
    )
    embedded_maven_settings: Path | None = Field(
        default=None, description="A Maven settings.xml for the launcher build (mirrors, proxies)."
    )

    api_host: str = Field(default="127.0.0.1", description="Address `graphrec serve` binds.")
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_key: SecretStr | None = Field(
        default=None,
        description="One admin key (the X-API-Key header): write, admin and read scope. "
        "The service refuses to start with writes enabled and no admin key, unless --dev.",
    )
    api_keys: SecretStr | None = Field(
        default=None,
        description="More admin keys, comma-separated (several at once, for rotation).",
    )
    api_read_keys: SecretStr | None = Field(
        default=None,
        description="Read-scope keys, comma-separated: reads about users and the catalog, "
        "no writes or admin.",
    )
    api_min_key_length: int = Field(
        default=16, ge=1, description="Shortest API key accepted (checked at start-up)."
    )
    api_lock_reads: bool = Field(
        default=True,
        description="Reads about a user (recommendations, explanations, /users, /users/{id}) "
        "need a read or admin key. `graphrec serve --dev` opens them.",
    )
    api_lock_catalog: bool = Field(
        default=False,
        description="Catalog reads (/items/{id}, /items/{id}/similar, /models, /metrics) "
        "need a read or admin key too.",
    )
    api_rate_limit: float = Field(
        default=0.0,
        ge=0,
        description="Requests per second each key (or, without a valid key, each client "
        "address) may make, per process; 0 turns the limit off. Past it: 429 with Retry-After.",
    )
    api_rate_burst: int = Field(
        default=20, ge=1, description="Requests a key may make at once before the rate applies."
    )
    api_explain_max_items: int = Field(
        default=20,
        ge=0,
        description="Most items one recommendations request explains (explain=true); the "
        "rest are listed as not explained.",
    )
    api_explain_concurrency: int = Field(
        default=4,
        ge=1,
        description="Explanations computed at once in one process; the others wait, for at "
        "most api_explain_timeout seconds per request, and are then left unexplained.",
    )
    api_batch_max_users: int = Field(
        default=100,
        ge=1,
        description="Most users one POST /recommendations/batch may name (more: 413).",
    )
    api_max_body_bytes: int = Field(
        default=1_000_000, gt=0, description="Largest request body accepted."
    )
    api_similar_index_above: int | None = Field(
        default=None,
        ge=0,
        description="GET /items/{id}/similar uses the server's vector index (approximate) "
        "by default once the catalog has more items than this. Unset: exact unless asked.",
    )
    api_body_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds a request body may take to arrive in full; a slower (or "
        "shorter than declared) body is answered 408 and its connection closed.",
    )
    api_graph_connect_timeout: float = Field(
        default=1.0,
        gt=0,
        description="Seconds the API waits for a connection to the graph, pooled or new "
        "(the driver's connection and connection-acquisition timeouts), before a request "
        "that needs the graph answers 503.",
    )
    api_explain_timeout: float = Field(
        default=2.0,
        gt=0,
        description="Seconds an explanation's path queries may take; past it the answer "
        "holds the paths found so far and is flagged partial.",
    )
    api_sync_interval: float = Field(
        default=1.0,
        ge=0,
        description="Seconds between two reads of the change feed, through which API "
        "processes on one graph apply each other's writes (interactions, items, erasures, "
        "reloads) to their memory. 0 turns the feed off (one process only).",
    )

    @field_validator("neo4j_uri")
    @classmethod
    def _check_uri(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        schemes = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")
        if not value.startswith(schemes):
            raise ValueError(f"GRAPHREC_NEO4J_URI={value!r}: expected one of {', '.join(schemes)}")
        return value

    @field_validator("embedded_neo4j_plugins", mode="before")
    @classmethod
    def _split_plugins(cls, value: object) -> object:
        if isinstance(value, str):  # GRAPHREC_EMBEDDED_NEO4J_PLUGINS=gds,apoc
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _check_key_lengths(self) -> Settings:
        for name, keys in (
            ("GRAPHREC_API_KEY", self.admin_key_list(only="api_key")),
            ("GRAPHREC_API_KEYS", self.admin_key_list(only="api_keys")),
            ("GRAPHREC_API_READ_KEYS", self.read_key_list()),
        ):
            for position, key in enumerate(keys, 1):
                if len(key) < self.api_min_key_length:
                    raise ValueError(
                        f"{name}: key {position} has {len(key)} characters; API keys need at "
                        f"least {self.api_min_key_length} (GRAPHREC_API_MIN_KEY_LENGTH)"
                    )
        return self

    def admin_key_list(self, *, only: str | None = None) -> list[str]:
        """The admin keys: ``api_key`` (one key) and the comma-separated ``api_keys``."""
        keys = []
        if only in (None, "api_key") and self.api_key is not None:
            keys += [self.api_key.get_secret_value()] if self.api_key.get_secret_value() else []
        if only in (None, "api_keys"):
            keys += _split_keys(self.api_keys)
        return keys

    def read_key_list(self) -> list[str]:
        """The read-scope keys of ``api_read_keys``."""
        return _split_keys(self.api_read_keys)

    @property
    def has_keys(self) -> bool:
        """Whether any key (admin or read) is configured."""
        return bool(self.admin_key_list() or self.read_key_list())

    @property
    def uses_embedded(self) -> bool:
        return self.neo4j_uri is None


def _split_keys(value: SecretStr | None) -> list[str]:
    if value is None:
        return []
    return [key.strip() for key in value.get_secret_value().split(",") if key.strip()]


def get_settings(**overrides: object) -> Settings:
    """Read settings now (environment, then ``.env``), with explicit ``overrides`` on top."""
    return Settings(**overrides)
