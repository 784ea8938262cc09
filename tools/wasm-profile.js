// Where the bytes of a WASM file go, by Rust crate: reads the code section (each function body's
// size) and the name section (each function's mangled name), and sums body sizes per crate. Run on
// the main module before wasm-bindgen and wasm-opt, which still has its names:
//   node tools/wasm-profile.js target/front/wasm32-unknown-unknown/wasm-release/frontend_split.wasm
// Prints JSON {"code_bytes":…, "functions":…, "crates":[{"crate","bytes","functions"}…]}, largest first.
'use strict';
const fs = require('fs');

const file = process.argv[2];
if (!file || !fs.existsSync(file)) {
  console.error('usage: node tools/wasm-profile.js <file.wasm> (run `make build` first)');
  process.exit(1);
}
const buf = fs.readFileSync(file);
let pos = 8;
const uleb = () => {
  let result = 0;
  let shift = 0;
  for (;;) {
    const byte = buf[pos++];
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7;
  }
};
const name = () => {
  const len = uleb();
  const s = buf.toString('utf8', pos, pos + len);
  pos += len;
  return s;
};

let importedFunctions = 0;
const bodies = [];
const names = new Map();
while (pos < buf.length) {
  const id = buf[pos++];
  const size = uleb();
  const end = pos + size;
  if (id === 2) {
    // Imports: count the functions, which come first in the function index space.
    const count = uleb();
    for (let i = 0; i < count; i++) {
      name();
      name();
      const kind = buf[pos++];
      if (kind === 0) {
        uleb();
        importedFunctions++;
      } else if (kind === 1) {
        pos++;
        const flags = uleb();
        uleb();
        if (flags & 1) uleb();
      } else if (kind === 2) {
        const flags = uleb();
        uleb();
        if (flags & 1) uleb();
      } else if (kind === 3) {
        pos += 2;
      } else {
        uleb();
        uleb();
      }
    }
  } else if (id === 10) {
    const count = uleb();
    for (let i = 0; i < count; i++) {
      const len = uleb();
      bodies.push(len);
      pos += len;
    }
  } else if (id === 0) {
    const section = name();
    if (section === 'name') {
      while (pos < end) {
        const sub = buf[pos++];
        const subSize = uleb();
        const subEnd = pos + subSize;
        if (sub === 1) {
          const count = uleb();
          for (let i = 0; i < count; i++) {
            const index = uleb();
            names.set(index, name());
          }
        }
        pos = subEnd;
      }
    }
  }
  pos = end;
}

// The crate of a legacy-mangled Rust symbol (`_ZN5serde2de…`), or of the type in `<T as Trait>`.
const crateOf = (symbol) => {
  if (!symbol) return '(unnamed)';
  if (symbol.startsWith('_R')) {
    // v0 mangling: the first crate root is `C s<disambiguator>_ <length><name>`.
    const v0 = /C(?:s[0-9A-Za-z]*_)?(\d+)([A-Za-z_][A-Za-z0-9_]*)/.exec(symbol);
    return v0 ? v0[2].slice(0, Number(v0[1])) : '(other)';
  }
  if (symbol.startsWith('__wbg') || symbol.startsWith('__wbindgen')) return 'wasm_bindgen';
  const generic = /^_ZN\d+_\$LT\$[A-Z]\$u20\$as\$u20\$([a-z_][a-z0-9_]*)\.\./.exec(symbol);
  if (generic) return generic[1];
  const m = /^_ZN(\d+)(.*)$/.exec(symbol);
  if (!m) return symbol.startsWith('_') ? '(other)' : symbol.split('::')[0] || '(other)';
  const first = m[2].slice(0, Number(m[1]));
  const inner = /^_\$LT\$(?:\$RF\$)?(?:mut\$u20\$)?([a-z_][a-z0-9_]*)\.\.|^_\$LT\$(?:\$RF\$)?(?:mut\$u20\$)?([a-z_][a-z0-9_]*)/.exec(first);
  if (inner) return inner[1] || inner[2];
  return first;
};

const crates = new Map();
let total = 0;
bodies.forEach((size, i) => {
  const crate = crateOf(names.get(importedFunctions + i));
  const entry = crates.get(crate) || { crate, bytes: 0, functions: 0 };
  entry.bytes += size;
  entry.functions += 1;
  crates.set(crate, entry);
  total += size;
});
const sorted = [...crates.values()].sort((a, b) => b.bytes - a.bytes);
console.log(JSON.stringify({ file, code_bytes: total, functions: bodies.length, crates: sorted.slice(0, 25) }));
