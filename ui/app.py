"""The mmqa chat page: ``mmqa ui`` (or ``streamlit run ui/app.py``).

Thin by design: answers, sections, status, page images and ingests all go through the ``MMQA``
facade and one ``ChatSession`` per browser session; HTML comes from ``mmqa.webview``, which escapes
every piece of text taken from a PDF.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import streamlit as st

from mmqa import NOISY_LOGGERS, webview
from mmqa.chat import ChatSession
from mmqa.errors import MMQAError
from mmqa.retrieval.filters import SearchFilter
from mmqa.schema import Answer, Passage
from mmqa.service import MMQA
from mmqa.settings import Settings
from mmqa.webview import md_escape

log = logging.getLogger("mmqa.ui")
ALL = ""  # "all papers" in the paper picker, "whole paper" in the section picker
# A job run with a progress observer; returns (message, failures) to show after the page reloads.
IngestJob = Callable[[webview.ProgressObserver], tuple[str, list[str]]]


@contextmanager
def shown_errors() -> Iterator[None]:
    """Show an error as one readable line (``st.error``), never as a traceback."""
    try:
        yield
    except MMQAError as exc:
        st.error(md_escape(str(exc)))
    except Exception as exc:  # an unexpected bug: log the traceback, show one line
        log.exception("unexpected error in the UI")
        first_line = (str(exc).strip().splitlines() or [""])[0]
        st.error(md_escape(f"Unexpected error ({type(exc).__name__}): {first_line}"))


@st.cache_resource(show_spinner="Loading the index and the embedding model…")
def load_service(key: str, _settings: Settings) -> MMQA:
    """One service per distinct settings (``key``), shared by every browser session; warmed up when indexed."""
    service = MMQA(_settings)
    if service.status()["papers"]:
        service.embedder.embed_query("warm up")
    return service


def chat_session(service: MMQA) -> ChatSession:
    """This browser session's conversation (a new one if the service changed)."""
    chat = st.session_state.get("chat")
    if chat is None or chat.service is not service:
        chat = st.session_state["chat"] = ChatSession(service)
        st.session_state["turns"] = []
    return chat


def _set_section(number: str) -> None:
    st.session_state["scope_section"] = number


def _reset_section() -> None:
    st.session_state["scope_section"] = ALL


def scope_picker(service: MMQA, papers: dict[str, dict[str, Any]]) -> SearchFilter:
    """Which papers (and which section of one paper) to search; a browsable table of contents."""
    doc = st.selectbox(
        "Papers to search",
        [ALL, *papers],
        format_func=lambda d: "All papers" if d == ALL else f"{papers[d]['short_name']} ({d})",
        key="scope_doc",
        on_change=_reset_section,
    )
    if doc == ALL:
        st.caption("Pick one paper to search a section of it (or browse its sections).")
        return SearchFilter()
    tree = service.sections(doc)[doc]
    labels = {s.number: webview.section_option(s) for s in tree if s.number}
    st.session_state.setdefault("scope_section", ALL)
    if st.session_state["scope_section"] not in labels:
        st.session_state["scope_section"] = ALL
    section = st.selectbox(
        "Section", [ALL, *labels], format_func=lambda n: labels.get(n, "Whole paper"), key="scope_section"
    )
    with st.expander("Browse sections"):
        for s in tree:
            if s.number:
                st.button(md_escape(labels[s.number]), key=f"toc-{doc}-{s.number}", type="tertiary",
                          on_click=_set_section, args=(s.number,), help="Scope questions to this section")  # fmt: skip
            else:
                st.caption(md_escape(webview.section_option(s)))
    return SearchFilter(docs=[doc], section=section or None)


def corpus_status(status: dict[str, Any]) -> None:
    """Papers, versions and the time of the last ingest."""
    papers = status["papers"]
    last = max(p["ingested_at"] for p in papers)[:16].replace("T", " ")
    st.caption(f"{len(papers)} papers · {status['total_chunks']} passages · last ingest {last} UTC")
    lines = [f"- **{md_escape(p['short_name'])}** · {md_escape(p['doc_id'])} {md_escape(p['version'])} · "
             f"{p['pages']} pp\\. · {p['chunks']} passages" for p in papers]  # fmt: skip
    st.markdown("\n".join(lines))


