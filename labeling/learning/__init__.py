"""Learning from people: calibration, few-shot heads and the auto-accept threshold fitted on the
audit slice (``calibration``), and the learning task. Imports inference and items, never active learning."""
