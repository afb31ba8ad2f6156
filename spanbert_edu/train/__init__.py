"""Pretraining: ``pretrain(...)`` and ``python -m spanbert_edu pretrain``.

* :mod:`.config` - ``TrainConfig``, every knob of a run (each one a command-line flag);
* :mod:`.loop` - ``pretrain``, the training loop (start reading here);
* :mod:`.step` - one optimisation step, the optimiser and schedule, data-parallel loss shares;
* :mod:`.run_folder` - the run folder's rules (resume, overwrite), ``metrics.jsonl``, checkpoints kept.
"""
from .config import RESUME_MAY_CHANGE, TrainConfig
from .loop import pretrain
from .step import make_optimizer

__all__ = ["TrainConfig", "pretrain", "make_optimizer", "RESUME_MAY_CHANGE"]
