"""Scoring a detector against ground truth: one-to-one matching at >= 50 % overlap, F1.

Shared by the tests and the benchmark so both judge every detector (ours, NeuroKit2's)
by the same rule.
"""

from __future__ import annotations

import numpy as np


def match_contractions(truth: list[dict], found: list[dict], *, min_overlap: float = 0.5):
    """Greedy one-to-one matching in time order; a pair counts when the overlap is at least
    ``min_overlap`` of the *longer* of the two (so a detection spanning two true
    contractions matches at most one). Returns F1, precision, recall, onset and offset
    errors (mean absolute and signed).
    """
    used: set[int] = set()
    errors = []
    end_errors = []
    for t in truth:
        for j, f in enumerate(found):
            if j in used:
                continue
            overlap = min(t["end_s"], f["end_s"]) - max(t["start_s"], f["start_s"])
            longer = max(t["end_s"] - t["start_s"], f["end_s"] - f["start_s"])
            if overlap > 0 and overlap >= min_overlap * longer:
                used.add(j)
                errors.append(f["start_s"] - t["start_s"])
                end_errors.append(f["end_s"] - t["end_s"])
                break
    tp = len(errors)
    precision = tp / len(found) if found else (1.0 if not truth else 0.0)
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    err = np.asarray(errors, dtype=float)
    end_err = np.asarray(end_errors, dtype=float)
    return {
        "f1": f1,
        "precision": precision,
        "recall": recall,
        "matched": tp,
        "mean_onset_error_s": float(np.abs(err).mean()) if tp else None,
        "mean_signed_onset_error_s": float(err.mean()) if tp else None,
        "mean_offset_error_s": float(np.abs(end_err).mean()) if tp else None,
        "mean_signed_offset_error_s": float(end_err.mean()) if tp else None,
    }
