"""Human-readable terminal output for the CLI (rich): answers, passages, tables, progress bars."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mmqa import NOISY_LOGGERS
from mmqa.progress import IngestRate
from mmqa.schema import Answer

if TYPE_CHECKING:  # keep `mmqa ask` from importing the ingestion stack (pypdf, llama-index)
    from mmqa.ingest_report import FileResult, IngestReport
    from mmqa.schema import Section
    from mmqa.service import ReferenceList, SurveyIngest


MAX_UNSUPPORTED_SHOWN = 3


@lru_cache(maxsize=1)
def out_console() -> Console:
    """stdout: results."""
    return Console(highlight=False, soft_wrap=False)


@lru_cache(maxsize=1)
def err_console() -> Console:
    """stderr: logs, progress and errors."""
    return Console(stderr=True, highlight=False, soft_wrap=True)  # one-line errors stay on one line


def setup_logging(verbose: bool) -> None:
    """Log to stderr through rich: progress details with ``verbose``, else warnings only; noisy libraries quiet."""
    from rich.logging import RichHandler

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err_console(), show_time=False, show_path=False)],
    )
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.ERROR)


class IngestProgressView:
    """A progress bar over files (papers done/total, pages/s, ETA), with a second bar for the current
    file's embedding."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[rate]}"),
            console=err_console(),
            transient=True,
            disable=not enabled,
        )
        self._files = None
        self._embed = None
        self._started = False
        self._offset = 0  # files of earlier batches (a survey, then the papers it cites)
        self.rate: IngestRate | None = None

    def __enter__(self) -> IngestProgressView:
        return self  # the live display starts with the first file, so early errors print cleanly

    def __exit__(self, *exc: object) -> None:
        if self._started:
            self._progress.__exit__(*exc)

    def _start(self) -> None:
        if not self._started:
            self._progress.__enter__()
            self._started = True

    def file_started(self, path: Path, index: int, total: int) -> None:
        """Advance the files bar and reset the embedding bar."""
        self._start()
        if self._files is None:
            self._files = self._progress.add_task("papers", total=total, rate="")
            self.rate = IngestRate(total, time.monotonic())
        elif index == 0:
            self._offset = int(self._progress.tasks[0].completed)
        assert self.rate is not None
        self.rate.total = self._offset + total
        self._progress.update(self._files, completed=self._offset + index, total=self._offset + total,
                              description=f"papers: {escape(path.name)}", rate=self.rate.describe())  # fmt: skip
        if self._embed is not None:
            self._progress.remove_task(self._embed)
            self._embed = None

    def embedding(self, done: int, total: int) -> None:
        """Show the embedding bar of the current file."""
        if self._embed is None:
            self._embed = self._progress.add_task("  embedding chunks and sentences", total=total, rate="")
        self._progress.update(self._embed, completed=done, total=total, rate=f"{done}/{total} texts")

    def file_done(self, result: FileResult) -> None:
        """Report failures at once, as one line naming the file and the reason."""
        if result.status == "failed":
            err_console().print(f"mmqa: skipped {escape(Path(result.path).name)}: {escape(result.reason)}")
        if self.rate is not None:
            self.rate.file_done(result.pages, time.monotonic(), worked=result.status in {"added", "updated"})
        if self._files is not None:
            self._progress.update(self._files, advance=1, rate=self.rate.describe() if self.rate else "")


def print_ingest_report(report: IngestReport) -> None:
    """The summary table at the end of an ingest."""
    table = Table(title="ingest summary", title_justify="left")
    for column in ("file", "status", "doc id", "pages", "chunks", "seconds / reason"):
        table.add_column(column)
    for f in report.files:
        detail = escape(f.reason) if f.status == "failed" else f"{f.seconds:.1f}"
        style = {"failed": "red", "unchanged": "dim", "added": "green", "updated": "yellow"}.get(f.status, "")
        table.add_row(escape(Path(f.path).name), f"[{style}]{f.status}[/]", f.doc_id, str(f.pages or ""),
                      str(f.chunks or ""), detail)  # fmt: skip
    out_console().print(table)
    out_console().print(report.summary())


def print_survey_ingest(outcome: SurveyIngest) -> None:
    """One line about the survey's bibliography: entries, resolved ids, cited papers fetched."""
    if not outcome.survey or outcome.cited_sources is None or not outcome.references:
        return
    line = (
        f"survey {outcome.survey}: {outcome.references} references, {outcome.resolved} with arXiv ids, "
        f"{len(outcome.cited_sources)} cited papers ingested or checked"
    )
    if outcome.not_in_folder:
        line += f"; {outcome.not_in_folder} cited papers not in the --from folder"
    if outcome.summary and outcome.summary.failed:
        line += f"; {outcome.summary.failed} lookups failed (retried next time)"
    out_console().print(escape(line))


def print_refs(listing: ReferenceList) -> None:
    """The bibliography as a table: key, title, arXiv id, the indexed paper it links to (and how), citing sections."""
    data = listing.to_dict()
    table = Table(title=f"references of {listing.doc_id}", title_justify="left")
    for column in ("key", "title", "arXiv", "indexed as", "cited in"):
        table.add_column(column, overflow="fold")
    for ref in data["references"]:
        title = ref["title"] if len(ref["title"]) <= 70 else ref["title"][:69] + "…"
        linked = f"{ref['linked_doc']} ({ref['linked_by']})" if ref["linked"] else ""
        table.add_row(escape(ref["key"]), escape(title), ref["arxiv_id"] or "-", escape(linked),
                      escape(", ".join(ref["cited_in"])))  # fmt: skip
    out_console().print(table)
    resolved = sum(1 for r in data["references"] if r["arxiv_id"])
    linked = sum(1 for r in data["references"] if r["linked"])
    out_console().print(f"{len(data['references'])} references, {resolved} with arXiv ids, {linked} indexed")


