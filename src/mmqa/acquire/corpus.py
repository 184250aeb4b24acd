"""The default corpus, declared in ``ingest/corpus.toml``: the survey plus papers to ingest with it."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from mmqa.acquire.arxiv import ArxivId
from mmqa.errors import MMQAError

DEFAULT_CORPUS_FILE = Path(__file__).resolve().parents[3] / "ingest" / "corpus.toml"


@dataclass
class CorpusSpec:
    """What `mmqa ingest` with no argument ingests."""

    survey: ArxivId
    extra: list[ArxivId] = field(default_factory=list)
    skip: set[str] = field(default_factory=set)
    max_cited: int = 50  # cited papers fetched with a survey (the most cited first); 0: none

    @classmethod
    def load(cls, path: Path) -> CorpusSpec:
        """Read and validate a corpus file; errors name the file and the bad value."""
        if not path.exists():
            raise MMQAError(f"{path}: no such corpus file (set MMQA_CORPUS_FILE or give papers to ingest)")
        try:
            data = tomllib.loads(path.read_text())
            survey = data["survey"]
            version = str(survey.get("version", "latest"))
            survey_id = ArxivId.parse(str(survey["arxiv"]) + ("" if version == "latest" else version))
            extra = [ArxivId.parse(str(i)) for i in data.get("extra", {}).get("arxiv", [])]
            skip = {ArxivId.parse(str(i)).id for i in data.get("skip", {}).get("arxiv", [])}
            max_cited = int(data.get("cited", {}).get("max", 50))
        except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
            raise MMQAError(f"{path}: not a valid corpus file ({type(exc).__name__}: {exc})") from exc
        except MMQAError as exc:
            raise MMQAError(f"{path}: {exc}") from exc
        return cls(survey_id, extra, skip, max_cited)

    def cited_sources(self, cited: list[str], exclude: set[str]) -> list[str]:
        """'arxiv:ID' sources for a survey's resolved references (already ordered), minus skipped and
        ``exclude``, capped at ``max_cited``."""
        out: list[str] = []
        for arxiv_id in dict.fromkeys(cited):
            if arxiv_id in self.skip or arxiv_id in exclude:
                continue
            if len(out) >= self.max_cited:
                break
            out.append(f"arxiv:{arxiv_id}")
        return out

    def sources(self, survey_only: bool = False) -> list[str]:
        """'arxiv:ID' sources in ingest order: the survey first, then the extra papers (minus skipped)."""
        papers = [self.survey] + ([] if survey_only else self.extra)
        seen: set[str] = set()
        out = []
        for paper in papers:
            if paper.id in self.skip or paper.id in seen:
                continue
            seen.add(paper.id)
            out.append(f"arxiv:{paper}")
        return out
