"""A synthetic fingerprint evaluation set: the deployed 1:N search over a temporary gallery.

The fingerprint counterpart of :func:`leds.biometrics.evaluate.synthetic_face_set`, with the
same :class:`~leds.biometrics.evaluate.EvaluationSet` for
:func:`~leds.biometrics.evaluate.evaluate`. Prints come from the minutiae-level generator
(:func:`~leds.biometrics.fingerprint.minutiae_synth.impression_minutiae`, its default
difficulty distribution), are enrolled into a :class:`FingerprintGallery` in a temporary
directory (removed afterwards) and searched with ``FingerprintGallery.search``: the MCC-LSH
pre-filter with its pose vote and the MCC LSS-R ranking that a fingerprint search through the
service runs, so that the report's scores are on the scale of the fingerprint threshold
(LSS-R x 100, 0-100).

Cost (2 cores): about 11 ms to enrol a print, and per search about 30 ms of pre-filter plus
0.1-0.2 ms of LSS-R for every enrolled template up to the search's shortlist of 5,000 (a
gallery of 400: ~0.1 s a search; of 2,000: ~0.3-0.4 s).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np

from leds.biometrics.evaluate import (
    Comparison,
    EvaluationError,
    EvaluationSet,
    Group,
    Search,
    synthetic_groups,
)
from leds.biometrics.fingerprint import minutiae_synth
from leds.biometrics.fingerprint.extract import MIN_MINUTIAE, Template
from leds.biometrics.fingerprint.gallery import SEARCH_ALGORITHM, FingerprintGallery
from leds.biometrics.fingerprint.mcc_match import score_of

# The quality gate of bench/biometrics_fp.py (its --fp-min-quality), so that the figures
# compare with the benchmark's in docs/biometrics.md; the minutiae count as extract's gate.
MIN_QUALITY = 40
GALLERY_IMPRESSION = 0
PROBE_IMPRESSION = 1


def _acquired(t: Template, min_quality: int) -> bool:
    """Whether a print passes the gate (below it: failure to enrol / to acquire)."""
    return t.quality >= min_quality and t.n >= MIN_MINUTIAE


def synthetic_fingerprint_set(
    *,
    gallery_persons: int = 350,
    mated_probes: int = 150,
    nonmated_probes: int = 350,
    seed: int = 1,
    list_length: int = 20,
    min_quality: int = MIN_QUALITY,
    on: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> EvaluationSet:
    """Mated and non-mated 1:N fingerprint searches with the gallery's own search.

    Persons ``0 .. gallery_persons-1`` have one finger each (finger id = person), enrolled
    with impression 0; ``mated_probes`` of them, chosen at random, are searched with
    impression 1; ``nonmated_probes`` further persons, whose fingers are never enrolled, are
    searched likewise. A print of quality below ``min_quality`` or with fewer than 12
    minutiae fails: failure to enrol (the person's mate is then absent -- a miss if searched)
    or failure to acquire (the search counts, as a miss if mated). 1:1 comparisons on the
    search's score scale (``FingerprintGallery.similarities`` x 100, as ``search`` scores):
    each mated probe against its enrolled mate (genuine) and every acquired probe against one
    random other enrolled template (impostor). ``progress`` gets one tick a probe.
    """
    from leds.synth.population import REF_DATE

    if gallery_persons < 2 or mated_probes < 1 or nonmated_probes < 1:
        raise EvaluationError(
            "need a gallery of >= 2 persons and >= 1 probe of each kind",
            hint="raise gallery_persons, mated_probes or nonmated_probes",
        )
    if mated_probes > gallery_persons:
        raise EvaluationError(
            f"mated_probes {mated_probes} > gallery_persons {gallery_persons}",
            hint="a mated probe needs its own enrolled person",
        )
    if list_length < 1:
        raise EvaluationError(f"list length {list_length} must be at least 1")
    day = on or REF_DATE
    total = gallery_persons + nonmated_probes
    groups = synthetic_groups(total, seed, day)
    rng = np.random.default_rng([seed, 0xF1E7])
    attempts: Counter[Group] = Counter()
    failures: Counter[Group] = Counter()
    slot_of: dict[int, int] = {}
    enrolled: list[Template] = []
    for person in range(gallery_persons):
        attempts[groups[person]] += 1
        t = minutiae_synth.impression_minutiae(seed, person, GALLERY_IMPRESSION)
        if not _acquired(t, min_quality):
            failures[groups[person]] += 1
            continue
        slot_of[person] = len(enrolled)
        enrolled.append(t)
    if len(enrolled) < 2:
        raise EvaluationError("fewer than 2 prints enrolled", hint="raise gallery_persons")
    mated_people = sorted(rng.choice(gallery_persons, size=mated_probes, replace=False).tolist())
    probe_people = [(int(p), True) for p in mated_people]
    probe_people += [(gallery_persons + j, False) for j in range(nonmated_probes)]
    searches: list[Search] = []
    comparisons: list[Comparison] = []
    with tempfile.TemporaryDirectory(prefix="leds-fp-eval-") as work:
        gallery = FingerprintGallery(work)
        slots = gallery.enrol(enrolled)
        gallery.rebuild()
        assert slots == list(range(len(enrolled)))
        for person, mated in probe_people:
            group = groups[person]
            pid = f"probe-{person}"
            probe = minutiae_synth.impression_minutiae(seed, person, PROBE_IMPRESSION)
            if not _acquired(probe, min_quality):
                searches.append(Search(pid, group, mated, failed_to_acquire=True))
                if mated:  # the genuine 1:1 comparison fails too: counted, not dropped
                    comparisons.append(Comparison(0.0, True, group, True))
                if progress is not None:
                    progress(1)
                continue
            found = gallery.search(probe, candidates=list_length)
            mate_slot = slot_of.get(person) if mated else None
            rank = next((r + 1 for r, c in enumerate(found) if c.slot == mate_slot), None)
            searches.append(Search(pid, group, mated, tuple(c.score for c in found), rank))
            other = int(rng.integers(len(enrolled)))
            if other == mate_slot:
                other = (other + 1) % len(enrolled)
            pair = [other] if mate_slot is None else [mate_slot, other]
            sims = gallery.similarities(probe, np.array(pair, dtype=np.int64))
            if mate_slot is not None:
                comparisons.append(Comparison(score_of(float(sims[0])), True, group))
            elif mated:  # the mate failed to enrol: no genuine comparison possible
                comparisons.append(Comparison(0.0, True, group, True))
            comparisons.append(Comparison(score_of(float(sims[-1])), False, group))
            if progress is not None:
                progress(1)
    params: dict[str, Any] = {
        "data": "synthetic prints (leds.biometrics.fingerprint.minutiae_synth, impression 0 "
        "enrolled, impression 1 searched), the gallery's own search in a temporary gallery",
        "search_algorithm": SEARCH_ALGORITHM,
        "score": "MCC LSS-R similarity x 100 (0-100), as the search returns it",
        "seed": seed,
        "gallery_persons": gallery_persons,
        "mated_probes": mated_probes,
        "nonmated_probes": nonmated_probes,
        "min_quality": min_quality,
        "min_minutiae": MIN_MINUTIAE,
        "age_on": day.isoformat(),
    }
    return EvaluationSet(searches, comparisons, attempts, failures, len(enrolled), params)
