"""Training: :mod:`.loop` — the one epoch loop (schedule, evaluation, resume, atomic save,
early stop, progress) — and its learners: :mod:`.brian2` (the float reference) and :mod:`.fixed`
(any fixed-point backend, the emulator by default). The continual protocol runs each task's
epochs through the same loop."""
