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

// The types of what commands answer and events carry are generated from the
// Rust ones (ui/src/bindings, by ts-rs; scripts/bindings writes them, and a
// test fails when they drift). Only the names the views use are given here.
import type { CommandError as CommandFailure } from './bindings/CommandError';
import type { DownloadProgress } from './bindings/DownloadProgress';
import type { Duplicates } from './bindings/Duplicates';
import type { Event } from './bindings/Event';
import type { Feedback } from './bindings/Feedback';
import type { FileRow } from './bindings/FileRow';
import type { FolderStatus } from './bindings/FolderStatus';
import type { IndexConfig } from './bindings/IndexConfig';
import type { MilvusConfig } from './bindings/MilvusConfig';
import type { ModelStatus } from './bindings/ModelStatus';
import type { Map } from './bindings/Map';
import type { Notice } from './bindings/Notice';
import type { Overview } from './bindings/Overview';
import type { Photo } from './bindings/Photo';
import type { Progress } from './bindings/Progress';
import type { Refined } from './bindings/Refined';
import type { SearchHit } from './bindings/SearchHit';
import type { Region } from './bindings/Region';
import type { SearchResults } from './bindings/SearchResults';
import type { Seed } from './bindings/Seed';
import type { StoreChoice } from './bindings/StoreChoice';
import type { TextResults } from './bindings/TextResults';
import type { TrashReport } from './bindings/TrashReport';
import type { VideoOptions } from './bindings/VideoOptions';

export type { ClusterSummary } from './bindings/ClusterSummary';
export type { DuplicatePhoto } from './bindings/DuplicatePhoto';
export type { EngineState } from './bindings/EngineState';
export type { FrameOf } from './bindings/FrameOf';
export type { DownloadProgress } from './bindings/DownloadProgress';
export type { MapPoint } from './bindings/MapPoint';
export type { ModelStatus } from './bindings/ModelStatus';
export type { Status } from './bindings/Status';
export type {
  CommandFailure,
  Duplicates,
  Feedback,
  IndexConfig,
  MilvusConfig,
  Notice,
  Overview,
  Photo,
  Progress,
  Refined,
  Region,
  SearchResults,
  Seed,
  StoreChoice,
  TextResults,
  TrashReport,
  VideoOptions,
};
/**
 * A store as the settings form gives it: what the core fills in by itself
 * (prefix, timeout, credentials) may be left out.
 */
export type StoreInput =
  | { kind: 'embedded' }
  | ({ kind: 'milvus' } & Pick<MilvusConfig, 'uri'> & Partial<MilvusConfig>);
/** A search result. */
export type Hit = SearchHit;
/** The library as a map. */
export type ExploreMap = Map;
/** A watched folder with its counts. */
export type Folder = FolderStatus;
/** A file that could not be indexed, with the reason. */
export type Problem = FileRow;
/** What happens while indexing and watching. */
export type CoreEvent = Event;

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
  searchPath: (path: string, k: number, region: Region | null = null) => invoke<SearchResults>('search_path', { path, k, region }),
  searchPhoto: (id: number, k: number) => invoke<SearchResults>('search_photo', { id, k }),
  searchPasted: (bytes: Uint8Array, k: number, region: Region | null = null) =>
    invoke<SearchResults>('search_pasted', bytes, {
      headers: region ? { k: String(k), region: `${region.x},${region.y},${region.width},${region.height}` } : { k: String(k) },
    }),
  searchPhotoRegion: (id: number, k: number, region: Region) => invoke<SearchResults>('search_photo_region', { id, k, region }),
  pickAndSearch: (k: number) => invoke<SearchResults | null>('pick_and_search', { k }),
  searchText: (query: string, k: number) => invoke<TextResults>('search_text', { query, k }),
  searchMany: (ids: number[], k: number) => invoke<SearchResults>('search_many', { ids, k }),
  explore: () => invoke<ExploreMap>('explore'),
  openPhoto: (id: number) => invoke<void>('open_photo', { id }),
  revealPhoto: (id: number) => invoke<void>('reveal_photo', { id }),
  setModel: (name: string) => invoke<void>('set_model', { name }),
  setStore: (choice: StoreInput) => invoke<void>('set_store', { choice }),
  testStore: (choice: StoreInput) => invoke<string[]>('test_store', { choice }),
  setIndex: (index: IndexConfig) => invoke<void>('set_index', { index }),
  duplicates: (maxDistance: number) => invoke<Duplicates>('duplicates', { maxDistance }),
  cancelWork: () => invoke<void>('cancel_work'),
  trash: (ids: number[]) => invoke<TrashReport>('trash', { ids }),
  refine: (seed: Seed, feedback: Feedback, k: number) => invoke<Refined>('refine', { seed, feedback, k }),
  videoOptions: () => invoke<VideoOptions>('video_options'),
  setVideoOptions: (options: VideoOptions) => invoke<number>('set_video_options', { options }),
  mediaBase: () => invoke<string>('media_base'),
  installModel: (name: string) => invoke<ModelStatus>('install_model', { name }),
  cancelDownload: () => invoke<void>('cancel_download'),
  setModelMirror: (url: string) => invoke<string>('set_model_mirror', { url }),
  takeQueries: () => invoke<string[]>('take_queries'),
};

// The video player's server (see src-tauri/src/media.rs), asked once.
let mediaBase: Promise<string> | null = null;

/** Progress of the long command running now (finding duplicates). */
export function onWork(handler: (p: Progress) => void): Promise<UnlistenFn> {
  return listen<Progress>('work', (e) => handler(e.payload));
}

/** How far a model download has come. */
export function onDownload(handler: (p: DownloadProgress) => void): Promise<UnlistenFn> {
  return listen<DownloadProgress>('download', (e) => handler(e.payload));
}

/** A map laid out in the background is in place (`explore` now answers with it), or why there is none. */
export function onMapReady(handler: (error: CommandError | null) => void): Promise<UnlistenFn> {
  return listen<unknown>('map_ready', (e) => handler(e.payload == null ? null : commandError(e.payload)));
}

/** Photos were handed to the app (`--query FILE`, "Open with", a second launch): `takeQueries` has them. */
export function onQueries(handler: () => void): Promise<UnlistenFn> {
  return listen<unknown>('queries', () => handler());
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

/** The moment of a Live Photo or motion photo (by the still's id) for a media element; '' when the window can't play videos. */
export async function momentUrl(photoId: number): Promise<string> {
  mediaBase ??= api.mediaBase().catch(() => '');
  const base = await mediaBase;
  return base ? `${base}/live/${photoId}` : '';
}

/** Anything a grid shows: a photo, or a photo found by a search. */
export type Item = Photo | Hit;
