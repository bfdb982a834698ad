"""WITI research compendium: helpers for a reproducible digital ethnography.

The package does the work; the notebooks in ``notebooks/`` tell the story.
"""

__version__ = "0.1.0"
