#!/usr/bin/env bash
# The output policy through the CLI: outputs are regular files or new names (special files, links and
# directories are refused, exit 2, untouched), never the same file as an input or another output, "-" is
# standard output only where a command streams, permissions of a replaced file are kept, several outputs
# appear all or none, signals leave no temporary file, and stale temporaries of dead processes are removed; the
# progress bar on a terminal leaves nothing of a longer line before it.
# Usage: test_output_policy.sh path/to/oclinit
set -euo pipefail

cli=$(realpath "$1")
work=$(mktemp -d)
trap 'umount "$work/small" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
passed=0
failed=0

pass() { passed=$((passed + 1)); }
fail() {
    echo "FAIL: $*" >&2
    failed=$((failed + 1))
}

# Every entry of the directory: name, type, mode, links, inode, and the content's checksum (regular files).
snapshot() {
    find . -mindepth 1 | LC_ALL=C sort | while read -r f; do
        printf '%s %s' "$f" "$(stat -c '%a %h %i %F' "$f")"
        if [[ -L $f ]]; then printf ' -> %s' "$(readlink "$f")"; fi
        if [[ -f $f && ! -L $f ]]; then printf ' %s' "$(sha256sum <"$f" | cut -d' ' -f1)"; fi
        echo
    done
}

# refused NAME TEXT command...: exit 2 (or $code_expected), TEXT (the path) in the message on stderr, and nothing
# changed.
refused() {
    local name=$1 text=$2
    shift 2
    local before after code=0
    before=$(snapshot)
    timeout 120 "$@" >stdout.log 2>stderr.log </dev/null || code=$?
    local err
    err=$(cat stderr.log)
    rm -f stdout.log stderr.log
    after=$(snapshot)
    if [[ $code -ne ${code_expected:-2} ]]; then
        fail "$name: exit $code, expected ${code_expected:-2} ($err)"
    elif [[ $err != *"$text"* ]]; then
        fail "$name: the message does not name \"$text\": $err"
    elif [[ $before != "$after" ]]; then
        fail "$name: the directory changed:"$'\n'"$(diff <(echo "$before") <(echo "$after") || true)"
    else
        pass
    fi
}

# check NAME CONDITION...: one assertion.
check() {
    local name=$1
    shift
    if "$@"; then pass; else fail "$name"; fi
}

no_temporaries() { ! compgen -G '*.tmp-*' >/dev/null; }

init=("$cli" init --scheme uniform --fan-in 4 --fan-out 4 --device cpu --quiet)
normalize=("$cli" normalize --method zscore --device cpu --quiet)

# A small labelled table, and one larger than a pipe's buffer.
{
    echo "a,b,y"
    for i in $(seq 1 40); do echo "$i,$((i * i % 17)),$((i % 2))"; done
} >in.csv
{
    echo "a,b,y"
    for i in $(seq 1 6000); do echo "$i,$((i * 7 % 31)),$((i % 2))"; done
} >big.csv

# ---- 1. Only regular files (or new names) are outputs ----
mkfifo fifo.npy
refused "FIFO as output" fifo.npy "${init[@]}" --output fifo.npy
rm fifo.npy
echo "target" >target.npy
ln -s target.npy link.npy
refused "symbolic link to a regular file as output" link.npy "${init[@]}" --output link.npy
ln -s missing.npy dangling.npy
refused "dangling symbolic link as output" dangling.npy "${init[@]}" --output dangling.npy
rm link.npy dangling.npy
ln target.npy hard.npy
refused "hard-linked file as output" hard.npy "${init[@]}" --output hard.npy
rm hard.npy target.npy
mkdir dir.npy
refused "directory as output" dir.npy "${init[@]}" --output dir.npy
refused "directory as --save" dir.npy "$cli" train --data circles --iterations 5 --device cpu --quiet --save dir.npy
rmdir dir.npy
if mknod device.npy c 1 3 2>/dev/null; then # a device node of our own, never /dev/null itself
    refused "character device as output" device.npy "${init[@]}" --output device.npy
    rm device.npy
fi
# A missing directory is an error as a missing input is (exit 1), found before any work all the same (the
# iterations would outlast the timeout).
code_expected=1 refused "missing directory" "nowhere/w.npy" \
    "$cli" train --data circles --iterations 100000000 --device cpu --save nowhere/w.npy
# A directory that takes no new files (outputs are written as temporaries beside them) is found before any work too,
# naming the option and the path. Root may write anywhere: it tries as nobody, where it can.
mkdir ro
chmod 555 ro
as_user=()
if [[ $(id -u) -eq 0 ]]; then
    chmod 755 "$work"
    as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$work")
