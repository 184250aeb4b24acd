"""The `mmqa` command line: argument parsing and printing only; the work is in ``mmqa.service``."""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mmqa.cli_options import (
    LONG_ANSWER,
    BaseUrlOpt,
    CitedByOpt,
    CitesOpt,
    DocOpt,
    HomeOpt,
    JsonOpt,
    KOpt,
    LLMOpt,
    LongOpt,
    ScopeOpt,
    SectionOpt,
    VerboseOpt,
)
from mmqa.errors import MMQAError

app = typer.Typer(
    name="mmqa",
    help="Ask questions about the survey 'Multimodal Foundation Models' and the papers it cites; "
    "answers cite sections and pages.",
    no_args_is_help=True,  # for `mmqa` itself; `mmqa ingest` alone ingests the default corpus
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _service(home: Path | None, verbose: bool = False, **overrides: Any):
    from mmqa.console import setup_logging
    from mmqa.service import MMQA
    from mmqa.settings import Settings

    setup_logging(verbose)
    return MMQA(Settings.load(home=home, **overrides))


def _filters(doc: list[str] | None, section: str | None, cited_by: str | None = None, scope: str | None = None,
             cites: str | None = None):  # fmt: skip
    from mmqa.retrieval.filters import SearchFilter

    return SearchFilter(docs=doc or None, section=section, cited_by=cited_by, scope=scope, cites=cites)


def _read_password() -> str:
    """The PDF password: asked on the terminal without echo, or the first line of stdin when that is not one."""
    if sys.stdin.isatty():
        return typer.prompt("Password of the encrypted PDFs", hide_input=True, err=True)
    line = sys.stdin.readline()
    if not line:
        raise MMQAError("--password: no password given (stdin is not a terminal and is empty)")
    return line.rstrip("\r\n")


def _print_json(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


class _Exit:
    """Whether the console script owns the process (tests drive ``app`` inside theirs)."""

    standalone = False  # set by ``main`` only


def _start_read_only_command() -> None:
    """A one-shot read (``ask``, ``search``) runs without the cyclic garbage collector.

    Importing chromadb and its dependencies sets off many full collections: 0.13 s of a 1.6 s cold
    ``mmqa ask``. The process ends moments later, and its peak memory is the same either way (353 MB).
    """
    if _Exit.standalone:
        gc.disable()


def _end_read_only_command() -> None:
    """End a command that wrote nothing, skipping the interpreter's teardown.

    Freeing Chroma's Rust client, the HNSW indexes and the ONNX session at exit took 0.3 s of a 2.3 s cold
    ``mmqa ask`` at 54 papers; a read-only command has nothing to save, so it flushes its output and leaves.
    """
    if not _Exit.standalone:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


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
    survey: Annotated[
        str | None,
        typer.Option(
            "--survey", help="Ingest this survey (arxiv:ID), resolve its bibliography, ingest the papers it cites."
        ),
    ] = None,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="Index again the papers of an index built by an earlier mmqa version or other settings "
            "(or, after an upgrade that changed only the keyword index, rebuild that).",
        ),
    ] = False,
    password: Annotated[
        bool,
        typer.Option(
            "--password",
            help="Ask for the password of encrypted PDFs (not echoed, stored nowhere); "
            "without a terminal, the first line of stdin is the password.",
        ),
    ] = False,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Parse, chunk, embed and index PDFs. Unchanged files are skipped; bad files are reported."""
    from mmqa.console import IngestProgressView, print_ingest_report, print_survey_ingest

    service = _service(home, verbose)
    if sum((bool(sources), survey is not None, rebuild)) > 1:
        raise MMQAError("give one of: papers to ingest, --survey arxiv:ID, --rebuild")
    if password and not sources:
        raise MMQAError("--password goes with the PDFs it opens: mmqa ingest FILE... --password")
    secret = _read_password() if password else None
    outcome = None
    with IngestProgressView(enabled=not json_out) as view:
        if rebuild:
            report = service.rebuild(observer=view)
        elif sources:
            report = service.ingest(list(sources), observer=view, from_dir=from_dir, password=secret)
        else:
            outcome = service.ingest_survey(survey, observer=view, from_dir=from_dir, survey_only=survey_only)
            report = outcome.report
    if json_out:
        payload: dict[str, Any] = {"files": [f.__dict__ for f in report.files], "ok": report.ok}
        if outcome is not None:
            payload["bibliography"] = outcome.to_dict()
        _print_json(payload)
    else:
        print_ingest_report(report)
        if outcome is not None:
            print_survey_ingest(outcome)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    k: KOpt = None,
    doc: DocOpt = None,
    section: SectionOpt = None,
    llm: LLMOpt = None,
    base_url: BaseUrlOpt = None,
    cited_by: CitedByOpt = None,
    scope: ScopeOpt = None,
    bibtex: Annotated[
        bool, typer.Option("--bibtex", help="Also print BibTeX for the papers the answer cites.")
    ] = False,
    long: LongOpt = False,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Answer a question with citations to sections and pages (or say the papers do not cover it)."""
    from mmqa.console import print_bibtex, stream_answer

    _start_read_only_command()
    service = _service(home, verbose, llm=llm, llm_base_url=base_url, **(LONG_ANSWER if long else {}))
    filters = _filters(doc, section, cited_by, scope)
    if json_out:
        answer = service.ask(question, k, filters)
        entries = service.answer_bibtex(answer) if bibtex else ""
        _print_json({**answer.to_dict(), **({"bibtex": entries} if bibtex else {})})
    else:
        answer = stream_answer(service.ask_stream(question, k, filters))
        if bibtex:
            print_bibtex(service.answer_bibtex(answer))
    _end_read_only_command()


