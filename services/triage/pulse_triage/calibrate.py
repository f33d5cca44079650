"""Fit the urgency model (`python -m pulse_triage.calibrate`) and the pair model (`... calibrate pairs`).

Subcommands: `split` rebuilds tests/data/triage/split.json and pairs.jsonl from the corpus files; `freeze`
records the test split (ids + sha256) once the corpus is complete; `fit` (the default) fits on train ∪ dev,
choosing the regularisation and the per-level offsets by out-of-fold predictions grouped by matter (the test
split is never read by fitting), adds officers' reviews (`--reviews reviews.jsonl`, the export of
`GET /v1/triage/reviews?format=jsonl`) as training data, writes pulse_triage/data/urgency_model.json, and prints
the shipped model's and the new model's figures on the frozen test split (before / after); `pairs` fits
the pair model (which reports tell one matter) on the train and dev pairs and writes pulse_triage/data/pair_model.json.
scikit-learn is needed here only (a dev dependency); the service applies the JSON without it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pulse_libs.clock import utcnow
from pulse_libs.events.common import Channel

from pulse_triage import data
from pulse_triage.domain.features import Extracted, Facts, extract, folded_terms
from pulse_triage.domain.model import LEVELS, UrgencyModel, text_inputs
from pulse_triage.domain.rules import RuleSet
from pulse_triage.domain.scoring import ReportFacts, score_report
from pulse_triage.domain.similarity import (
    BLOCKS,
    RARE_DF,
    SimilarityModel,
    block_cosines,
    document_frequencies,
)
from pulse_triage.domain.text import normalize
from pulse_triage.evaluation import (
    FROZEN_FILE,
    LEVEL_NAMES,
    Example,
    Metrics,
    evaluate,
    freeze,
    frozen_test,
    held_out_b,
    held_out_c,
    load,
    load_pairs,
    write_split_files,
)
from pulse_triage.rules_schema import default_rules

MODEL_PATH = Path(data.__file__).parent / data.MODEL_FILE
OFFSET_GRID = (-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)


def featurize(examples: Sequence[Example], rules: RuleSet) -> list[Extracted]:
    """Rule features and terms of each example (no reporter facts: the corpus has text and channel only)."""
    lexicon = data.lexicon()
    out = []
    for e in examples:
        channel = Channel(e.channel) if e.channel in Channel._value2member_map_ else Channel.OTHER
        out.append(extract(normalize(f"{e.title}\n{e.content}"), Facts(channel), rules, lexicon))
    return out


def _identity(terms: list[str]) -> list[str]:
    return terms


@dataclass(frozen=True)
class Config:
    """One candidate of the selection: the regularisation C and the weight of each text block against the
    standardised rule features (a block weighted w is regularised as if its C were C·w²; 0 leaves it out)."""

    c: float
    terms: float
    chars: float

    def __str__(self) -> str:
        return f"C={self.c} terms×{self.terms} chars×{self.chars}"


CONFIGS = (
    Config(0.1, 1.0, 0.0),
    Config(0.1, 20.0, 0.0),
    Config(0.03, 40.0, 0.0),
    Config(0.01, 70.0, 0.0),
    Config(0.03, 40.0, 20.0),
)
"""The grid searched out of fold: the first row is the first fit's form (one C for all); the others weigh the
text far above the rule features, which out-of-fold runs on train ∪ dev found better (docs/TRIAGE.md)."""


def _fit(feats: Sequence[Extracted], labels: Sequence[int], config: Config) -> dict[str, Any]:
    import numpy as np
    from scipy.sparse import csr_matrix, hstack  # type: ignore[import-untyped]
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    names = sorted({n for f in feats for n in f.values})
    dense = np.array([[f.values.get(n, 0.0) for n in names] for f in feats])
    mean, scale = dense.mean(axis=0), dense.std(axis=0)
    scale[scale == 0] = 1.0
    inputs = [text_inputs(f.terms) for f in feats]
    blocks = [(name, w) for name, w in (("terms", config.terms), ("chars", config.chars)) if w > 0]
    vectorizers = {name: TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=2) for name, _ in blocks}
    matrices = [vectorizers[name].fit_transform([i[name] for i in inputs]) * w for name, w in blocks]
    x = hstack([csr_matrix((dense - mean) / scale), *matrices]).tocsr()
    clf = LogisticRegression(C=config.c, max_iter=5000, class_weight="balanced")
    clf.fit(x, labels)
    coef = np.zeros((len(LEVELS), x.shape[1]))
    for row, cls in enumerate(clf.classes_):
        coef[int(cls)] = clf.coef_[row]
    intercept = np.full(len(LEVELS), -30.0)
    intercept[clf.classes_] = clf.intercept_
    doc_blocks: dict[str, Any] = {}
    at = len(names)
    for (name, w), matrix in zip(blocks, matrices, strict=True):
        vectorizer = vectorizers[name]
        block = coef[:, at : at + matrix.shape[1]] * w  # the weight folded in: the service applies plain TF-IDF
        at += matrix.shape[1]
        doc_blocks[name] = {
            "idf": {t: round(float(vectorizer.idf_[i]), 4) for t, i in vectorizer.vocabulary_.items()},
            "coef": {
                t: block[:, i].round(4).tolist()
                for t, i in vectorizer.vocabulary_.items()
                if abs(block[:, i]).max() > 1e-3
            },
        }
    return {
        "dense": {
            "names": names,
            "mean": mean.tolist(),
            "scale": scale.tolist(),
            "coef": coef[:, : len(names)].round(5).tolist(),
        },
        "blocks": doc_blocks,
        "config": {"c": config.c, "terms": config.terms, "chars": config.chars},
        "intercept": intercept.round(5).tolist(),
        "offsets": [0.0] * len(LEVELS),
    }


UNDER_ALLOWED = 0.04
"""Under-calls selection tolerates before it pays for them (the target is ≤ 5%; a margin for held-out noise)."""


def _cost(m: Metrics) -> float:
    """What selection minimises: misses, under-calls beyond UNDER_ALLOWED four times, a serious report called
    routine ten times (in share of the reports). Under-calls weigh more than over-calls."""
    return (1 - m.exact) + 4 * max(0.0, m.under - UNDER_ALLOWED) + 10 * m.serious_called_routine / max(1, m.n)


def _out_of_fold(feats: list[Extracted], labels: list[int], groups: list[str], config: Config) -> list[list[float]]:
    """Log-odds of each example from models fitted without its matter (5 folds grouped by matter)."""
    from sklearn.model_selection import GroupKFold  # type: ignore[import-untyped]

    out: list[list[float]] = [[] for _ in feats]
    for train_idx, held_idx in GroupKFold(n_splits=5).split(feats, labels, groups):
        model = UrgencyModel.from_dict(_fit([feats[i] for i in train_idx], [labels[i] for i in train_idx], config))
        for i in held_idx:
            p = model.predict(feats[i].values, feats[i].terms).probabilities
            out[i] = [float(_log(v)) for v in p]
    return out


def _log(v: float) -> float:
    import math

    return math.log(max(v, 1e-12))


def _choose(logodds: list[list[float]], labels: list[int]) -> tuple[float, tuple[float, ...]]:
    best: tuple[float, tuple[float, ...]] = (float("inf"), (0.0,) * len(LEVELS))
    for offs in itertools.product(OFFSET_GRID, repeat=len(LEVELS) - 1):
        offsets = (0.0, *offs)
        predicted = [_argmax([v + o for v, o in zip(row, offsets, strict=True)]) for row in logodds]
        cost = _cost(_metrics(labels, predicted))
        if cost < best[0] - 1e-9:
            best = (cost, offsets)
    return best


def _argmax(values: Sequence[float]) -> int:
    return max(range(len(values)), key=values.__getitem__)


def _metrics(labels: Sequence[int], predicted: Sequence[int]) -> Metrics:
    from pulse_triage.evaluation import measure

    return measure((LEVEL_NAMES[a], LEVEL_NAMES[b]) for a, b in zip(labels, predicted, strict=True))


def fit(examples: Sequence[Example], rules: RuleSet) -> tuple[dict[str, Any], str]:
    """Choose the configuration and offsets out of fold, then fit on every example; the model document, a log."""
    feats = featurize(examples, rules)
    labels = [LEVEL_NAMES.index(e.urgency) for e in examples]
    groups = [e.matter for e in examples]
    log = []
    best: tuple[float, Config, tuple[float, ...]] | None = None
    for config in CONFIGS:
        cost, offsets = _choose(_out_of_fold(feats, labels, groups, config), labels)
        log.append(f"{config}: out-of-fold cost {cost:.3f} with offsets {offsets}")
        print(log[-1], flush=True)
        if best is None or cost < best[0]:
            best = (cost, config, offsets)
    assert best is not None
    doc = _fit(feats, labels, best[1])
    doc["offsets"] = list(best[2])
    return doc, "\n".join(log)


PAIR_MODEL_PATH = Path(data.__file__).parent / data.PAIR_MODEL_FILE
PAIR_C = 1.0
"""Regularisation of the pair model (chosen on the dev pairs among 0.1, 1 and 10; all three within 0.03)."""
PAIR_RECALL = 0.85
"""The threshold is the one with the best precision at recall at least this on the train ∪ dev pairs (the lowest
such). Chosen on the dev pairs alone (51 positives) it gave dev 0.920 / 0.902 but train recall 0.674: too few
pairs to place it, so both fitting splits place it (the model has five parameters, fitted on train)."""
STRICT_PRECISION = 0.95


def pair_features(model: SimilarityModel, a: Sequence[str], b: Sequence[str], gap: int) -> list[float]:
    """The pair model's inputs for two reports' terms: each block's cosine (the model's vectors with unit block
    weights), and their urgency levels' gap."""
    unit = replace(model, weights=dict.fromkeys(BLOCKS, 1.0))
    cosines = block_cosines(unit.vector(a), unit.vector(b))
    return [cosines[k] for k in BLOCKS] + [float(abs(gap))]


