#!/usr/bin/env bash
# Tags a release: `npm run release -- 1.2.3` creates the annotated tag v1.2.3 on HEAD and moves
# the major tag (v1) to it, so `uses: …@v1` picks the release up. Refuses unless the work tree is
# clean, dist/ equals a fresh build, package.json and src/version.ts carry the same version, and
# CHANGELOG.md has a dated section for it (`## [1.2.3] - YYYY-MM-DD`).
# Push with: git push origin v1.2.3 && git push --force origin v1
set -euo pipefail
cd "$(dirname "$0")/.."

version="${1:-}"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "usage: npm run release -- X.Y.Z" >&2
  exit 2
fi
major="v${version%%.*}"
tag="v$version"

[ -z "$(git status --porcelain)" ] || { echo "work tree not clean" >&2; exit 1; }
pkg=$(node -p "require('./package.json').version")
[ "$pkg" = "$version" ] || { echo "package.json says $pkg, not $version" >&2; exit 1; }
grep -Eq "^## \[${version//./\\.}\] - [0-9]{4}-[0-9]{2}-[0-9]{2}$" CHANGELOG.md ||
  { echo "CHANGELOG.md has no dated section '## [$version] - YYYY-MM-DD'" >&2; exit 1; }
grep -q "ACTION_VERSION = '$version'" src/version.ts || { echo "src/version.ts does not say $version" >&2; exit 1; }
npm run build >/dev/null
git diff --quiet -- dist/ || { echo "dist/ differs from a fresh build: commit it first" >&2; exit 1; }
git rev-parse -q --verify "refs/tags/$tag" >/dev/null && { echo "$tag exists already" >&2; exit 1; }

git tag -a "$tag" -m "neon-preview-branch $tag"
git tag -f -a "$major" -m "neon-preview-branch $major (now $tag)" "$tag^{}"
echo "Tagged $tag and moved $major to it. Push: git push origin $tag && git push --force origin $major"
