// A photo's width and height read from its first bytes (PNG IHDR, JPEG SOFn, WebP VP8/VP8L/VP8X),
// so the page can refuse a photo over the server's limits before the browser decodes a preview
// (a 200 Mpx preview froze the page for seconds).  Every read is bounds-checked: a short, unknown
// or malformed header gives null, and the server, which probes every upload, has the last word.
'use strict';

const imageSize = (() => {
  const u16be = (b, i) => (i + 2 <= b.length ? (b[i] << 8) | b[i + 1] : -1);
  const u16le = (b, i) => (i + 2 <= b.length ? b[i] | (b[i + 1] << 8) : -1);
  const u24le = (b, i) => (i + 3 <= b.length ? b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) : -1);
  const u32be = (b, i) => (i + 4 <= b.length ? ((b[i] << 24) >>> 0) + ((b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) : -1);
  const ascii = (b, i, n) => (i + n <= b.length ? String.fromCharCode(...b.subarray(i, i + n)) : '');
  const sized = (w, h, format) => (w > 0 && h > 0 ? { w, h, format } : null);

  function png(b) {
    const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
    if (b.length < 24 || sig.some((v, i) => b[i] !== v) || ascii(b, 12, 4) !== 'IHDR') return null;
    return sized(u32be(b, 16), u32be(b, 20), 'PNG');
  }

  // Walks the marker segments up to the first start-of-frame (SOF0-SOF15 less DHT, JPG, DAC).
  function jpeg(b) {
    if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
    let i = 2;
    while (i + 4 <= b.length) {
      if (b[i] !== 0xff) return null;
      const m = b[i + 1];
      if (m === 0xff) { i++; continue; }
      if (m === 0x01 || (m >= 0xd0 && m <= 0xd8)) { i += 2; continue; }
      const len = u16be(b, i + 2);
      if (len < 2) return null;
      if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
        return i + 9 <= b.length ? sized(u16be(b, i + 7), u16be(b, i + 5), 'JPEG') : null;
      }
      i += 2 + len;
    }
    return null;
  }

  function webp(b) {
    if (ascii(b, 0, 4) !== 'RIFF' || ascii(b, 8, 4) !== 'WEBP' || b.length < 30) return null;
    const kind = ascii(b, 12, 4);
    if (kind === 'VP8X') return sized(u24le(b, 24) + 1, u24le(b, 27) + 1, 'WebP');
    if (kind === 'VP8 ' && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) {
      return sized(u16le(b, 26) & 0x3fff, u16le(b, 28) & 0x3fff, 'WebP');
    }
    if (kind === 'VP8L' && b[20] === 0x2f) {
      const v = b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24);
      return sized((v & 0x3fff) + 1, ((v >>> 14) & 0x3fff) + 1, 'WebP');
    }
    return null;
  }

  // bytes: a Uint8Array of the file's start.  Returns {w, h, format} or null.
  return (bytes) => png(bytes) || jpeg(bytes) || webp(bytes);
})();

// The first bytes of a File: enough for PNG and WebP, and for JPEGs whose metadata before the
// frame header (EXIF, ICC) stays under 512 KiB.
const HEADER_BYTES = 512 * 1024;
async function readImageSize(file) {
  const buf = await file.slice(0, HEADER_BYTES).arrayBuffer();
  return imageSize(new Uint8Array(buf));
}
