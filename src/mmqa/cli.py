"""The `mmqa` command line: argument parsing and printing only; the work is in ``mmqa.service``."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mmqa import NOISY_LOGGERS
from mmqa.errors import MMQAError

app = typer.Typer(
    name="mmqa",
    help="Ask questions about the survey 'Multimodal Foundation Models' and the papers it cites; "
    "answers cite sections and pages.",
    no_args_is_help=True,  # for `mmqa` itself; `mmqa ingest` alone ingests the default corpus
    add_completion=False,
    pretty_exceptions_enable=False,
)

HomeOpt = Annotated[Path | None, typer.Option("--home", help="Data home (default: $MMQA_HOME or the user data dir).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout and nothing else.")]
KOpt = Annotated[int | None, typer.Option("-k", "--k", min=1, max=100, help="How many passages.")]
DocOpt = Annotated[list[str] | None, typer.Option("--doc", help="Only this paper (doc id); repeatable.")]
SectionOpt = Annotated[str | None, typer.Option("--section", help="Only this section and its subsections, e.g. 3.1")]
VerboseOpt = Annotated[bool, typer.Option("-v", "--verbose", help="Log progress details to stderr.")]


def _setup_logging(verbose: bool) -> None:
    from rich.logging import RichHandler

    from mmqa.console import err_console

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err_console(), show_time=False, show_path=False)],
    )
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.ERROR)


def _service(home: Path | None, verbose: bool = False, **overrides: Any):
    from mmqa.service import MMQA
    from mmqa.settings import Settings

    _setup_logging(verbose)
    return MMQA(Settings.load(home=home, **overrides))


def _filters(doc: list[str] | None, section: str | None):
    from mmqa.retrieval.filters import SearchFilter

    return SearchFilter(docs=doc or None, section=section)


def _print_json(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


@app.command()
def ingest(
    sources: Annotated[
        list[str] | None,
        typer.Argument(help="PDF files, folders of PDFs, or arxiv:ID[vN]; none: the corpus in ingest/corpus.toml."),
    ] = None,
    survey_only: Annotated[
        bool, typer.Option("--survey-only", help="With no papers given: only the survey, not the papers with it.")
    ] = False,
    from_dir: Annotated[
        Path | None, typer.Option("--from", help="Take arxiv:ID papers from this folder (ID.pdf / IDvN.pdf).")
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Parse, chunk, embed and index PDFs. Unchanged files are skipped; bad files are reported."""
    from mmqa.console import IngestProgressView, print_ingest_report

    service = _service(home, verbose)
    chosen = list(sources) if sources else service.default_sources(survey_only)
    with IngestProgressView(enabled=not json_out) as view:
        report = service.ingest(chosen, observer=view, from_dir=from_dir)
    if json_out:
        _print_json({"files": [f.__dict__ for f in report.files], "ok": report.ok})
    else:
        print_ingest_report(report)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    k: KOpt = None,
    doc: DocOpt = None,
    section: SectionOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Answer a question with citations to sections and pages (or say the papers do not cover it)."""
    from mmqa.console import print_answer

    answer = _service(home, verbose).ask(question, k, _filters(doc, section))
    if json_out:
        _print_json(answer.to_dict())
    else:
        print_answer(answer)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: KOpt = None,
    doc: DocOpt = None,
    section: SectionOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Ranked passages only (hybrid dense + BM25), no answer."""
    from mmqa.console import print_search

    result = _service(home, verbose).search(query, k, _filters(doc, section))
    if json_out:
        _print_json(result.to_dict())
    else:
        print_search(result)


@app.command()
def sections(
    doc: Annotated[str | None, typer.Argument(help="A doc id; all papers when omitted.")] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The section tree (number, title, pages) of each indexed paper."""
    from mmqa.console import print_sections

    trees = _service(home).sections(doc)
    if json_out:
        _print_json({d: [s.to_dict() for s in secs] for d, secs in trees.items()})
    else:
        print_sections(trees)


@app.command()
def status(home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """What is indexed: papers, versions, chunk counts, index location, models."""
    from mmqa.console import print_status

    info = _service(home).status()
    if json_out:
        _print_json(info)
    else:
        print_status(info)


@app.command()
def update(
    check: Annotated[bool, typer.Option("--check", help="Only report newer versions; change nothing.")] = False,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Ask arXiv for newer versions of every indexed arXiv paper and swap them in."""
    from mmqa.console import IngestProgressView, print_update

    service = _service(home, verbose)
    with IngestProgressView(enabled=not json_out) as view:
        rows = service.update(check_only=check, observer=view)
    if json_out:
        _print_json({"papers": rows})
    else:
        print_update(rows)
    if any(row["action"].startswith("failed") for row in rows):
        raise typer.Exit(1)


@app.command()
def remove(doc_id: Annotated[str, typer.Argument(help="The doc id to drop.")], home: HomeOpt = None) -> None:
    """Drop a paper and all its chunks from the index."""
    from mmqa.console import out_console

    removed = _service(home).remove(doc_id)
    out_console().print(f"removed {doc_id} ({removed} chunks)")


@app.command("serve-db")
def serve_db(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    path: Annotated[Path | None, typer.Option(help="Database folder (default: HOME/chroma-server).")] = None,
    home: HomeOpt = None,
) -> None:
    """Run a Chroma server for several mmqa processes; point them at it with MMQA_CHROMA_URL=http://HOST:PORT."""
    import shutil
    import subprocess

    from mmqa.settings import Settings

    settings = Settings.load(home=home)
    chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    folder = path or settings.home / "chroma-server"
    sys.stderr.write(f"mmqa: Chroma server on http://{host}:{port} (data in {folder}); set MMQA_CHROMA_URL to use it\n")
    raise typer.Exit(subprocess.call([chroma, "run", "--path", str(folder), "--host", host, "--port", str(port)]))


UI_APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"


def ui_command(app_path: Path, host: str, port: int) -> list[str]:
    """The ``streamlit run`` command line of the chat UI: loopback, headless, no usage statistics."""
    return [sys.executable, "-m", "streamlit", "run", str(app_path), "--server.address", host,
            "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.maxUploadSize", "50", "--client.toolbarMode", "minimal"]  # fmt: skip


@app.command("ui")
def ui(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    home: HomeOpt = None,
) -> None:
    """Open the chat UI (Streamlit) on http://HOST:PORT: answers stream in, [n] link to source cards."""
    import os

    if not UI_APP.is_file():
        raise MMQAError(f"the UI is not installed: {UI_APP} is missing (run mmqa from a source checkout)")
    env = {**os.environ, **({"MMQA_HOME": str(home)} if home else {})}
    sys.stderr.write(f"mmqa: chat UI on http://{host}:{port} (Ctrl+C stops it)\n")
    sys.stderr.flush()
    os.execve(sys.executable, ui_command(UI_APP, host, port), env)  # Streamlit takes over this process


@app.command("eval")
def eval_(
    qa_file: Annotated[Path, typer.Argument(help="QA JSONL (see shared/eval/README.md).")],
    home: HomeOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Retrieval hit@1/hit@5/MRR@10, abstention and citation figures on a QA set."""
    from mmqa.console import print_eval

    result = _service(home, verbose).evaluate(qa_file)
    if json_out:
        _print_json(result)
    else:
        print_eval(result)


def main() -> None:
    """Console-script entry point: one-line errors, no tracebacks for expected failures."""
    try:
        app()
    except MMQAError as exc:
        sys.stderr.write(f"mmqa: {exc}\n")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.stderr.write("mmqa: interrupted\n")
        sys.exit(130)


if __name__ == "__main__":
    main()
