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

const main = path.join(dir, 'pmr.wasm');
if (!fs.existsSync(main)) {
  console.error(`${main} is missing: run \`make build\` first`);
  process.exit(1);
}
const mainBytes = fs.readFileSync(main);
// The chunks of this build: those the split manifest names (cargo-leptos leaves older builds' chunks
// in the folder).
const manifestFile = path.join(dir, '__wasm_split_manifest.json');
const chunks = fs.existsSync(manifestFile)
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
