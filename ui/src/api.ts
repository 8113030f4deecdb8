// The core's commands and notices, typed. One function per command of
// src-tauri/src/commands.rs; nothing here decides anything.

import { convertFileSrc, invoke as tauriInvoke, type InvokeArgs, type InvokeOptions } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';

/**
 * A command's failure: the core's error kind (`bad_query`, `not_permitted`,
 * `cancelled`, ... `photofinder_core::Error::kind`) and the message to show.
 * It prints as its message, so `String(e)` and `${e}` show what to say.
 */
export class CommandError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }

  override toString(): string {
    return this.message;
  }
}

/** What a rejected command carries: `{kind, message}`, else anything. */
export function commandError(e: unknown): CommandError {
  if (e instanceof CommandError) return e;
  if (e && typeof e === 'object' && 'message' in e) {
    const { kind, message } = e as { kind?: unknown; message: unknown };
    return new CommandError(typeof kind === 'string' ? kind : 'other', String(message));
  }
  return new CommandError('other', String(e));
}

async function invoke<T>(cmd: string, args?: InvokeArgs, options?: InvokeOptions): Promise<T> {
  try {
    return await tauriInvoke<T>(cmd, args, options);
  } catch (e) {
    throw commandError(e);
  }
}

/** A keyframe of a video: which video, and when (ms). */
export interface FrameOf {
  video_id: number;
  at_ms: number;
}

export interface Photo {
  id: number;
  path: string;
  hash: string | null;
  size?: number;
  /** Modification time, epoch seconds. */
  modified?: number;
  width: number | null;
  height: number | null;
  format: string | null;
  taken_at: number | null;
  /** Set for videos. */
  duration_ms?: number | null;
  /** Set for a video's keyframe (then `path` is the video's). */
  frame?: FrameOf | null;
}

export interface Hit extends Photo {
  distance: number;
  similarity: number;
  is_query: boolean;
}

export interface SearchResults {
  model: string;
  metric: string;
  store: string;
  query: string;
  query_id: number | null;
  query_hash: string | null;
  hits: Hit[];
  millis: number;
}

export interface TextResults {
  query: string;
  method: 'clip' | 'labels';
  model: string;
  matched: string[];
  note: string | null;
  hits: Hit[];
  millis: number;
}

export interface DuplicatePhoto extends Photo {
  /** Cosine distance to the group's first photo. */
  distance: number;
  /** Same bytes as the group's first photo. */
  exact: boolean;
  /** Bits of the perceptual hash (of 64) that differ from the first photo's. */
  hash_bits?: number | null;
}

export interface Duplicates {
  model: string;
  max_distance: number;
  photos: number;
  /** Videos compared: only their exact copies are grouped. */
  videos: number;
  groups: { photos: DuplicatePhoto[] }[];
}

export interface TrashReport {
  trashed: string[];
  failed: [string, string][];
}

export interface Feedback {
  good: number[];
  bad: number[];
}

/** What a result list started from, so marks can move it. */
export type Seed =
  | { kind: 'photo'; id?: number | null; path?: string | null }
  | { kind: 'text'; query: string }
  | { kind: 'combined'; id?: number | null; path?: string | null; text: string; weight: number };

export interface VideoOptions {
  interval_secs: number;
  scene_threshold: number;
  max_frames: number;
}

export interface Folder {
  id: number;
  path: string;
  state: string;
  files: number;
  indexed: number;
}

export interface Problem {
  id: number;
  path: string;
  state: string;
  error: string | null;
}

export interface Status {
  library: string;
  model: string;
  store: string;
  store_points: number;
  folders: number;
  files: number;
  indexed: number;
  pending: number;
  failed: number;
  unsupported: number;
  skipped: number;
  /** failed (broken), unsupported, skipped (not images). */
  problems: Problem[];
}

export interface ModelStatus {
  name: string;
  dim: number;
  installed: boolean;
  text_installed: boolean | null;
  provenance: { source?: string; random_weights?: boolean } | null;
  [key: string]: unknown;
}

export interface IndexConfig {
  kind: string;
  build: Record<string, string>;
  search: Record<string, string>;
}

export interface MilvusConfig {
  uri: string;
  token?: string | null;
  user?: string | null;
  password?: string | null;
  database?: string | null;
  prefix?: string;
  timeout_secs?: number;
  index?: IndexConfig;
}

export type StoreChoice = { kind: 'embedded' } | ({ kind: 'milvus' } & MilvusConfig);

export type EngineState =
  | { state: 'idle' }
  | { state: 'indexing' }
  | { state: 'paused' }
  | { state: 'failed'; error: string };

export interface Overview {
  status: Status & { folders: Folder[] };
  models: ModelStatus[];
  store: StoreChoice;
  engine: EngineState;
  videos: VideoOptions;
}

