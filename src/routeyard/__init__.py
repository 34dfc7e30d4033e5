"""routeyard: route a creative brief through a chain of generative models.

The public Python API mirrors the CLI: load a pipeline, run it, re-run it from
a step, trace an asset's lineage, export deliverables with provenance.
"""

from routeyard.api import export_run, lineage, load_pipeline, rerun, run_pipeline, show_run
from routeyard.errors import RouteyardError

__all__ = [
    "RouteyardError",
    "export_run",
    "lineage",
    "load_pipeline",
    "rerun",
    "run_pipeline",
    "show_run",
]
__version__ = "0.1.0"
