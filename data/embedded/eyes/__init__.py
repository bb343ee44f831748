"""The embedded eye world: a generated simulator and a generated "real" domain.

Two sources stand in for UnityEyes (the simulator) and MPIIGaze (the real
eyes) of the paper's gaze experiment (§3.2) when those data sets are not on
disk, so that every command of the project runs and every table can be
reproduced end to end; a third, the oracle, is the simulator's eyes as a
perfect refiner would make them:

    embedded-eyes-sim?split=train|test&n=20000&seed=0
    embedded-eyes-real?split=train|test|labelled&n=20000&seed=0
    embedded-eyes-oracle?split=train|test&n=20000&seed=0

**Geometry (one model for all domains).** A parametric 3-D eyeball (sclera,
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
(:mod:`data.gaze_vectors`). In the simulator pitch is uniform in
``PITCH_RANGE_DEG`` and yaw in ``YAW_RANGE_DEG``; the real stand-in's gaze
fills a smaller cone shifted down (people look at a screen below the
camera; see below).

**The simulator** (``embedded-eyes-sim``) renders the way a renderer does:
smooth shading under one fixed neutral light, anti-aliased edges, a small
round glint, no noise. Always labelled; ``split=train`` (default) and
``split=test``.

**The real stand-in** (``embedded-eyes-real``) differs in two ways, as
MPIIGaze differs from UnityEyes (§3.2). Its *population* is other: the same
eye model with other ranges of gaze, head pose, eye size and placement,
openness, eye width and canthal tilt, iris size and tone, skin and sclera
(``parameters.REAL_POPULATION``; some reach beyond the simulator's), so
that a simulator image has no real near-twin (pixel k-NN from the
simulator: 9.2 degrees; 4.7 when both shared one population). Its
*appearance* adds what a renderer misses and a webcam has, mostly *local
and bound to structure*: eyelashes along the upper lid, darker and thicker
lid margins and crease, skin and pore texture, sclera veins and darker
sclera corners, iris crypts, a rectangular screen reflection on the
cornea; then the camera: a per-image tone curve (gamma), blur, sensor
noise (read and shot) and JPEG compression. Per-image exposure and
directional light are kept moderate on purpose: a gap that photometric
augmentation alone closes would not test a refiner. Splits:

* ``train`` (default): unlabelled (the frame holds only ``filename``), the
  refiner's real data, as MPIIGaze is used in the paper;
* ``test``: labelled, disjoint from train, the evaluation set;
* ``labelled``: a labelled training set disjoint from test, for the
  "trained on real" upper bound that a real data set cannot give without
  spending its labels.

**The oracle** (``embedded-eyes-oracle``) is the simulator's images
(stream, parameters, labels and order, ``split=train|test``) rendered with
the real stand-in's appearance: what a perfect label-preserving refiner
would make of them. Its gap to the real stand-in is the population alone
(pixel k-NN from 6,000 oracle images: 9.1 degrees).

Every image is a pure function of ``(seed, domain, split, index)``:
parameters come from a counter-based hash (:mod:`data.embedded.streams`)
and textures from fixed banks, so any subset reads identically, nothing
large is held in memory and the labels of all N images exist without
rendering anything. Images are quantised to 8 bits (as PNG or JPEG files
would be) and returned in ``[-1, 1]``. The geometry is defined on a
canonical 35x55 canvas and drawn at any ``image_size``.

Modules, in the order an image is made:

* :mod:`.parameters`: domains, splits, the world's dimensions, the
  per-image parameter tables (the real stand-in's population), their hash
  streams and the gaze labels;
* :mod:`.textures`: the fixed texture and sensor-noise banks;
* :mod:`.profiles`: the small in-place edge and falloff profiles;
* :mod:`.face`: what is fixed to the head: lids, skin, lashes;
* :mod:`.eyeball`: sclera, iris, pupil, glint and lid shadows;
* :mod:`.render`: the scene on the pixel grid (``render_eyes``);
* :mod:`.camera`: the webcam of the real stand-in;
* :mod:`.source`: ``EmbeddedEyeSource`` and ``from_spec``.
"""
