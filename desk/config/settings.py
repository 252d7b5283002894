"""One settings model with a schema_version and migrations; window geometry lives elsewhere (Qt).

The models are pydantic v2: every field has its bounds, assignments are validated, and unknown
keys (settings written by a newer Desk) are ignored. A settings file that is not JSON or fails
validation never stops the app: it is copied to `settings.json.invalid-YYYYmmdd-HHMMSS`, the
fields that failed fall back to their defaults (the valid rest is kept), the repaired settings
are written back (so the backup and the warning happen once), and `Settings.load_problem` says
what happened. A settings file that exists but cannot be read (permissions, I/O error) gives
the defaults too, and is never overwritten by them: `save_settings` refuses those settings. The
optimization panel reads its ranges and choices from these fields (`bounds`, `choices`), so the
window and the validation never disagree.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from desk.config.paths import settings_file
from desk.core.files import atomic_write_bytes, atomic_write_text

SCHEMA_VERSION = 1

log = logging.getLogger("desk")


class _Model(BaseModel):
    # extra="ignore": keys from a newer version are not fatal
    model_config = ConfigDict(validate_assignment=True, extra="ignore")


def _whole(value: Any) -> int | None:
    """`value` as an int if it is one (or a string of one); None leaves it to field validation."""
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ChunkingSettings(_Model):
    size: int = Field(default=500, ge=100, le=4000)  # characters per chunk
    overlap: int = Field(default=100, ge=0, le=3999)  # must also be smaller than size

    # "before", not "after": on assignment pydantic stores the new value before an "after"
    # validator runs and keeps it when that validator fails; a "before" one sees the merged
    # values first, so a rejected assignment leaves the settings as they were
    @model_validator(mode="before")
    @classmethod
    def _overlap_below_size(cls, data: Any) -> Any:
        if isinstance(data, dict):
            size = _whole(data.get("size", cls.model_fields["size"].default))
            overlap = _whole(data.get("overlap", cls.model_fields["overlap"].default))
            if size is not None and overlap is not None and overlap >= size:
                raise ValueError(f"overlap ({overlap}) must be smaller than size ({size})")
        return data


class RetrievalSettings(_Model):
    candidates: int = Field(default=100, ge=1, le=2000)  # per ranker, before fusion
    # measured on the dev set: 20 beats the textbook 60 by ~0.02 page recall@8
    rrf_k: int = Field(default=20, ge=1, le=1000)
    # BM25 is noisier than MiniLM on paraphrased questions
    lexical_weight: float = Field(default=0.7, ge=0.0, le=5.0)


KvCacheType = Literal["f16", "q8_0", "q4_0"]


# Context the prompt needs besides the evidence and the answer: its fixed start (~390 tokens),
# the question and the message overhead (100), with room to spare.
PROMPT_RESERVE_TOKENS = 600


class LlmSettings(_Model):
    model: str = Field(default="qwen2.5-coder-1.5b-instruct-q4_k_m", min_length=1)
    # at least 2048: the default evidence and answer budgets with the prompt's start must fit
    n_ctx: int = Field(default=4096, ge=2048, le=131072)
    n_threads: int = Field(default=0, ge=0, le=256)  # 0 = all cores
    n_batch: int = Field(default=512, ge=32, le=4096)
    # "auto": as many layers as fit in the GPU's free memory, measured at load (desk/llm/gpu.py);
    # -1 = every layer (llama.cpp's convention), 0 = CPU only
    n_gpu_layers: Annotated[int, Field(ge=-1, le=1000)] | Literal["auto"] = "auto"
    # smaller KV cache, slightly lower quality
    kv_cache_type: KvCacheType = "f16"
    max_answer_tokens: int = Field(default=384, ge=16, le=4096)
    evidence_tokens: int = Field(default=900, ge=100, le=16000)  # ~6 s of prompt processing on 2 laptop cores

    # "before" for the reason given at ChunkingSettings: a rejected assignment changes nothing
    @model_validator(mode="before")
    @classmethod
    def _budgets_fit_the_context(cls, data: Any) -> Any:
        if isinstance(data, dict):
            values = {name: _whole(data.get(name, cls.model_fields[name].default))
                      for name in ("n_ctx", "evidence_tokens", "max_answer_tokens")}
            n_ctx, evidence, answer = (values["n_ctx"], values["evidence_tokens"],
                                       values["max_answer_tokens"])
            if (n_ctx is not None and evidence is not None and answer is not None
                    and evidence + answer + PROMPT_RESERVE_TOKENS > n_ctx):
                raise ValueError(
                    f"evidence_tokens ({evidence}) + max_answer_tokens ({answer}) + "
                    f"{PROMPT_RESERVE_TOKENS} for the rest of the prompt must fit in n_ctx "
                    f"({n_ctx}): lower the budgets or raise n_ctx to at least "
                    f"{evidence + answer + PROMPT_RESERVE_TOKENS}")
        return data


AnswersFrom = Literal["local", "server"]


class ServerSettings(_Model):
    """An OpenAI-compatible chat-completions server (llama-server, vLLM, Ollama, LM Studio)
    that answers instead of the model on this computer. The API key is not here: it lives in
    the operating system's keyring (desk/config/secrets.py)."""

    # the base URL, e.g. http://gpu-box:8080/v1 ("/v1" is added when no path is given)
    url: str = ""
    model: str = ""  # the server's name for the model
    timeout_s: int = Field(default=120, ge=5, le=3600)  # per request, and per stalled read
    # the model's context on the server, used when the server does not report it (vLLM does,
    # llama-cpp-python's server does not); 4096 as on this computer, so history fits either way
    n_ctx: int = Field(default=4096, ge=2048, le=1_048_576)
    # hosts the lawyer agreed to send questions and passages to (asked once per host)
    confirmed_hosts: list[str] = Field(default_factory=list)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return normalise_server_url(value) if value.strip() else ""


