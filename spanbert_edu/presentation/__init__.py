"""Presentation: what the notebooks, ``figures/`` and the ``fill`` and ``demo`` commands show.

Nothing here trains or masks in its own way; every module calls the core and draws or prints it.

* :mod:`.predict` - ask both heads about a masked span (the one place that does it);
* :mod:`.fill` - fill a [BLANK], or rank candidate fillers, with the MLM and SBO heads;
* :mod:`.diagrams`, :mod:`.plots` - matplotlib figures from library results;
* :mod:`.widgets` - ipywidgets panels that wire controls to those figures (notebooks extra);
* :mod:`.figures` - ``python -m spanbert_edu figures``: every file in ``figures/``;
* :mod:`.demo` - ``python -m spanbert_edu demo``: one batch masked with every scheme.
"""