fi
if [[ $(id -u) -ne 0 ]] || "${as_user[@]}" "$cli" --help >/dev/null 2>&1; then
    code_expected=1 refused "train --save into a read-only directory" "--save: cannot create ro/m.bin: ro: Permission denied" \
        "${as_user[@]}" "$cli" train --data circles --iterations 100000000 --device cpu --save ro/m.bin
    code_expected=1 refused "experiment --plot into a read-only directory" "--plot: cannot create ro/c.svg" \
        "${as_user[@]}" "$cli" experiment --iterations 100000000 --device cpu --quiet --plot ro/c.svg
else
    echo "note: nobody cannot run $cli here; the read-only directory checks did not run" >&2
fi
chmod 755 ro
rmdir ro

# ---- 2. "-" is standard output where a command streams, refused elsewhere ----
"${normalize[@]}" --input in.csv --output expected.csv
"$cli" normalize --method zscore --device cpu --input in.csv --output - >streamed.csv 2>summary.log
check "normalize --output - writes the table to standard output" cmp -s expected.csv streamed.csv
check "normalize --output - puts the summary on standard error" grep -q "normalized in.csv -> standard output" summary.log
rm expected.csv streamed.csv summary.log
"$cli" train --data circles --iterations 5 --device cpu --quiet --save model.bin >/dev/null
check "predict --output - writes the CSV to standard output" test "$("$cli" predict --model model.bin --data circles \
    --device cpu --output - 2>/dev/null | head -n 1)" = "probability,class"
refused "init --output -" "--output -" "${init[@]}" --output -
refused "normalize --save-stats -" "--save-stats -" "${normalize[@]}" --input in.csv --output out.csv --save-stats -
refused "train --save -" "--save -" "$cli" train --data circles --iterations 5 --device cpu --quiet --save -

# ---- 3. No output is an input or another output ----
refused "--output equal to --save-stats (new)" out.csv "${normalize[@]}" --input in.csv --output out.csv --save-stats out.csv
cp in.csv copy.csv
refused "--output equal to --save-stats (existing)" copy.csv \
    "${normalize[@]}" --input in.csv --output copy.csv --save-stats ./copy.csv
rm copy.csv
refused "--save-stats equal to --input" in.csv "${normalize[@]}" --input in.csv --output out.csv --save-stats in.csv
refused "--output equal to --input" in.csv "${normalize[@]}" --input in.csv --output in.csv
refused "--output ./input" ./in.csv "${normalize[@]}" --input in.csv --output ./in.csv
mkdir sub
refused "--output sub/../input" sub/../in.csv "${normalize[@]}" --input in.csv --output sub/../in.csv
refused "--output and --save-stats as sub/../x and x" stats.txt \
    "${normalize[@]}" --input in.csv --output stats.txt --save-stats sub/../stats.txt
rmdir sub
ln -s in.csv alias.csv
refused "input through a symbolic link" alias.csv "${normalize[@]}" --input alias.csv --output in.csv
rm alias.csv
ln in.csv twin.csv
refused "output a hard link of the input" twin.csv "${normalize[@]}" --input in.csv --output twin.csv
rm twin.csv
refused "--stats equal to --output" model.bin "$cli" normalize --stats model.bin --input in.csv --output model.bin
refused "train --save equal to --data" in.csv \
    "$cli" train --data in.csv --label y --iterations 5 --device cpu --quiet --save in.csv
refused "train --save equal to --test" in.csv \
    "$cli" train --data big.csv --test ./in.csv --label y --iterations 5 --device cpu --quiet --save in.csv
refused "predict --output equal to --model" model.bin \
    "$cli" predict --model model.bin --data circles --device cpu --output model.bin
refused "predict --output - onto its --data" in.csv \
    bash -c '"$0" predict --model model.bin --data in.csv --label y --device cpu --output - >>in.csv' "$cli"
refused "experiment --results equal to --plot" x "$cli" experiment --iterations 1 --quiet --results x --plot x
mkdir -p plots
refused "bench --csv equal to one of its plots" plots/gemm.svg "$cli" bench --quick --only gemm --plot plots --csv plots/gemm.svg
ln -s ../data.csv plots/train.svg
refused "bench --plot holding a symbolic link where a plot goes" plots/train.svg "$cli" bench --quick --only gemm --plot plots
rm -rf plots

