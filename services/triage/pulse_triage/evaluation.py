"""The labelled corpus, its split rule, the labelled pairs derived from it, and the metrics every figure uses.

Split rule: a report's split is decided by the sha256 of its `matter` (the id that groups paraphrases of one
matter): the first 8 hex digits as an integer, modulo 100: < 60 train, < 80 dev, else test. Paraphrases of one
matter therefore never straddle splits, and the rule needs no state: re-running it on a grown corpus keeps
every old report where it was.

Held-out sets: the frozen test split (`frozen_test`, the test-bucket records of the corpus as it was when the
split was frozen), test-b (`held_out_b`, the test-bucket records of the files w4 and w5, added after the freeze) and
test-c (`held_out_c`, those of the files w6 and w7, added on 2026-12-01 by new hands): the same rule, never fitted
on or used for any choice, each reported beside the frozen split."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pulse_libs.events.common import Urgency

SPLITS = ("train", "dev", "test")
LEVEL_NAMES = [u.value for u in Urgency]
ROOT = Path(__file__).resolve().parents[3]
DATA_DIR = ROOT / "tests" / "data" / "triage"
CORPUS_DIR = DATA_DIR / "corpus"
FROZEN_FILE = DATA_DIR / "frozen_test.json"
SPLIT_FILE = DATA_DIR / "split.json"
PAIRS_FILE = DATA_DIR / "pairs.jsonl"


@dataclass(frozen=True)
class Example:
    """One labelled report of the corpus."""

    id: str
    unit_code: str
    channel: str
    title: str
    content: str
    urgency: str
    topic_codes: tuple[str, ...]
    matter: str
    voice: str = ""

    @property
    def split(self) -> str:
        """train, dev or test, by the split rule."""
        return split_of(self.matter)


@dataclass(frozen=True)
class Pair:
    """Two reports labelled same matter or not; hard negatives share unit and topic."""

    a: str
    b: str
    same: bool
    kind: str
    split: str


def split_of(matter: str) -> str:
    """The split of a matter (see the module docstring)."""
    bucket = int(hashlib.sha256(matter.encode("utf-8")).hexdigest()[:8], 16) % 100
    return "train" if bucket < 60 else "dev" if bucket < 80 else "test"


def record_sha256(row: dict[str, Any]) -> str:
    """Fingerprint of one corpus record (canonical JSON)."""
    canonical = json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def read_rows(corpus_dir: Path = CORPUS_DIR) -> list[dict[str, Any]]:
    """Every record of every corpus file, in file and line order."""
    rows: list[dict[str, Any]] = []
    for path in sorted(corpus_dir.glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


def to_example(row: dict[str, Any]) -> Example:
    """A corpus record as an Example."""
    return Example(
        id=row["id"],
        unit_code=row["unit_code"],
        channel=row["channel"],
        title=row.get("title") or "",
        content=row["content"],
        urgency=row["urgency"],
        topic_codes=tuple(row.get("topic_codes") or ()),
        matter=row["matter"],
        voice=row.get("voice") or "",
    )


def load(split: str | None = None, corpus_dir: Path = CORPUS_DIR) -> list[Example]:
    """The corpus (or one split of it)."""
    examples = [to_example(r) for r in read_rows(corpus_dir)]
    return [e for e in examples if split is None or e.split == split]


def frozen_test(corpus_dir: Path = CORPUS_DIR, frozen_file: Path = FROZEN_FILE) -> list[Example]:
    """The frozen test split, checked record by record against the committed fingerprints."""
    frozen = json.loads(frozen_file.read_text(encoding="utf-8"))
    rows = {r["id"]: r for r in read_rows(corpus_dir)}
    missing = [i for i in frozen["ids"] if i not in rows]
    changed = [i for i in frozen["ids"] if i in rows and record_sha256(rows[i]) != frozen["sha256"][i]]
    if missing or changed:
        raise ValueError(f"the frozen test split changed: missing {missing[:5]}, changed {changed[:5]}")
    return [to_example(rows[i]) for i in frozen["ids"]]


HELD_OUT_WRITERS = {"test-b": ("w4", "w5"), "test-c": ("w6", "w7")}
"""The held-out set of each writer (file) added after the freeze: its test-bucket reports."""


PAIRLESS_WRITERS = ("w6", "w7")
"""Writers whose reports stay out of the labelled pairs (agreed with the pairs work: the pairs and their test
split stay those already measured; these files were written for the urgency level)."""


def writer_of(example_id: str) -> str:
    """The writer (corpus file prefix) of a report id: "w6-012" → "w6"."""
    return example_id.split("-", 1)[0]


def _held_out(name: str, corpus_dir: Path, frozen_file: Path) -> list[Example]:
    frozen = set(json.loads(frozen_file.read_text(encoding="utf-8"))["ids"])
    writers = HELD_OUT_WRITERS[name]
    return [e for e in load("test", corpus_dir) if e.id not in frozen and writer_of(e.id) in writers]


def held_out_b(corpus_dir: Path = CORPUS_DIR, frozen_file: Path = FROZEN_FILE) -> list[Example]:
    """The second held-out set: test-bucket reports of the writers w4 and w5 (added after the freeze)."""
    return _held_out("test-b", corpus_dir, frozen_file)


def held_out_c(corpus_dir: Path = CORPUS_DIR, frozen_file: Path = FROZEN_FILE) -> list[Example]:
    """The third held-out set: test-bucket reports of the writers w6 and w7 (new hands, 2026-12-01)."""
    return _held_out("test-c", corpus_dir, frozen_file)


def held_out_of(example_id: str, split: str, frozen: set[str]) -> str:
    """The name split.json gives a report: train, dev, test (frozen), test-b or test-c."""
    if split != "test" or example_id in frozen:
        return split
    writer = writer_of(example_id)
    return next((name for name, writers in HELD_OUT_WRITERS.items() if writer in writers), "test-b")


def freeze(corpus_dir: Path = CORPUS_DIR) -> dict[str, Any]:
    """The frozen-test document for the current corpus."""
    rows = [r for r in read_rows(corpus_dir) if split_of(r["matter"]) == "test"]
    shas = {r["id"]: record_sha256(r) for r in rows}
    total = hashlib.sha256("".join(shas[i] for i in sorted(shas)).encode()).hexdigest()
    return {"rule": "sha256(matter)[:8] mod 100 >= 80", "ids": [r["id"] for r in rows], "sha256": shas, "total": total}


def derive_pairs(examples: Sequence[Example], negatives_per_positive: int = 2) -> list[Pair]:
    """Positives: every two reports of one matter. Negatives: reports of different matters in one split, hard
    ones (same unit and primary topic) first, then same unit, picked deterministically by hash."""
    by_matter: dict[str, list[Example]] = {}
    for e in examples:
        by_matter.setdefault(e.matter, []).append(e)
    pairs = [
        Pair(a.id, b.id, True, "same-matter", a.split)
        for group in by_matter.values()
        for a, b in itertools.combinations(group, 2)
    ]
    per_split = Counter(p.split for p in pairs)
    for split in SPLITS:
        members = [e for e in examples if e.split == split]
        candidates = [(a, b) for a, b in itertools.combinations(members, 2) if a.matter != b.matter]

        def rank(ab: tuple[Example, Example]) -> tuple[int, str]:
            a, b = ab
            hard = a.unit_code == b.unit_code and a.topic_codes[:1] == b.topic_codes[:1]
            near = a.unit_code == b.unit_code or a.topic_codes[:1] == b.topic_codes[:1]
            return (0 if hard else 1 if near else 2, hashlib.sha256(f"{a.id}|{b.id}".encode()).hexdigest())

        wanted = max(40, negatives_per_positive * per_split[split])
        for a, b in sorted(candidates, key=rank)[:wanted]:
            kind = "hard-negative" if rank((a, b))[0] == 0 else "negative"
            pairs.append(Pair(a.id, b.id, False, kind, split))
    return pairs


def write_split_files(examples: Sequence[Example]) -> dict[str, int]:
    """Write split.json (id → split) and pairs.jsonl; return the counts."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    frozen = set(json.loads(FROZEN_FILE.read_text(encoding="utf-8"))["ids"]) if FROZEN_FILE.exists() else set()
    named = {e.id: held_out_of(e.id, e.split, frozen) if frozen else e.split for e in examples}
    counts = Counter(named.values())
    rule = __doc__.split("Split rule: ")[1].split("\n\nHeld-out")[0].strip() if __doc__ else ""
    doc = {"rule": rule, "counts": dict(counts), "ids": named}
    SPLIT_FILE.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    pairs = derive_pairs([e for e in examples if writer_of(e.id) not in PAIRLESS_WRITERS])
    PAIRS_FILE.write_text("".join(json.dumps(asdict(p)) + "\n" for p in pairs), encoding="utf-8")
    return dict(counts) | {"pairs": len(pairs), "positive_pairs": sum(p.same for p in pairs)}


