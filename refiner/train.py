r"""Trains a SimGAN refiner (Algorithm 1 of Shrivastava et al., CVPR 2017).

  python -m refiner.train --arch=gaze --synthetic=SPEC --real=SPEC \
      --workdir=DIR [--steps=N ...]

SPEC is KIND:PATH (folder:, unityeyes:, mpiigaze:, nyu:, h5:) or an embedded
name (embedded-eyes-sim, embedded-eyes-real, ...); see data/specs.py.
Re-running the same command resumes from the workdir's last checkpoint.
`--flagfile=FILE` reads flags from a file; the resolved flags are written to
DIR/flags.txt.
"""

from absl import flags

from core import cli

FLAGS = flags.FLAGS

# Data.
flags.DEFINE_enum("arch", "gaze",
                  ["gaze", "gaze-local", "hand", "hand-lite"],
                  "Networks of the paper: 'gaze' (§3.2, 35x55) or 'hand' "
                  "(§3.3, 224x224); 'hand-lite' is a CPU-sized hand R/D, "
                  "'gaze-local' the gaze R with a D of 11-pixel patches "
                  "(refiner/networks.py).")
flags.DEFINE_string("synthetic", "embedded-eyes-sim",
                    "SPEC of the labelled synthetic images x_i.")
flags.DEFINE_string("real", "embedded-eyes-real",
                    "SPEC of the unlabelled real images y_j.")
flags.DEFINE_string("image_size", None,
                    "HxW to resize every image to. Default: the sources' "
                    "own size, which must then match.")
flags.DEFINE_string("workdir", None, "Where checkpoints, summaries and the "
                    "exported refiner go.")
flags.mark_flag_as_required("workdir")
flags.DEFINE_bool("overwrite", False, "Start afresh: empty the workdir first "
                  "(only a workdir this project made). Without it a workdir "
                  "of another run (other flags or data) is refused, and the "
                  "same run resumes.")

# Algorithm 1.
flags.DEFINE_integer("batch_size", 32,
                     "b. Paper: 'All networks are trained with a constant "
                     "0.001 learning rate and 512 batch size'. Our default "
                     "32 fits a CPU budget; the paper preset uses 512.",
                     lower_bound=1)
flags.DEFINE_integer("refiner_pretrain_steps", 1000,
                     "Paper (gaze): 'We first train the Rθ network with just "
                     "self-regularization loss for 1,000 steps' (hand: 500).",
                     lower_bound=0)
flags.DEFINE_integer("discriminator_pretrain_steps", 200,
                     "Paper: '... and Dφ for 200 steps'.", lower_bound=0)
flags.DEFINE_integer("steps", 1000,
                     "T, adversarial iterations of Algorithm 1. The paper "
                     "gives no T ('until the validation error converges').",
                     lower_bound=0)
flags.DEFINE_integer("k_g", 2,
                     "Kg, R updates per iteration. Paper (gaze): 'for each "
                     "update of Dφ, we update Rθ twice, i.e. Kd is set to 1, "
                     "and Kg is set to 50' (self-contradictory); hand: 2. "
                     "Default 2, the hand setting: Kg=50 improved the "
                     "refiner far more slowly in a CPU budget (README).",
                     lower_bound=1)
flags.DEFINE_integer("k_d", 1, "Kd, D updates per iteration. Paper: 1.",
lower_bound=1)

# Losses.
flags.DEFINE_float("lam", 1.0,
                   "λ of eq. (4). Paper: not given. Default 1.0 with "
                   "--reduction=mean; with --reduction=sum use λ·P/(H·W·C) "
                   "for the same objective (refiner/losses.py).",
                   lower_bound=0.0)
flags.DEFINE_enum("reduction", "mean", ["mean", "sum"],
                  "How losses are reduced over patches and pixels. Paper: "
                  "'we sum the cross-entropy loss values over w × h local "
                  "patches' (sum). Default mean: λ then weighs the two "
                  "terms independently of image and patch counts, and "
                  "λ≈1 trains well (README).")
flags.DEFINE_enum("psi", "identity", ["identity", "mean_channels",
                                      "gradients"],
                  "ψ, the feature transform of the self-regularisation "
                  "term. Paper (later version): 'an identity map, image "
                  "derivatives, mean of color channels'. Default identity "
                  "(grayscale).")
flags.DEFINE_enum("adversarial_loss", "local", ["local", "global"],
                  "Paper §2.2 local patch loss, or the §3.3 ablation: 'A "
                  "global adversarial loss uses a fully connected layer in "
                  "the discriminator network'.")

# History buffer.
flags.DEFINE_bool("history_buffer", True,
                  "§2.3: half of each D batch's refined images come from a "
                  "buffer of past refined images. --nohistory_buffer is the "
                  "ablation of Fig. 9.")
flags.DEFINE_integer("history_batches", 100,
                     "B = history_batches × batch_size. Paper: B not given "
                     "(implementations used 50-100 batches).", lower_bound=1)

# Optimisation.
flags.DEFINE_enum("optimizer", "adam", ["adam", "sgd"],
                  "Paper: plain 'SGD step' with 'a constant 0.001 learning "
                  "rate'. Default Adam(2e-4), which trains within a CPU "
                  "budget (README); --optimizer=sgd "
                  "--refiner_learning_rate=0.001 "
                  "--discriminator_learning_rate=0.001 is the paper's.")
