"""Retrieval: dense + BM25 candidates, fused by reciprocal rank, spread across sections."""