def load_pairs(split: str | None = None) -> list[Pair]:
    """The labelled pairs (or one split of them)."""
    rows = [json.loads(line) for line in PAIRS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Pair(**r) for r in rows if split is None or r["split"] == split]


@dataclass(frozen=True)
class Metrics:
    """Agreement of predicted and labelled levels."""

    n: int
    exact: float
    under: float
    over: float
    serious_called_routine: int
    """flash or very_urgent reports called routine."""
    off_by_two: int
    confusion: list[list[int]]
    """confusion[labelled][predicted], levels in order routine, urgent, very_urgent, flash."""
    per_level_agreement: dict[str, float]

    def meets_targets(self) -> bool:
        """exact ≥ 0.90, no serious report called routine, under-calls ≤ 5%."""
        return self.exact >= 0.90 and self.serious_called_routine == 0 and self.under <= 0.05

    def table(self) -> str:
        """The confusion matrix as Markdown."""
        head = "| labelled \\ predicted | " + " | ".join(LEVEL_NAMES) + " | agreement |\n"
        head += "|---" * (len(LEVEL_NAMES) + 2) + "|\n"
        rows = [
            f"| {name} | " + " | ".join(str(v) for v in row) + f" | {self.per_level_agreement[name]:.2f} |"
            for name, row in zip(LEVEL_NAMES, self.confusion, strict=True)
        ]
        return head + "\n".join(rows) + "\n"

    def summary(self) -> str:
        """One line of figures."""
        return (
            f"n={self.n} exact={self.exact:.3f} under-calls={self.under:.3f} over-calls={self.over:.3f} "
            f"serious→routine={self.serious_called_routine} off-by-two={self.off_by_two}"
        )


