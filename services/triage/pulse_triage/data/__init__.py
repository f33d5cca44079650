"""Data shipped with triage: the feature lexicon, the fitted urgency and pair models (loaded offline)."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from pulse_triage.domain.features import Lexicon
from pulse_triage.domain.model import UrgencyModel
from pulse_triage.domain.similarity import SimilarityModel

LEXICON_FILE = "features.yaml"
MODEL_FILE = "urgency_model.json"
PAIR_MODEL_FILE = "pair_model.json"


def _read(name: str) -> bytes:
    return resources.files(__package__).joinpath(name).read_bytes()


def lexicon_sha256() -> str:
    """Fingerprint of the lexicon file, recorded in the fitted model."""
    return hashlib.sha256(_read(LEXICON_FILE)).hexdigest()


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The feature lexicon."""
    return Lexicon.from_data(yaml.safe_load(_read(LEXICON_FILE)))


@lru_cache(maxsize=1)
def model_data() -> dict[str, Any]:
    """The fitted model as parsed JSON."""
    data: dict[str, Any] = json.loads(_read(MODEL_FILE))
    return data


@lru_cache(maxsize=1)
def urgency_model() -> UrgencyModel:
    """The shipped urgency model."""
    return UrgencyModel.from_dict(model_data())


@lru_cache(maxsize=1)
def pair_model_data() -> dict[str, Any]:
    """The fitted pair model as parsed JSON."""
    data: dict[str, Any] = json.loads(_read(PAIR_MODEL_FILE))
    return data


@lru_cache(maxsize=1)
def similarity_model() -> SimilarityModel:
    """The shipped pair model (which reports tell one matter)."""
    return SimilarityModel.from_dict(pair_model_data())
