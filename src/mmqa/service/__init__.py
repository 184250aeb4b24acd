"""The one service facade: the CLI and the UI call ``MMQA``, and nothing else does real work.

``MMQA`` is assembled from one part per concern, each a mixin over ``ServiceBase`` (settings, index
location, lazily built components):

- ``corpus.CorpusMixin``: ingest, update, ingest_survey, remove, rebuild, save_upload, fetch_arxiv;
- ``refs.RefsMixin``: references, resolve_references, default_survey, answer_bibtex;
- ``chains.ChainsMixin``: add_primary (evidence chains), survey_question;
- ``query.QueryMixin``: search, ask, ask_stream, llm, evaluate;
- ``admin.AdminMixin``: status, sections, page_image.
"""

from __future__ import annotations

from mmqa.service.admin import AdminMixin
from mmqa.service.base import MAX_QUESTION_CHARS, MAX_UPLOAD_BYTES, ServiceBase, clean_question, safe_upload_name
from mmqa.service.corpus import CorpusMixin, SurveyIngest
from mmqa.service.query import QueryMixin, SearchResult
from mmqa.service.refs import ReferenceList

__all__ = [
    "MAX_QUESTION_CHARS",
    "MAX_UPLOAD_BYTES",
    "MMQA",
    "ReferenceList",
    "SearchResult",
    "ServiceBase",
    "SurveyIngest",
    "clean_question",
    "safe_upload_name",
]


class MMQA(CorpusMixin, QueryMixin, AdminMixin):
    """Ingest, search, ask, references, sections, status over one index in ``settings.home``."""
