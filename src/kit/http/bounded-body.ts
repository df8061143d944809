// Reading an answer's body with a ceiling: bytes are counted while they arrive, so an oversized
// answer is dropped (its connection destroyed) before it is held in memory. Every client of
// another system (parts, EHRs, image archives, foreign contact points) reads this way.

/** The body's bytes, or undefined when it passed `limit` (the body is then destroyed). Read errors propagate. */
export async function readBounded(body: AsyncIterable<Uint8Array> & { destroy(err?: Error): unknown }, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      return undefined;
    }
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
  }
  return Buffer.concat(chunks);
}
