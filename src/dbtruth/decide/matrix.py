"""The decision matrix (matrix.yaml, the playbook's §8 table) as frozen data."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import yaml

# The playbook's words, as numbers a weight multiplies.
RATINGS = {"High": 3.0, "Medium/High": 2.5, "Medium": 2.0, "Low/Medium": 1.5, "Low": 1.0}


@dataclass(frozen=True, slots=True)
class Family:
    key: str
    name: str
    examples: str
    serves: str


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    name: str
    truth: bool  # part of what makes a store fit to hold the truth
    ratings: dict[str, str]  # family key -> the playbook's rating

    def score(self, family: str) -> float:
        return RATINGS[self.ratings[family]]


@dataclass(frozen=True, slots=True)
class Matrix:
    families: tuple[Family, ...]
    requirements: tuple[Requirement, ...]

    def requirement(self, key: str) -> Requirement | None:
        return next((r for r in self.requirements if r.key == key), None)

    def family(self, key: str) -> Family:
        return next(f for f in self.families if f.key == key)


def load_matrix() -> Matrix:
    text = resources.files("dbtruth.decide").joinpath("matrix.yaml").read_text()
    data = yaml.safe_load(text)
    families = tuple(
        Family(key, f["name"], f["examples"], f["serves"]) for key, f in data["families"].items()
    )
    requirements = tuple(
        Requirement(key, r["name"], bool(r.get("truth")), dict(r["ratings"]))
        for key, r in data["requirements"].items()
    )
    return Matrix(families, requirements)
