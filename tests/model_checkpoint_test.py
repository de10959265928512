"""`oclinit model` end to end: checkpoints for small llama, qwen2 and gpt2 configs and a spec, loaded with Python's
safetensors (PyPI) and numpy (ml_dtypes for bf16): names, shapes, dtypes, index, per-tensor statistics; the same
bytes on the host C path and the device, sharded or not; one tensor equal to `oclinit init --name`; a spec's tensors
unchanged when others are added; and bad input refused with nothing left behind.

Run: python3 model_checkpoint_test.py path/to/oclinit"""
import fcntl
import filecmp
import json
import math
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

import ml_dtypes
import numpy as np
from safetensors import safe_open

CLI = sys.argv[1]
failures = []

LLAMA = {"model_type": "llama", "vocab_size": 96, "hidden_size": 64, "intermediate_size": 88,
         "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "initializer_range": 0.05,
         "tie_word_embeddings": False, "pad_token_id": 3, "torch_dtype": "bfloat16"}
QWEN2 = {"model_type": "qwen2", "vocab_size": 80, "hidden_size": 48, "intermediate_size": 96, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "initializer_range": 0.02, "tie_word_embeddings": True,
         "torch_dtype": "float32"}
GPT2 = {"model_type": "gpt2", "vocab_size": 100, "n_positions": 32, "n_embd": 48, "n_layer": 3, "n_head": 4,
        "initializer_range": 0.02}


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL:", what, flush=True)


def run(*args, expect=0, env=None):
    done = subprocess.run([CLI, *args], capture_output=True, text=True, env=env)
    check(done.returncode == expect, f"oclinit {' '.join(args)}: exit {done.returncode}, expected {expect}: "
          f"{done.stderr.strip()}")
    return done


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f)
    return path


def load(directory):
    """{name: float64 array} and {name: dtype name} of a checkpoint directory, through safetensors and the index."""
    index = os.path.join(directory, "model.safetensors.index.json")
    files = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["model.safetensors"]
    tensors, dtypes = {}, {}
    for name in files:
        with safe_open(os.path.join(directory, name), framework="pt") as f:
            check(f.metadata().get("format") == "pt", f"{name}: metadata {f.metadata()}")
            for key in f.keys():
                t = f.get_tensor(key)
                dtypes[key] = str(t.dtype).replace("torch.", "")
                tensors[key] = t.float().numpy().astype(np.float64)
    return tensors, dtypes


def raw_tensor(path, name):
    """A tensor read by hand from the format's bytes, bf16 through ml_dtypes: an independent reader."""
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        entry = header[name]
        begin, end = entry["data_offsets"]
        f.seek(8 + size + begin)
        data = f.read(end - begin)
    check(size % 8 == 0, f"{path}: header length {size} not a multiple of 8")
    dtype = {"BF16": ml_dtypes.bfloat16, "F16": np.float16, "F32": np.float32}[entry["dtype"]]
    return np.frombuffer(data, dtype=dtype).reshape(entry["shape"])


def expected_llama(config, tied):
    h, i, v, layers = config["hidden_size"], config["intermediate_size"], config["vocab_size"], config["num_hidden_layers"]
    heads, kv = config["num_attention_heads"], config["num_key_value_heads"]
    d = h // heads
    shapes = {"model.embed_tokens.weight": (v, h)}
    for n in range(layers):
        p = f"model.layers.{n}."
        shapes.update({p + "self_attn.q_proj.weight": (heads * d, h), p + "self_attn.k_proj.weight": (kv * d, h),
                       p + "self_attn.v_proj.weight": (kv * d, h), p + "self_attn.o_proj.weight": (h, heads * d),
                       p + "mlp.gate_proj.weight": (i, h), p + "mlp.up_proj.weight": (i, h),
                       p + "mlp.down_proj.weight": (h, i), p + "input_layernorm.weight": (h,),
                       p + "post_attention_layernorm.weight": (h,)})
        if config["model_type"] == "qwen2":
            shapes.update({p + "self_attn.q_proj.bias": (heads * d,), p + "self_attn.k_proj.bias": (kv * d,),
                           p + "self_attn.v_proj.bias": (kv * d,)})
    shapes["model.norm.weight"] = (h,)
    if not tied:
        shapes["lm_head.weight"] = (v, h)
    return shapes