def print_bibtex(text: str) -> None:
    """BibTeX entries, verbatim (no markup)."""
    if text:
        out_console().print()
        out_console().print(text, markup=False)


def print_update(rows: list[dict[str, str]]) -> None:
    """One row per indexed arXiv paper: indexed version, latest version, what was done."""
    if not rows:
        out_console().print("no arXiv papers indexed")
        return
    table = Table(title="arXiv versions", title_justify="left")
    for column in ("doc id", "indexed", "latest", "action"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["doc_id"], row["version"] or "-", row["latest"], escape(row["action"]))
    out_console().print(table)


def print_answer(answer: Answer, streamed: bool = False) -> None:
    """The answer (unless its generated text was already streamed), notes, then the numbered sources."""
    console = out_console()
    if not streamed:
        console.print(escape(answer.text))
    if answer.notice:
        err_console().print(f"[yellow]note:[/] {escape(answer.notice)}")
    if streamed:
        unsupported = [s for s in answer.sentences if not s.supported]
        for sentence in unsupported[:MAX_UNSUPPORTED_SHOWN]:
            console.print(f"[yellow]unsupported:[/] {escape(sentence.text)}")
        if len(unsupported) > MAX_UNSUPPORTED_SHOWN:
            console.print(f"[yellow]… and {len(unsupported) - MAX_UNSUPPORTED_SHOWN} more unsupported sentences[/]")
    if answer.citations:
        console.print()
        console.print("[bold]Sources[/]")
        for citation in answer.citations:
            console.print(escape(citation.passage.reference(citation.n)))
            for primary in citation.primary:  # the cited paper's own words (an evidence chain)
                from mmqa.answering.highlight import claims_citing, excerpt

                quote = excerpt(primary.passage.text, claims_citing(answer, citation.n))
                console.print(f'    ↳ in {escape(primary.passage.where())}: "{escape(quote)}"')


def stream_answer(events: Iterator[str | Answer]) -> Answer:
    """Print a generated answer token by token as it arrives, then its checked form; returns the Answer."""
    answer: Answer | None = None
    shown: list[str] = []
    for event in events:
        if isinstance(event, Answer):
            answer = event
        elif event:
            sys.stdout.write(event)
            sys.stdout.flush()
            shown.append(event)
    assert answer is not None
    if shown:
        sys.stdout.write("\n")
    # A generated answer was shown as it arrived; the extractive fallback after a failed LLM is printed now.
    generated = answer.backend != "extractive" and not answer.abstained
    print_answer(answer, streamed=bool(shown) and (generated or "".join(shown).strip() == answer.text.strip()))
    return answer


def print_search(result: Any) -> None:
    """Ranked passages with their citation line and a short excerpt."""
    console = out_console()
    if not result.passages:
        console.print("no passages found")
    for n, passage in enumerate(result.passages, start=1):
        console.print(f"[bold]{escape(passage.reference(n))}[/]  [dim]score {passage.score:.4f}[/]")
        excerpt = passage.text if len(passage.text) <= 400 else passage.text[:400] + "…"
        console.print(f"    {escape(excerpt)}\n")


def print_sections(trees: dict[str, list[Section]]) -> None:
    """Each paper's section tree, indented by level."""
    console = out_console()
    for doc_id, sections in trees.items():
        console.print(f"[bold]{escape(doc_id)}[/]")
        for s in sections:
            indent = "  " * s.level
            console.print(f"{indent}{escape(s.label)}  [dim]{s.pages_label()}[/]")
        console.print()


def print_status(info: dict[str, Any]) -> None:
    """Index location, models and one row per paper."""
    console = out_console()
    console.print(f"index: {escape(info['home'])} (collection {info['collection']})")
    console.print(f"embedding model: {info['embedding_model']}; answers: {info['answer_backend']}")
    earlier = info.get("earlier_index")
    if earlier:
        console.print(
            f"[yellow]{len(earlier['papers_not_in_current'])} papers are only in an index built by an earlier "
            f"mmqa version or other settings ({earlier['index_key']}): `mmqa ingest --rebuild` indexes them again[/]"
        )
    if not info["papers"]:
        console.print("nothing indexed yet: run `mmqa ingest PATH`")
        return
    table = Table()
    for column in ("doc id", "version", "paper", "pages", "sections", "chunks", "ingested (UTC)"):
        table.add_column(column, no_wrap=column != "paper")
    for p in info["papers"]:
        table.add_row(p["doc_id"], p["version"] or "-", escape(p["short_name"]), str(p["pages"]),
                      str(p["sections"]), str(p["chunks"]), p["ingested_at"][:16].replace("T", " "))  # fmt: skip
    console.print(table)
    console.print(f"{len(info['papers'])} papers, {info['total_chunks']} chunks")


def print_eval(result: dict[str, Any]) -> None:
    """The summary figures, then the questions that missed."""
    console = out_console()
    table = Table(title="evaluation", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result["summary"].items():
        table.add_row(key, f"{value:.3f}" if isinstance(value, float) else str(value))
    console.print(table)
    for q in result["questions"]:
        weak_answer = not q["unanswerable"] and not q["abstained"] and not q.get("lead_on_gold", True)
        if q["unanswerable"] == q["abstained"] and (q["unanswerable"] or q["rank"] == 1) and not weak_answer:
            continue
        outcome = "abstained" if q["abstained"] else f"rank {q['rank']}"
        if not q["unanswerable"] and not q["abstained"]:
            outcome += f", lead {'on' if q['lead_on_gold'] else 'off'} gold, evidence {q['evidence_carried']:.2f}"
        console.print(f"[dim]{q['id']}[/] {outcome}: {escape(q['question'][:90])}")
