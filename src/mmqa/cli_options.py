"""The command-line options several `mmqa` commands share, as typer annotations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

HomeOpt = Annotated[Path | None, typer.Option("--home", help="Data home (default: $MMQA_HOME or the user data dir).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout and nothing else.")]
KOpt = Annotated[int | None, typer.Option("-k", "--k", min=1, max=100, help="How many passages.")]
DocOpt = Annotated[list[str] | None, typer.Option("--doc", help="Only this paper (doc id); repeatable.")]
SectionOpt = Annotated[str | None, typer.Option("--section", help="Only this section and its subsections, e.g. 3.1")]
CitedByOpt = Annotated[
    str | None, typer.Option("--cited-by", help="Only papers the survey cites in this section (and its subsections).")
]
ScopeOpt = Annotated[str | None, typer.Option("--scope", help="survey: only the survey; cited: only papers it cites.")]
CitesOpt = Annotated[str | None, typer.Option("--cites", help="Only passages citing this paper, e.g. 2106.09685.")]
LongOpt = Annotated[
    bool, typer.Option("--long", help="A longer extractive answer: up to 6 sentences, not 4 (see MMQA_ANSWER__*).")
]
LONG_ANSWER = {"answer.max_sentences": 6, "answer.sentence_window": 0.3}
VerboseOpt = Annotated[bool, typer.Option("-v", "--verbose", help="Log progress details to stderr.")]
LLMOpt = Annotated[
    str | None,
    typer.Option(
        "--llm",
        help="Generate the answer with an LLM: openai:MODEL, openai-compatible:MODEL (with --base-url) or "
        "gguf:/path/model.gguf; default $MMQA_LLM, else the extractive answerer.",
    ),
]
BaseUrlOpt = Annotated[
    str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1.")
]