@app.command()
def chat(
    k: KOpt = None,
    doc: DocOpt = None,
    section: SectionOpt = None,
    llm: LLMOpt = None,
    base_url: BaseUrlOpt = None,
    cited_by: CitedByOpt = None,
    scope: ScopeOpt = None,
    long: LongOpt = False,
    home: HomeOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """A conversation in the terminal: follow-up questions use the earlier turns. /reset forgets, /exit ends."""
    from mmqa.chat import ChatSession
    from mmqa.console import err_console, stream_answer

    service = _service(home, verbose, llm=llm, llm_base_url=base_url, **(LONG_ANSWER if long else {}))
    session = ChatSession(service, k=k, filters=_filters(doc, section, cited_by, scope))
    err_console().print("[dim]Ask about the papers; follow-ups use earlier answers. /reset forgets, /exit ends.[/]")
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            return
        if question in ("/exit", "/quit"):
            return
        if question == "/reset":
            session.reset()
            continue
        if not question:
            continue
        try:
            stream_answer(session.ask_stream(question))
        except MMQAError as exc:  # a bad question must not end the conversation
            err_console().print(f"mmqa: {exc}")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: KOpt = None,
    doc: DocOpt = None,
    section: SectionOpt = None,
    cited_by: CitedByOpt = None,
    scope: ScopeOpt = None,
    cites: CitesOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Ranked passages only (hybrid dense + BM25), no answer."""
    from mmqa.console import print_search

    _start_read_only_command()
    result = _service(home, verbose).search(query, k, _filters(doc, section, cited_by, scope, cites))
    if json_out:
        _print_json(result.to_dict())
    else:
        print_search(result)
    _end_read_only_command()


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
def refs(
    doc: Annotated[str | None, typer.Argument(help="A doc id; default: the survey.")] = None,
    missing: Annotated[bool, typer.Option("--missing", help="Only entries whose paper is not indexed.")] = False,
    bibtex: Annotated[bool, typer.Option("--bibtex", help="Print BibTeX (parsed fields and arXiv ids only).")] = False,
    resolve: Annotated[
        bool, typer.Option("--resolve", help="Look up arXiv ids of unresolved titles online (cached).")
    ] = False,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """A paper's bibliography: key, authors, year, title, arXiv id, the indexed paper it links to (and how)."""
    from mmqa.console import print_bibtex, print_refs

    listing = _service(home, verbose).references(doc, missing=missing, resolve=resolve)
    if json_out:
        _print_json(listing.to_dict())
    elif bibtex:
        from mmqa.bibtex import bibtex as to_bibtex

        print_bibtex(to_bibtex(listing.references))
    else:
        print_refs(listing)


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


@app.command("serve-llm")
def serve_llm(
    model: Annotated[Path, typer.Argument(help="A GGUF model file.")],
    port: Annotated[int, typer.Option(help="Port to listen on (127.0.0.1).")] = 8080,
    api_key: Annotated[
        str | None, typer.Option(help="Require this bearer key (default: $MMQA_LLM_API_KEY; none: open).")
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Serve a local GGUF model as an OpenAI-compatible endpoint on 127.0.0.1 (llama.cpp via xllamacpp)."""
    import time

    from mmqa.llm.gguf import serve_gguf
    from mmqa.settings import Settings

    settings = Settings.load(home=home)
    key = api_key or (settings.llm_settings.api_key.get_secret_value() if settings.llm_settings.api_key else "")
    server = serve_gguf(model, settings.llm_settings, port, key)
    address = server.listening_address
    hint = f"--llm openai-compatible:{model.stem} --base-url {address}/v1"
    sys.stderr.write(f"mmqa: serving {model.name} at {address}/v1; use it with {hint}\n")
    sys.stderr.flush()
    while True:  # the server runs on llama.cpp's threads; Ctrl-C or SIGTERM ends the process
        time.sleep(3600)


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
    llm: LLMOpt = None,
    base_url: BaseUrlOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Retrieval hit@1/hit@5/MRR@10, section accuracy, abstention and citation figures on a QA set."""
    from mmqa.console import print_eval

    result = _service(home, verbose, llm=llm, llm_base_url=base_url).evaluate(qa_file)
    if json_out:
        _print_json(result)
    else:
        print_eval(result)


def main() -> None:
    """Console-script entry point: one-line errors, no tracebacks for expected failures."""
    _Exit.standalone = True
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
