import faulthandler
import os

faulthandler.enable()

# Tests run with stencilpy's default choices, never with what 'stencilpy tune' stored for this
# machine (runtime/tuning.py); a test that wants tuning sets STENCILPY_TUNING itself.
os.environ.setdefault("STENCILPY_TUNING", "off")
