"""What every binary and trainer of the project shares, and nothing else.

    files.py     atomic writes (text, bytes, JSON, CSV, anything with a
                 writer), so a kill never leaves a half-written result
    progress.py  the one progress line and duration format
    runtime.py   TensorFlow thread pools, the device description, the
                 measured-best speed settings per device kind
    cli.py       what every binary's main shares: --threads, the one-line
                 error exit, flags.txt
    estimator.py the estimator schedule (HParams common to the gaze and
                 hand estimators) and its resumable early-stopping loop
    estimator_cli.py  the schedule's flags and the evaluate binaries' main,
                 shared by gaze/ and handpose/

Dependency direction: core <- data <- refiner, gaze, handpose <- benchmarks.
core imports no other package of the project.
"""