def expected_gpt2(config):
    e, v, n = config["n_embd"], config["vocab_size"], config["n_layer"]
    shapes = {"transformer.wte.weight": (v, e), "transformer.wpe.weight": (config["n_positions"], e)}
    for k in range(n):
        p = f"transformer.h.{k}."
        shapes.update({p + "ln_1.weight": (e,), p + "ln_1.bias": (e,), p + "attn.c_attn.weight": (e, 3 * e),
                       p + "attn.c_attn.bias": (3 * e,), p + "attn.c_proj.weight": (e, e), p + "attn.c_proj.bias": (e,),
                       p + "ln_2.weight": (e,), p + "ln_2.bias": (e,), p + "mlp.c_fc.weight": (e, 4 * e),
                       p + "mlp.c_fc.bias": (4 * e,), p + "mlp.c_proj.weight": (4 * e, e), p + "mlp.c_proj.bias": (e,)})
    shapes.update({"transformer.ln_f.weight": (e,), "transformer.ln_f.bias": (e,)})
    return shapes


def check_statistics(tag, tensors, std, scaled=None):
    """Norms and biases exact; weights normal(0, std) (GPT-2's c_proj: the scaled std), a 6-standard-error band."""
    for name, x in tensors.items():
        if name.endswith(("norm.weight", "ln_1.weight", "ln_2.weight", "ln_f.weight")):
            check((x == 1).all(), f"{tag} {name}: not ones")
        elif name.endswith("bias"):
            check((x == 0).all(), f"{tag} {name}: not zeros")
        else:
            want = scaled if scaled and name.endswith("c_proj.weight") else std
            if "embed_tokens" in name and "pad_token_id" in LLAMA and tag == "llama":
                check((x[LLAMA["pad_token_id"]] == 0).all(), f"{tag} {name}: padding row not zero")
                x = np.delete(x, LLAMA["pad_token_id"], axis=0)
            got = x.std()
            check(abs(got / want - 1) < 6 / math.sqrt(2 * x.size) + 0.01,
                  f"{tag} {name}: std {got:.5g}, expected {want:.5g}")
            check(abs(x.mean()) < 6 * want / math.sqrt(x.size), f"{tag} {name}: mean {x.mean():.3g}")


