// A larger view of one photo with what can be done with it; a video (or a
// moment found in one) plays in place, from that moment, and a Live Photo's
// or motion photo's moment plays over its still when asked.

import { momentUrl, photoUrl, thumbUrl, videoUrl, type Item, type Region } from '../api';
import { basename, clock, formatBytes } from '../format';
import { markableRegion } from './region';

export interface PreviewHandlers {
  open: (id: number) => void;
  reveal: (id: number) => void;
  similar: (id: number) => void;
  /** A part of the photo, dragged on it. */
  similarPart: (id: number, part: Region) => void;
}

export class Preview {
  readonly element: HTMLElement;
  private items: Item[] = [];
  private index = 0;

  constructor(private h: PreviewHandlers) {
    this.element = document.createElement('div');
    this.element.className = 'preview hidden';
    this.element.setAttribute('role', 'dialog');
    this.element.addEventListener('click', (e) => {
      if (e.target === this.element) this.close();
    });
    document.addEventListener('keydown', (e) => {
      if (this.element.classList.contains('hidden')) return;
      if (e.key === 'Escape') this.close();
      else if (e.key === 'ArrowRight') this.show(this.index + 1);
      else if (e.key === 'ArrowLeft') this.show(this.index - 1);
      else return;
      e.preventDefault();
      e.stopPropagation();
    }, true);
  }

  /** Show `items[index]`; arrows step through the list. */
  open(items: Item[], index: number): void {
    this.items = items;
    this.element.classList.remove('hidden');
    this.show(index);
  }

  close(): void {
    this.element.classList.add('hidden');
    this.element.replaceChildren();
  }

  /**
   * "Play the moment": the moment's video over the still, muted as phones
   * play it, and the still again when it ends or is stopped.
   */
  private momentPlayer(item: Item, still: HTMLElement): HTMLElement {
    const play = document.createElement('button');
    play.className = 'play-moment';
    play.textContent = 'Play the moment';
    let video: HTMLVideoElement | null = null;
    const stop = () => {
      video?.replaceWith(still);
      video = null;
      play.textContent = 'Play the moment';
    };
    play.addEventListener('click', () => {
      if (video) return stop();
      const v = document.createElement('video');
      v.className = 'preview-video preview-moment';
      v.autoplay = true;
      v.muted = true;
      v.playsInline = true;
      v.poster = photoUrl(item.id);
      v.addEventListener('ended', stop);
      v.addEventListener('error', () => {
        stop();
        const why = v.error ? ` (${v.error.code}: ${v.error.message || 'no decoder'})` : '';
        play.textContent = `The moment does not play here${why}`;
        play.disabled = true;
      });
      void momentUrl(item.id).then((url) => {
        if (url) v.src = url;
        else v.dispatchEvent(new Event('error'));
      });
      still.replaceWith(v);
      video = v;
      play.textContent = 'Stop';
    });
    return play;
  }