def measure(pairs: Iterable[tuple[str, str]]) -> Metrics:
    """Metrics of (labelled, predicted) level pairs."""
    confusion = [[0] * len(LEVEL_NAMES) for _ in LEVEL_NAMES]
    for labelled, predicted in pairs:
        confusion[LEVEL_NAMES.index(labelled)][LEVEL_NAMES.index(predicted)] += 1
    n = sum(map(sum, confusion))
    k = len(LEVEL_NAMES)
    exact = sum(confusion[i][i] for i in range(k))
    under = sum(confusion[i][j] for i in range(k) for j in range(i))
    over = sum(confusion[i][j] for i in range(k) for j in range(i + 1, k))
    agreement = {LEVEL_NAMES[i]: confusion[i][i] / (sum(confusion[i]) or 1) for i in range(k)}
    return Metrics(
        n=n,
        exact=exact / (n or 1),
        under=under / (n or 1),
        over=over / (n or 1),
        serious_called_routine=confusion[2][0] + confusion[3][0],
        off_by_two=sum(confusion[i][j] for i in range(k) for j in range(k) if abs(i - j) >= 2),
        confusion=confusion,
        per_level_agreement=agreement,
    )


def evaluate(examples: Sequence[Example], predict: Callable[[Example], str]) -> Metrics:
    """Metrics of a predictor on labelled examples."""
    return measure((e.urgency, predict(e)) for e in examples)
