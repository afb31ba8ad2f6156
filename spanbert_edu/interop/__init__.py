"""Interop: weights in and out of Hugging Face ``transformers`` and the authors' release.

* :mod:`.hf` - ``to_hf_bert`` / ``from_hf_bert``, ``export_hf`` (a transformers folder + the SBO head);
* :mod:`.authors` - ``from_authors_checkpoint``: the authors' released SpanBERT with both heads;
* :mod:`.download` - fetching that release with resume and SHA-256 checks;
* :mod:`.pretrained` - ``load_pretrained``: the bundled model, a run of ours, or a release by name.
"""
