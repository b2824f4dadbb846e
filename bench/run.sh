#!/usr/bin/env bash
# Benchmark: apimfix against `cat` and `xmllint --noout` over ~20,000 APIM policy files.
#
#   bench/run.sh                  # from anywhere; writes bench/results.md
#
# Environment:
#   APIMFIX_CORPUS   folder of real policy files (default: ../shared/corpus beside the repo;
#                    falls back to the repo's examples/ and tests/fixtures)
#   BENCH_FILES      about how many files to generate (default 20000)
#   BENCH_RUNS       timed runs per command (default 10)
#   BENCH_WARMUP     untimed runs per command before timing (default 2)
#   BENCH_RESULTS    where to write the markdown results (default bench/results.md)
#   BENCH_KEEP=1     keep the generated tree (its path is printed) instead of deleting it
#   BENCH_TREE_ONLY=1  with BENCH_KEEP=1: only build the tree and print its path (bench/write.sh)
#   BENCH_NO_HYPERFINE=1  time with the bash loop even when hyperfine is installed
#
# The script installs nothing. It uses hyperfine when it is installed, or else a bash loop
# timed with `date +%s.%N` (reporting mean and median). The xmllint row needs libxml2-utils.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
files_target=${BENCH_FILES:-20000}
runs=${BENCH_RUNS:-10}
warmup=${BENCH_WARMUP:-2}
results=${BENCH_RESULTS:-$repo_root/bench/results.md}

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 2; }

# ---------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------
have_xmllint=0
have_hyperfine=0
if command -v xmllint > /dev/null 2>&1; then
    have_xmllint=1
else
    say "bench: xmllint not found; the xmllint row is skipped (install it: apt-get install libxml2-utils)"
fi
if [[ ${BENCH_NO_HYPERFINE:-0} != 1 ]] && command -v hyperfine > /dev/null 2>&1; then
    have_hyperfine=1
elif [[ ${BENCH_NO_HYPERFINE:-0} != 1 ]]; then
    say "bench: hyperfine not found; timing with a bash loop instead (install it: apt-get install hyperfine)"
fi
command -v cargo > /dev/null 2>&1 || die "cargo not found (install the Rust toolchain)"