  private show(index: number): void {
    if (index < 0 || index >= this.items.length) return;
    this.index = index;
    const item = this.items[index];
    const box = document.createElement('div');
    box.className = 'preview-box';
    const videoId = item.frame ? item.frame.video_id : item.duration_ms != null ? item.id : null;
    const at = item.frame?.at_ms ?? 0;
    let img: HTMLElement;
    if (videoId != null) {
      const video = document.createElement('video');
      video.className = 'preview-video';
      video.controls = true;
      video.autoplay = true;
      video.muted = true;
      // The keyframe shows until the video can play (or if it cannot).
      video.poster = item.frame ? photoUrl(item.id) : thumbUrl(item.hash);
      void videoUrl(videoId, at).then((url) => {
        if (url) video.src = url;
        else video.dispatchEvent(new Event('error'));
      });
      video.dataset.start = String(at / 1000);
      video.addEventListener('loadedmetadata', () => {
        if (Math.abs(video.currentTime - at / 1000) > 0.5) video.currentTime = at / 1000;
      });
      video.addEventListener('error', () => {
        // No decoder for it in this web view: show the moment as a picture.
        const still = document.createElement('img');
        still.src = item.frame ? photoUrl(item.id) : thumbUrl(item.hash);
        still.alt = basename(item.path);
        video.replaceWith(still);
        const note = this.element.querySelector('.video-note');
        const why = video.error ? ` (${video.error.code}: ${video.error.message || 'no decoder'})` : '';
        if (note) note.textContent = `This video does not play here${why}; “Open in video player” plays it.`;
      });
      img = video;
    } else {
      const image = document.createElement('img');
      image.src = photoUrl(item.id);
      image.alt = basename(item.path);
      image.draggable = false;
      const frame = document.createElement('div');
      frame.className = 'preview-frame';
      frame.append(image);
      markableRegion(frame, image, (part) => {
        this.close();
        this.h.similarPart(item.id, part);
      });
      img = frame;
    }
    const meta = document.createElement('div');
    meta.className = 'preview-meta';
    const title = document.createElement('div');
    title.className = 'preview-title';
    title.textContent = basename(item.path);
    const path = document.createElement('div');
    path.className = 'muted';
    path.textContent = [item.path, item.width && item.height ? `${item.width}×${item.height}` : '', 'size' in item ? formatBytes(item.size) : ''].filter(Boolean).join(' · ');
    meta.append(title, path);
    // What the file says of itself, and the files that are this photo too.
    const shot = [item.camera, item.lens].filter(Boolean).join(' · ');
    if (shot) {
      const camera = document.createElement('div');
      camera.className = 'muted preview-camera';
      camera.textContent = shot;
      meta.append(camera);
    }
    if (item.also.length) {
      const also = document.createElement('div');
      also.className = 'muted preview-also';
      also.textContent = `Also as ${item.also.map(basename).join(', ')}`;
      also.title = item.also.join('\n');
      meta.append(also);
    }
    if (item.live) {
      const live = document.createElement('div');
      live.className = 'muted preview-live';
      live.textContent =
        item.live === item.path ? 'A motion photo: it carries a short video of the moment.' : `A Live Photo: its moment is ${basename(item.live)}.`;
      meta.append(live);
    }
    if (item.live && videoId == null) meta.append(this.momentPlayer(item, img));
    if (videoId == null) {
      const hint = document.createElement('div');
      hint.className = 'muted hint';
      hint.textContent = 'Drag on the photo to search with a part of it.';
      meta.append(hint);
    }
    if (videoId != null) {
      const when = document.createElement('div');
      when.className = 'video-note';
      when.textContent = item.frame
        ? `A moment at ${clock(at)}${item.duration_ms ? ` of ${clock(item.duration_ms)}` : ''}: playing from there.`
        : `A video, ${clock(item.duration_ms ?? 0)} long.`;
      meta.append(when);
    }
    // A search result has a distance and a similarity; a photo of a
    // duplicate group only its distance to the group's first.
    const distance = (item as { distance?: unknown }).distance;
    if (typeof distance === 'number') {
      const d = document.createElement('div');
      d.className = 'preview-distance';
      d.textContent =
        'similarity' in item
          ? `distance ${distance.toFixed(4)} · similarity ${item.similarity.toFixed(3)}`
          : `distance ${distance.toFixed(4)} from the first of its group`;
      meta.append(d);
    }
    const actions = document.createElement('div');
    actions.className = 'buttons';
    const button = (text: string, f: () => void, primary = false) => {
      const b = document.createElement('button');
      b.textContent = text;
      if (primary) b.className = 'primary';
      b.addEventListener('click', f);
      actions.append(b);
    };
    button('Find similar to this one', () => {
      this.close();
      this.h.similar(item.id);
    }, true);
    // A moment's own id: the player starts there where it can.
    button(videoId != null ? 'Open in video player' : 'Open file', () => this.h.open(item.id));
    button('Show in folder', () => this.h.reveal(videoId ?? item.id));
    button('Close', () => this.close());
    meta.append(actions);
    box.append(img, meta);
    this.element.replaceChildren(box);
  }
}
