"""The hand-pose estimator of SimGAN's NYU hand experiment (section 4.3).

networks (stacked hourglass), heatmaps (targets and decoding), augment
(rotations and crops), metrics (% of joints within d pixels), train_lib,
and the binaries train and evaluate.
"""
