"""oclinit's tensors for a Hugging Face config.json against transformers itself.

For small llama, mistral, qwen2 and gpt2 configs (tied and untied embeddings, biases, head_dim, grouped key/value
heads, GPT-2's cross-attention, padding rows), transformers builds the model from the config.json
(AutoModelForCausalLM.from_config) and saves it (save_pretrained). `oclinit model --list` must have:
- the names save_pretrained stored, in the model's state_dict order, with the same shapes;
- the scheme of what _init_weights made: ones and zeros exactly, normal with the std measured on the tensor (within
  a tolerance set by its size); and the embedding's zeroed padding row.

    python3 hf_names_test.py path/to/oclinit

Needs transformers, torch and safetensors (a venv with system site packages: .ci/install-deps).
"""
import json
import math
import os
import subprocess
import sys
import tempfile

try:
    import torch
    import transformers
    from safetensors import safe_open
    from transformers import AutoConfig, AutoModelForCausalLM
except ImportError as error:
    sys.exit(f"hf_names_test: {error}: this test needs transformers, torch and safetensors "
             "(pip install 'transformers<4.46' safetensors in a venv with system site packages)")

LLAMA = dict(model_type="llama", architectures=["LlamaForCausalLM"], vocab_size=128, hidden_size=64,
             intermediate_size=96, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
             initializer_range=0.05, torch_dtype="bfloat16")

CONFIGS = {
    "llama": LLAMA,
    "llama_tied_biased_pad": dict(LLAMA, tie_word_embeddings=True, attention_bias=True, mlp_bias=True, head_dim=32,
                                  pad_token_id=127, num_key_value_heads=None),
    "llama_old_keys": {k: v for k, v in dict(LLAMA, pad_token_id=3).items() if k != "num_key_value_heads"},
    "mistral": dict(model_type="mistral", vocab_size=100, hidden_size=64, intermediate_size=80, num_hidden_layers=3,
                    num_attention_heads=16, head_dim=8, pad_token_id=0, torch_dtype="float16"),
    "qwen2": dict(model_type="qwen2", architectures=["Qwen2ForCausalLM"], vocab_size=150, hidden_size=48,
                  intermediate_size=112, num_hidden_layers=2, num_attention_heads=6, num_key_value_heads=2,
                  tie_word_embeddings=True, initializer_range=0.03),
    "qwen2_untied": dict(model_type="qwen2", vocab_size=150, hidden_size=48, intermediate_size=112,
                         num_hidden_layers=1, num_attention_heads=6, num_key_value_heads=6, pad_token_id=5),
    "gpt2": dict(model_type="gpt2", architectures=["GPT2LMHeadModel"], vocab_size=120, n_embd=64, n_layer=8,
                 n_head=4, n_positions=40, initializer_range=0.05),
    "gpt2_untied_cross": dict(model_type="gpt2", vocab_size=120, n_embd=48, n_layer=2, n_head=4, n_positions=30,
                              n_inner=100, add_cross_attention=True, tie_word_embeddings=False, pad_token_id=1),
}

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def oclinit_list(cli, path):
    """`oclinit model --config path --list`: a '#' summary, a header, then one tab-separated line per tensor."""
    out = subprocess.run([cli, "model", "--config", path, "--list"], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{cli} model --config {path} --list failed: {out.stderr.strip()}")
    lines = [line for line in out.stdout.splitlines() if not line.startswith("#")]
    summary = out.stdout.splitlines()[0].split()
    rows = []
    for line in lines[1:]:
        name, dims, scheme, _, std, zero_row, stream = line.split("\t")
        rows.append(dict(name=name, shape=tuple(int(d) for d in dims.split(",")), scheme=scheme,
                         std=float(std) if scheme == "normal" else None, zero_row=int(zero_row), stream=stream))
    return {"dtype": summary[summary.index("in") + 1].rstrip(","), "tensors": str(len(rows))}, rows


def stored_names(model, directory):
    model.save_pretrained(directory)  # safetensors by default
    with safe_open(os.path.join(directory, "model.safetensors"), framework="pt") as f:
        return set(f.keys())


def check_scheme(label, row, tensor, pad_row):
    t = tensor.detach().double()
    if row["scheme"] == "ones":
        check(bool((t == 1).all()), f"{label}: oclinit says ones, transformers' tensor is not all ones")
        return
    if row["scheme"] == "zeros":
        check(bool((t == 0).all()), f"{label}: oclinit says zeros, transformers' tensor is not all zeros")
        return
    check(row["scheme"] == "normal", f"{label}: unexpected scheme {row['scheme']}")
    if row["zero_row"] >= 0:
        check(bool((t[row["zero_row"]] == 0).all()), f"{label}: transformers' row {row['zero_row']} is not zero")
        t = torch.cat([t[:row["zero_row"]], t[row["zero_row"] + 1:]])
    elif pad_row is not None and t.dim() == 2 and t.shape[0] > pad_row:
        check(not bool((t[pad_row] == 0).all()), f"{label}: transformers zeroed row {pad_row}, oclinit has no zero_row")
    n = t.numel()
    measured = float(t.std())
    # The sample std of n normal values has a relative spread of about 1/sqrt(2n): allow 6 of those.
    tolerance = 6 / math.sqrt(2 * n)
    check(abs(float(t.mean())) < 6 * row["std"] / math.sqrt(n), f"{label}: mean {float(t.mean())} is not 0")
    check(abs(measured / row["std"] - 1) < tolerance,
          f"{label}: oclinit says normal std {row['std']}, transformers' tensor has std {measured:.5g} "
          f"(n = {n}, tolerance {tolerance:.2%})")


def main():
    cli = sys.argv[1]
    torch.manual_seed(0)
    checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        for label, config in CONFIGS.items():
            directory = os.path.join(tmp, label)
            os.makedirs(directory)
            path = os.path.join(directory, "config.json")
            with open(path, "w") as f:
                json.dump(config, f)
            model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(directory))
            state = model.state_dict()
            stored = stored_names(model, os.path.join(directory, "saved"))
            expected = [name for name in state if name in stored]
            header, rows = oclinit_list(cli, path)
            names = [r["name"] for r in rows]
            check(names == expected, f"{label}: names differ\n  oclinit:      {names}\n  transformers: {expected}")
            want_dtype = {"bfloat16": "BF16", "float16": "F16"}.get(config.get("torch_dtype"), "F32")
            check(header["dtype"] == want_dtype, f"{label}: dtype {header['dtype']}, expected {want_dtype}")
            pad = model.config.pad_token_id
            pad_row = None if pad is None else pad % model.config.vocab_size
            for row in rows:
                if row["name"] not in state:
                    continue
                tensor = state[row["name"]]
                check(row["shape"] == tuple(tensor.shape),
                      f"{label}: {row['name']}: shape {row['shape']}, transformers {tuple(tensor.shape)}")
                if row["shape"] == tuple(tensor.shape):
                    check_scheme(f"{label}: {row['name']}", row, tensor, pad_row)
            checked += len(rows)
            print(f"{label}: {len(rows)} tensors ({len(state) - len(expected)} tied, not stored)")
    print(f"transformers {transformers.__version__}, torch {torch.__version__}: {checked} tensors compared")
    if failures:
        print("\n".join(failures))
        sys.exit(1)


main()