# ---------------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------------
say "bench: building apimfix (release)"
(cd "$repo_root" && cargo build --release --locked --quiet --bin apimfix)
bin=${CARGO_TARGET_DIR:-$repo_root/target}/release/apimfix
[[ -x $bin ]] || die "no binary at $bin after the build"
[[ $bin = /* ]] || bin=$repo_root/$bin

# ---------------------------------------------------------------------------------------------
# Source files, split by root kind
# ---------------------------------------------------------------------------------------------
corpus=${APIMFIX_CORPUS:-$repo_root/../shared/corpus}
sources=()
if [[ -d $corpus ]] && [[ -n $(find "$corpus" -name '*.xml' -print -quit) ]]; then
    corpus=$(cd "$corpus" && pwd)
    sources=("$corpus")
    source_label="corpus \`$corpus\`"
else
    say "bench: no corpus at $corpus; using the repo's examples/ and tests/fixtures"
    for d in "$repo_root/examples" "$repo_root/tests/fixtures"; do
        [[ -d $d ]] && sources+=("$d")
    done
    source_label="the repo's examples/ and tests/fixtures (no corpus found)"
fi
((${#sources[@]} > 0)) || die "no source files (set APIMFIX_CORPUS)"

mapfile -d '' all_sources < <(find "${sources[@]}" -type f -name '*.xml' -print0 | sort -z)
policies=()
fragments=()
other=0
for f in "${all_sources[@]}"; do
    content=$(< "$f") || continue
    # The first <policies> or <fragment> start tag decides the root kind.
    if [[ $content =~ \<(policies|fragment)([[:space:]/\>]|$) ]]; then
        if [[ ${BASH_REMATCH[1]} == fragment ]]; then
            fragments+=("$f")
        else
            policies+=("$f")
        fi
    else
        other=$((other + 1))
    fi
done
((${#policies[@]} > 0)) || die "no <policies> files among the sources"
say "bench: ${#policies[@]} <policies> files, ${#fragments[@]} <fragment> files ($other others left out)"

# ---------------------------------------------------------------------------------------------
# The tree: many APIOps repos
# ---------------------------------------------------------------------------------------------
# One repo: policy.xml (global), apis/<a>/policy.xml, apis/<a>/operations/<o>/policy.xml,
# products/<p>/policy.xml, policy fragments/<f>/policy.xml.
n_apis=6
n_ops=5
n_products=3
n_fragments=3
((${#fragments[@]} > 0)) || n_fragments=0
policy_slots=$((1 + n_apis + n_apis * n_ops + n_products))
per_repo=$((policy_slots + n_fragments))
n_repos=$(((files_target + per_repo - 1) / per_repo))

work=$(mktemp -d "${TMPDIR:-/tmp}/apimfix-bench.XXXXXX")
if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    say "bench: keeping the tree in $work"
else
    trap 'rm -rf "$work"' EXIT
fi
tree=$work/tree
templates=$work/templates
mkdir -p "$tree" "$templates"

# Templates use every source file at least once (when there are enough repos), then repos
# are copies of the templates, round robin: a few hundred `cp -r` instead of 20,000 `cp`.
n_templates=$(((${#policies[@]} + policy_slots - 1) / policy_slots))
if ((${#fragments[@]} > 0)); then
    t=$(((${#fragments[@]} + n_fragments - 1) / n_fragments))
    ((t > n_templates)) && n_templates=$t
fi
((n_templates > n_repos)) && n_templates=$n_repos

p=0
g=0
next_policy() { cp "${policies[p % ${#policies[@]}]}" "$1"; p=$((p + 1)); }
next_fragment() { cp "${fragments[g % ${#fragments[@]}]}" "$1"; g=$((g + 1)); }
for ((t = 0; t < n_templates; t++)); do
    r=$templates/t$t
    mkdir -p "$r"
    next_policy "$r/policy.xml"
    for ((a = 1; a <= n_apis; a++)); do
        mkdir -p "$r/apis/api-$a"
        next_policy "$r/apis/api-$a/policy.xml"
        for ((o = 1; o <= n_ops; o++)); do
            mkdir -p "$r/apis/api-$a/operations/op-$o"
            next_policy "$r/apis/api-$a/operations/op-$o/policy.xml"
        done
    done
    for ((q = 1; q <= n_products; q++)); do
        mkdir -p "$r/products/product-$q"
        next_policy "$r/products/product-$q/policy.xml"
    done
    for ((q = 1; q <= n_fragments; q++)); do
        mkdir -p "$r/policy fragments/fragment-$q"
        next_fragment "$r/policy fragments/fragment-$q/policy.xml"
    done
done
for ((i = 0; i < n_repos; i++)); do
    cp -r "$templates/t$((i % n_templates))" "$tree/repo-$i"
done
rm -rf "$templates"

n_files=$(find "$tree" -name '*.xml' | wc -l)
n_bytes=$(find "$tree" -name '*.xml' -print0 | xargs -0 cat | wc -c)
say "bench: $n_files files ($((n_bytes / 1024 / 1024)) MiB) in $n_repos repos under $tree"

# BENCH_TREE_ONLY=1 (with BENCH_KEEP=1): print the tree's path and stop, for bench/write.sh.
if [[ ${BENCH_TREE_ONLY:-0} == 1 ]]; then
    printf '%s\n' "$tree"
    exit 0
fi

# Warm the page cache (twice: the second pass should be all hits).
for _ in 1 2; do
    find "$tree" -name '*.xml' -print0 | xargs -0 cat > /dev/null
done

# ---------------------------------------------------------------------------------------------
# Commands (all over the same tree)
# ---------------------------------------------------------------------------------------------
names=()
cmds=()
add() { names+=("$1"); cmds+=("$2"); }
shq() { printf '%q' "$1"; }
add "cat" "find $(shq "$tree") -name '*.xml' -print0 | xargs -0 cat > /dev/null"
if ((have_xmllint)); then
    # Many real policies are rawxml that xmllint rejects: its errors are expected.
    add "xmllint --noout" "find $(shq "$tree") -name '*.xml' -print0 | xargs -0 xmllint --noout > /dev/null 2>&1 || true"
fi
add "apimfix check" "$(shq "$bin") check --exit-zero -q $(shq "$tree") > /dev/null"
add "apimfix fix" "$(shq "$bin") fix -q $(shq "$tree") > /dev/null || true"
add "apimfix fmt --check" "$(shq "$bin") fmt --check $(shq "$tree") > /dev/null || true"

# Sanity: apimfix must read every file (not skip them), or the comparison is unfair.
read_count=$("$bin" check --exit-zero -v "$tree" 2>&1 > /dev/null | grep -c ': scope ' || true)
say "bench: apimfix check reads $read_count of $n_files files"

# stats: name mean median min max  (seconds), one line per command, in $work/stats
stats=$work/stats
: > "$stats"
if ((have_hyperfine)); then
    method="hyperfine $(hyperfine --version | awk '{print $2}'), $warmup warm-up + $runs timed runs per command"
    args=(--shell=bash --ignore-failure --warmup "$warmup" --runs "$runs" --export-csv "$work/hf.csv")
    for i in "${!names[@]}"; do
        args+=(-n "${names[$i]}" "${cmds[$i]}")
    done
    hyperfine "${args[@]}" >&2
    # command,mean,stddev,median,user,system,min,max
    tail -n +2 "$work/hf.csv" | awk -F, '{ printf "%s\t%s\t%s\t%s\t%s\n", $1, $2, $4, $7, $8 }' > "$stats"
else
    method="bash loop timed with date +%s.%N, $warmup warm-up + $runs timed runs per command"
    for i in "${!names[@]}"; do
        for ((w = 0; w < warmup; w++)); do bash -c "${cmds[$i]}" > /dev/null 2>&1 || true; done
        times=()
        for ((k = 0; k < runs; k++)); do
            t0=$(date +%s.%N)
            bash -c "${cmds[$i]}" > /dev/null 2>&1 || true
            t1=$(date +%s.%N)
            times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')")
        done
        printf '%s\n' "${times[@]}" | sort -g | awk -v name="${names[$i]}" '
            { t[NR] = $1; sum += $1 }
            END {
                median = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
                printf "%s\t%.6f\t%.6f\t%.6f\t%.6f\n", name, sum / NR, median, t[1], t[NR]
            }' >> "$stats"
        say "bench: ${names[$i]}: $(cut -f2 < <(tail -n1 "$stats"))s mean"
    done
fi

# Peak memory (maximum resident set size) of each apimfix command, one run each, with GNU
# time when it is installed.
memory_table=""
if [[ -x /usr/bin/time ]] && /usr/bin/time -f '%M' true > /dev/null 2>&1; then
    memory_table="| command | peak memory [MB] |"$'\n'"| --- | ---: |"
    for i in "${!names[@]}"; do
        [[ ${names[$i]} == apimfix* ]] || continue
        /usr/bin/time -o "$work/mem" -f '%M' bash -c "${cmds[$i]}" > /dev/null 2>&1 || true
        kb=$(tail -n1 "$work/mem")
        memory_table+=$'\n'"| \`${names[$i]}\` | $((kb / 1024)) |"
    done
else
    say "bench: GNU time not found; peak memory is not measured (apt-get install time)"
fi

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2> /dev/null || true)
load=$(cut -d' ' -f1-3 /proc/loadavg 2> /dev/null || echo unknown)
commit=$(git -C "$repo_root" rev-parse --short HEAD 2> /dev/null || echo unknown)
table=$(awk -F'\t' '
    NR == 1 { base = $2 }
    { rows[NR] = $0; mean[NR] = $2; name[NR] = $1 }
    { if ($1 == "apimfix check") check = $2; if ($1 == "xmllint --noout") xml = $2 }
    END {
        print "| command | mean [s] | median [s] | min [s] | max [s] | mean / cat |"
        print "| --- | ---: | ---: | ---: | ---: | ---: |"
        for (i = 1; i <= NR; i++) {
            split(rows[i], f, "\t")
            printf "| `%s` | %.3f | %.3f | %.3f | %.3f | %.2fx |\n", f[1], f[2], f[3], f[4], f[5], f[2] / base
        }
        print ""
        r = check / base
        printf "- apimfix check / cat: **%.2fx** (target: at most 1.5x): %s\n", r, (r <= 1.5 ? "met" : "NOT met")
        if (xml != "") {
            s = xml / check
            printf "- xmllint --noout / apimfix check: **%.2fx** (target: at least 2x): %s\n", s, (s >= 2 ? "met" : "NOT met")
        } else {
            print "- xmllint --noout: not measured (apt-get install libxml2-utils)"
        }
    }' "$stats")

{
    echo "# apimfix benchmark results"
    echo
    echo "Generated by \`bench/run.sh\`; see [docs/benchmark.md](../docs/benchmark.md)."
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) cores ($cpu), $(uname -sr); load average after the runs: $load"
    echo "- apimfix: $("$bin" --version | awk '{print $2}') (commit $commit), release build"
    echo "- files: $n_files policy files, $n_bytes bytes, in $n_repos APIOps repos, copied from $source_label"
    echo "- apimfix check reads $read_count of them"
    echo "- timing: $method; the page cache is warm"
    echo
    echo "$table"
    echo
    if [[ -n $memory_table ]]; then
        echo "Peak memory, one run each (\`/usr/bin/time -f %M\`):"
        echo
        echo "$memory_table"
        echo
    fi
    echo "Commands (\`\$TREE\` is the generated tree):"
    echo
    echo '```sh'
    for i in "${!names[@]}"; do
        printf '%s\n' "${cmds[$i]}" | sed -e "s|$(printf '%q' "$tree")|\$TREE|g" -e "s|$(printf '%q' "$bin")|apimfix|g"
    done
    echo '```'
} > "$results.tmp"
mv "$results.tmp" "$results"
cat "$results"