export interface Progress {
  phase: 'scanning' | 'embedding' | 'comparing';
  done: number;
  total: number;
  errors: number;
  current: string | null;
  rate: number;
  eta_secs: number | null;
}

export interface MapPoint {
  id: number;
  path: string;
  hash: string | null;
  x: number;
  y: number;
  cluster: number;
}

export interface ClusterSummary {
  cluster: number;
  size: number;
  name: string;
  x: number;
  y: number;
}

export interface ExploreMap {
  model: string;
  points: MapPoint[];
  clusters: ClusterSummary[];
  explained: [number, number];
  millis: number;
}

export type CoreEvent = {
  event: string;
  path?: string;
  error?: string;
  reason?: string;
  warning?: string;
  /** waiting_for_writer: who holds the library. */
  holder?: string;
  from?: string;
  to?: string;
};

export type Notice =
  | { kind: 'event'; event: CoreEvent }
  | { kind: 'progress'; progress: Progress }
  | { kind: 'state'; state: EngineState }
  | { kind: 'changed'; changes: { added: number; changed: number; moved: number; removed: number; recent: string[] } };

export const api = {
  overview: () => invoke<Overview>('overview'),
  photos: (offset: number, limit: number) => invoke<Photo[]>('photos', { offset, limit }),
  pickFolder: () => invoke<string | null>('pick_folder'),
  addFolder: (path: string) => invoke<void>('add_folder', { path }),
  removeFolder: (path: string) => invoke<number>('remove_folder', { path }),
  pause: () => invoke<void>('pause'),
  resume: () => invoke<void>('resume'),
  stop: () => invoke<void>('stop'),
  rescan: () => invoke<void>('rescan'),
  searchPath: (path: string, k: number) => invoke<SearchResults>('search_path', { path, k }),
  searchPhoto: (id: number, k: number) => invoke<SearchResults>('search_photo', { id, k }),
  searchPasted: (bytes: Uint8Array, k: number) =>
    invoke<SearchResults>('search_pasted', bytes, { headers: { k: String(k) } }),
  pickAndSearch: (k: number) => invoke<SearchResults | null>('pick_and_search', { k }),
  searchText: (query: string, k: number) => invoke<TextResults>('search_text', { query, k }),
  searchMany: (ids: number[], k: number) => invoke<SearchResults>('search_many', { ids, k }),
  explore: () => invoke<ExploreMap>('explore'),
  openPhoto: (id: number) => invoke<void>('open_photo', { id }),
  revealPhoto: (id: number) => invoke<void>('reveal_photo', { id }),
  setModel: (name: string) => invoke<void>('set_model', { name }),
  setStore: (choice: StoreChoice) => invoke<void>('set_store', { choice }),
  testStore: (choice: StoreChoice) => invoke<string[]>('test_store', { choice }),
  setIndex: (index: IndexConfig) => invoke<void>('set_index', { index }),
  duplicates: (maxDistance: number) => invoke<Duplicates>('duplicates', { maxDistance }),
  cancelWork: () => invoke<void>('cancel_work'),
  trash: (ids: number[]) => invoke<TrashReport>('trash', { ids }),
  refine: (seed: Seed, feedback: Feedback, k: number) => invoke<SearchResults | TextResults>('refine', { seed, feedback, k }),
  videoOptions: () => invoke<VideoOptions>('video_options'),
  setVideoOptions: (options: VideoOptions) => invoke<number>('set_video_options', { options }),
  mediaBase: () => invoke<string>('media_base'),
};

// The video player's server (see src-tauri/src/media.rs), asked once.
let mediaBase: Promise<string> | null = null;

/** Progress of the long command running now (finding duplicates). */
export function onWork(handler: (p: Progress) => void): Promise<UnlistenFn> {
  return listen<Progress>('work', (e) => handler(e.payload));
}

export function onNotice(handler: (n: Notice) => void): Promise<UnlistenFn> {
  return listen<Notice>('engine', (e) => handler(e.payload));
}

/** The cached thumbnail named by a content hash (served by the `thumb:` protocol). */
export function thumbUrl(hash: string | null | undefined): string {
  return hash ? convertFileSrc(hash, 'thumb') : '';
}

/** A photo of the library at full size (served by the `photo:` protocol). */
export function photoUrl(id: number): string {
  return convertFileSrc(String(id), 'photo');
}

/** A library video for a media element, starting at `atMs`; '' when the window can't play videos. */
export async function videoUrl(videoId: number, atMs = 0): Promise<string> {
  mediaBase ??= api.mediaBase().catch(() => '');
  const base = await mediaBase;
  return base ? `${base}/video/${videoId}#t=${(atMs / 1000).toFixed(1)}` : '';
}

/** Anything a grid shows: a photo, or a photo found by a search. */
export type Item = Photo | Hit;
