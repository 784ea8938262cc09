// Sizes of the report page's WASM as the browser downloads it: the main file and the lazy chunks,
// raw and brotli-compressed at quality 11 (what ServeDir's precompressed .br files are). Prints JSON
// for `make bench` (loadgen report). Usage: node tools/wasm-size.js target/site/pkg
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const dir = process.argv[2] || 'target/site/pkg';
const brotli = (bytes) =>
  zlib.brotliCompressSync(bytes, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  }).length;

// The build's file of a kind: `pmr.wasm`, or `pmr.<content hash>.wasm` when the build hashes names
// (the newest, should an older build's be left beside it).
const newest = (pattern) =>
  fs
    .readdirSync(dir)
    .filter((f) => pattern.test(f))
    .map((f) => path.join(dir, f))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
const main = newest(/^pmr(\.[A-Za-z0-9_-]{22})?\.wasm$/);
if (!main) {
  console.error(`no pmr.wasm in ${dir}: run \`make build\` first`);
  process.exit(1);
}
const mainBytes = fs.readFileSync(main);
// The chunks of this build: those the split manifest names (cargo-leptos leaves older builds' chunks
// in the folder).
const manifestFile = newest(/^__wasm_split_manifest(\.[A-Za-z0-9_-]{22})?\.json$/);
const chunks = manifestFile
  ? [...new Set(Object.values(JSON.parse(fs.readFileSync(manifestFile, 'utf8'))).flat())].map((c) => `${c}.wasm`)
  : [];
let chunksRaw = 0;
let chunksBrotli = 0;
for (const f of chunks) {
  const bytes = fs.readFileSync(path.join(dir, f));
  chunksRaw += bytes.length;
  chunksBrotli += brotli(bytes);
}
console.log(
  JSON.stringify({
    main_raw: mainBytes.length,
    main_brotli: brotli(mainBytes),
    chunks: chunks.length,
    chunks_raw: chunksRaw,
    chunks_brotli: chunksBrotli,
  }),
);