def precision_recall(scored: Sequence[tuple[float, bool]], threshold: float) -> tuple[float, float]:
    """Precision and recall of calling `score >= threshold` one matter."""
    tp = sum(1 for s, same in scored if s >= threshold and same)
    fp = sum(1 for s, same in scored if s >= threshold and not same)
    fn = sum(1 for s, same in scored if s < threshold and same)
    return tp / max(1, tp + fp), tp / max(1, tp + fn)


def _threshold_for(scored: Sequence[tuple[float, bool]], *, recall: float = 0.0, precision: float = 0.0) -> float:
    """The lowest score threshold with the best precision at recall >= `recall` (or, given `precision`, the
    lowest threshold reaching it)."""
    best: tuple[float, float] | None = None
    for t in sorted({s for s, _ in scored}):
        p, r = precision_recall(scored, t)
        if precision and p >= precision:
            return t
        if not precision and r >= recall and (best is None or p > best[0] + 1e-12):
            best = (p, t)
    return best[1] if best else max(s for s, _ in scored)


def out_of_fold_levels(examples: Sequence[Example], rules: RuleSet, urgency_doc: dict[str, Any]) -> dict[str, int]:
    """Each example's urgency rank from urgency models fitted without its matter (the shipped configuration and
    offsets, 5 folds grouped by matter): the pair model learns the urgency gap as it will be on unseen reports."""
    feats = featurize(examples, rules)
    labels = [LEVEL_NAMES.index(e.urgency) for e in examples]
    cfg = urgency_doc["config"]
    logodds = _out_of_fold(feats, labels, [e.matter for e in examples], Config(cfg["c"], cfg["terms"], cfg["chars"]))
    offsets = urgency_doc["offsets"]
    return {
        e.id: _argmax([v + o for v, o in zip(row, offsets, strict=True)])
        for e, row in zip(examples, logodds, strict=True)
    }


