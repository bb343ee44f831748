"""The embedded hand world: generated depth hands that stand in for NYU.

Two sources stand in for the NYU hand pose data set (Tompson et al.) of the
paper's hand experiment (§3.3) when it is not on disk, so the hand benchmark
runs end to end:

    embedded-hands-sim?split=train|test&n=20000&seed=0&views=1
    embedded-hands-real?split=train|test|labelled&n=20000&seed=0&views=all

``n`` counts *frames*; every frame is seen by up to three cameras, so a
source holds ``n * len(views)`` images.

**The hand (shared by both domains).** A parametric right hand in
millimetres, drawn as a union of capsules (a segment swept by a sphere):
a forearm, a palm of five parallel capsules (30 mm thick, nearly
flat), a thenar pad, four fingers of three phalanges each (flexion at MCP,
PIP and DIP, abduction at MCP) and a thumb chain (two CMC angles, MCP and
IP flexion) whose flexion plane is twisted across the palm. A frame draws a
pose from a mixture of open, fist, pointing, pinch, V and random poses,
with per-joint noise, a global rotation (any yaw: palm or back toward the
front camera; tilt and roll of the fingers from upright), a size and a
position whose distance from the front camera is about 550-850 mm.

**Views.** Three cameras with the NYU intrinsics (fx 588.03) stand on a
fixed rig around the hand, 700 mm from its centre, like NYU's three Kinects:
view 1 in front, view 2 to one side and above (60 deg yaw, 25 deg down),
view 3 to the other side (60 deg yaw the other way, a little below). Images
are frame-major: image ``k`` is frame ``k // V`` seen by ``views[k % V]``,
so ``views=1`` (the paper's "1x") is exactly the view-1 images of the same
frames as ``views=all`` ("3x").

**Rendering and preprocessing, as :mod:`data.nyu_hand` does.** The crop is
the square :func:`data.nyu_hand.crop_box` around the frame's skeleton
points (joint centres, 30 mm margin) in the 640x480 frame; output pixel
(r, c) shows the frame pixel that the crop's nearest-neighbour resampling
picks (:func:`data.nyu_hand.crop_image`), so only the output's pixels are
rendered, at any ``image_size`` (default 224x224), and a small image is
exactly a subsampling of a large one. Each pixel's ray finds the nearest
capsule surface (a perspective camera; per capsule the closest point of its
projected axis is used, which is exact for spheres and close for the short
capsules of a hand). Depth is stored in whole millimetres, as NYU's PNGs;
the background is 0 and the hand ``depth - 2000``, and the network sees
:func:`data.nyu_hand.to_unit` of it (background +1, a hand at 500-900 mm
about -0.5 to -0.1).

**Labels** (same columns and conventions as :mod:`data.nyu_hand`): the 14
evaluation joints of Tompson et al. in NYU order (pinky, ring, middle, index
tip and PIP joint; thumb tip, IP and MCP joint; two wrist points and the
palm centre) in crop pixel coordinates ``j00_u, j00_v, ... j13_v`` (pixel
centres at integers), their depth ``j00_d ... j13_d`` (mm - 2000), the crop
box ``crop_x0, crop_y0, crop_side``, ``kinect`` (the view) and
``frame_number`` (0-based frame index).

**The simulator** (``embedded-hands-sim``) is that clean render.
``split=train`` (default) and ``split=test``, always labelled.

**The real stand-in** (``embedded-hands-real``) renders the same kind of
frames (from other seed streams) and adds what a Kinect adds. The paper
(§3.3): "the main source of noise in real depth images is from depth
discontinuity at the edges", so the gap is mostly local and bound to
structure:

* jagged silhouettes: the edge moves in or out by a smooth random field of
  Kinect-pixel scale (per-view erosion or dilation plus 1-2 px jags);
* missing depth along edges and where the surface turns away from the
  camera (grazing angles), in clumps;
* flying pixels: edge pixels (inside and just outside the silhouette) whose
  depth lies between the hand and what is behind it;
* the projector's shadow: beside a finger in front of the palm (on the side
  away from the projector, 75 mm to the left) the palm has no depth;
* a few small holes;
and, kept moderate on purpose (a gap that global augmentation closes would
not test a refiner): axial noise growing with depth (Nguyen et al. 2012),
a smooth low-frequency ripple of a few millimetres and disparity
quantisation (1/8 pixel, so steps grow as depth squared). Missing depth
reads 0 and, as in NYU's preprocessing, becomes background. Splits:

* ``train`` (default): unlabelled (the frame holds only ``filename``), the
  refiner's real data;
* ``test``: labelled, disjoint from train, the evaluation set;
* ``labelled``: a labelled training set disjoint from test, for the
  "trained on real" upper bound.

Every image is a pure function of ``(seed, domain, split, frame, view)``:
frame parameters come from a counter-based hash of the frame index
(:mod:`data.embedded.streams`), the Kinect's noise from fixed noise tiles
indexed by frame pixel at offsets hashed from (frame, view), so any subset
reads identically in any batch, the noise belongs to the sensor's pixels at
any ``image_size``, and the labels of all frames exist without rendering
anything.

Modules, in the order an image is made:

* :mod:`.parameters`: domains, splits, the per-frame and per-(frame, view)
  parameter tables and their hash streams;
* :mod:`.kinematics`: the hand's skeleton and capsules, the camera rig and
  the joint labels of each view's crop;
* :mod:`.capsules`: the depth of the nearest capsule on each sampled pixel;
* :mod:`.kinect`: what the real stand-in's Kinect does to that depth;
* :mod:`.render`: preprocessed depth crops (``render_hands``);
* :mod:`.source`: ``EmbeddedHandSource`` and ``from_spec``.
"""
