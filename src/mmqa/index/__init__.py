"""The index: embeddings, the Chroma vector store, the BM25 index and the manifest of papers."""
