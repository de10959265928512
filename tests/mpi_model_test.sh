#!/usr/bin/env bash
# `mpirun -np N oclinit model`: the checkpoint's files are byte for byte those of one process without mpirun, for
# N = 1..4 on the host C path and N = 2 on the default device; a rank that fails (a full disk, a device it cannot
# open, a file it cannot open) fails every rank with that rank's message and leaves nothing; ranks whose options
# differ are refused; a command that does not share its work refuses more than one rank.
#   tests/mpi_model_test.sh path/to/oclinit
cli=$1
source "$(dirname "$0")/mpi_common.sh"

# About 2 MB in f32 over shards of 500 kB: tensors cut between ranks, shards written by several, an orthogonal
# tensor (made whole by one rank), a padding row, biases and norms of a few elements.
cat > "$tmp/spec.json" << 'EOF'
{
  "seed": 1, "dtype": "f32",
  "tensors": [
    {"name": "embed.weight", "shape": [300, 256], "scheme": "normal", "std": 0.02, "zero_row": 7},
    {"name": "layers.0.attn.qkv.weight", "shape": [384, 256]},
    {"name": "layers.0.attn.qkv.bias", "shape": [384]},
    {"name": "layers.0.attn.out.weight", "shape": [256, 128], "scheme": "orthogonal"},
    {"name": "layers.0.norm.weight", "shape": [256]},
    {"name": "layers.0.mlp.up.weight", "shape": [1000, 256], "scheme": "trunc-normal", "std": 0.02},
    {"name": "layers.0.conv.weight", "shape": [64, 3, 7, 7], "scheme": "he-normal", "mode": "fan_out"},
    {"name": "layers.0.sparse.weight", "shape": [96, 200], "scheme": "sparse", "sparsity": 0.5},
    {"name": "head.bias", "shape": [3]}
  ],
  "rules": [{"match": "*norm.weight", "scheme": "ones"}, {"match": "*.bias", "scheme": "zeros"}],
  "default": {"scheme": "kaiming-uniform", "nonlinearity": "relu"}
}
EOF
spec=(model --spec "$tmp/spec.json" --max-shard-size 500kB --quiet)

same_files() { # $1 $2: the same names, every file the same bytes
  local a=$1 b=$2
  [[ -d $a && -d $b ]] || return 1
  [[ $(ls "$a") == "$(ls "$b")" ]] || return 1
  for f in "$a"/*; do cmp -s "$f" "$b/${f##*/}" || return 1; done
}

"$cli" "${spec[@]}" --device cpu --output "$tmp/plain" > /dev/null || fail "the plain run failed"
shards=$(ls "$tmp/plain" | grep -c 'of-')
((shards >= 4)) || fail "expected at least 4 shards, got $shards"

for n in 1 2 3 4; do
  out=$("${mpi[@]}" -np "$n" "$cli" "${spec[@]}" --device cpu --output "$tmp/np$n" 2>&1) || fail "-np $n: $out"
  same_files "$tmp/plain" "$tmp/np$n" || fail "-np $n --device cpu: files differ from the plain run's"
  [[ $(grep -c '^wrote' <<< "$out") == 1 ]] || fail "-np $n: expected one summary line (rank 0's), got: $out"
done
out=$("${mpi[@]}" -np 2 "$cli" "${spec[@]}" --output "$tmp/device2" 2>&1) || fail "-np 2 on the device: $out"
same_files "$tmp/plain" "$tmp/device2" || fail "-np 2 on the default device: files differ from the plain run's"
echo "checkpoints: plain == -np 1..4 (host) == -np 2 (default device), $shards shards"

# $1: what; $2: exit code expected; $3: text the message must hold; $4: the directory that must not exist; the rest:
# mpirun's arguments.
refused() {
  local what=$1 code=$2 text=$3 dir=$4 rc=0
  shift 4
  out=$("${mpi[@]}" "$@" 2>&1) || rc=$?
  [[ $rc == "$code" ]] || fail "$what: exit $rc, expected $code: $out"
  grep -qF -- "$text" <<< "$out" || fail "$what: no \"$text\" in: $out"
  [[ ! -e $dir ]] || fail "$what: left $dir: $(ls -a "$dir")"
  ! ls -a "$tmp" | grep -q 'tmp-' || fail "$what: left temporary files: $(ls -a "$tmp")"
  echo "$what: $(grep -m1 -F -- "$text" <<< "$out")"
}

# A file size limit on rank 1 alone (over TCP: Open MPI's shared-memory transport sizes its own file under it).
full="trap '' XFSZ; ulimit -f 64; exec \"\$0\" \"\$@\""
refused "a full disk on rank 1 of 3" 1 "rank 1 of 3: writing $tmp/full/model-" "$tmp/full" \
  --mca btl self,tcp -np 1 "$cli" "${spec[@]}" --device cpu --output "$tmp/full" \
  : -np 1 bash -c "$full" "$cli" "${spec[@]}" --device cpu --output "$tmp/full" \
  : -np 1 "$cli" "${spec[@]}" --device cpu --output "$tmp/full"
refused "a device rank 1 cannot open" 1 "rank 1 of 2: " "$tmp/dev" \
  -np 1 "$cli" "${spec[@]}" --device cpu --output "$tmp/dev" \
  : -np 1 "$cli" "${spec[@]}" --device nosuchdevice --output "$tmp/dev"
refused "a file rank 2 cannot open" 1 "rank 2 of 3: cannot open" "$tmp/open" \
  -np 3 -x OCLINIT_TEST_FAIL_RANK=2 "$cli" "${spec[@]}" --device cpu --output "$tmp/open"
refused "ranks with different seeds" 2 'the ranks disagree on the seed: "1" on rank 0, "2" on rank 1' "$tmp/seed" \
  -np 1 "$cli" "${spec[@]}" --device cpu --output "$tmp/seed" \
  : -np 1 "$cli" "${spec[@]}" --device cpu --output "$tmp/seed" --seed 2
refused "a command line wrong on rank 1" 2 "--max-shard-size" "$tmp/usage" \
  -np 1 "$cli" "${spec[@]}" --device cpu --output "$tmp/usage" \
  : -np 1 "$cli" "${spec[@]}" --device cpu --output "$tmp/usage" --max-shard-size 0
refused "init under -np 2" 2 "does not share its work" "$tmp/w.npy" \
  -np 2 "$cli" init --scheme normal --shape 4,4 --device cpu --output "$tmp/w.npy"

((failures == 0)) || { echo "$failures failures"; exit 1; }
echo "mpi_model: all checks passed"
