"""The embedded worlds: generated simulators and "real" stand-ins.

When the paper's data sets (UnityEyes and MPIIGaze for gaze, §3.2; NYU hands,
§3.3) are not on disk, these worlds generate a simulator and a "real" domain
with a structured gap between them, so every command of the project runs
and every table can be reproduced end to end. SPECs (see :mod:`data.specs`):
``embedded-eyes-sim``, ``embedded-eyes-real``, ``embedded-eyes-oracle``
(simulator eyes with the real stand-in's appearance), ``embedded-hands-sim``
and ``embedded-hands-real``.

What lives where:

* :mod:`.streams`: the counter-based hashing RNG (SplitMix64 stream keys,
  unit-uniform draws, parameter tables) that makes every image a pure
  function of (seed, domain, split, index);
* :mod:`.world`: what both worlds share as sources: the chunked, threaded
  read and the ``split`` / ``n`` / ``seed`` options and render size;
* :mod:`.eyes`: the eye world (parameters, textures, face, eyeball,
  rendering, the webcam, the source); its ``__init__`` describes it;
* :mod:`.hands`: the depth-hand world (parameters, kinematics and labels,
  capsule rendering, the Kinect, the source); its ``__init__`` describes it.

SPEC options are read with :mod:`data.spec_options`, as every reader does.
"""
