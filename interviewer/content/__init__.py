"""Content: personas, problems (hidden specs) and rubrics, their models and their loading."""

from interviewer.content.loader import Catalog, ContentError, ContentLibrary, ContentNotFound, Loaded, load_file
from interviewer.content.models import Dimension, Fact, Persona, Problem, Rubric, Threshold, WhatIf

__all__ = [
    "Catalog",
    "ContentError",
    "ContentLibrary",
    "ContentNotFound",
    "Dimension",
    "Fact",
    "Loaded",
    "Persona",
    "Problem",
    "Rubric",
    "Threshold",
    "WhatIf",
    "load_file",
]
