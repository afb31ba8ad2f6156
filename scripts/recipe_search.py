"""Moved to the package: ``python -m spanbert_edu.experiments.recipe_search`` (same flags)."""
from spanbert_edu.experiments.recipe_search import main
raise SystemExit(main())
