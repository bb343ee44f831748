"""The protocol of the visual Turing test (paper §3.1, Table 1).

"Each subject was shown a random selection of 50 real images and 50 refined
images in a random order, and was asked to label the images as either real
or refined. The subjects were constantly shown 20 examples of real and
refined images while performing the task." As a control, "we showed 10 real
and 10 synthetic images per subject".

A subject's trials: the main block (50 real + 50 refined, shuffled), then
the control block (10 real + 10 unrefined synthetic, shuffled), drawn from
the pool by (subject, seed) alone, so a subject who comes back gets the
same trials. The first REFERENCES images of each kind in the pool are the
examples always on screen and never a trial; the control's real images are
other real images than the main block's where the pool has enough.
"""

import dataclasses
import hashlib
import re
from typing import Dict, List

import numpy as np

REFERENCES = 20        # examples of each kind on screen, per block
MAIN_PER_CLASS = 50    # real and refined trials of the main block
CONTROL_PER_CLASS = 10  # real and unrefined trials of the control block
ANSWERS = ("real", "synthetic")
# A block's name is the kind of non-real image it shows.
BLOCKS = ("refined", "synthetic")
SUBJECT_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")


@dataclasses.dataclass(frozen=True)
class Trial:
  number: int   # 0, 1, ... in the order shown
  block: str    # 'refined' (main) or 'synthetic' (control)
  kind: str     # the image's kind: 'real', 'refined' or 'synthetic'
  image: int    # its index in the pool's images of that kind

  @property
  def truth(self) -> str:
    """The right answer: 'real' or 'synthetic'."""
    return "real" if self.kind == "real" else "synthetic"


def check_subject(subject: str) -> str:
  """`subject` if it is a valid id (1-32 of A-Z a-z 0-9 _ -), else
  ValueError."""
  if not SUBJECT_PATTERN.fullmatch(subject or ""):
    raise ValueError(f"subject id must be 1-32 letters, digits, '_' or '-', "
                     f"got {subject!r}")
  return subject


def _rng(subject: str, seed: int) -> np.random.Generator:
  digest = hashlib.sha256(f"{seed}:{subject}".encode()).digest()
  return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def plan(subject: str, seed: int, sizes: Dict[str, int]) -> List[Trial]:
  """The trials of `subject` in order, for a pool with `sizes[kind]` images.

  Where the pool holds fewer than REFERENCES + MAIN_PER_CLASS (+
  CONTROL_PER_CLASS real) images, the blocks take what is left after the
  examples, with equal numbers of real and non-real trials.

  Raises:
    ValueError: an invalid subject id, or a pool without one trial image of
      each kind beyond the examples.
  """
  check_subject(subject)
  spare = {kind: n - REFERENCES for kind, n in sizes.items()}
  if min(spare.values()) < 1:
    raise ValueError(
        f"the pool needs more than {REFERENCES} images of each kind (the "
        f"examples on screen), has {dict(sizes)}")
  rng = _rng(subject, seed)
  real = REFERENCES + rng.permutation(spare["real"])
  trials = []
  for block, per_class in (("refined", MAIN_PER_CLASS),
                           ("synthetic", CONTROL_PER_CLASS)):
    n = min(per_class, spare[block], spare["real"])
    if len(real) < n:  # The main block used up the pool's real images.
      real = REFERENCES + rng.permutation(spare["real"])
    chosen = [("real", int(i)) for i in real[:n]]
    real = real[n:]
    chosen += [(block, REFERENCES + int(i))
               for i in rng.choice(spare[block], n, replace=False)]
    for j in rng.permutation(len(chosen)):
      trials.append(Trial(len(trials), block, *chosen[j]))
  return trials


def reference_images(block: str) -> Dict[str, range]:
  """{kind: pool indices} of the examples on screen during `block`."""
  return {"real": range(REFERENCES), block: range(REFERENCES)}
