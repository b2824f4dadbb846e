#!/bin/sh
# apimfix bulk migration: the command a multi-gitter run executes in each clone.
#
#   multi-gitter run ./scripts/bulk-fix.sh -O my-org -m "Repair CORS in APIM policies" -B apimfix-fixes
#   turbolift foreach -- sh "$PWD/scripts/bulk-fix.sh"      # or a Sourcegraph batch-change step
#
# multi-gitter (like turbolift and batch changes) commits and opens a pull request when the
# command exits 0 and the working tree changed. This script therefore exits:
#
#   0  the safe fixes are in the working tree (or there was nothing to fix); findings that no
#      fix repairs may remain: they are listed in the summary, not a reason to hold the fixes;
#   2  the repo is skipped and left untouched: a policy file does not parse, a config is broken,
#      or a file could not be written. The summary names the file that blocked it;
#   3  the working tree was not clean before the run: skipped, to never mix in other changes.
#
# Why a blocker skips the whole repo rather than committing the good files' fixes: the
# cross-scope rules (cors-origins, base-first, cors-shadowed) read every policy of the repo
# to decide a fix. A file that does not parse is missing from that picture, so a fix in
# another file can be wrong (a second global <cors> when the broken file already had one).
# The platform team repairs the blocker by hand and runs the migration again; the second run
# commits the fixes.
#
# Environment:
#   APIMFIX               the binary (default: apimfix on PATH)
#   APIMFIX_ARGS          extra flags for `apimfix fix`, e.g. "--format" (formats only the files
#                         it fixes) or "--unsafe-fixes" (read `apimfix rule cors-first` first)
#   APIMFIX_SUMMARY_DIR   also write the summary to DIR/<repo>.md (paste it into the tracking
#                         issue: `cat DIR/*.md`)
#   REPOSITORY            the repo's name, as multi-gitter sets it (default: the folder name)
#
# The summary (Markdown: fixes and remaining findings per rule, the files with errors) is
# printed on stdout, which multi-gitter keeps in its log.
set -u

APIMFIX=${APIMFIX:-apimfix}
name=${REPOSITORY:-$(basename "$PWD")}
summary=$(mktemp "${TMPDIR:-/tmp}/apimfix-summary.XXXXXX")
trap 'rm -f "$summary"' EXIT

report() {
    # $1: one line on what happened to the repo.
    {
        printf '## %s\n\n%s\n\n' "$name" "$1"
        cat "$summary"
    } > "$summary.full"
    cat "$summary.full"
    if [ -n "${APIMFIX_SUMMARY_DIR:-}" ]; then
        mkdir -p "$APIMFIX_SUMMARY_DIR"
        cp "$summary.full" "$APIMFIX_SUMMARY_DIR/$(printf '%s' "$name" | tr '/' '_').md"
    fi
    rm -f "$summary.full"
}

if [ -n "$(git status --porcelain)" ]; then
    echo "bulk-fix: $name: the working tree is not clean; skipped" >&2
    exit 3
fi

# 1. A dry run: nothing is written. Exit 2 means a blocker (a file that does not parse, a
#    broken config): skip the repo, untouched.
# shellcheck disable=SC2086 # APIMFIX_ARGS is a list of flags
"$APIMFIX" fix --quiet --summary "$summary" ${APIMFIX_ARGS:-} . > /dev/null
status=$?
if [ "$status" -ge 2 ]; then
    report "**Skipped**: apimfix cannot process every file (exit $status); nothing was changed. Repair the files below and run again."
    exit 2
fi

# 2. The fixes, in place. Exit 1 only means that findings without a fix remain.
# shellcheck disable=SC2086
"$APIMFIX" fix --write --quiet --summary "$summary" ${APIMFIX_ARGS:-} . > /dev/null
status=$?
if [ "$status" -ge 2 ]; then
    # A file could not be written (read-only, changed meanwhile): put back what was written.
    git checkout -q -- .
    report "**Skipped**: a file could not be written (exit $status); the changes were undone."
    exit 2
fi

if [ -n "$(git status --porcelain)" ]; then
    report "**Fixed**: the changes are in this pull request."
else
    report "**Nothing to fix.**"
fi
exit 0
