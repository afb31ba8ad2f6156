"""load_corpus("python-docs"): reST cleaning, documents, the split and decontamination, on a
small fake docs tree written here (the real one needs Debian's python3.11-doc)."""
import pytest

from spanbert_edu.data import load_corpus
from spanbert_edu.data import python_docs as pd
from spanbert_edu.data.bundled import default_documents
from spanbert_edu.data.documents import split_documents

PAGE = """\
:mod:`fakejson` --- A fake encoder
==================================

.. module:: fakejson
   :synopsis: Encode things.

**Source code:** :source:`Lib/fakejson.py`

This module turns :class:`dict` objects into text, see :pep:`8` and `the site <https://example.org>`_ for more.

Here is how it is used::

    >>> import fakejson
    >>> fakejson.dumps({})
    '{}'

After the example the prose goes on with ``literal`` words and *emphasis* inside it.

Basic usage
-----------

.. function:: dumps(obj, *, indent=None)
              dump(obj, fp)

   Serialize the object to a string in a careful and deterministic way.

   .. versionchanged:: 3.6
      All optional parameters are now keyword only parameters.

.. code-block:: python

   def hidden_code_line_that_is_long_enough(): pass

+-----------+-------------------+
| grid cell | another grid cell |
+-----------+-------------------+

=====  ======================
Name   Meaning of the column
=====  ======================
a      a simple table row here
=====  ======================

.. note::
   A note whose body is prose that a reader would keep.

.. productionlist:: grammar
   stmt: expression_stmt | assert_stmt

Exceptions
----------

* The first bullet explains a failure mode of the encoder.
* x = 1

.. this is a comment that says nothing useful at all
"""


def _write(tmp_path, files: dict):
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_clean_inline_markup():
    assert pd.clean_inline(":func:`len` and :meth:`~a.b.close`") == "len and close"
    assert pd.clean_inline("see :ref:`the guide <guide-label>` or `here <https://x.org>`_") == "see the guide or here"
    assert pd.clean_inline(":pep:`8`, :rfc:`7159`, ``x + 1``, **bold**, *it*[#f1]_") == "PEP 8, RFC 7159, x + 1, bold, it"


def test_sections_keep_prose_and_drop_the_rest():
    sections = pd.rst_sections(PAGE)
    assert [t for t, _ in sections] == ["", "Basic usage", "Exceptions"]
    text = "\n".join(p for _, ps in sections for p in ps)
    for kept in ("This module turns dict objects into text, see PEP 8 and the site for more.",
                 "Here is how it is used:",
                 "After the example the prose goes on with literal words and emphasis inside it.",
                 "Serialize the object to a string in a careful and deterministic way.",
                 "All optional parameters are now keyword only parameters.",
                 "A note whose body is prose that a reader would keep.",
                 "The first bullet explains a failure mode of the encoder."):
        assert kept in text.split("\n"), kept
    for dropped in ("fakejson.dumps", "hidden_code_line", "grid cell", "simple table row", "stmt:",
                    "Source code", "synopsis", "dump(obj, fp)", "comment that says", "A fake encoder",
                    "x = 1", "3.6"):
        assert dropped not in text, dropped


def test_documents_split_by_page_and_long_pages_by_section(tmp_path, monkeypatch):
    monkeypatch.setattr(pd, "LONG_PAGE_WORDS", 40)  # so PAGE counts as long
    files = {f"library/mod{k}.rst.txt": PAGE.replace("fakejson", f"mod{k}") for k in range(30)}
    files["tutorial/intro.rst.txt"] = "Intro\n=====\n\n" + "Python is a language that people like to read. " * 3
    root = _write(tmp_path, files)
    train = load_corpus("python-docs", "train", docs_path=root)
    heldout = load_corpus("python-docs", "heldout", docs_path=root)
    every = load_corpus("python-docs", "all", docs_path=root)
    page = lambda d: d.doc_id.split("#")[0]
    assert {page(d) for d in train}.isdisjoint({page(d) for d in heldout})
    assert {d.doc_id for d in train} | {d.doc_id for d in heldout} == {d.doc_id for d in every}
    assert len({page(d) for d in heldout}) == round(0.05 * 31)                # 5% of pages
    long_ids = [d.doc_id for d in every if d.doc_id.startswith("python-docs/library/mod0")]
    assert long_ids == ["python-docs/library/mod0#0", "python-docs/library/mod0#1"]  # section 2 < 20 words
    assert [d.doc_id for d in every if "tutorial" in d.doc_id] == ["python-docs/tutorial/intro"]
    # deterministic: the same call gives the same documents
    assert [d.doc_id for d in load_corpus("python-docs", "train", docs_path=root)] == [d.doc_id for d in train]


def test_training_split_is_decontaminated_against_the_bundled_heldout(tmp_path):
    held = split_documents(default_documents(), "heldout", 0.05)
    module_doc = next(d for d in held if d.doc_id.startswith("stdlib/"))
    module = module_doc.doc_id[len("stdlib/"):].removesuffix(".py").replace("/__init__", "").replace("/", ".")
    leaked = max(next(d for d in held if d.doc_id.startswith("pydoc/")).text.split("\n\n"), key=len)
    clean = "This paragraph is original prose about nothing in the bundled corpus at all, truly."
    files = {f"library/{module}.rst.txt": "Title\n=====\n\n" + clean + "\n\n" + clean + " Again.\n",
             "reference/leaky.rst.txt": "Leaky\n=====\n\n" + leaked + "\n\n" + clean + "\n\n" + clean + " Twice.\n"}
    files.update({f"howto/h{k}.rst.txt": f"H{k}\n==\n\n{clean} Number {k}.\n\n{clean} Again {k}.\n" for k in range(40)})
    root = _write(tmp_path, files)
    heldout = {d.doc_id for d in load_corpus("python-docs", "heldout", docs_path=root)}
    assert not heldout & {f"python-docs/library/{module}", "python-docs/reference/leaky"}, "pick other names"
    train = {d.doc_id: d for d in load_corpus("python-docs", "train", docs_path=root)}
    assert f"python-docs/library/{module}" not in train                  # the held-out module's page
    assert leaked not in train["python-docs/reference/leaky"].text       # the copied paragraph
    assert clean in train["python-docs/reference/leaky"].text            # the rest of that page
    undecontaminated = pd.python_docs_documents("train", path=root, decontaminate=False)
    assert f"python-docs/library/{module}" in {d.doc_id for d in undecontaminated}
    report = pd.decontamination_report(root)
    assert report["ngram"] == 8 and report["paragraphs_dropped_by_ngram"] == 1
    assert report["pages_dropped_by_module"] == [f"library/{module}.rst.txt"]


def test_missing_docs_name_the_apt_command(monkeypatch, tmp_path):
    monkeypatch.setattr(pd, "DEFAULT_DOCS_PATHS", (tmp_path / "nope",))
    with pytest.raises(FileNotFoundError, match="apt-get install python3.11-doc"):
        load_corpus("python-docs")
    with pytest.raises(ValueError, match="docs_path"):
        load_corpus("python-docs", docs_path=tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no .rst"):
        load_corpus("python-docs", docs_path=tmp_path / "empty")


def test_mixture_concatenates_each_split(tmp_path):
    root = _write(tmp_path, {f"faq/q{k}.rst.txt": f"Q{k}\n==\n\n" + f"Answer number {k} is written in plain words. " * 6
                             for k in range(20)})
    mix = load_corpus("default+python-docs", "heldout", docs_path=root)
    assert mix == load_corpus("default", "heldout") + load_corpus("python-docs", "heldout", docs_path=root)
