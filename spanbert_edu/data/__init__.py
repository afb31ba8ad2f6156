"""Data: the bundled corpus and tokenizer, other corpora, and packing into single sequences."""
from .bundled import default_documents
from .corpus import load_corpus
from .documents import Document, split_documents
from .tokenizer import load_tokenizer

__all__ = ["Document", "default_documents", "load_corpus", "split_documents", "load_tokenizer"]