def normalise_server_url(url: str) -> str:
    """http(s)://host[:port]/path without a trailing slash; "/v1" when no path is given (all of
    llama-server, vLLM, Ollama and LM Studio serve the API there)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http:// or https:// address with a host")
    path = parts.path.rstrip("/") or "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def server_host(url: str) -> str:
    """host:port of a server URL, as the window names it."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if not parts.hostname:
        return "(no server address set)"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


class Settings(_Model):
    schema_version: int = Field(default=SCHEMA_VERSION, ge=0)
    # int8 is ~4x faster to index; "all-MiniLM-L6-v2" (fp32) is the precise setting
    embedder: str = Field(default="all-MiniLM-L6-v2-int8", min_length=1)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    # where answers come from: the llama.cpp model on this computer, or `server`
    answers_from: AnswersFrom = "local"
    server: ServerSettings = Field(default_factory=ServerSettings)
    last_matter: str = ""

    # What went wrong reading settings.json (file, field, problem, backup); "" when all was well.
    # Not a field: never saved, not compared.
    _load_problem: str = PrivateAttr(default="")
    # True when settings.json exists but could not be read: these are defaults, and saving them
    # would replace the user's file (with no backup, as it could not be read), so it is refused.
    _unreadable_file: bool = PrivateAttr(default=False)

    @property
    def load_problem(self) -> str:
        return self._load_problem

    def __eq__(self, other: object) -> bool:
        """Equal when the values are; where they were loaded from (load_problem) does not count."""
        if not isinstance(other, Settings):
            return NotImplemented
        return self.model_dump() == other.model_dump()


def bounds(model: type[BaseModel], name: str) -> tuple[int, int]:
    """The inclusive (lowest, highest) value of an integer field, from its Field(ge=, le=) (read
    through pydantic's JSON schema of the field, where gt/lt are exclusive bounds)."""
    schema = model.model_json_schema()["properties"].get(name, {})
    # a field that is a number or a word ("auto"): the bounds of its number
    schema = next((s for s in schema.get("anyOf", []) if s.get("type") == "integer"), schema)
    lo: Any = schema.get("minimum")
    hi: Any = schema.get("maximum")
    if lo is None and isinstance(schema.get("exclusiveMinimum"), int):
        lo = schema["exclusiveMinimum"] + 1
    if hi is None and isinstance(schema.get("exclusiveMaximum"), int):
        hi = schema["exclusiveMaximum"] - 1
    if schema.get("type") != "integer" or not isinstance(lo, int) or not isinstance(hi, int):
        raise ValueError(f"{model.__name__}.{name} has no integer lower and upper bound")
    return lo, hi


