# What users would otherwise run, timed at the sizes `oclinit bench` uses: numpy and PyTorch on the CPU, and PyTorch's
# init on its GPU where its torch has CUDA.
# `oclinit bench` embeds this file and runs it with python3; it prints CSV rows
#   benchmark,backend,size,median,min,max,work,unit,detail
# (seconds per run; throughput = work / median) and '#' lines for what it skipped.
import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import time


def measure(job, repeat, cleanup=None):
    """Median, min and max seconds of repeat runs after an untimed one; cleanup after each run, untimed."""
    job()
    if cleanup:
        cleanup()
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        job()
        seconds.append(time.perf_counter() - start)
        if cleanup:
            cleanup()
    return statistics.median(seconds), min(seconds), max(seconds)


def row(benchmark, backend, size, timing, work, unit, detail=""):
    print(f"{benchmark},{backend},{size:.0f},{timing[0]:.9g},{timing[1]:.9g},{timing[2]:.9g},{work:.9g},{unit},{detail}",
          flush=True)


def sizes(text):
    return [int(float(s)) for s in text.split(",") if s]


def bench_numpy(np, args):
    rng = np.random.default_rng(1)
    for n in sizes(args.init_sizes):
        out = np.empty(n, dtype=np.float32)
        std = math.sqrt(2.0 / 4096)

        def uniform():
            rng.random(n, dtype=np.float32, out=out)

        def he_normal():
            rng.standard_normal(n, dtype=np.float32, out=out)
            np.multiply(out, np.float32(std), out=out)

        row("init-uniform", "numpy", n, measure(uniform, args.repeat), n / 1e9, "G samples/s")
        row("init-he-normal", "numpy", n, measure(he_normal, args.repeat), n / 1e9, "G samples/s")
    print("# numpy has no truncated normal sampler; init-trunc-normal compares with PyTorch only")
    for n in sizes(args.normalize_sizes):
        x = (rng.standard_normal((n // 16, 16), dtype=np.float32) + 3) * np.float32(4.0) ** (np.arange(16) % 5)
        fitted = {}

        def fit():
            fitted["mean"], fitted["std"] = x.mean(axis=0), x.std(axis=0)

        def apply():
            np.subtract(x, fitted["mean"], out=x)
            np.divide(x, fitted["std"], out=x)

        row("normalize-fit", "numpy", n, measure(fit, args.repeat), n * 4 / 1e9, "GB/s")
        row("normalize-apply", "numpy", n, measure(apply, args.repeat), 2 * n * 4 / 1e9, "GB/s")


def bench_torch(torch, args):
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(1)
    for n in sizes(args.init_sizes):
        w = torch.empty(n // 4096, 4096)
        row("init-uniform", "torch", n, measure(lambda: torch.nn.init.uniform_(w), args.repeat), n / 1e9, "G samples/s")
        row("init-he-normal", "torch", n, measure(lambda: torch.nn.init.kaiming_normal_(w), args.repeat), n / 1e9,
            "G samples/s")
        row("init-trunc-normal", "torch", n, measure(lambda: torch.nn.init.trunc_normal_(w), args.repeat), n / 1e9,
            "G samples/s")
    n = args.orthogonal_size
    if n:
        w = torch.empty(n, n)
        row("init-orthogonal", "torch", n * n, measure(lambda: torch.nn.init.orthogonal_(w), args.repeat), n * n / 1e6,
            "M samples/s", f"{n} x {n}")
        q = w.double()
        error = (q.T @ q - torch.eye(n, dtype=torch.float64)).abs().max().item()
        print(f"# init-orthogonal {n} x {n}: max |Q^T Q - I| = {error:.3g} (PyTorch orthogonal_, float32)")
    bench_torch_train(torch, args, "cpu", "torch")
    if torch.cuda.is_available():
        bench_torch_cuda(torch, args)


def bench_torch_train(torch, args, device, backend):
    """The network of `oclinit bench`'s train rows, trained with SGD in PyTorch on device."""
    networks = [("train-article", 300, 2, 10, 300)] + [("train", h, 512, h, 2048) for h in sizes(args.train_widths)]
    for benchmark, size, inputs, hidden, samples in networks:
        h2 = 5 if benchmark == "train-article" else hidden
        model = torch.nn.Sequential(torch.nn.Linear(inputs, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, h2),
                                    torch.nn.ReLU(), torch.nn.Linear(h2, 1)).to(device)
        x = torch.randn(samples, inputs, device=device)
        y = (torch.arange(samples, device=device) % 2).float().unsqueeze(1)
        loss = torch.nn.BCEWithLogitsLoss()
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
        flops = 6.0 * samples * (inputs * hidden + hidden * h2 + h2)
        iterations = int(max(2, min(100, 4e9 / flops)))

        def train():
            for _ in range(iterations):
                optimizer.zero_grad()
                loss(model(x), y).backward()
                optimizer.step()
            if device != "cpu":
                torch.cuda.synchronize(device)

        t = measure(train, args.repeat)
        row(benchmark, backend, size, tuple(s / iterations for s in t), flops / 1e9, "GFLOP/s",
            f"[{inputs}, {hidden}, {h2}, 1], {samples} samples")


def bench_torch_cuda(torch, args):
    """The same init and training on PyTorch's GPU, where its torch has CUDA: what a GPU device is held against."""
    device = torch.device("cuda")
    print(f"# PyTorch on {torch.cuda.get_device_name(device)}: rows as torch-cuda")
    for n in sizes(args.init_sizes):
        w = torch.empty(n // 4096, 4096, device=device)

        def timed(init):
            def job():
                init(w)
                torch.cuda.synchronize(device)
            return measure(job, args.repeat)

        row("init-uniform", "torch-cuda", n, timed(torch.nn.init.uniform_), n / 1e9, "G samples/s")
        row("init-he-normal", "torch-cuda", n, timed(torch.nn.init.kaiming_normal_), n / 1e9, "G samples/s")
        row("init-trunc-normal", "torch-cuda", n, timed(torch.nn.init.trunc_normal_), n / 1e9, "G samples/s")
    bench_torch_train(torch, args, "cuda", "torch-cuda")


def bench_npy(args, have_torch):
    """Writing an 8192 x 8192 he-normal .npy from a fresh python3, as a user's script would."""
    path = os.path.join(args.npy_dir, f"reference-{os.getpid()}.npy")
    scripts = [("numpy", "import math, numpy as np\n"
                         "w = np.random.default_rng(1).standard_normal((8192, 8192), dtype=np.float32)\n"
                         "w *= math.sqrt(2 / 8192)\n"
                         f"np.save({path!r}, w)\n")]
    if have_torch:
        scripts.append(("torch", "import numpy as np, torch\n"
                                 "w = torch.empty(8192, 8192)\n"
                                 "torch.nn.init.kaiming_normal_(w)\n"
                                 f"np.save({path!r}, w.numpy())\n"))
    try:
        for backend, script in scripts:
            t = measure(lambda: subprocess.run([sys.executable, "-c", script], check=True), args.repeat)
            row("init-npy", backend, 8192 * 8192, t, 8192 * 8192 * 4 / 1e9, "GB/s", "8192 x 8192 he-normal .npy")
    finally:
        if os.path.exists(path):
            os.unlink(path)


MODEL_ROUTE = """
import sys, torch
from transformers import LlamaConfig, LlamaForCausalLM
try:
    from transformers.initialization import no_init_weights  # transformers >= 5
except ImportError:
    from transformers.modeling_utils import no_init_weights
config = LlamaConfig(vocab_size=32000, hidden_size=2048, intermediate_size=5632, num_hidden_layers=int(sys.argv[1]),
                     num_attention_heads=32, num_key_value_heads=4, max_position_embeddings=2048,
                     tie_word_embeddings=False, torch_dtype="bfloat16")
torch.set_default_dtype(torch.bfloat16)
with no_init_weights():  # no init in the constructors: on torch >= 2, the meta device and to_empty() do the same
    model = LlamaForCausalLM(config)
model.apply(model._init_weights)  # the family's init, as from_config() would run it
model.save_pretrained(sys.argv[2], safe_serialization=True)
"""


def bench_model(args):
    """TinyLlama's checkpoint the way a PyTorch user makes it: empty bf16 tensors, transformers' _init_weights,
    save_pretrained (safetensors), from a fresh python3; its peak RSS as a note."""
    import resource
    try:
        import transformers  # noqa: F401
        import safetensors  # noqa: F401
    except ImportError as error:
        print(f"# model: transformers and safetensors from PyPI are needed ({error}); bash .ci/install-deps puts them "
              "in .venv: OCLINIT_PYTHON=.venv/bin/python")
        return
    directory = os.path.join(args.npy_dir, f"reference-model-{os.getpid()}")
    layers = args.model_layers
    hidden, kv, inner, vocab = 2048, 256, 5632, 32000
    parameters = 2 * vocab * hidden + layers * (2 * hidden * hidden + 2 * kv * hidden + 3 * inner * hidden + 2 * hidden)
    parameters += hidden
    t = measure(lambda: subprocess.run([sys.executable, "-c", MODEL_ROUTE, str(layers), directory], check=True),
                min(args.repeat, 3), lambda: shutil.rmtree(directory))
    row("model", "torch", parameters, t, 2 * parameters / 1e9, "GB/s", f"TinyLlama-1.1B, {layers} layers, bf16")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    print(f"# model with PyTorch {__import__('torch').__version__} and transformers {transformers.__version__}: "
          f"{parameters / t[0] / 1e9:.2f} G parameters/s, peak RSS of the largest child so far {peak} MiB")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--init-sizes", default="")
    parser.add_argument("--normalize-sizes", default="")
    parser.add_argument("--train-widths", default="")
    parser.add_argument("--npy-dir", default="")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--orthogonal-size", type=int, default=0)
    parser.add_argument("--model-layers", type=int, default=0)
    args = parser.parse_args()
    try:
        import numpy as np
    except ImportError as error:
        print(f"# numpy: cannot import it ({error}); on Debian: apt-get install python3-numpy")
        return
    print(f"# {sys.executable} {sys.version.split()[0]}: numpy {np.__version__}")
    bench_numpy(np, args)
    try:
        import torch
    except ImportError as error:
        torch = None
        print(f"# PyTorch: cannot import it ({error}); on Debian: apt-get install python3-torch")
    if torch is not None:
        print(f"# PyTorch {torch.__version__}, {os.cpu_count()} threads")
        bench_torch(torch, args)
    if args.npy_dir:
        bench_npy(args, torch is not None)
    if args.npy_dir and args.model_layers and torch is not None:
        bench_model(args)


if __name__ == "__main__":
    main()
