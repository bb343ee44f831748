"""The embedded eye world: a generated simulator and a generated "real" domain.

Two sources stand in for UnityEyes (the simulator) and MPIIGaze (the real
eyes) of the paper's gaze experiment (§3.2) when those data sets are not on
disk, so that every command of the project runs and every table can be
reproduced end to end:

    embedded-eyes-sim?split=train|test&n=20000&seed=0
    embedded-eyes-real?split=train|test|labelled&n=20000&seed=0

**Geometry (shared by both domains).** A parametric 3-D eyeball (sclera,
iris as a spherical cap with radial texture, pupil, cornea glint) is rotated
by the gaze and projected orthographically, so the iris ellipse moves and
foreshortens exactly as the gaze label says. Upper and lower eyelids, fixed
to the head, cut out the visible opening; the upper lid drops when the eye
looks down, the lower lid slightly less. The head has a mild pose (pitch,
yaw, roll), translation and scale jitter: the head's yaw and pitch move the
lids against the eyeball (the lid plane sits in front of the eyeball centre),
its roll rotates lids and skin, and none of it touches the gaze label, which
is the eyeball's direction in the camera frame.

**Labels.** ``gaze_x, gaze_y, gaze_z``: a unit vector in the MPIIGaze
normalised camera frame (x right, y down, z forward), from the eye to the
target, so ``z < 0``; ``pitch = arcsin(-y)``, ``yaw = arctan2(-x, -z)``
(:mod:`data.gaze_vectors`). Pitch is uniform in ``PITCH_RANGE_DEG`` and yaw
in ``YAW_RANGE_DEG``, about the range of MPIIGaze (people look down at a
screen below the camera).

**The simulator** (``embedded-eyes-sim``) renders the way a renderer does:
smooth shading under one fixed neutral light, anti-aliased edges, a small
round glint, no noise. Always labelled; ``split=train`` (default) and
``split=test``.

**The real stand-in** (``embedded-eyes-real``) draws the same geometry from
other seed streams and adds what a renderer misses and a webcam has. The gap
is mostly *local and bound to structure*: eyelashes along the upper lid,
darker and thicker lid margins and crease, skin and pore texture, sclera
veins and darker sclera corners, iris crypts, a rectangular screen
reflection on the cornea; then the camera: a per-image tone curve (gamma),
blur, sensor noise (read and shot) and JPEG compression. Per-image exposure
and directional light are kept moderate on purpose: a gap that photometric
augmentation alone closes would not test a refiner. Splits:

* ``train`` (default): unlabelled (the frame holds only ``filename``), the
  refiner's real data, as MPIIGaze is used in the paper;
* ``test``: labelled, disjoint from train, the evaluation set;
* ``labelled``: a labelled training set disjoint from test, for the
  "trained on real" upper bound that a real data set cannot give without
  spending its labels.

Every image is a pure function of ``(seed, domain, split, index)``:
parameters come from a counter-based hash (:mod:`data.embedded.streams`)
and textures from fixed banks, so any subset reads identically, nothing
large is held in memory and the labels of all N images exist without
rendering anything. Images are quantised to 8 bits (as PNG or JPEG files
would be) and returned in ``[-1, 1]``. The geometry is defined on a
canonical 35x55 canvas and drawn at any ``image_size``.

Modules, in the order an image is made:

* :mod:`.parameters`: domains, splits, the world's dimensions, the
  per-image parameter table, its hash streams and the gaze labels;
* :mod:`.textures`: the fixed texture and sensor-noise banks;
* :mod:`.profiles`: the small in-place edge and falloff profiles;
* :mod:`.face`: what is fixed to the head: lids, skin, lashes;
* :mod:`.eyeball`: sclera, iris, pupil, glint and lid shadows;
* :mod:`.render`: the scene on the pixel grid (``render_eyes``);
* :mod:`.camera`: the webcam of the real stand-in;
* :mod:`.source`: ``EmbeddedEyeSource`` and ``from_spec``.
"""
