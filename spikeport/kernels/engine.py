"""Loihi learning engine as Lava 0.10 emulates it on CPU (``LearningDense`` with
``select_tag="fixed_pt"``, i.e. ``PyLearningDenseModelBitApproximate``), batch-first.

:class:`LearningEngine` holds the static configuration (rules, trace parameters, epoch length,
sign mode, seeds) and a cache of the random streams; :class:`PlasticState` is the explicit,
immutable state (weights, tags, traces, within-epoch spike times, time step and the positions
in the random streams). Each method takes a state and returns a new one::

    engine = LearningEngine(dw=rule, t_epoch=1, x_impulse=(16, 0), x_tau=(10, 0), ...)
    state = engine.init_state(weights)            # weights (n_post, n_pre) or (B, n_post, n_pre)
    state = engine.step(state, s_pre, s_bap)      # spike phase + learning at the epoch's end

Order of one Lava time step, reproduced here (``time_step`` counts from 1):

1. Spike phase (:meth:`LearningEngine.spike_phase`): a pre neuron already marked in this
   epoch gets its x impulses at once (rounded with random 0); its spike time is set to the
   within-epoch step ``((time_step - 1) % t_epoch) + 1``. The trace streams advance. Then, for
   two- and three-factor rules, the back-propagated post spikes (``s_in_bap``) are handled the
   same way (repeat impulses rounded with the y integer stream); a three-factor rule then
   *overwrites* y1..y3 with the values on ``s_in_y1..3`` (no clipping). The streams advance
   again. The synaptic input Dense sends this step uses the weights *before* this step's
   learning; computing it is the caller's job (:func:`spikeport.kernels.dense.dense_step`).
2. Learning phase, when ``time_step % t_epoch == 0`` (:meth:`LearningEngine.epoch_end`): the
   synaptic stream advances; ``x0 = tx > 0``, ``y0 = ty > 0``; the epoch is replayed
   (:func:`~spikeport.kernels.traces.replay_epoch`); x traces take the replay's last row, y
   traces too for a two-factor rule (a three-factor rule keeps the received y values, because
   Lava's ``Loihi3FLearningRule`` is not a ``Loihi2FLearningRule``); dw, dd, dt are applied
   in that order, all reading the variables as they were before the epoch; spike times reset.

Rule kinds (``post``): ``"2F"`` for ``Loihi2FLearningRule``/``STDPLoihi`` (y traces from bAP
spikes), ``"3F"`` for ``Loihi3FLearningRule`` (y impulses 0, y taus 65535, values from ports),
``"none"`` for the bare ``LoihiLearningRule`` (Lava never reads ``s_in_bap``: y0 stays false).

Three-factor y values are taken raw from the ports (any int32; "7-bit unsigned" is only a
convention): they are clipped to ``[0, 127]`` only at a bAP spike step of the replay and by the
rule's factor clipping (``[-128, 127]``). Lava also *decays* them during the replay (tau 65535,
stochastic rounding). Because one random number serves the whole epoch, when it exceeds the
rounding fraction ``1 - y/65535`` every replayed step rounds down: with ``rng_seed=23`` a
received 30 is read as 23 at the end of a 10-step epoch (see tests). Reproduced bit for bit.

Lava runtime notes (lava-nc 0.10.0, checked by running it): the stock Dense, LearningDense and
LIF models have no post-management code, so issue #659 (post-management running twice with
LearningDense) does not touch this arithmetic. What we observed is that ``post_guard()`` of
every process is evaluated twice per step, and a third time at steps where a LearningDense
learns (in the learning phase); ``run_post_mgmt()`` itself ran once per step. So a ProcessModel
must keep ``post_guard`` free of side effects. Monitors read Vars in post-management, i.e. after
this step's learning.

Not covered: graded pre-synaptic spikes (``GradedSpikeCfg`` other than
``USE_REGULAR_IMPULSE``) and sparse connections.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from ._checks import check_int_scalar
from .dense import SignMode, as_sign_mode, truncate_weights
from .learning import (
    POST_TRACES,
    PRE_TRACES,
    TARGETS,
    LearningRule,
    common_decimate_exponent,
    u_active,
    update_synaptic_variable,
)
from .random_streams import RandomStreams
from .traces import (
    add_impulse,
    check_taus,
    decompose_impulse,
    replay_epoch,
    sample_post_trace,
    sample_pre_trace,
)

POST_MODES = ("2F", "3F", "none")
THREE_FACTOR_Y_TAU = 65535  # what Loihi3FLearningRule sets (np.iinfo(np.uint16).max)


@dataclass(frozen=True, eq=False)
class PlasticState:
    """Explicit state of a plastic connection; arrays are batch-first.

    weights, tag_1 (t), tag_2 (d): ``(B, n_post, n_pre)`` int64; x: ``(B, 2, n_pre)``;
    y: ``(B, 3, n_post)``; tx: ``(B, n_pre)``, ty: ``(B, n_post)`` (last spike time within the
    epoch, 0 = none); time_step: steps run so far; trace_draws / synaptic_draws: how many times
    the trace streams / the synaptic stream have advanced (their current position).
    """

    weights: np.ndarray
    tag_1: np.ndarray
    tag_2: np.ndarray
    x: np.ndarray
    y: np.ndarray
    tx: np.ndarray
    ty: np.ndarray
    time_step: int = 0
    trace_draws: int = 0
    synaptic_draws: int = 0
    learn_mask: np.ndarray | None = None

    def reset_sample(self) -> "PlasticState":
        """Zero traces and spike times between samples; weights, tags, time and streams run on
        (Lava cannot rewind its generators or its time step either)."""
        return replace(
            self,
            x=np.zeros_like(self.x),
            y=np.zeros_like(self.y),
            tx=np.zeros_like(self.tx),
            ty=np.zeros_like(self.ty),
        )


@dataclass(frozen=True)
class LearningEngine:
    """Static configuration of a plastic Dense connection plus its random-stream cache.

    ``dw``/``dd``/``dt``: :class:`LearningRule` or None (at least one). ``x_impulse``/``x_tau``:
    for (x1, x2); ``y_impulse``/``y_tau``: for (y1, y2, y3) (ignored and set as Lava does for
    ``post="3F"``). ``rng_seed``: the rule's Lava ``rng_seed``, required (Lava's default is
    random), one int or one per batch element. ``num_weight_bits``: the truncation LearningDense
    applies to the initial weights.
    """

    dw: LearningRule | None = None
    dd: LearningRule | None = None
    dt: LearningRule | None = None
    t_epoch: int = 1
    x_impulse: Sequence[float] = (0.0, 0.0)
    x_tau: Sequence[float] = (0.0, 0.0)
    y_impulse: Sequence[float] = (0.0, 0.0, 0.0)
    y_tau: Sequence[float] = (0.0, 0.0, 0.0)
    sign_mode: SignMode | str = SignMode.MIXED
    post: str = "2F"
    rng_seed: int | Sequence[int] | None = None
    num_weight_bits: int = 8
    _derived: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rules = {"dw": self.dw, "dd": self.dd, "dt": self.dt}
        if all(r is None for r in rules.values()):
            raise ValueError("dw, dd and dt are all None; give at least one LearningRule")
        for name, rule in rules.items():
            if rule is not None and not isinstance(rule, LearningRule):
                raise ValueError(
                    f"{name} must be a LearningRule or None, got {type(rule).__name__}"
                )
        check_int_scalar("t_epoch", self.t_epoch, 1, None)
        if self.post not in POST_MODES:
            raise ValueError(f"post={self.post!r} is not one of {POST_MODES}")
        object.__setattr__(self, "sign_mode", as_sign_mode(self.sign_mode))
        check_int_scalar("num_weight_bits", self.num_weight_bits, 1, 8)
        if self.post == "3F":
            object.__setattr__(self, "y_impulse", (0.0, 0.0, 0.0))
            object.__setattr__(self, "y_tau", (THREE_FACTOR_Y_TAU,) * 3)
        for name, size, traces in (
            ("x_impulse", 2, "x1, x2"),
            ("x_tau", 2, "x1, x2"),
            ("y_impulse", 3, "y1..y3"),
            ("y_tau", 3, "y1..y3"),
        ):
            value = getattr(self, name)
            if np.ndim(value) != 1 or len(value) != size:
                raise ValueError(f"{name}={value!r} must hold {size} values ({traces})")
            object.__setattr__(self, name, tuple(float(v) for v in value))
        d = self._derived
        d["x_imp"] = decompose_impulse(self.x_impulse)
        d["y_imp"] = decompose_impulse(self.y_impulse)
        d["x_tau"] = check_taus(self.x_tau)
        d["y_tau"] = check_taus(self.y_tau)
        d["k"] = common_decimate_exponent(list(rules.values()))
        if self.rng_seed is None:
            raise ValueError(
                "rng_seed=None: give the rng_seed set on the Lava rule (Lava's default is a "
                "random seed, which cannot be reproduced)"
            )
        if np.ndim(self.rng_seed) == 1:
            object.__setattr__(self, "rng_seed", tuple(int(s) for s in self.rng_seed))
        d["streams"] = RandomStreams(self.rng_seed)

    @property
    def streams(self) -> RandomStreams:
        return self._derived["streams"]

    @property
    def rules(self) -> dict[str, LearningRule]:
        """Active rules in Lava's application order (dw, dd, dt)."""
        return {t: r for t, r in zip(TARGETS, (self.dw, self.dd, self.dt)) if r is not None}

    # ------------------------------------------------------------------ state
    def init_state(
        self, weights: np.ndarray, batch: int | None = None, tag_1=None, tag_2=None,
        learn_mask=None,
    ) -> PlasticState:
        """State before the first step. ``weights`` ``(n_post, n_pre)`` (shared by a batch of
        ``batch`` replicas) or ``(B, n_post, n_pre)``; truncated as LearningDense does on its
        first step (no clip). ``learn_mask``: see :class:`PlasticState`."""
        w = np.asarray(weights)
        if w.ndim == 2:
            w = np.broadcast_to(w, (batch or self.streams.batch,) + w.shape)
        if w.ndim != 3:
            raise ValueError(
                f"weights must be (n_post, n_pre) or (B, n_post, n_pre), got shape {w.shape}"
            )
        if self.streams.batch not in (1, w.shape[0]):
            raise ValueError(
                f"rng_seed gives {self.streams.batch} seeds for a batch of {w.shape[0]}"
            )
        w = truncate_weights(w, self.sign_mode, self.num_weight_bits)
        b, n_post, n_pre = w.shape

        def tag(value) -> np.ndarray:
            return np.broadcast_to(
                np.asarray(0 if value is None else value, dtype=np.int64), w.shape
            ).copy()

        mask = None
        if learn_mask is not None:
            mask = np.asarray(learn_mask, dtype=bool)
            if mask.ndim == 2:
                mask = mask[None]
            if mask.ndim != 3 or mask.shape[1:] != w.shape[1:] or mask.shape[0] not in (1, b):
                raise ValueError(
                    f"learn_mask shape {np.shape(learn_mask)} does not match weights {w.shape}"
                )
        return PlasticState(
            learn_mask=mask,
            weights=w.copy(),
            tag_1=tag(tag_1),
            tag_2=tag(tag_2),
            x=np.zeros((b, len(PRE_TRACES), n_pre), dtype=np.int64),
            y=np.zeros((b, len(POST_TRACES), n_post), dtype=np.int64),
            tx=np.zeros((b, n_pre), dtype=np.int64),
            ty=np.zeros((b, n_post), dtype=np.int64),
        )

    def _random(self, name: str, position: int, batch: int) -> np.ndarray:
        values = getattr(self.streams, name)(position)
        return np.broadcast_to(values, (batch,))

    # ------------------------------------------------------------------ phases
    def spike_phase(self, state: PlasticState, s_pre, s_bap=None, y_in=None) -> PlasticState:
        """Record one step's spikes (see module doc, step 1). ``s_pre`` ``(B, n_pre)``;
        ``s_bap`` ``(B, n_post)`` (2F/3F); ``y_in`` ``(B, 3, n_post)`` integers (3F only)."""
        b = state.weights.shape[0]
        t = state.time_step + 1
        within = (t - 1) % self.t_epoch + 1
        pre = np.asarray(s_pre) != 0
        x, tx = state.x.copy(), state.tx.copy()
        repeat = (tx > 0) & pre
        if repeat.any():
            imp_int, imp_frac = self._derived["x_imp"]
            bumped = add_impulse(x, imp_int[None, :, None], imp_frac[None, :, None], 0)
            x = np.where(repeat[:, None, :], bumped, x)
        tx[pre] = within
        draws = state.trace_draws + 1
        y, ty = state.y, state.ty
        if self.post != "none":
            if s_bap is None:
                raise ValueError(
                    f"s_bap is required for post={self.post!r} rules (s_in_bap must be connected)"
                )
            bap = np.asarray(s_bap) != 0
            y, ty = y.copy(), ty.copy()
            repeat_y = (ty > 0) & bap
            if repeat_y.any():
                imp_int, imp_frac = self._derived["y_imp"]
                rand = self._random("y_impulse", draws, b)[:, None, None]
                bumped = add_impulse(y, imp_int[None, :, None], imp_frac[None, :, None], rand)
                y = np.where(repeat_y[:, None, :], bumped, y)
            ty[bap] = within
            if self.post == "3F":
                if y_in is None:
                    raise ValueError(
                        "y_in is required for post='3F' rules (s_in_y1..3 must be connected)"
                    )
                y = np.broadcast_to(np.asarray(y_in, dtype=np.int64), y.shape).copy()
        return replace(state, x=x, y=y, tx=tx, ty=ty, time_step=t, trace_draws=draws + 1)

    def epoch_end(self, state: PlasticState) -> PlasticState:
        """Apply the rules at the end of an epoch (see module doc, step 2)."""
        b = state.weights.shape[0]
        syn_draws = state.synaptic_draws + 1
        r_syn = self.streams.synaptic(syn_draws)
        pos = state.trace_draws
        x_int, x_frac = self._derived["x_imp"]
        y_int, y_frac = self._derived["y_imp"]
        x_hist = replay_epoch(
            state.x,
            state.tx,
            self.t_epoch,
            self._derived["x_tau"],
            x_int,
            x_frac,
            self._random("x_decay", pos, b),
            self._random("x_impulse", pos, b),
        )
        y_hist = replay_epoch(
            state.y,
            state.ty,
            self.t_epoch,
            self._derived["y_tau"],
            y_int,
            y_frac,
            self._random("y_decay", pos, b),
            self._random("y_impulse", pos, b),
        )
        values = self._rule_inputs(state, x_hist, y_hist)
        current = {"dw": state.weights, "dd": state.tag_2, "dt": state.tag_1}
        new = dict(current)
        for target, rule in self.rules.items():
            new[target] = update_synaptic_variable(
                target, rule, current[target], values, r_syn, self.sign_mode
            )
            if state.learn_mask is not None:
                new[target] = np.where(state.learn_mask, new[target], current[target])
        return replace(
            state,
            weights=new["dw"],
            tag_2=new["dd"],
            tag_1=new["dt"],
            x=x_hist[-1],
            y=y_hist[-1] if self.post == "2F" else state.y,
            tx=np.zeros_like(state.tx),
            ty=np.zeros_like(state.ty),
            synaptic_draws=syn_draws,
        )

    def step(self, state: PlasticState, s_pre, s_bap=None, y_in=None) -> PlasticState:
        """One full time step: spike phase, then learning if the epoch ends."""
        state = self.spike_phase(state, s_pre, s_bap, y_in)
        if state.time_step % self.t_epoch == 0:
            state = self.epoch_end(state)
        return state

    def _rule_inputs(self, state: PlasticState, x_hist: np.ndarray, y_hist: np.ndarray) -> dict:
        """Dependencies, variables and the traces each rule reads at its dependency's time."""
        values: dict = {
            "x0": (state.tx > 0)[:, None, :],
            "y0": (state.ty > 0)[:, :, None],
            "u": u_active(state.time_step // self.t_epoch, self._derived["k"]),
            "w": state.weights,
            "d": state.tag_2,
            "t": state.tag_1,
        }
        for rule in self.rules.values():
            for trace, dep in rule.traces_used():
                key = f"{trace}_{dep}"
                if key in values:
                    continue
                if trace in PRE_TRACES:
                    values[key] = sample_pre_trace(
                        x_hist, PRE_TRACES.index(trace), dep, state.tx, state.ty
                    )
                else:
                    values[key] = sample_post_trace(
                        y_hist, POST_TRACES.index(trace), dep, state.tx, state.ty
                    )
        return values
