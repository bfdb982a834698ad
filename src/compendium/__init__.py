"""WITI research compendium: helpers for a reproducible digital ethnography.

The package does the work; the notebooks in ``notebooks/`` tell the story.
"""

__version__ = "0.1.0"

from . import reads as _reads

_reads.install_from_env()  # only inside a stage run by `compendium run`: records what the stage reads
