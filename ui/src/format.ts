// Small pure helpers for what the window shows.

export function basename(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

export function formatBytes(n: number | undefined | null): string {
  if (n == null) return '';
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** Milliseconds as a video clock: `0:04`, `1:02:03`. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60];
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(sec)}` : `${m}:${two(sec)}`;
}

/** A date (epoch seconds) as YYYY-MM-DD. */
export function formatDate(secs: number | null | undefined): string {
  if (secs == null) return '';
  return new Date(secs * 1000).toISOString().slice(0, 10);
}

export function formatDuration(secs: number | null | undefined): string {
  if (secs == null || !isFinite(secs)) return '–';
  const s = Math.max(0, Math.round(secs));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Similarity as a 0..100 bar width; similarity may be negative for unrelated photos. */
export function barPercent(similarity: number): number {
  return Math.round(Math.min(1, Math.max(0, similarity)) * 100);
}

/** How many grid columns of `cell` px fit in `width` px (at least one). */
export function columnsFor(width: number, cell: number, gap = 8): number {
  return Math.max(1, Math.floor((width + gap) / (cell + gap)));
}

/** Scale points into [-1, 1] on both axes, keeping their aspect ratio. */
export function normalise(xs: number[], ys: number[]): { x: number[]; y: number[] } {
  if (xs.length === 0) return { x: [], y: [] };
  // A loop, not Math.min(...xs): spreading 100k arguments overflows the stack.
  let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < xs.length; i++) {
    minX = Math.min(minX, xs[i]);
    maxX = Math.max(maxX, xs[i]);
    minY = Math.min(minY, ys[i]);
    maxY = Math.max(maxY, ys[i]);
  }
  const span = Math.max(maxX - minX, maxY - minY) || 1;
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  // 0.8 leaves a margin: the plot fits [-1, 1] to its shorter side.
  return { x: xs.map((v) => ((v - cx) / span) * 2 * 0.8), y: ys.map((v) => ((v - cy) / span) * 2 * 0.8) };
}

/** A palette for clusters that reads on light and dark backgrounds. */
export const CLUSTER_COLORS = [
  '#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4',
  '#f032e6', '#bfef45', '#fabed4', '#469990', '#dcbeff', '#9a6324',
];
