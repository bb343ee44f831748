"""The paper's gaze estimator: network, metrics, training and evaluation."""