def run_ingest(job: IngestJob) -> None:
    """Run an ingest or update with a progress bar; report the outcome after reloading the page."""
    bar = st.progress(0.0, text="starting…")
    with shown_errors():
        message, failures = job(webview.ProgressObserver(bar))
        st.session_state["flash"] = (message, failures)
        st.rerun()


def ingest_report(service: MMQA, sources: list[Path | str] | None) -> IngestJob:
    """A job ingesting ``sources`` (None: rebuilding the papers of an index built under other settings)."""

    def job(observer: webview.ProgressObserver) -> tuple[str, list[str]]:
        report = service.rebuild(observer=observer) if sources is None else service.ingest(sources, observer=observer)
        failures = [f"skipped {Path(f.path).name}: {f.reason}" for f in report.failed]
        return f"Ingest finished: {report.summary()}", failures

    return job


def update_job(service: MMQA) -> IngestJob:
    """A job fetching newer arXiv versions of the indexed papers."""

    def job(observer: webview.ProgressObserver) -> tuple[str, list[str]]:
        rows = service.update(observer=observer)
        failures = [f"{r['doc_id']}: {r['action']}" for r in rows if r["action"].startswith("failed")]
        done = ", ".join(f"{r['doc_id']} {r['action']}" for r in rows) or "no arXiv papers indexed"
        return f"Update finished: {done}", failures

    return job


def ingest_panel(service: MMQA, status: dict[str, Any]) -> None:
    """Add papers (a path or an upload), re-ingest the indexed ones, or fetch newer arXiv versions."""
    path = st.text_input("PDF file or folder", key="ingest_path", placeholder="../shared/corpus/pdfs")
    upload = st.file_uploader("…or upload a PDF (up to 50 MB)", type=["pdf"], key="upload")
    if st.button("Ingest", key="ingest", type="primary"):
        with shown_errors():
            sources: list[Path | str] = []
            if upload is not None:
                sources.append(service.save_upload(upload.name, upload.getvalue()))
            if path.strip():
                sources.append(Path(path.strip()).expanduser())
            if sources:
                run_ingest(ingest_report(service, sources))
            else:
                st.warning("Give a PDF file or folder, or upload a PDF.")
    earlier = status.get("earlier_index")
    if earlier:
        missing = len(earlier["papers_not_in_current"])
        if st.button(f"Rebuild {missing} papers from an earlier index", key="rebuild", type="primary",
                     help="Indexed by an earlier mmqa version or other settings: read their PDFs again"):  # fmt: skip
            run_ingest(ingest_report(service, None))
    if status["papers"]:
        if st.button("Re-ingest indexed papers", key="reingest", help="Changed files are re-indexed, the rest skipped"):
            run_ingest(ingest_report(service, [p["source_path"] for p in status["papers"]]))
        if st.button("Check arXiv for newer versions", key="update"):
            run_ingest(update_job(service))


def sidebar(service: MMQA, status: dict[str, Any]) -> tuple[SearchFilter, str, int]:
    """Scope, answer backend, k, corpus status and ingest controls; returns (filters, llm spec, k)."""
    papers = {p["doc_id"]: p for p in status["papers"]}
    filters = scope_picker(service, papers)
    configured = service.settings.llm_settings.model
    backends = ["", configured] if configured else [""]
    llm = st.radio("Answers", backends, index=len(backends) - 1, key="backend",
                   format_func=lambda b: f"LLM: {b}" if b else "Extractive (quoted sentences, offline)")  # fmt: skip
    k = st.slider("Passages to retrieve (k)", 1, 20, service.settings.retrieval.k, key="k")
    if st.button("New conversation", key="new_chat"):
        st.session_state["chat"].reset()
        st.session_state["turns"] = []
    st.divider()
    st.subheader("Corpus")
    corpus_status(status)
    with st.expander("Add or update papers"):
        ingest_panel(service, status)
    return filters, llm, k


def empty_state(service: MMQA, status: dict[str, Any]) -> None:
    """Nothing indexed yet: say how to ingest (or rebuild an earlier index), and offer to do it here."""
    earlier = status.get("earlier_index")
    if earlier:
        st.info(
            f"**Nothing is indexed with the current settings**, but {len(earlier['papers_not_in_current'])} "
            "papers are in an index built by an earlier mmqa version or other settings: rebuild it below "
            f"(or run `mmqa ingest --rebuild`). Data home: `{status['home']}`"
        )
        ingest_panel(service, status)
        return
    st.info(
        "**Nothing is indexed yet.** In a terminal run `mmqa ingest ../shared/corpus/pdfs` (any folder of PDFs) "
        "or `mmqa ingest` (the default corpus from arXiv), or give a folder or upload a PDF below. "
        f"Data home: `{status['home']}`"
    )
    ingest_panel(service, status)


