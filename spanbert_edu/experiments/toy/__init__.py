"""A toy world that shows the Span Boundary Objective's mechanism (notebook 08); its probe finds no SBO effect.

``ToyWorld`` generates the language; ``run_toy`` trains MLM-only and MLM+SBO arms on it and
probes their boundary states. Command: ``python -m spanbert_edu toy --seeds 3 --out FILE.json``; the
committed result the package ships is ``spanbert_edu/assets/results/toy_world.json``.
"""
from .experiment import ARMS, ToyConfig, run_arm, run_toy, score_arm, summarise, train_arm
from .world import ToyWorld

__all__ = ["ARMS", "ToyConfig", "ToyWorld", "run_arm", "run_toy", "score_arm", "summarise", "train_arm"]
