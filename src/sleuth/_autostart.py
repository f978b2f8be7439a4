"""Start-up shim, imported by sleuth-autostart.pth only when SLEUTH_FAULTS or
SLEUTH_EVIDENCE is set: turns those tools on before the program runs."""
import os as _os

if _os.environ.get("SLEUTH_FAULTS", "0") not in ("", "0"):
    from sleuth import _faults
    _faults._autostart()
if _os.environ.get("SLEUTH_EVIDENCE"):
    from sleuth import _evidence
    _evidence._autostart()
