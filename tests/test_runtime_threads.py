"""The --threads flag values of the binaries."""

import pytest

from refiner import runtime


def test_thread_setting_values():
  assert runtime.apply_thread_setting("tf") == runtime.recommended()
  with pytest.raises(ValueError, match="expected auto, tf or INTRA,INTER"):
    runtime.apply_thread_setting("two")
  # The measured best for this project's 2-core CPU.
  assert runtime.DEFAULTS["cpu"] == runtime.Settings("float32", False, 2, 1)
