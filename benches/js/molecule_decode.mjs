// The Molecule decode path exactly as molecule.txt prints it (strip the header, strip the
// trailing null, TextDecoder with fatal, JSON.parse, label cache), timed on the frames the
// Rust side wrote. Usage: node molecule_decode.mjs <frames file> <rounds>
// The file holds frames as a 4-byte little-endian length followed by the frame bytes.
// Prints one JSON line: {"frames": n, "bytes": b, "seconds": s, "items": i}.
import { readFileSync } from 'node:fs';

const [file, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg ?? '50');
const all = new Uint8Array(readFileSync(file));
const frames = [];
for (let at = 0; at + 4 <= all.length; ) {
  const len = all[at] | (all[at + 1] << 8) | (all[at + 2] << 16) | (all[at + 3] << 24);
  frames.push(all.slice(at + 4, at + 4 + len));
  at += 4 + len;
}

const labels = {}; // cache key -> label
function decode(bytes) {
  const raw = bytes.slice(2);
  const payload = raw[raw.length - 1] === 0x00 ? raw.slice(0, raw.length - 1) : raw;
  const text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
  const items = JSON.parse(text);
  let n = 0;
  for (const item of items) {
    if (item.lbl) labels[item.key] = item.lbl; // cache when present
    const label = labels[item.key] ?? item.key;
    if (label.length > 0 && item.val !== undefined) n += 1;
  }
  return n;
}

let bytes = 0;
for (const f of frames) bytes += f.length;
// Warm up the JIT on the same frames before timing.
for (let r = 0; r < Math.max(1, rounds / 10); r++) for (const f of frames) decode(f);
let items = 0;
const start = process.hrtime.bigint();
for (let r = 0; r < rounds; r++) for (const f of frames) items += decode(f);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(JSON.stringify({ frames: frames.length * rounds, bytes: bytes * rounds, seconds, items }));
