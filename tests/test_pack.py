"""Model packs: discovery order, verification, refusal with one clear line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from desktop_qa.core import Reader, UserError, find_pack, load_pack
from desktop_qa.packs.oracle import build_oracle_pack
from desktop_qa.packs.write import write_manifest


def test_oracle_pack_loads_and_is_untrained(oracle_pack: Path):
    pack = load_pack(oracle_pack)
    assert pack.trained is False and "UNTRAINED" in pack.describe()
    assert pack.max_seq_length == 64 and pack.files.keys() == {"model.onnx", "tokenizer.json"}


def test_any_architecture_loads(tmp_path: Path):
    pack = load_pack(build_oracle_pack(tmp_path / "p", architecture="something-new", extra_key=1))
    assert pack.architecture == "something-new" and pack.extra["extra_key"] == 1


def test_pack_without_token_type_ids_gets_only_declared_inputs(tmp_path: Path):
    pack = load_pack(build_oracle_pack(tmp_path / "p", with_token_type_ids=False))
    reader = Reader(pack)
    assert reader.input_names == ["input_ids", "attention_mask"]
    windows = reader.windows("code?", [(0, 0, "alpha bravo")])
    start, _ = reader.run(windows)
    assert start.shape == (1, len(windows[0].ids))


def test_tampered_file_is_refused(oracle_pack: Path, tmp_path: Path):
    copy = shutil.copytree(oracle_pack, tmp_path / "copy")
    with open(copy / "tokenizer.json", "a") as fh:
        fh.write(" ")
    with pytest.raises(UserError, match="tokenizer.json does not match its checksum"):
        load_pack(copy)


def test_graph_with_wrong_outputs_is_refused(tmp_path: Path):
    pack_dir = build_oracle_pack(tmp_path / "p")
    model = onnx.load(pack_dir / "model.onnx")
    model.graph.output[0].name = "logits"
    model.graph.node[-2].output[0] = "logits"
    (pack_dir / "model.onnx").write_bytes(model.SerializeToString())
    manifest = json.loads((pack_dir / "model.json").read_text())
    manifest.pop("files")
    write_manifest(pack_dir, manifest)  # checksums fine, graph wrong
    with pytest.raises(UserError, match="do not match the pack format"):
        Reader(load_pack(pack_dir))


def test_graph_with_unknown_input_is_refused(tmp_path: Path):
    pack_dir = build_oracle_pack(tmp_path / "p")
    model = onnx.load(pack_dir / "model.onnx")
    model.graph.input.append(
        helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["b", 3])
    )
    (pack_dir / "model.onnx").write_bytes(model.SerializeToString())
    manifest = json.loads((pack_dir / "model.json").read_text())
    write_manifest(pack_dir, manifest)
    with pytest.raises(UserError, match="pixel_values"):
        Reader(load_pack(pack_dir))


def test_bad_manifests(tmp_path: Path, oracle_pack: Path):
    copy = shutil.copytree(oracle_pack, tmp_path / "copy")
    (copy / "model.json").write_text("{not json")
    with pytest.raises(UserError, match="not valid JSON"):
        load_pack(copy)
    (copy / "model.json").write_text(json.dumps({"format": 99}))
    with pytest.raises(UserError, match="format 99"):
        load_pack(copy)
    with pytest.raises(UserError, match="not found"):
        load_pack(tmp_path / "missing")


def test_discovery_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from desktop_qa.core.system import paths

    build_oracle_pack(paths.user_models_dir() / ".staging-pack", name="half-installed")
    user = build_oracle_pack(paths.user_models_dir() / "user-pack", name="user-pack")
    env = build_oracle_pack(tmp_path / "env-pack", name="env-pack")
    explicit = build_oracle_pack(tmp_path / "explicit", name="explicit")
    monkeypatch.setattr(paths, "bundled_models_dir", lambda: tmp_path / "no-bundle")
    assert find_pack().name == "user-pack"
    monkeypatch.setenv("DESKTOP_QA_MODEL", str(env))
    assert find_pack().name == "env-pack"
    assert find_pack(explicit).name == "explicit"
    monkeypatch.delenv("DESKTOP_QA_MODEL")
    shutil.rmtree(user)
    with pytest.raises(UserError, match="no model pack installed"):
        find_pack()


def test_built_packs_are_readable_by_everyone(tmp_path: Path):
    """Packs are built through temp files (0600); installed under /opt they must be 0644."""
    pack = build_oracle_pack(tmp_path / "p")
    assert pack.stat().st_mode & 0o777 == 0o755
    for name in ("model.json", "model.onnx", "tokenizer.json"):
        assert (pack / name).stat().st_mode & 0o777 == 0o644


def _pack_errors(tmp_path: Path, oracle_pack: Path) -> dict[str, UserError]:
    """One of each pack problem a user meets, as the core raises it."""
    errors: dict[str, UserError] = {}
    empty = tmp_path / "empty"
    empty.mkdir()
    for key, call in (
        ("missing", lambda: load_pack(tmp_path / "nope")),
        ("empty", lambda: load_pack(empty)),
        ("none", find_pack),  # no pack anywhere (the test's user folders are empty)
    ):
        with pytest.raises(UserError) as caught:
            call()
        errors[key] = caught.value
    reader = Reader(load_pack(oracle_pack))

    class Failing:
        def run(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("onnxruntime gave up")

    reader.session = Failing()
    with pytest.raises(UserError) as caught:
        reader.run(reader.windows("Where is alpha?", [(0, 0, "alpha bravo charlie")]))
    errors["reading"] = caught.value
    return errors


def test_pack_messages_name_the_flag_on_the_cli_and_the_menu_in_the_app(
    tmp_path: Path, oracle_pack: Path
):
    """The core says what is wrong; the CLI prints the line it always printed (--model DIR),
    the app names its own menu action, and neither wording leaks into the other."""
    from desktop_qa import cli
    from desktop_qa.core.system import paths
    from desktop_qa.gui.messages import CHOOSE_PACK_MENU
    from desktop_qa.gui.messages import user_message as app_message

    errors = _pack_errors(tmp_path, oracle_pack)
    models = paths.user_models_dir()
    cli_lines = {
        "missing": f"model pack {tmp_path / 'nope'} not found; pass a pack folder with "
        "--model DIR (it holds model.json, model.onnx and tokenizer.json)",
        "empty": f"model pack {tmp_path / 'empty'}: no model.json in the folder; reinstall the "
        "pack or pass another with --model DIR",
        "none": "no model pack installed; run 'desktop-qa model download', or pass a pack "
        f"folder with --model DIR (or copy one into {models})",
        "reading": f"model pack {oracle_pack}: the model failed while reading (onnxruntime "
        "gave up); reinstall the pack or pass another with --model DIR",
    }
    for key, exc in errors.items():
        assert cli.user_message(exc) == cli_lines[key], key
        app = app_message(exc)
        assert CHOOSE_PACK_MENU in app and "--" not in app and "desktop-qa" not in app, app
        assert app.startswith(exc.message) and "--model" not in exc.message, key