flags.DEFINE_float("refiner_learning_rate", 2e-4, "Learning rate of R.")
flags.DEFINE_float("discriminator_learning_rate", 2e-4,
                   "Learning rate of D.")
flags.DEFINE_float("momentum", 0.0, "SGD momentum. Paper: not stated.",
lower_bound=0.0)
flags.DEFINE_float("refiner_ema", 0.99,
                   "Decay of a running average of R's weights, exported as "
                   "the refiner (0 disables). Later paper version: the "
                   "history is 'complementary to using a running average "
                   "of the model parameters'. Without it the refiner's "
                   "output swings from step to step.")

# Networks and numerics.
flags.DEFINE_enum("padding_mode", "reflect", ["reflect", "symmetric", "zero"],
                  "Padding of R's convolutions. Paper: unstated ('same' "
                  "size). Zero padding draws frame lines at image "
                  "borders.")
flags.DEFINE_enum("refiner_output", "tanh", ["tanh", "clipped_tanh"],
                  "R's output layer. Paper: unstated. Real images hold "
                  "exactly ±1 where they saturate (a cue for D); 'tanh' "
                  "reaches ±1 only by float32 rounding (|x| ≳ 7.9), "
                  "'clipped_tanh' = clip(1.05·tanh(x), -1, 1) at |x| ≥ "
                  "1.86 (refiner/networks.py).")
flags.DEFINE_enum("d_padding", "same", ["same", "valid"],
                  "Padding of D (unstated): gaze 'same' -> 9x14 patches, "
                  "'valid' -> 4x9.")
flags.DEFINE_enum("precision", "float32",
                  ["float32", "mixed_bfloat16", "mixed_float16"],
                  "Compute precision of R and D (see benchmarks/throughput).")
flags.DEFINE_bool("xla", False, "Compile each training step with XLA "
                  "(jit_compile); see benchmarks/throughput.")
flags.DEFINE_enum("strategy", "default", ["default", "mirrored"],
                  "'mirrored' trains under tf.distribute.MirroredStrategy "
                  "on all local GPUs (or CPUs).")
_THREADS = cli.define_threads()
_INPUT_LIMITS = cli.define_input_limits()
flags.DEFINE_integer("seed", 0, "Seed of data order, history sampling and "
                     "initial weights.")

# Bookkeeping.
flags.DEFINE_integer("checkpoint_every", 100, "Units between checkpoints.",
lower_bound=1)
flags.DEFINE_integer("log_every", 10, "Units between scalar summaries.",
lower_bound=1)
flags.DEFINE_integer("image_every", 100, "Units between image grids.",
lower_bound=1)
flags.DEFINE_integer("snapshot_every", 0,
                     "Save the refiner's weights every N adversarial units "
                     "(0: never), for choosing among them afterwards.",
                     lower_bound=0)
flags.DEFINE_integer("stop_after", 0,
                     "Stop after this many units in this process (0: run "
                     "to the end); re-run to continue.", lower_bound=0)


def _hparams(image_shape):
  from refiner import simgan  # pylint: disable=g-import-not-at-top
  return simgan.HParams(
      arch=FLAGS.arch, image_shape=tuple(image_shape),
      batch_size=FLAGS.batch_size,
      refiner_pretrain_steps=FLAGS.refiner_pretrain_steps,
      discriminator_pretrain_steps=FLAGS.discriminator_pretrain_steps,
      steps=FLAGS.steps, k_g=FLAGS.k_g, k_d=FLAGS.k_d, lam=FLAGS.lam,
      reduction=FLAGS.reduction, psi=FLAGS.psi,
      adversarial_loss=FLAGS.adversarial_loss,
      history_buffer=FLAGS.history_buffer,
      history_batches=FLAGS.history_batches, optimizer=FLAGS.optimizer,
      refiner_learning_rate=FLAGS.refiner_learning_rate,
      discriminator_learning_rate=FLAGS.discriminator_learning_rate,
      momentum=FLAGS.momentum, refiner_ema=FLAGS.refiner_ema,
      padding_mode=FLAGS.padding_mode,
      refiner_output=FLAGS.refiner_output, d_padding=FLAGS.d_padding,
      precision=FLAGS.precision, jit_compile=FLAGS.xla, seed=FLAGS.seed)


def main(argv):
  # Thread pools before any TF op runs.
  cli.start(argv, _THREADS.value, _INPUT_LIMITS, deterministic=not FLAGS.xla)
  # Imports after flag parsing keep --help fast.
  from data import specs  # pylint: disable=g-import-not-at-top
  from refiner import train_lib  # pylint: disable=g-import-not-at-top

  synthetic, real = train_lib.open_sources(
      FLAGS.synthetic, FLAGS.real, specs.parse_image_size(FLAGS.image_size))
  hparams = _hparams(synthetic.image_shape)
  # Held before flags.txt is written: a refused run leaves the folder as is.
  with train_lib.claim_workdir(FLAGS.workdir, hparams, synthetic, real,
                               FLAGS.overwrite):
    cli.write_flags_file(FLAGS.workdir)
    trainer = train_lib.run_training(
        hparams, synthetic, real, FLAGS.workdir, strategy=FLAGS.strategy,
        stop_after=FLAGS.stop_after, checkpoint_every=FLAGS.checkpoint_every,
        log_every=FLAGS.log_every, image_every=FLAGS.image_every,
        snapshot_every=FLAGS.snapshot_every)
  print(cli.summary([train_lib.status_line(trainer)]))


def run():
  cli.run(main)


if __name__ == "__main__":
  run()