# ---- 4. A replaced file keeps its permissions (and owner, when root replaces it) ----
"${init[@]}" --output w.npy >/dev/null
chmod 600 w.npy
inode=$(stat -c %i w.npy)
"${init[@]}" --output w.npy --seed 9 >/dev/null
check "init keeps mode 600" test "$(stat -c %a w.npy)" = 600
check "init replaced the file" test "$(stat -c %i w.npy)" != "$inode"
echo old >stats.txt
chmod 640 stats.txt
"${normalize[@]}" --input in.csv --output out.csv --save-stats stats.txt
check "normalize keeps mode 640 of --save-stats" test "$(stat -c %a stats.txt)" = 640
check "normalize replaced --save-stats" grep -q "oclinit" stats.txt
if [[ $(id -u) -eq 0 ]]; then
    chown 65534:65534 w.npy
    "${init[@]}" --output w.npy --seed 10 >/dev/null
    check "root keeps the owner and group" test "$(stat -c %u:%g w.npy)" = 65534:65534
fi
rm -f w.npy stats.txt out.csv
(
    umask 027
    "${init[@]}" --output new.npy >/dev/null
)
check "a new file gets 0666 less the umask" test "$(stat -c %a new.npy)" = 640
rm new.npy

# ---- 5. Several outputs: all checked first, all or none published ----
mkdir stats.dir
refused "directory as --save-stats leaves no data file" stats.dir \
    "${normalize[@]}" --input in.csv --output out.csv --save-stats stats.dir
rmdir stats.dir
mkdir plot.svg
refused "directory as --plot, before any training" plot.svg \
    "$cli" experiment --iterations 100000000 --quiet --results results.csv --plot plot.svg
rmdir plot.svg
# The data file cannot be written (a file size limit): the statistics, written first, are not published.
code=0
(
    trap '' XFSZ
    ulimit -f 1
    "${normalize[@]}" --input big.csv --output out.csv --save-stats stats.txt
) 2>stderr.log || code=$?
check "a failed data file fails the command" test "$code" -eq 1
check "the failure names the data file" grep -q "out.csv" stderr.log
check "neither output appears" test ! -e out.csv -a ! -e stats.txt
check "no temporary file stays after the failure" no_temporaries
rm stderr.log

# ---- 6. Signals remove the temporary files ----
set -m # background jobs get the default SIGINT (a shell without job control ignores it for them)
wait_for_temporary() {
    for _ in $(seq 1 600); do
        compgen -G "$1" >/dev/null && return 0
        sleep 0.05
    done
    return 1
}
for signal in TERM INT HUP; do
    "$cli" init --scheme uniform --fan-in 20000 --fan-out 20000 --device cpu --quiet --chunk-mib 8 \
        --output large.npy >/dev/null 2>&1 &
    pid=$!
    check "init created its temporary file before SIG$signal" wait_for_temporary 'large.npy.tmp-*'
    kill -s "$signal" "$pid"
    code=0
    wait "$pid" 2>/dev/null || code=$?
    check "init ends after SIG$signal (exit $code)" test "$code" -ne 0
    check "SIG$signal during init leaves no temporary file" no_temporaries
    check "SIG$signal during init leaves no output" test ! -e large.npy
done
# normalize does not poll for SIGINT: the handler removes the finished statistics' temporary file while the
# data waits on a full pipe.
mkfifo pipe
"${normalize[@]}" --input big.csv --output - --save-stats stats.txt >pipe 2>/dev/null &
pid=$!
exec 3<pipe
check "normalize holds its statistics in a temporary file" wait_for_temporary 'stats.txt.tmp-*'
kill -s INT "$pid"
code=0
wait "$pid" 2>/dev/null || code=$?
exec 3<&-
check "normalize dies of SIGINT (exit $code)" test "$code" -eq 130
check "SIGINT during normalize leaves no temporary file" no_temporaries
check "SIGINT during normalize publishes no statistics" test ! -e stats.txt
rm pipe
set +m

# ---- 7. Stale temporary files of processes that no longer exist are removed ----
# Only the output's own (w.npy.tmp-PID-N), only a dead PID's, and never one whose writer holds its lock (a PID
# from another namespace or host looks dead from here).
sleep 300 &
live=$!
dead=999999
while kill -0 "$dead" 2>/dev/null; do dead=$((dead + 1)); done
touch "w.npy.tmp-$dead-0" "w.npy.tmp-$live-0" "x.npy.tmp-$dead-0" "w.npy.tmp-$dead-0x" "notes.tmp-$dead"
mkdir "w.npy.tmp-$dead-2"
(exec 9>"w.npy.tmp-$dead-1" && flock -x 9 && exec sleep 300) >/dev/null 2>&1 &
locker=$!
locked() { for _ in $(seq 1 200); do flock -n "$1" true || return 0; sleep 0.05; done; return 1; }
check "a writer elsewhere holds its temporary file's lock" locked "w.npy.tmp-$dead-1"
"${init[@]}" --output w.npy >/dev/null
check "a dead process's temporary file of the same output is removed" test ! -e "w.npy.tmp-$dead-0"
check "a live process's temporary file stays" test -e "w.npy.tmp-$live-0"
check "a locked temporary file stays" test -e "w.npy.tmp-$dead-1"
check "another output's and other names stay" test -e "x.npy.tmp-$dead-0" -a -e "w.npy.tmp-$dead-0x" -a -e "notes.tmp-$dead"
check "a directory of that name stays" test -d "w.npy.tmp-$dead-2"
kill "$locker"
wait "$locker" 2>/dev/null || true
kill "$live"
wait "$live" 2>/dev/null || true

