"""Experiments built on the core: each trains with ``pretrain`` and measures with ``evaluate``.

* :mod:`.ablate` - the masking-scheme and objective ablations (the paper's Tables 6 and 7);
* :mod:`.cloze` - the cloze span-selection task the ablation fine-tunes on;
* :mod:`.span_selection` - every pretraining arm fine-tuned on span selection at two labelled-set sizes
  (what span masking and SBO buy downstream, with the smallest difference the seeds can detect);
* :mod:`.toy` - the toy world: MLM vs MLM + SBO, probed at the span boundaries (notebook 08);
* :mod:`.recipe_search` - the search behind the bundled checkpoint's training recipe;
* :mod:`.stats` - mean and sample standard deviation over seeds, as every table reports them;
* :mod:`.results` - the committed results the package ships (``assets/results/``), for ``figures``
  and the notebooks.
"""
