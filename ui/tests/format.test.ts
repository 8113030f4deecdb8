import { describe, expect, it } from 'vitest';
import { barPercent, basename, clock, columnsFor, formatBytes, formatDate, formatDuration, normalise } from '../src/format';
import { parseParams } from '../src/views/settings';

describe('format', () => {
  it('names files on both separators', () => {
    expect(basename('/a/b/cat.jpg')).toBe('cat.jpg');
    expect(basename('C:\\x\\dog.png')).toBe('dog.png');
  });
  it('sizes and durations read like a person would say them', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(12 * 1024 * 1024)).toBe('12 MB');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(125)).toBe('2 min 5 s');
    expect(formatDuration(null)).toBe('–');
  });
  it('video clocks and dates', () => {
    expect(clock(0)).toBe('0:00');
    expect(clock(64_500)).toBe('1:04');
    expect(clock(3_723_000)).toBe('1:02:03');
    expect(formatDate(1_700_000_000)).toBe('2023-11-14');
    expect(formatDate(null)).toBe('');
  });

  it('similarity bars are clamped to 0..100', () => {
    expect(barPercent(-0.2)).toBe(0);
    expect(barPercent(0.456)).toBe(46);
    expect(barPercent(1.2)).toBe(100);
  });
  it('grid columns fit the width', () => {
    expect(columnsFor(1000, 160)).toBe(6); // 6 x 160 + 5 gaps of 8 = 1000
    expect(columnsFor(999, 160)).toBe(5);
    expect(columnsFor(50, 160)).toBe(1);
  });
  it('normalises a large point cloud into [-1, 1] keeping its aspect', () => {
    const n = 100_000; // more than a JS engine accepts as spread arguments
    const xs = Array.from({ length: n }, (_, i) => i);
    const ys = Array.from({ length: n }, (_, i) => (i % 10) * 0.5);
    const { x, y } = normalise(xs, ys);
    expect(Math.min(...x.slice(0, 10))).toBeCloseTo(-0.8);
    expect(x[n - 1]).toBeCloseTo(0.8);
    expect(Math.max(...y.slice(0, 10)) - Math.min(...y.slice(0, 10))).toBeLessThan(0.01);
  });
  it('index parameters parse from k=v lists', () => {
    expect(parseParams('nlist=1024, nprobe=16')).toEqual({ nlist: '1024', nprobe: '16' });
    expect(parseParams('M=16 efConstruction=200 bad')).toEqual({ M: '16', efConstruction: '200' });
  });
});
