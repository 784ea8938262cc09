#!/usr/bin/env bash
# Builds the floor four ways with the product's browser build flags (the Makefile's WASM_RUSTFLAGS and
# build-std arguments, passed in by `make bench`), runs wasm-bindgen and wasm-opt on each as cargo-leptos
# does for the product, and writes their sizes, raw and brotli (quality 11), as JSON to $1.
# Usage: bench/framework-floor/build.sh <out.json> (from the repository's root, after `make build`).
set -euo pipefail
out=$1
root=$(pwd)
here=$root/bench/framework-floor
target=$root/target/framework-floor
cp "$root/Cargo.lock" "$here/Cargo.lock"
results=()
for variant in "islands counter:islands" "islands data:islands data" "hydrated counter:" "hydrated data:data"; do
  name=${variant%%:*}
  features="hydrate ${variant#*:}"
  RUSTC_BOOTSTRAP=1 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$WASM_RUSTFLAGS" \
    cargo build --quiet --manifest-path "$here/Cargo.toml" --target-dir "$target" --lib \
    --target wasm32-unknown-unknown --profile wasm-release --features "$features" \
    -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size
  dir=$target/out/${name// /-}
  mkdir -p "$dir"
  wasm-bindgen --target web --no-typescript --out-dir "$dir" \
    "$target/wasm32-unknown-unknown/wasm-release/framework_floor.wasm"
  "$root/tools/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$dir/framework_floor_bg.wasm" -o "$dir/floor.wasm"
  results+=("$name=$dir/floor.wasm")
done
node - "$out" "${results[@]}" <<'JS'
const fs = require('fs');
const zlib = require('zlib');
const [out, ...variants] = process.argv.slice(2);
const rows = variants.map((v) => {
  const [name, file] = v.split('=');
  const bytes = fs.readFileSync(file);
  const brotli = zlib.brotliCompressSync(bytes, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  }).length;
  return { name, raw: bytes.length, brotli };
});
fs.writeFileSync(out, JSON.stringify({ variants: rows }));
JS