def choices(model: type[BaseModel], name: str) -> list[str]:
    """The allowed values of a Literal field, in declaration order."""
    values = get_args(model.model_fields[name].annotation)
    if not values:
        raise ValueError(f"{model.__name__}.{name} is not a Literal field")
    return [str(v) for v in values]


def _migrate(raw: dict[str, Any]) -> dict[str, Any]:
    """Bring an older settings dict up to SCHEMA_VERSION (one step per version)."""
    version = raw.get("schema_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError(f"schema_version: should be a whole number (got {version!r})")
    if version < 1:
        raw.setdefault("chunking", {})
        version = 1
    raw["schema_version"] = version
    return raw


def _backup(path: Path, data: bytes) -> str:
    """Copy the rejected file beside itself; returns a sentence saying where (or why not)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.invalid-{stamp}")
    n = 1
    while backup.exists():
        backup = path.with_name(f"{path.name}.invalid-{stamp}-{n}")
        n += 1
    try:
        atomic_write_bytes(backup, data)
    except OSError as exc:
        return f"It could not be backed up ({exc})."
    return f"The original is saved as {backup}."


def _describe(error: Any) -> str:
    where = ".".join(str(p) for p in error["loc"]) or "settings"
    got = error.get("input")
    shown = "" if isinstance(got, dict) else f" (got {got!r})"
    return f"{where}: {error['msg']}{shown}"


def _drop(raw: Any, loc: tuple[Any, ...]) -> bool:
    """Remove the value at `loc` so its default is used; False if there is nothing to remove."""
    node = raw
    for key in loc[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    if not loc or not isinstance(node, dict) or loc[-1] not in node:
        return False
    del node[loc[-1]]
    return True


def _validate_keeping_the_rest(raw: dict[str, Any]) -> tuple[Settings, list[str]]:
    """Validate; each field that fails falls back to its default and is reported."""
    problems: list[str] = []
    for _ in range(20):  # each round removes at least one value
        try:
            return Settings.model_validate(raw), problems
        except ValidationError as exc:
            errors = exc.errors()
            problems.extend(_describe(e) for e in errors)
            if not any([_drop(raw, tuple(e["loc"])) for e in errors]):
                break
    return Settings(), problems


def load_settings() -> Settings:
    """Never raises for a bad file: see the module docstring and `Settings.load_problem`."""
    path = settings_file()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        settings = Settings()
        settings._load_problem = (f"Settings file {path} could not be read ({exc}); "
                                  "using the default settings, and changes are not saved "
                                  "over that file.")
        settings._unreadable_file = True
        log.warning("%s", settings._load_problem)
        return settings
    try:
        raw = json.loads(data.decode("utf-8"))
        if not isinstance(raw, dict):
            raise ValueError(f"expected a JSON object, found {type(raw).__name__}")
    except ValueError as exc:  # includes JSONDecodeError and UnicodeDecodeError
        settings = Settings()
        problem = f"Settings file {path} is not valid JSON ({exc}); using the default settings."
    else:
        try:
            raw = _migrate(raw)
            problems: list[str] = []
        except ValueError as exc:
            raw.pop("schema_version", None)
            raw = _migrate(raw)
            problems = [str(exc)]
        settings, more = _validate_keeping_the_rest(raw)
        problems += more
        if not problems:
            return settings
        problem = (f"Settings file {path} has invalid values: {'; '.join(problems)}. Those "
                   "settings are back to their defaults; the rest of the file is kept.")
    problem += " " + _backup(path, data)
    try:  # write the repaired settings, so the warning and the backup happen once
        save_settings(settings)
    except OSError as exc:
        log.warning("could not rewrite %s: %s", path, exc)
    settings._load_problem = problem
    log.warning("%s", problem)
    return settings


def save_settings(settings: Settings) -> None:
    """Write settings.json, except for settings loaded when it could not be read: those are the
    defaults and would replace the user's file without a backup, so the file is kept and a
    warning logged instead."""
    if settings._unreadable_file:
        log.warning("Not saving the settings: %s could not be read when Desk started, so it is "
                    "kept as it is (fix its permissions and restart Desk).", settings_file())
        return
    atomic_write_text(settings_file(), settings.model_dump_json(indent=2) + "\n")
