"""Acquiring papers: arXiv downloads (rate-limited, retried, cached) and offline folders."""