def source_cards(service: MMQA, answer: Answer, turn: int) -> None:
    """One card per citation: paper, section, pages, the passage with its supporting sentences, the page."""
    if answer.notice:
        st.warning(md_escape(answer.notice))
    if any(not s.supported for s in answer.sentences):
        st.caption("Sentences marked *(unsupported)* are not clearly backed by the passages they cite.")
    for citation in answer.citations:
        passage = citation.passage
        with st.container(border=True):
            st.html(webview.source_card_html(answer, citation, turn))
            page_expander(service, f"PDF page {passage.pages_label()}", passage)
            for primary in citation.primary:
                page_expander(service, f"In the cited paper: {primary.passage.where()}", primary.passage)


def page_expander(service: MMQA, label: str, passage: Passage) -> None:
    """An expander with the PDF pages of ``passage`` (rendered on first view)."""
    with st.expander(md_escape(label)), shown_errors():
        for page in range(passage.page_start, passage.page_end + 1):
            st.image(str(service.page_image(passage.doc_id, page)), caption=f"page {page}")


def stream_answer(chat: ChatSession, question: str, turn: int) -> Answer:
    """Stream the answer text as it is produced, then show the finished answer with its [n] links."""
    finished: list[Answer] = []

    def pieces() -> Iterator[str]:
        for event in chat.ask_stream(question):
            if isinstance(event, Answer):
                finished.append(event)
            else:
                yield event

    placeholder = st.empty()
    with st.spinner("Searching the papers…"):
        placeholder.write_stream(webview.escaped_pieces(pieces()))
    placeholder.html(webview.answer_html(finished[-1], turn))
    return finished[-1]


def show_turn(service: MMQA, turn: int, question: str, answer: Answer) -> None:
    """A past exchange."""
    with st.chat_message("user"):
        st.markdown(md_escape(question))
    with st.chat_message("assistant"):
        st.html(webview.answer_html(answer, turn))
        source_cards(service, answer, turn)


def scope_caption(filters: SearchFilter) -> str:
    """'Searching all papers' / 'Searching 2010.11929 §3'."""
    if filters.is_empty():
        return "Searching all papers."
    where = f" §{filters.section}" if filters.section else ""
    return f"Searching {', '.join(filters.docs or [])}{where} only."


def main() -> None:
    """Build the page."""
    st.set_page_config(page_title="mmqa: multimodal foundation models Q&A", page_icon=":books:", layout="wide")
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    st.title("Ask the papers")
    try:
        settings = Settings.load()
    except Exception as exc:  # a bad MMQA_* variable: pydantic's message, first line
        st.error(md_escape(f"mmqa settings are invalid: {str(exc).splitlines()[0]}"))
        return
    status: dict[str, Any] | None = None
    with shown_errors():  # e.g. an unreadable manifest or a model that cannot load
        service = load_service(settings.model_dump_json(), settings)
        status = service.status()
    if status is None:
        return
    chat = chat_session(service)
    if flash := st.session_state.pop("flash", None):
        st.success(md_escape(flash[0]))
        for failure in flash[1]:
            st.error(md_escape(failure))
    if not status["papers"]:
        empty_state(service, status)
        return
    with st.sidebar, shown_errors():
        chat.filters, chat.llm_spec, chat.k = sidebar(service, status)
    st.caption(md_escape(scope_caption(chat.filters or SearchFilter())) + " Answers cite sections and pages.")
    turns: list[tuple[str, Answer]] = st.session_state["turns"]
    for turn, (question, answer) in enumerate(turns):
        show_turn(service, turn, question, answer)
    question = st.chat_input("Ask about the survey and the papers it cites…")
    if question:
        with st.chat_message("user"):
            st.markdown(md_escape(question))
        with st.chat_message("assistant"), shown_errors():
            answer = stream_answer(chat, question, len(turns))
            turns.append((question, answer))
            source_cards(service, answer, len(turns) - 1)


main()
