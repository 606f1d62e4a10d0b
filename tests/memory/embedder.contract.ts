/**
 * The Embedder contract (memory/embedder.ts). `embedderContract` registers the same node:test suite for any
 * implementation: tests/memory/use-lite.test.ts runs it against the offline default (USE lite, loaded once
 * for its file), tests/memory/embedder.test.ts against the fake and the HTTP embedders on loopback servers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dot, type Embedder } from '../../memory/embedder.ts';

export interface EmbedderContractOptions {
  name: string;
  make: () => Embedder | Promise<Embedder>;
  /** An embedder that cannot work (bad server): its calls must reject. Absent: not tested. */
  makeBroken?: () => Embedder | Promise<Embedder>;
  cleanup?: () => Promise<void>;
}

export function embedderContract(o: EmbedderContractOptions): void {
  describe(`Embedder contract: ${o.name}`, () => {
    let e: Embedder;
    before(async () => {
      e = await o.make();
      await e.ready();
    });
    after(async () => {
      await o.cleanup?.();
    });

    test('names its model and a dimension that is a positive multiple of 8', () => {
      assert.ok(e.model.length > 0);
      assert.ok(e.dimension > 0 && e.dimension % 8 === 0, `dimension ${e.dimension}`);
    });

    test('one unit vector of the dimension per text, in order; none for no text', async () => {
      const texts = ['first text', 'a second, longer text about ships', 'third'];
      const vs = await e.embed(texts);
      assert.equal(vs.length, 3);
      for (const v of vs) {
        assert.equal(v.length, e.dimension);
        assert.ok(Math.abs(Math.sqrt(dot(v, v)) - 1) < 1e-3);
      }
      assert.deepEqual(await e.embed([]), []);
    });

    test('the same text gives the same vector, alone or in a batch, and concurrent calls keep their order', async () => {
      const [alone] = await e.embed(['the quick brown fox']);
      const [a, b] = await Promise.all([
        e.embed(['the quick brown fox', 'lazy dogs sleep']),
        e.embed(['lazy dogs sleep']),
      ]);
      assert.ok(dot(alone as Float32Array, (a as Float32Array[])[0] as Float32Array) > 0.999);
      assert.ok(
        dot((a as Float32Array[])[1] as Float32Array, (b as Float32Array[])[0] as Float32Array) > 0.999,
      );
    });

    test('a text is nearer to itself than to an unrelated text', async () => {
      const [x, y, z] = await e.embed(['invoice payment due', 'invoice payment due', 'mountain snow ski']);
      assert.ok(dot(x as Float32Array, y as Float32Array) > dot(x as Float32Array, z as Float32Array));
    });

    if (o.makeBroken) {
      test('a broken embedder rejects', async () => {
        const broken = await (o.makeBroken as () => Embedder | Promise<Embedder>)();
        await assert.rejects(async () => {
          await broken.ready();
          await broken.embed(['x']);
        });
        await broken.close();
      });
    }
  });
}
