"""The KPI spec language: models, loader, formula parser. Knows nothing of databases."""

from tolok.spec.loaded import LoadedProject
from tolok.spec.loader import load_project
from tolok.spec.models import KPI, Dataset, Goal, Measure, Project, Settings
from tolok.spec.problems import Location, Problem, Problems, Severity

__all__ = [
    "KPI",
    "Dataset",
    "Goal",
    "LoadedProject",
    "Location",
    "Measure",
    "Problem",
    "Problems",
    "Project",
    "Settings",
    "Severity",
    "load_project",
]