def fit_pairs(examples: Sequence[Example], rules: RuleSet, urgency_doc: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Fit the pair model: IDF from the train ∪ dev reports, weights by logistic regression on the train pairs,
    the threshold on the train ∪ dev pairs (best precision at recall >= PAIR_RECALL). The test pairs are never
    read."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    fitting = [e for e in examples if e.split in ("train", "dev")]
    terms = {e.id: folded_terms(normalize(f"{e.title}\n{e.content}").folded) for e in fitting}
    idf = document_frequencies(terms[e.id] for e in fitting)
    rare_idf = round(math.log((1 + len(fitting)) / (1 + RARE_DF)) + 1, 4)
    base = SimilarityModel(idf, threshold=0.0, default_idf=max(idf.values()), rare_idf=rare_idf)
    levels = out_of_fold_levels(fitting, rules, urgency_doc)
    pairs = {s: [p for p in load_pairs(s) if p.a in terms and p.b in terms] for s in ("train", "dev")}
    x = {
        s: np.array([pair_features(base, terms[p.a], terms[p.b], levels[p.a] - levels[p.b]) for p in ps])
        for s, ps in pairs.items()
    }
    y = {s: np.array([p.same for p in ps]) for s, ps in pairs.items()}
    clf = LogisticRegression(C=PAIR_C, max_iter=5000).fit(x["train"], y["train"])
    coef = clf.coef_[0]
    weights = {b: round(max(0.0, float(w)), 4) for b, w in zip(BLOCKS, coef, strict=False)}
    intercept, gap = float(clf.intercept_[0]), round(max(0.0, -float(coef[len(BLOCKS)])), 4)
    model = replace(base, weights=weights, urgency_gap=gap, intercept=intercept)

    def scored(split: str) -> list[tuple[float, bool]]:
        rows = x[split]
        return [
            (sum(weights[b] * r[i] for i, b in enumerate(BLOCKS)) - gap * r[len(BLOCKS)], bool(same))
            for r, same in zip(rows, y[split], strict=True)
        ]

    threshold = round(_threshold_for(scored("train") + scored("dev"), recall=PAIR_RECALL), 4)
    strict = round(_threshold_for(scored("train") + scored("dev"), precision=STRICT_PRECISION), 4)
    figures = {s: dict(zip(("precision", "recall"), precision_recall(scored(s), threshold), strict=True)) for s in x}
    dev_only = _threshold_for(scored("dev"), recall=PAIR_RECALL)
    figures["dev-only threshold"] = {"threshold": dev_only} | dict(
        zip(("train precision", "train recall"), precision_recall(scored("train"), dev_only), strict=True)
    )
    log = [f"pair model C={PAIR_C}: weights {weights}, urgency gap -{gap}/level, intercept {intercept:.3f}"]
    log += [f"threshold {threshold} (strict {strict}); {len(pairs['train'])} train, {len(pairs['dev'])} dev pairs"]
    log += [f"{s}: " + ", ".join(f"{k} {v:.3f}" for k, v in f.items()) for s, f in figures.items()]
    doc = {
        "idf": model.idf,
        "weights": weights,
        "urgency_gap": gap,
        "rare_idf": rare_idf,
        "intercept": round(intercept, 4),
        "threshold": threshold,
        "strict_threshold": strict,
        "meta": {
            "fitted_at": utcnow().isoformat(),
            "c": PAIR_C,
            "recall_target": PAIR_RECALL,
            "examples": len(fitting),
            "pairs": {s: len(ps) for s, ps in pairs.items()},
            "figures": {s: {k: round(v, 3) for k, v in f.items()} for s, f in figures.items()},
            "log": log,
        },
    }
    return doc, "\n".join(log)


def reviews_as_examples(path: Path) -> list[Example]:
    """Officers' corrections (JSON lines of GET /v1/triage/reviews?format=jsonl) as training examples."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        if not r.get("urgency") or not r.get("text"):
            continue
        out.append(
            Example(
                id="review-" + r["report_id"],
                unit_code=r["unit_code"],
                channel=r.get("channel") or "other",
                title="",
                content=r["text"],
                urgency=r["urgency"],
                topic_codes=tuple(r.get("topic_codes") or ()),
                matter="review-" + r["report_id"],
            )
        )
    return out


def score_with(doc: dict[str, Any], examples: Sequence[Example], rules: RuleSet) -> Metrics:
    """Figures of a model document on labelled examples, through the scorer the service runs."""
    model = UrgencyModel.from_dict(doc)
    lexicon = data.lexicon()

    def predict(e: Example) -> str:
        channel = Channel(e.channel) if e.channel in Channel._value2member_map_ else Channel.OTHER
        text = normalize(f"{e.title}\n{e.content}")
        return score_report(text, ReportFacts(channel), rules, model=model, lexicon=lexicon).urgency.value

    return evaluate(examples, predict)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m pulse_triage.calibrate", description=__doc__)
    parser.add_argument("command", nargs="?", default="fit", choices=["fit", "split", "freeze", "evaluate", "pairs"])
    parser.add_argument("--reviews", type=Path, help="JSON lines exported from GET /v1/triage/reviews")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    if args.command == "split":
        print(write_split_files(load()))
        return 0
    if args.command == "freeze":
        if FROZEN_FILE.exists():
            print(f"{FROZEN_FILE} exists: the test split is frozen already", file=sys.stderr)
            return 1
        FROZEN_FILE.write_text(json.dumps(freeze(), indent=1) + "\n", encoding="utf-8")
        return 0
    rules = default_rules().to_rule_set()
    if args.command == "pairs":
        pair_doc, pair_log = fit_pairs(load(), rules, data.model_data())
        PAIR_MODEL_PATH.write_text(json.dumps(pair_doc, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")
        print(pair_log)
        return 0
    test = frozen_test() if FROZEN_FILE.exists() else []
    held_b = held_out_b() if FROZEN_FILE.exists() else []
    held_c = held_out_c() if FROZEN_FILE.exists() else []
    before = score_with(data.model_data(), test, rules) if test and MODEL_PATH.exists() else None
    before_b = score_with(data.model_data(), held_b, rules) if held_b and MODEL_PATH.exists() else None
    before_c = score_with(data.model_data(), held_c, rules) if held_c and MODEL_PATH.exists() else None
    if args.command == "evaluate":
        for name, m in (("frozen test split", before), ("test-b", before_b), ("test-c", before_c)):
            print(f"{name}:", m.summary() if m else "none", "\n" + (m.table() if m else ""))
        return 0
    fitting = [e for e in load() if e.split in ("train", "dev")]
    reviews = reviews_as_examples(args.reviews) if args.reviews else []
    doc, log = fit([*fitting, *reviews], rules)
    after = score_with(doc, test, rules) if test else None
    after_b = score_with(doc, held_b, rules) if held_b else None
    after_c = score_with(doc, held_c, rules) if held_c else None
    doc["meta"] = {
        "fitted_at": utcnow().isoformat(),
        "examples": len(fitting),
        "reviews": len(reviews),
        "lexicon_sha256": data.lexicon_sha256(),
        "selection": log,
    }
    args.out.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"fitted on {len(fitting)} corpus reports + {len(reviews)} reviews")
    print("before (shipped model) on the frozen test split:", before.summary() if before else "none")
    print("after  (this fit)      on the frozen test split:", after.summary() if after else "not frozen yet")
    print(after.table() if after else "")
    print("before (shipped model) on test-b:", before_b.summary() if before_b else "none")
    print("after  (this fit)      on test-b:", after_b.summary() if after_b else "none")
    print(after_b.table() if after_b else "")
    print("before (shipped model) on test-c:", before_c.summary() if before_c else "none")
    print("after  (this fit)      on test-c:", after_c.summary() if after_c else "none")
    print(after_c.table() if after_c else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