# ---- 8. Sizes in messages fit their magnitude (a small file system, where this may mount one) ----
mkdir small
if mount -t tmpfs -o size=64k tmpfs small 2>/dev/null; then
    code=0
    "$cli" init --scheme uniform --fan-in 1000 --fan-out 100 --device cpu --quiet --output small/w.npy \
        2>stderr.log || code=$?
    umount small
    check "init into a full file system fails (exit $code)" test "$code" -eq 1
    check "the space message is in KiB: $(cat stderr.log)" grep -q "needs 390.[78] KiB but only 64.0 KiB are free" \
        stderr.log
    rm stderr.log
fi

# ---- 9. The progress bar, on a terminal, erases what a longer line before it left ----
if command -v script >/dev/null; then
    script -qec "$(printf '%q ' "$cli" init --scheme uniform --fan-in 64 --fan-out 64 --device cpu --output bar.npy)" \
        /dev/null </dev/null >terminal.log 2>&1 || true
    redraws=$(grep -o $'\rinit \\[' terminal.log | wc -l)
    erased=$(grep -o $'left\e\\[K' terminal.log | wc -l)
    check "each of the $redraws redraws of the bar erases to the end of the line ($erased)" \
        test "$redraws" -ge 1 -a "$erased" -eq "$redraws"
    rm -f terminal.log bar.npy
    # The last report comes before the last step; the bar's final draw shows what the summary prints (lr 1: the
    # last step changes the cost in the 4 digits shown).
    script -qec "$(printf '%q ' "$cli" train --data circles --iterations 10 --lr 1 --device cpu --save bar.model)" \
        /dev/null </dev/null >terminal.log 2>&1 || true
    bar=$(grep -ao 'cost [^ ]*  accuracy [^ ]*' terminal.log | tail -n 1)
    summary=$(grep -ao -- '-> [^,]*, train accuracy [^,]*' terminal.log | sed 's/-> \(.*\), train accuracy /cost \1  accuracy /')
    check "train's bar ends on the summary's values: \"$bar\" vs \"$summary\"" test -n "$bar" -a "$bar" = "$summary"
    rm -f terminal.log bar.model
else
    echo "note: no script(1) here; the progress bar checks did not run" >&2
fi

# ---- 10. The output's format follows its name; a .npy input must be one ----
printf 'a,b,y\n1,2,0\n3,5,1\n4,4,1\n' >labelled.csv
"$cli" normalize --method zscore --label y --input labelled.csv --output z.npy --device cpu --quiet
check "CSV to z.npy writes a (3, 3) float32 .npy" \
    grep -aq $'^\x93NUMPY.*\'descr\': \'<f4\', \'fortran_order\': False, \'shape\': (3, 3)' z.npy
"$cli" normalize --method minmax --label 3 --input z.npy --output back.csv --device cpu --quiet
check "z.npy to back.csv writes CSV, the label column as numbers: $(head -c 200 back.csv)" \
    test "$(cut -d, -f3 back.csv | tr '\n' ' ')" = "0 1 1 "
check "back.csv has the rows of z.npy (minmax: column a from 0 to 1)" \
    test "$(awk -F, 'NF == 3 { print $1 }' back.csv | sed -n '1p;3p' | tr '\n' ' ')" = "0 1 "
rm -f z.npy back.csv
printf 'a,y\n1,no\n2,yes\n' >text.csv
# Refused as a usage error before any work, so before the device is even sought.
refused "a text label into .npy" 'z.npy: the label column 2 ("y") holds "no" (line 2 of the input), which is not a' \
    "$cli" normalize --method zscore --label y --input text.csv --output z.npy --device no-such-device
printf 'hello\n1\n2\n3\n' >fake.npy
code_expected=1 refused "CSV named .npy" "fake.npy is not a .npy file" \
    "$cli" normalize --method minmax --input fake.npy --output out.csv --device cpu
rm -f labelled.csv text.csv fake.npy

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
