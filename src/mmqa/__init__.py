"""mmqa: cited question answering over a survey of multimodal foundation models and the papers it cites."""

__version__ = "0.1.0"

# Libraries whose INFO/WARNING chatter is hidden from people (the CLI and the UI quieten them).
NOISY_LOGGERS = ("pypdf", "chromadb", "httpx", "bm25s", "sentence_transformers", "transformers")
