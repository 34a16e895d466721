"""EMG channel selection and channel-to-muscle mapping.

Recognised conventions (first match wins, an explicit mapping overrides all):

* GHOSTLY game: ``CHn Raw`` is EMG, ``CHn activated`` the game's gated envelope
  for the same sensor; default mapping CH1 -> left quadriceps, CH2 -> right.
* Labels containing an ``EMG`` token (Delsys/Vicon ``Biceps.EMG4``, ``EMG1``,
  ``IM EMG12``): the part before the dot names the muscle when it is not a
  generic ``Sensor N``/``Voltage``.
* Muscle names (BTS, c3d.org samples: ``Left Rectus femoris``, ``Right Tibialis
  Anterior``, French ``... Gauche/Droit``) and the L/R + 3-letter codes of gait
  labs (``LREC``, ``RVAS``, ``LTIB``, ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

GHOSTLY_RAW = re.compile(r"^CH(\d+)\s*Raw$", re.IGNORECASE)
GHOSTLY_ACT = re.compile(r"^CH(\d+)\s*activated$", re.IGNORECASE)
_EMG_TOKEN = re.compile(r"(^|[^A-Za-z])EMG", re.IGNORECASE)
_GENERIC = re.compile(r"^(sensor\s*\d+|voltage|analog|channel|ch)\W*\d*$", re.IGNORECASE)
MUSCLES = (
    "rectus femoris",
    "vastus lateralis",
    "vastus medialis",
    "vastus intermedius",
    "biceps femoris",
    "semitendinosus",
    "semimembranosus",
    "tibialis anterior",
    "gastrocnemius",
    "soleus",
    "gluteus maximus",
    "gluteus medius",
    "adductor",
    "peroneus",
    "quadriceps",
    "hamstrings",
    "biceps brachii",
    "biceps",
    "triceps",
    "deltoid",
    "trapezius",
    "pectoralis",
    "latissimus",
    "erector spinae",
    "infraspinatus",
    "supraspinatus",
    "subscapularis",
    "serratus",
    "rhomboid",
    "brachioradialis",
    "flexor",
    "extensor",
    "multifidus",
    "rectus abdominis",
    "obliquus",
)
_CODES = {
    "REC": "rectus femoris",
    "VAS": "vastus",
    "VL": "vastus lateralis",
    "VM": "vastus medialis",
    "TIB": "tibialis anterior",
    "TA": "tibialis anterior",
    "SOL": "soleus",
    "GAS": "gastrocnemius",
    "GAST": "gastrocnemius",
    "JUM": "gastrocnemius",
    "BIC": "biceps femoris",
    "BF": "biceps femoris",
    "ISC": "hamstrings",
    "HAM": "hamstrings",
    "SEM": "semitendinosus",
    "ST": "semitendinosus",
    "GRF": "gluteus maximus",
    "GMAX": "gluteus maximus",
    "GMED": "gluteus medius",
    "RF": "rectus femoris",
    "MG": "gastrocnemius medialis",
    "LG": "gastrocnemius lateralis",
}
_CODE_RE = re.compile(
    r"^([LR])[_\s]?(" + "|".join(sorted(_CODES, key=len, reverse=True)) + r")$", re.IGNORECASE
)
_SIDES = (
    (re.compile(r"\b(left|gauche|links)\b|(^|[_\s.])L$|^L[_\s]", re.IGNORECASE), "left"),
    (re.compile(r"\b(right|droit|droite|rechts)\b|(^|[_\s.])R$|^R[_\s]", re.IGNORECASE), "right"),
)
GHOSTLY_DEFAULT = {1: ("quadriceps", "left"), 2: ("quadriceps", "right")}


@dataclass(frozen=True)
class EmgChannel:
    """One EMG channel chosen for analysis."""

    label: str
    muscle: str | None
    side: str | None
    activated_label: str | None = None


def _side_of(label: str) -> str | None:
    for rx, side in _SIDES:
        if rx.search(label):
            return side
    return None


def _muscle_of(label: str) -> str | None:
    low = label.lower().replace("_", " ").replace(".", " ")
    for m in MUSCLES:
        if m in low:
            return m
    m = _CODE_RE.match(label.strip())
    if m:
        return _CODES[m.group(2).upper()]
    return None


def classify(label: str) -> EmgChannel | None:
    """Return an :class:`EmgChannel` when ``label`` looks like raw EMG, else None."""
    lab = label.strip()
    m = GHOSTLY_RAW.match(lab)
    if m:
        muscle, side = GHOSTLY_DEFAULT.get(int(m.group(1)), (None, None))
        return EmgChannel(lab, muscle, side)
    if GHOSTLY_ACT.match(lab):
        return None
    code = _CODE_RE.match(lab)
    if code:
        return EmgChannel(
            lab, _CODES[code.group(2).upper()], "left" if code.group(1).upper() == "L" else "right"
        )
    if _EMG_TOKEN.search(lab):
        head = re.split(r"[.:]", lab)[0].strip()
        muscle = _muscle_of(lab)
        if muscle is None and head and head != lab and not _GENERIC.match(head):
            muscle = head.lower().replace("_", " ")
        return EmgChannel(lab, muscle, _side_of(head if head != lab else lab))
    muscle = _muscle_of(lab)
    if muscle:
        return EmgChannel(lab, muscle, _side_of(lab))
    return None


def normalise_map(channel_map: Mapping | None, labels: Iterable[str]) -> dict[str, tuple]:
    """``{label or "CHn": {"muscle", "side"} or (muscle, side)}`` -> ``{label: (muscle, side)}``.

    Raises ``ValueError`` for a key that names no label or a side other than left/right
    (the reader turns it into :class:`~.errors.ChannelMapMismatch`).
    """
    if not channel_map:
        return {}
    labels = list(labels)
    out = {}
    for key, value in channel_map.items():
        target = resolve_label(str(key), labels)
        if target is None:
            raise ValueError(f"channel_map refers to unknown channel {key!r}")
        if isinstance(value, Mapping):
            muscle, side = value.get("muscle"), value.get("side")
        else:
            muscle, side = value
        if side is not None and side not in ("left", "right"):
            raise ValueError(f"side must be 'left', 'right' or None (got {side!r})")
        out[target] = (muscle, side)
    return out


def resolve_label(key: str, labels: Iterable[str]) -> str | None:
    """Match ``key`` to a label exactly, case-insensitively, or as GHOSTLY ``CHn``.

    ``labels`` may hold strings or :class:`~.recording.Channel` objects (their ``str``).
    """
    labels = [str(lab) for lab in labels]
    if key in labels:
        return key
    low = {lab.lower(): lab for lab in labels}
    if key.strip().lower() in low:
        return low[key.strip().lower()]
    m = re.match(r"^CH(\d+)$", key.strip(), re.IGNORECASE)
    if m:
        for lab in labels:
            g = GHOSTLY_RAW.match(lab)
            if g and int(g.group(1)) == int(m.group(1)):
                return lab
    return None


def select_emg(labels: Iterable[str], channel_map: Mapping | None = None) -> list[EmgChannel]:
    """EMG channels of a recording, in label order (explicit mapping overrides)."""
    labels = list(labels)
    act = {}
    for lab in labels:
        m = GHOSTLY_ACT.match(lab)
        if m:
            act[int(m.group(1))] = lab
    mapping = normalise_map(channel_map, labels)
    out = []
    for lab in labels:
        if mapping:
            if lab not in mapping:
                continue
            muscle, side = mapping[lab]
            ch = EmgChannel(lab, muscle, side)
        else:
            ch = classify(lab)
            if ch is None:
                continue
        g = GHOSTLY_RAW.match(lab)
        if g and int(g.group(1)) in act:
            ch = EmgChannel(ch.label, ch.muscle, ch.side, act[int(g.group(1))])
        out.append(ch)
    return out
