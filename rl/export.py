"""``simlab rl export``: a trained stable-baselines3 model to ``policy.onnx`` + ``policy.json``.

stable-baselines3's documented route: the policy wrapped in a module whose
``forward`` returns ``policy(obs, deterministic=True)``'s actions, exported
with ``torch.onnx.export`` at opset 17 (>= 14 is what the guide needs), a
dynamic batch axis. torch's TorchScript-based exporter is used (``dynamo=False``):
the newer one needs onnxscript, which the project does not ship. The
observation normalisation is *not* in the graph: VecNormalize's statistics go
into ``policy.json`` and the strategy applies them, as the trainer did.

Checked on export: the ONNX model (onnxruntime) and the torch policy give the
same action on a batch of observations (from the training world's attempts,
normalised as in training); any disagreement is an error, and nothing is left
written.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from rl.policy import POLICY_SCHEMA, ObsNorm, policy_json_path
from simlab.errors import ConfigError

OPSET = 17
INPUT_NAME = "obs"
OUTPUT_NAME = "action"


def model_json_path(model_zip: Path | str) -> Path:
    """``model.zip`` -> ``model.train.json`` (what `simlab rl train` recorded)."""
    p = Path(model_zip)
    return p.with_name(p.stem + ".train.json")


def vecnormalize_path(model_zip: Path | str) -> Path:
    """``model.zip`` -> ``model.vecnormalize.pkl`` (stable-baselines3's own pickle of the statistics)."""
    p = Path(model_zip)
    return p.with_name(p.stem + ".vecnormalize.pkl")


def load_obs_norm(model_zip: Path | str) -> ObsNorm | None:
    """VecNormalize's observation statistics saved beside the model, if it was trained with them."""
    import pickle

    p = vecnormalize_path(model_zip)
    if not p.is_file():
        return None
    with open(p, "rb") as fh:
        vn = pickle.load(fh)
    if not getattr(vn, "norm_obs", False):
        return None
    rms = vn.obs_rms
    return ObsNorm(
        np.asarray(rms.mean, np.float64),
        np.asarray(rms.var, np.float64),
        float(vn.epsilon),
        float(vn.clip_obs),
    )


def _onnxable(policy: Any) -> Any:
    import torch as th

    class OnnxableSB3Policy(th.nn.Module):
        """stable-baselines3's export guide: the deterministic action of the policy."""

        def __init__(self, p: Any) -> None:
            super().__init__()
            self.policy = p

        def forward(self, observation: th.Tensor) -> th.Tensor:
            actions, _values, _log_prob = self.policy(observation, deterministic=True)
            return actions

    return OnnxableSB3Policy(policy)


def check_obs(model_zip: Path | str, n: int = 512, seed: int = 0) -> np.ndarray:
    """Raw observations for the export check: attempts of the training world under random actions."""
    from rl.core import BatchCore

    world = training_world(model_zip)
    envs = 16
    core = BatchCore(world, envs, seed=seed, parallel=False)
    rng = np.random.default_rng(seed)
    rows = [core.reset().copy()]
    while sum(r.shape[0] for r in rows) < n:
        obs, _, _ = core.step(rng.integers(0, world.settings.n_actions, envs))
        rows.append(obs.copy())
    return np.concatenate(rows)[:n]


def training_world(model_zip: Path | str) -> Any:
    """The world a model was trained in, rebuilt from ``model.json`` (its data, settings and split)."""
    from rl.core import EnvSettings, World

    meta = read_model_json(model_zip)
    settings = EnvSettings.from_dict(meta["settings"], str(model_json_path(model_zip)))
    bars = _load_bars(meta["training"])
    return World.build(bars.slice(0, int(meta["training"]["split"]["train_end_bar"])), settings)


def _load_bars(tr: dict[str, Any]) -> Any:
    from simlab.bundled import bundled_bars, is_bundled

    data = tr["data"]
    if is_bundled(data):
        return bundled_bars(data)
    from simlab.loaders import load_bars

    return load_bars(
        data,
        fmt=tr.get("format"),
        tz=tr.get("tz"),
        symbol=tr.get("symbol", "EURUSD"),
        timeframe=tr.get("timeframe"),
    )


def read_model_json(model_zip: Path | str) -> dict[str, Any]:
    p = model_json_path(model_zip)
    if not p.is_file():
        raise ConfigError(str(p), "training record not found; `simlab rl train` writes it beside the model")
    try:
        d: dict[str, Any] = json.loads(p.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(str(p), f"not a readable JSON file ({str(exc).splitlines()[0]})") from None
    return d


def export_policy(model_zip: Path | str, out: Path | str, *, check_n: int = 512) -> dict[str, Any]:
    """Write ``out`` (.onnx) and its ``.json``; return the description. Raises ConfigError on a failed check."""
    import torch as th
    from stable_baselines3 import PPO

    from simlab.atomic import atomic_write_text

    model_zip = Path(model_zip)
    out = Path(out)
    if out.suffix != ".onnx":
        raise ConfigError(
            str(out), "the exported policy's file name must end in .onnx (policy.json goes beside it)"
        )
    if not model_zip.is_file():
        raise ConfigError(str(model_zip), "model file not found")
    meta = read_model_json(model_zip)
    try:
        model = PPO.load(model_zip, device="cpu")
    except Exception as exc:  # stable-baselines3 raises many kinds on a bad archive
        raise ConfigError(
            str(model_zip), f"not a loadable stable-baselines3 PPO model ({type(exc).__name__})"
        ) from None
    norm = load_obs_norm(model_zip)
    policy = model.policy.to("cpu").eval()
    module = _onnxable(policy)
    shape = model.observation_space.shape
    if shape is None or len(shape) != 1:
        raise ConfigError(
            str(model_zip), f"observation shape {shape}: not a simlab challenge environment's model"
        )
    obs_dim = int(shape[0])
    tmp = out.with_name(out.name + ".tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
        th.onnx.export(
            module, (th.zeros((1, obs_dim), dtype=th.float32),), str(tmp), opset_version=OPSET,
            input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}}, dynamo=False,
        )  # fmt: skip
    try:
        raw = check_obs(model_zip, check_n)
        x = raw if norm is None else norm.apply(raw)
        with th.no_grad():
            want = module(th.as_tensor(x)).cpu().numpy().astype(np.int64).reshape(-1)
        import onnxruntime as ort

        sess = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
        got = np.asarray(sess.run([OUTPUT_NAME], {INPUT_NAME: x})[0]).astype(np.int64).reshape(-1)
        agree = int(np.count_nonzero(got == want))
        if agree != want.shape[0]:
            raise ConfigError(
                str(out),
                f"ONNX and torch disagree on {want.shape[0] - agree} of {want.shape[0]} observations",
            )
        desc = {
            "schema": POLICY_SCHEMA,
            "settings": meta["settings"],
            "world": meta["world"],
            "obs_norm": norm.to_dict() if norm is not None else None,
            "onnx": {"input": INPUT_NAME, "output": OUTPUT_NAME, "opset": OPSET},
            "training": meta["training"],
            "export_check": {
                "observations": int(want.shape[0]),
                "agree": agree,
                "actions_seen": sorted(set(want.tolist())),
            },
            "source_model": str(model_zip),
        }
        atomic_write_text(policy_json_path(out), json.dumps(desc, indent=1))
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return desc
