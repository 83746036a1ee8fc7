import { once } from 'node:events';
import { createDeflateRaw } from 'node:zlib';
import { Zip, ZipPassThrough } from 'fflate';

/**
 * A zip whose one entry inflates to `text` followed by spaces up to `inflatedBytes`, while its header declares
 * the compressed size as the inflated one (a lie, as a real bomb tells). A few hundred MB compress to ~1 MB in
 * a fraction of a second, so tests can use a real bomb past the real cap.
 */
export const zipBomb = async (name: string, inflatedBytes: number, text = ''): Promise<Uint8Array> => {
  const deflate = createDeflateRaw({ level: 1 });
  const compressed: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => compressed.push(chunk));
  const head = Buffer.from(text);
  deflate.write(head);
  const piece = Buffer.alloc(1024 * 1024, 0x20);
  for (let left = inflatedBytes - head.length; left > 0; left -= piece.length) {
    if (!deflate.write(left >= piece.length ? piece : piece.subarray(0, left))) await once(deflate, 'drain');
  }
  deflate.end();
  await once(deflate, 'end');
  const parts: Uint8Array[] = [];
  const zip = new Zip((error, data) => {
    if (error) throw error;
    parts.push(data);
  });
  // Bytes already deflated, marked as such.
  const entry = new ZipPassThrough(name);
  entry.compression = 8;
  zip.add(entry);
  entry.push(Buffer.concat(compressed), true);
  zip.end();
  return Buffer.concat(parts);
};
