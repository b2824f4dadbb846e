#!/usr/bin/env bash
# Benchmark: the same policies checked as `*.xml` files and as heredocs in Terraform files.
#
#   bench/terraform.sh            # prints a markdown table
#
# Environment: BENCH_POLICIES (default 5000), BENCH_RUNS (default 5). Installs nothing; uses
# the policies of examples/ as templates, so it runs on a clean clone.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
policies=${BENCH_POLICIES:-5000}
runs=${BENCH_RUNS:-5}

(cd "$repo_root" && cargo build --release --locked --quiet --bin apimfix)
bin=${CARGO_TARGET_DIR:-$repo_root/target}/release/apimfix
[[ $bin = /* ]] || bin=$repo_root/$bin

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mapfile -t templates < <(find "$repo_root/examples" -path '*/terraform' -prune -o -name policy.xml -print | sort)

# APIOps: apis/api-N/policy.xml. Terraform: 50 API policies per main.tf, one module per folder.
per_module=50
for ((i = 0; i < policies; i++)); do
    template=${templates[i % ${#templates[@]}]}
    mkdir -p "$tree/xml/apis/api-$i"
    cp "$template" "$tree/xml/apis/api-$i/policy.xml"
    module=$((i / per_module))
    tf="$tree/tf/m$module/main.tf"
    mkdir -p "$tree/tf/m$module"
    {
        printf 'resource "azurerm_api_management_api_policy" "p%d" {\n' "$i"
        printf '  api_name            = "api-%d"\n' "$i"
        printf '  api_management_name = "apim"\n'
        printf '  xml_content         = <<-XML\n'
        sed 's/^/    /' "$template"
        printf '  XML\n}\n\n'
    } >> "$tf"
done

time_it() {
    local start end best=""
    for ((r = 0; r < runs; r++)); do
        start=$(date +%s.%N)
        "$bin" check --exit-zero --quiet "$1" > /dev/null 2>&1 || true
        end=$(date +%s.%N)
        t=$(echo "$end - $start" | bc)
        if [[ -z $best ]] || (($(echo "$t < $best" | bc))); then best=$t; fi
    done
    echo "$best"
}

xml=$(time_it "$tree/xml")
tf=$(time_it "$tree/tf")
echo "| tree | policies | best of $runs (s) |"
echo "| --- | ---: | ---: |"
echo "| \`*.xml\` files (APIOps) | $policies | $xml |"
echo "| heredocs in \`*.tf\` ($per_module per file) | $policies | $tf |"
echo "ratio tf/xml: $(echo "scale=2; $tf / $xml" | bc)"