with tempfile.TemporaryDirectory() as tmp:
    # llama: bf16 from the config, untied, a padding row; host and device byte-identical; sharded == unsharded.
    config = write_json(os.path.join(tmp, "llama.json"), LLAMA)
    host, device, sharded = (os.path.join(tmp, d) for d in ("llama-host", "llama-device", "llama-sharded"))
    run("model", "--config", config, "--output", host, "--device", "cpu", "--seed", "5", "--quiet")
    run("model", "--config", config, "--output", device, "--seed", "5", "--quiet", "--chunk-mib", "1")
    run("model", "--config", config, "--output", sharded, "--seed", "5", "--quiet", "--max-shard-size", "20KB")
    check(sorted(os.listdir(host)) == ["config.json", "model.safetensors"], f"llama files: {os.listdir(host)}")
    check(filecmp.cmp(os.path.join(host, "model.safetensors"), os.path.join(device, "model.safetensors"), False),
          "llama: the host C path and the device wrote different bytes")
    check(json.load(open(os.path.join(host, "config.json"))) == LLAMA, "llama: config.json not copied")
    tensors, dtypes = load(host)
    expected = expected_llama(LLAMA, tied=False)
    check(list(tensors) == list(expected) or set(tensors) == set(expected), f"llama names: {sorted(set(tensors) ^ set(expected))}")
    check(all(tensors[k].shape == expected[k] for k in expected if k in tensors), "llama shapes differ")
    check(set(dtypes.values()) == {"bfloat16"}, f"llama dtypes {set(dtypes.values())}")
    check_statistics("llama", tensors, LLAMA["initializer_range"])
    index = json.load(open(os.path.join(sharded, "model.safetensors.index.json")))
    shards = sorted(set(index["weight_map"].values()))
    check(len(shards) > 2 and all(s.endswith(f"-of-{len(shards):05d}.safetensors") for s in shards),
          f"llama shards: {shards}")
    check(set(index["weight_map"]) == set(expected), "llama index: weight_map names")
    check(index["metadata"]["total_size"] == sum(2 * math.prod(s) for s in expected.values()), "llama index: total_size")
    check(sorted(os.listdir(sharded)) == sorted(shards + ["config.json", "model.safetensors.index.json"]),
          f"llama sharded files: {os.listdir(sharded)}")
    resharded, _ = load(sharded)
    check(all(np.array_equal(resharded[k], tensors[k]) for k in tensors), "llama: sharded tensors differ from unsharded")
    # The same numbers as `oclinit init --name`, rounded to bf16; and read back by an independent reader.
    name = "model.layers.1.mlp.down_proj.weight"
    one = os.path.join(tmp, "one.npy")
    run("init", "--scheme", "normal", "--std", str(LLAMA["initializer_range"]), "--shape", "64,88", "--name", name,
        "--seed", "5", "--output", one, "--quiet", "--device", "cpu")
    mine = np.load(one).astype(ml_dtypes.bfloat16)
    raw = raw_tensor(os.path.join(host, "model.safetensors"), name)
    check(mine.tobytes() == raw.tobytes(), f"{name}: differs from oclinit init --name rounded to bf16")
    check(np.array_equal(raw.astype(np.float64), tensors[name]), f"{name}: safetensors and the raw bytes differ")

    # Every tensor, where chunks are smaller than tensors and the writer packs several tensors' chunks into one
    # slot at offsets that are no multiple of a page: each equals `oclinit init --name` (rounded to bf16, the padding
    # row zeroed) or is all ones, on the host C path, the default device (PoCL in CI) and rusticl (CPU devices make
    # the chunks in the writer's memory itself, through buffers over it).
    medium = dict(LLAMA, vocab_size=1000, hidden_size=256, intermediate_size=1100)
    config = write_json(os.path.join(tmp, "medium.json"), medium)
    listing = run("model", "--config", config, "--output", os.path.join(tmp, "unused"), "--list").stdout
    for where in ("cpu", None, "rusticl"):
        out = os.path.join(tmp, f"medium-{where}")
        run("model", "--config", config, "--output", out, "--seed", "5", "--quiet", "--chunk-mib", "1",
            *(("--device", where) if where else ()),
            env=dict(os.environ, RUSTICL_ENABLE="llvmpipe") if where == "rusticl" else None)
        path = os.path.join(out, "model.safetensors")
        for line in listing.splitlines()[2:]:
            name, shape, scheme, _, std, zero_row, _ = line.split("\t")
            raw = raw_tensor(path, name)
            if scheme == "ones":
                check((raw == 1).all(), f"medium {where}: {name} is not all ones")
                continue
            run("init", "--scheme", "normal", "--std", std, "--shape", shape, "--name", name, "--seed", "5",
                "--output", one, "--quiet", "--device", "cpu")
            mine = np.load(one).astype(ml_dtypes.bfloat16)
            if int(zero_row) >= 0:
                mine[int(zero_row)] = 0
            check(mine.tobytes() == raw.tobytes(), f"medium {where}: {name} differs from oclinit init --name")

    # qwen2: tied embeddings stored once, q/k/v biases, float32 from the config; --dtype f16 overrides.
    config = write_json(os.path.join(tmp, "qwen2.json"), QWEN2)
    out = os.path.join(tmp, "qwen2")
    run("model", "--config", config, "--output", out, "--quiet")
    tensors, dtypes = load(out)
    expected = expected_llama(QWEN2, tied=True)
    check(set(tensors) == set(expected), f"qwen2 names: {sorted(set(tensors) ^ set(expected))}")
    check(set(dtypes.values()) == {"float32"}, f"qwen2 dtypes {set(dtypes.values())}")
    check_statistics("qwen2", tensors, QWEN2["initializer_range"])
    out16 = os.path.join(tmp, "qwen2-f16")
    run("model", "--config", config, "--output", out16, "--quiet", "--dtype", "f16")
    half, dtypes = load(out16)
    check(set(dtypes.values()) == {"float16"}, f"qwen2 f16 dtypes {set(dtypes.values())}")
    check(json.load(open(os.path.join(out16, "config.json"))) == dict(QWEN2, torch_dtype="float16"),
          "qwen2 f16: config.json's torch_dtype is not the dtype written, or other keys changed")
    name = "model.layers.0.self_attn.q_proj.weight"
    check(np.array_equal(half[name], tensors[name].astype(np.float32).astype(np.float16).astype(np.float64)),
          "qwen2: f16 is not the float32 values rounded to nearest even")

    # A torch_dtype oclinit does not write is refused only without --dtype; the config.json written names the dtype
    # written. A null quantization_config is none.
    f64 = write_json(os.path.join(tmp, "qwen2-f64.json"), dict(QWEN2, torch_dtype="float64", quantization_config=None))
    out = os.path.join(tmp, "qwen2-f64")
    refused_f64 = run("model", "--config", f64, "--output", out, "--quiet", expect=2)
    check("give --dtype" in refused_f64.stderr and not os.path.exists(out), f"float64 config: {refused_f64.stderr!r}")
    run("model", "--config", f64, "--output", out, "--quiet", "--dtype", "bf16", "--device", "cpu")
    _, dtypes = load(out)
    check(set(dtypes.values()) == {"bfloat16"}, f"float64 config with --dtype bf16: dtypes {set(dtypes.values())}")
    check(json.load(open(os.path.join(out, "config.json")))["torch_dtype"] == "bfloat16",
          "float64 config with --dtype bf16: config.json's torch_dtype is not the dtype written")

    # The config read from the output directory itself is an input: kept when it names the dtype written, refused
    # when it names another (torch_dtype="auto" would load the tensors as that), and set to the dtype written with
    # --force.
    inside = os.path.join(tmp, "inside")
    os.mkdir(inside)
    own = write_json(os.path.join(inside, "config.json"), dict(QWEN2, torch_dtype="bfloat16"))
    original = open(own, "rb").read()
    refused = run("model", "--config", own, "--output", inside, "--quiet", "--dtype", "f32", "--device", "cpu",
                  expect=2)
    check('"torch_dtype": "bfloat16"' in refused.stderr and "--force" in refused.stderr
          and sorted(os.listdir(inside)) == ["config.json"] and open(own, "rb").read() == original,
          f"config inside the output, another dtype: {refused.stderr!r}, {sorted(os.listdir(inside))}")
    run("model", "--config", own, "--output", inside, "--quiet", "--device", "cpu")
    check(open(own, "rb").read() == original, "config inside the output, same dtype: the config was rewritten")
    run("model", "--config", own, "--output", inside, "--quiet", "--dtype", "f32", "--device", "cpu", "--force")
    _, dtypes = load(inside)
    check(set(dtypes.values()) == {"float32"} and json.load(open(own)) == dict(QWEN2, torch_dtype="float32"),
          f"config inside the output with --force: dtypes {set(dtypes.values())}, config {json.load(open(own))}")

    # gpt2: Conv1D weights (in, out), tied lm_head, residual projections scaled by 1/sqrt(2 n_layer).
    config = write_json(os.path.join(tmp, "gpt2.json"), GPT2)
    out = os.path.join(tmp, "gpt2")
    run("model", "--config", config, "--output", out, "--quiet", "--dtype", "f32")
    tensors, _ = load(out)
    check(json.load(open(os.path.join(out, "config.json"))) == GPT2, "gpt2: config.json without torch_dtype changed")
    expected = expected_gpt2(GPT2)
    check(set(tensors) == set(expected), f"gpt2 names: {sorted(set(tensors) ^ set(expected))}")
    check(all(tensors[k].shape == expected[k] for k in expected if k in tensors), "gpt2 shapes differ")
    check_statistics("gpt2", tensors, 0.02, scaled=0.02 / math.sqrt(2 * GPT2["n_layer"]))

    # A spec: a tensor's numbers do not depend on the others (added, removed, reordered).
    base = {"seed": 9, "dtype": "f32", "rules": [{"match": "*.bias", "scheme": "zeros"}],
            "default": {"scheme": "kaiming-uniform"},
            "tensors": [{"name": "a.weight", "shape": [30, 20]}, {"name": "a.bias", "shape": [30]},
                        {"name": "conv.weight", "shape": [8, 3, 3, 3], "scheme": "orthogonal", "gain": 2},
                        {"name": "b.weight", "shape": [7, 30], "scheme": "normal", "std": 0.1}]}
    grown = dict(base, tensors=[{"name": "z.weight", "shape": [5, 5], "scheme": "sparse", "sparsity": 0.4}]
                 + base["tensors"][::-1])
    a, b = os.path.join(tmp, "spec-a"), os.path.join(tmp, "spec-b")
    run("model", "--spec", write_json(os.path.join(tmp, "a.json"), base), "--output", a, "--quiet")
    run("model", "--spec", write_json(os.path.join(tmp, "b.json"), grown), "--output", b, "--quiet", "--device", "cpu")
    first, _ = load(a)
    second, _ = load(b)
    # A seed from 2^63 on, which JSON integers do not reach, as a decimal string.
    c = os.path.join(tmp, "spec-c")
    run("model", "--spec", write_json(os.path.join(tmp, "c.json"), dict(base, seed="18446744073709551615")), "--output",
        c, "--quiet", "--device", "cpu")
    with safe_open(os.path.join(c, "model.safetensors"), framework="pt") as f:
        check(f.metadata().get("oclinit_seed") == "18446744073709551615", f"seed as a string: {f.metadata()}")
    check(set(second) - set(first) == {"z.weight"}, f"spec names: {sorted(second)}")
    check(all(np.array_equal(first[k], second[k]) for k in first), "spec: adding and reordering tensors changed others")
    check((first["a.bias"] == 0).all() and abs(np.abs(first["a.weight"]).max() - math.sqrt(6 / 20)) < 0.05,
          "spec: rule and default not applied")
    flat = first["conv.weight"].reshape(8, -1) / 2
    check(np.abs(flat @ flat.T - np.eye(8)).max() < 1e-5, "spec: orthogonal conv weight")

    # Bad input: a clear message, exit 2, nothing written or left.
    def refused(args, says, directory):
        before = sorted(os.listdir(directory)) if os.path.isdir(directory) else None
        done = run(*args, expect=2)
        check(says in done.stderr, f"oclinit {' '.join(args)}: stderr {done.stderr!r} lacks {says!r}")
        after = sorted(os.listdir(directory)) if os.path.isdir(directory) else None
        check(before == after, f"oclinit {' '.join(args)}: {directory} changed: {before} -> {after}")

    bad = os.path.join(tmp, "bad")
    refused(["model", "--config", write_json(os.path.join(tmp, "t5.json"), {"model_type": "t5"}), "--output", bad],
            "llama", bad)
    refused(["model", "--config", write_json(os.path.join(tmp, "m.json"), {k: v for k, v in LLAMA.items()
                                                                           if k != "hidden_size"}), "--output", bad],
            "hidden_size", bad)
    dup = dict(base, tensors=base["tensors"] + [{"name": "a.bias", "shape": [3]}])
    refused(["model", "--spec", write_json(os.path.join(tmp, "dup.json"), dup), "--output", bad], "a.bias", bad)
    unknown = dict(base, tensors=[{"name": "w", "shape": [3, 3], "scheme": "nosuch"}])
    refused(["model", "--spec", write_json(os.path.join(tmp, "unk.json"), unknown), "--output", bad], "nosuch", bad)
    big = dict(base, tensors=[{"name": "w", "shape": [2 ** 40, 2 ** 40]}])
    refused(["model", "--spec", write_json(os.path.join(tmp, "big.json"), big), "--output", bad], "w", bad)
    refused(["model", "--config", os.path.join(tmp, "llama.json"), "--output", host, "--quiet"], "--force", host)
    dangling = os.path.join(tmp, "dangling")
    os.symlink(os.path.join(tmp, "nowhere"), dangling)
    refused(["model", "--config", os.path.join(tmp, "llama.json"), "--output", dangling], "symbolic link to nothing",
            tmp)
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    done = subprocess.run([CLI, "inspect", fifo], capture_output=True, text=True, timeout=30)
    check(done.returncode == 2 and "not a regular file" in done.stderr, f"inspect of a FIFO: exit {done.returncode}")
    os.unlink(fifo)
    run("model", "--config", os.path.join(tmp, "llama.json"), "--output", sharded, "--seed", "5", "--quiet", "--force")
    check(sorted(os.listdir(sharded)) == ["config.json", "model.safetensors"],
          f"--force left the old shards: {os.listdir(sharded)}")

    # A second writer into a directory being written is refused, whatever it would write; the temporary files that a
    # killed writer left go with the next write, whatever layout they were for, while a live writer's stay.
    busy = os.path.join(tmp, "busy")
    os.mkdir(busy)
    lock = os.open(busy, os.O_RDONLY)
    fcntl.flock(lock, fcntl.LOCK_EX)
    refused(["model", "--config", os.path.join(tmp, "llama.json"), "--output", busy], "another process is writing",
            busy)
    os.close(lock)
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = f"model-00001-of-00007.safetensors.tmp-{dead.pid}-0"
    live = f"model.safetensors.index.json.tmp-{os.getpid()}-0"
    for name in (stale, live):
        open(os.path.join(busy, name), "w").close()
    run("model", "--config", os.path.join(tmp, "llama.json"), "--output", busy, "--quiet", "--device", "cpu")
    check(sorted(os.listdir(busy)) == sorted(["config.json", "model.safetensors", live]),
          f"a killed writer's temporary file: {sorted(os.listdir(busy))}")

    # A full disk (a file size limit here) or a signal while writing: nothing left, not even the new directory. On the
    # host C path: PoCL's compiler aborts when the limit stops it writing its kernel cache.
    gone = os.path.join(tmp, "gone")
    done = subprocess.run(f"trap '' XFSZ; ulimit -f 64; exec {CLI} model --config {os.path.join(tmp, 'llama.json')} "
                          f"--output {gone} --quiet --dtype f32 --device cpu", shell=True, capture_output=True, text=True)
    check(done.returncode != 0 and not os.path.exists(gone), f"file size limit: exit {done.returncode}, "
          f"left {os.listdir(gone) if os.path.exists(gone) else None}")
    wide = dict(LLAMA, vocab_size=32000, hidden_size=1024, intermediate_size=2816, num_hidden_layers=8)
    process = subprocess.Popen([CLI, "model", "--config", write_json(os.path.join(tmp, "wide.json"), wide), "--output",
                                gone, "--dtype", "f32", "--device", "cpu"], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not (os.path.isdir(gone) and os.listdir(gone)):
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    process.wait(60)
    check(process.returncode in (130, -signal.SIGINT) and not os.path.exists(gone),
          f"SIGINT: exit {process.returncode}, left {os.listdir(gone) if os.path.exists(gone) else None}")
    # A signal that ends the process at once (SIGTERM, or a second Ctrl-C a second or more after the first) still
    # takes the temporary files and the directory made for them.
    process = subprocess.Popen([CLI, "model", "--config", os.path.join(tmp, "wide.json"), "--output", gone, "--dtype",
                                "f32", "--device", "cpu"], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not (os.path.isdir(gone) and os.listdir(gone)):
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    process.wait(60)
    check(process.returncode == -signal.SIGTERM and not os.path.exists(gone),
          f"SIGTERM: exit {process.returncode}, left {os.listdir(gone) if os.path.exists(gone) else None}")
    # One interrupt delivered twice within moments (`timeout -s INT` signals the process and its group; a watching
    # parent forwards what it gets) is one Ctrl-C: the writing is cancelled and cleaned up, not killed half-way with
    # its directory left. On the default device with an empty kernel cache, so that the signals come while its files
    # exist and PoCL compiles the sampling kernels, long before the first chunk asks whether to stop.
    process = subprocess.Popen([CLI, "model", "--config", os.path.join(tmp, "wide.json"), "--output", gone, "--dtype",
                                "f32", "--quiet"], stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, POCL_CACHE_DIR=os.path.join(tmp, "empty-kernel-cache")))
    deadline = time.time() + 60
    while time.time() < deadline and not (os.path.isdir(gone) and os.listdir(gone)):
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    err = process.communicate(timeout=60)[1]
    check(process.returncode == 130 and "cancelled" in err and not os.path.exists(gone),
          f"SIGINT twice: exit {process.returncode}, {err.strip()!r}, "
          f"left {os.listdir(gone) if os.path.exists(gone) else None}")

for failure in failures:
    print("FAIL:", failure)
print(f"{len(failures)} failures")
sys.exit(1 if failures else 0)
