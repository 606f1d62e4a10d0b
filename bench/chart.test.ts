import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lineChartSvg, tickLabel, ticks } from './chart.ts';

describe('chart', () => {
  it('ticks: powers of ten on a log axis, round steps covering the range on a linear one', () => {
    assert.deepEqual(ticks(1, 1000, true), [1, 10, 100, 1000]);
    assert.deepEqual(ticks(3, 40, true), [1, 10, 100]);
    const lin = ticks(0, 148, false);
    assert.equal(lin[0], 0);
    assert.ok((lin[lin.length - 1] as number) >= 148);
    assert.ok(lin.length >= 4 && lin.length <= 9, String(lin));
  });

  it('tick labels: K and M for round thousands and millions, separators, small decimals', () => {
    assert.equal(tickLabel(1_000_000), '1M');
    assert.equal(tickLabel(100_000), '100K');
    assert.equal(tickLabel(1000), '1,000');
    assert.equal(tickLabel(2.5), '2.5');
    assert.equal(tickLabel(0.1), '0.1');
  });

  it('draws every series with a legend entry, the axis labels, and escapes text', () => {
    const svg = lineChartSvg({
      title: 'jobs <per> second',
      xLabel: 'customers',
      yLabel: 'jobs/s',
      xLog: true,
      series: [
        {
          name: 'unpaid',
          points: [
            [1, 10],
            [10, 20],
            [100, 25],
          ],
        },
        {
          name: 'bare & baseline',
          dashed: true,
          points: [
            [1, 50],
            [100, 90],
          ],
        },
      ],
    });
    assert.equal((svg.match(/<polyline /g) ?? []).length, 2);
    assert.equal((svg.match(/<circle /g) ?? []).length, 5);
    assert.ok(svg.includes('jobs &#60;per&#62; second'));
    assert.ok(svg.includes('bare &#38; baseline'));
    assert.ok(svg.includes('>customers<') && svg.includes('>jobs/s<'));
    assert.ok(svg.includes('stroke-dasharray'));
  });

  it('refuses an empty chart, a non-finite point and a value at or below 0 on a log axis', () => {
    const base = { title: 't', xLabel: 'x', yLabel: 'y' };
    assert.throws(() => lineChartSvg({ ...base, series: [] }), /no points/);
    assert.throws(
      () => lineChartSvg({ ...base, series: [{ name: 'a', points: [[1, Number.NaN]] }] }),
      /not finite/,
    );
    assert.throws(
      () => lineChartSvg({ ...base, xLog: true, series: [{ name: 'a', points: [[0, 1]] }] }),
      /log axis/,
    );
  });
});
